package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// corpusFloor is the share of descriptions the offline designer must read as
// expected: what it achieved when the corpus was written, rounded down.
// Raise it when the parser gets better; never lower it to hide a regression.
//
// The blind* descriptions were written before the parser ever saw them. On
// their first run 7/20, 8/20, 4/15, 8/15, 8/15, 4/12 (messy prose) and 8/12
// of the seven batches passed: 47/109, the fairer measure of how it does on
// phrasings it has not met. The parser was then improved on what they showed (never
// the expectations, but for the one case whose note says why).
const corpusFloor = 0.96

// corpusCase is one description of designer/testdata/descriptions.json with
// the journey a careful reader would build from it.
type corpusCase struct {
	Name   string      `json:"name"`
	Text   string      `json:"text"`
	Expect expectation `json:"expect"`
	// Note says why an expectation was changed after the description was
	// first run, if it was.
	Note string `json:"note"`
}

// expectation lists what the journey must have; fields left out are not
// checked. Lists of waits, timeouts, events and expressions are compared as
// multisets (an empty list means none); edges are "type[branch]->type" and
// must each exist.
type expectation struct {
	Error          bool                 `json:"error"`
	Entry          string               `json:"entry"`
	EntryConfig    map[string]any       `json:"entry_config"`
	NodeTypes      map[string]int       `json:"node_types"`
	Channels       []string             `json:"channels"`
	Waits          []string             `json:"waits"`
	Timeouts       []string             `json:"timeouts"`
	Events         []string             `json:"events"`
	Expressions    []string             `json:"expressions"`
	Edges          []string             `json:"edges"`
	ExitEvent      string               `json:"exit_event"`
	ExitExpression string               `json:"exit_expression"`
	FrequencyCap   map[string]graph.Cap `json:"frequency_cap"`
	Goal           string               `json:"goal"`
	ABWeights      []int                `json:"ab_weights"`
	Templates      []string             `json:"templates"`
	Questions      []string             `json:"questions"`
	Unrecognized   *int                 `json:"unrecognized"`
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	data, err := os.ReadFile("../testdata/descriptions.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields() // a misspelt expectation must not pass silently
	var cases []corpusCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("descriptions.json: %v", err)
	}
	return cases
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 45 {
		t.Fatalf("the corpus has %d descriptions; it should have at least 45", len(cases))
	}
	d := New()
	pass := 0
	for _, c := range cases {
		res, err := d.Design(context.Background(), designer.Request{Message: c.Text}, nil)
		if err == nil {
			if problems := graph.Validate(res.Graph); len(problems) > 0 {
				t.Errorf("%s: invalid graph: %v", c.Name, problems)
				continue
			}
			again, _ := d.Design(context.Background(), designer.Request{Message: c.Text}, nil)
			if !reflect.DeepEqual(res, again) {
				t.Errorf("%s: two runs gave different results", c.Name)
			}
		}
		if misses := check(c.Expect, res, err); len(misses) > 0 {
			t.Logf("%s: %s", c.Name, strings.Join(misses, "; "))
			continue
		}
		pass++
	}
	rate := float64(pass) / float64(len(cases))
	t.Logf("offline designer corpus: %d/%d pass", pass, len(cases))
	if rate < corpusFloor {
		t.Errorf("pass rate %.2f is below the floor %.2f", rate, corpusFloor)
	}
}

// check compares a design with its expectation and lists every difference.
func check(want expectation, res *designer.Result, err error) []string {
	if want.Error || err != nil {
		switch {
		case want.Error && err == nil:
			return []string{"want an error, got a journey"}
		case !want.Error:
			return []string{"unexpected error: " + err.Error()}
		}
		return nil
	}
	g := res.Graph
	var miss []string
	fail := func(format string, args ...any) { miss = append(miss, fmt.Sprintf(format, args...)) }
	types := map[string]int{}
	var waits, timeouts, events, exprs, templates, channels []string
	var entry *graph.Node
	byID := map[string]graph.Node{}
	for i, n := range g.Nodes {
		byID[n.ID] = n
		types[n.Type]++
		var cfg map[string]any
		_ = json.Unmarshal(n.Config, &cfg)
		str := func(k string) string { s, _ := cfg[k].(string); return s }
		switch {
		case graph.IsEntry(n.Type):
			entry = &g.Nodes[i]
		case n.Type == "wait":
			waits = append(waits, str("duration"))
		case n.Type == "wait_for_event":
			timeouts, events = append(timeouts, str("timeout")), append(events, str("event_type"))
		case n.Type == "condition":
			exprs = append(exprs, str("expression"))
		case graph.IsChannel(n.Type):
			ch := strings.TrimPrefix(n.Type, "send_")
			if n.Type == "call_webhook" {
				ch = "webhook"
			}
			if !slices.Contains(channels, ch) {
				channels = append(channels, ch)
			}
			if s := str("template_id"); s != "" {
				templates = append(templates, s)
			}
		}
	}
	if want.Entry != "" && (entry == nil || entry.Type != want.Entry) {
		fail("entry: want %s", want.Entry)
	}
	if want.EntryConfig != nil && entry != nil {
		var cfg map[string]any
		_ = json.Unmarshal(entry.Config, &cfg)
		for k, v := range want.EntryConfig {
			if !reflect.DeepEqual(cfg[k], v) {
				fail("entry config %s: want %v, got %v", k, v, cfg[k])
			}
		}
	}
	for typ, n := range want.NodeTypes {
		if types[typ] != n {
			fail("%s: want %d, got %d", typ, n, types[typ])
		}
	}
	sameSet := func(what string, want, got []string) {
		if want == nil {
			return
		}
		w, g := slices.Clone(want), slices.Clone(got)
		sort.Strings(w)
		sort.Strings(g)
		if !slices.Equal(w, g) {
			fail("%s: want %v, got %v", what, w, g)
		}
	}
	sameSet("channels", want.Channels, channels)
	sameSet("waits", want.Waits, waits)
	sameSet("timeouts", want.Timeouts, timeouts)
	sameSet("events", want.Events, events)
	sameSet("expressions", want.Expressions, exprs)
	for _, e := range want.Edges {
		if !hasEdge(g, byID, e) {
			fail("no edge %s", e)
		}
	}
	ec := g.ExitCriteria
	if ec == nil {
		ec = &graph.ExitCriteria{}
	}
	if want.ExitEvent != "" && ec.EventType != want.ExitEvent {
		fail("exit event: want %s, got %q", want.ExitEvent, ec.EventType)
	}
	if want.ExitExpression != "" && ec.Expression != want.ExitExpression {
		fail("exit expression: want %s, got %q", want.ExitExpression, ec.Expression)
	}
	if want.FrequencyCap != nil && !reflect.DeepEqual(want.FrequencyCap, g.FrequencyCap) {
		fail("frequency cap: want %v, got %v", want.FrequencyCap, g.FrequencyCap)
	}
	if want.Goal != "" {
		found := false
		for _, n := range g.Nodes {
			found = found || (n.Type == "goal_reached" && strings.Contains(string(n.Config), `"goal_name":"`+want.Goal+`"`))
		}
		if !found {
			fail("no goal %s", want.Goal)
		}
	}
	if want.ABWeights != nil {
		found := false
		for _, n := range g.Nodes {
			if n.Type != "ab_split" {
				continue
			}
			var cfg struct{ Variants []struct{ Weight int } }
			_ = json.Unmarshal(n.Config, &cfg)
			var w []int
			for _, v := range cfg.Variants {
				w = append(w, v.Weight)
			}
			found = found || slices.Equal(w, want.ABWeights)
		}
		if !found {
			fail("no A/B split weighted %v", want.ABWeights)
		}
	}
	for _, tpl := range want.Templates {
		if !slices.Contains(templates, tpl) {
			fail("no template %s in %v", tpl, templates)
		}
	}
	for _, q := range want.Questions {
		if !slices.ContainsFunc(res.FollowUpQuestions, func(s string) bool { return strings.Contains(s, q) }) {
			fail("no question like %q in %q", q, res.FollowUpQuestions)
		}
	}
	if want.Unrecognized != nil && len(res.Unrecognized) != *want.Unrecognized {
		fail("unrecognized: want %d, got %q", *want.Unrecognized, res.Unrecognized)
	}
	return miss
}

// hasEdge reports whether g has an edge "srcType[branch]->dstType".
func hasEdge(g *graph.Graph, byID map[string]graph.Node, spec string) bool {
	src, dst, _ := strings.Cut(spec, "->")
	branch := ""
	if i := strings.IndexByte(src, '['); i >= 0 {
		src, branch = src[:i], strings.TrimSuffix(src[i+1:], "]")
	}
	for _, e := range g.Edges {
		if byID[e.Source].Type == src && byID[e.Target].Type == dst && e.Branch == branch {
			return true
		}
	}
	return false
}

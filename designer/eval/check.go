package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// Miss is one expectation a design did not meet; Feature is the feature
// the expectation judges ("" for must_ask, must_flag and error).
type Miss struct {
	Feature string `json:"feature,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (m Miss) String() string { return m.Field + ": " + m.Message }

// fieldFeature maps each expectation field to the feature it judges.
var fieldFeature = map[string]string{
	"entry": "entry", "ask_entry": "entry", "sends": "channels", "waits": "timing", "wait_for_event": "timing",
	"wait_until": "wait_until", "conditions": "conditions", "exit": "exits", "ab": "ab", "cap": "caps", "goal": "goals",
}

// edgeFeature is the feature an edge expectation judges: edges are written
// for alternatives and "unless" alike, so the case's features decide.
func edgeFeature(features []string) string {
	if slices.Contains(features, "unless") && !slices.Contains(features, "alternatives") {
		return "unless"
	}
	return "alternatives"
}

var durationText = regexp.MustCompile(`^(-?)([0-9]{1,9})(ms|s|m|h|d|w)$`)

// ParseDuration reads the durations expectations are written in: 30m, 1h,
// 24h, 3d, 2w, with a leading minus for an offset before a date.
func ParseDuration(s string) (time.Duration, error) {
	m := durationText.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration like 30m, 24h, 3d or 2w", s)
	}
	n, _ := strconv.ParseInt(m[2], 10, 64)
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[3]]
	d := time.Duration(n) * unit
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// sameDuration reports whether a and b are the same length of time; a
// design's unreadable duration matches nothing.
func sameDuration(want, got string) bool {
	w, err1 := ParseDuration(want)
	g, err2 := ParseDuration(got)
	return err1 == nil && err2 == nil && w == g
}

// Check compares a design (res, or err when the designer refused) with c's
// expectations and returns every miss.
func Check(c Case, res *designer.Result, err error) []Miss {
	want := c.Expect
	if want.Error || err != nil || res == nil || res.Graph == nil {
		switch {
		case want.Error && err == nil && res != nil && res.Graph != nil:
			return []Miss{{Field: "error", Message: "want a refusal, got a journey"}}
		case !want.Error && err != nil:
			return []Miss{{Field: "error", Message: "the designer refused: " + err.Error()}}
		case !want.Error:
			return []Miss{{Field: "error", Message: "the designer returned no journey"}}
		}
		return nil
	}
	k := &checker{g: res.Graph, res: res, byID: map[string]graph.Node{}}
	for _, n := range res.Graph.Nodes {
		k.byID[n.ID] = n
	}
	if want.Entry != nil {
		k.entry(want.Entry)
	}
	if want.AskEntry && !anyContains(res.FollowUpQuestions, "start", "trigger", "entry", "enter") {
		k.miss("ask_entry", "no follow-up question asks what starts the journey")
	}
	if want.Sends != nil {
		k.sends(want.Sends)
	}
	if want.Waits != nil {
		k.waits(want.Waits)
	}
	if want.WaitForEvent != nil {
		k.waitForEvent(want.WaitForEvent)
	}
	if want.WaitUntil != nil {
		k.waitUntil(want.WaitUntil)
	}
	for _, cond := range want.Conditions {
		k.condition(cond)
	}
	for _, e := range want.Edges {
		if !k.hasEdge(e) {
			k.missAs(edgeFeature(c.Features), "edges", "no edge %s", e)
		}
	}
	if want.Exit != nil {
		k.exit(*want.Exit)
	}
	if want.AB != nil {
		k.ab(want.AB)
	}
	if want.Cap != nil {
		k.cap(*want.Cap)
	}
	if want.Goal != nil {
		k.goal(*want.Goal)
	}
	for _, w := range want.MustAsk {
		if !anyContains(res.FollowUpQuestions, w) {
			k.miss("must_ask", "no follow-up question mentions %q", w)
		}
	}
	for _, p := range want.MustFlag {
		if !anyContains(res.Unrecognized, p) {
			k.miss("must_flag", "%q is not among the not-understood lines", p)
		}
	}
	return k.misses
}

type checker struct {
	g      *graph.Graph
	res    *designer.Result
	byID   map[string]graph.Node
	misses []Miss
}

func (k *checker) miss(field, format string, args ...any) {
	k.missAs(fieldFeature[field], field, format, args...)
}

func (k *checker) missAs(feature, field, format string, args ...any) {
	k.misses = append(k.misses, Miss{Feature: feature, Field: field, Message: fmt.Sprintf(format, args...)})
}

// nodes returns the nodes of type typ with their configs decoded loosely.
func (k *checker) nodes(typ string) []map[string]any {
	var out []map[string]any
	for _, n := range k.g.Nodes {
		if n.Type == typ {
			out = append(out, config(n))
		}
	}
	return out
}

func config(n graph.Node) map[string]any {
	cfg := map[string]any{}
	_ = json.Unmarshal(n.Config, &cfg) // a graph that passed Validate has an object config
	return cfg
}

func str(cfg map[string]any, key string) string {
	s, _ := cfg[key].(string)
	return s
}

func (k *checker) entry(want map[string]string) {
	var entry *graph.Node
	for i, n := range k.g.Nodes {
		if graph.IsEntry(n.Type) {
			entry = &k.g.Nodes[i]
			break
		}
	}
	if entry == nil {
		k.miss("entry", "the journey has no entry")
		return
	}
	cfg := config(*entry)
	got := fmt.Sprintf("got %s %s", entry.Type, entry.Config)
	for _, key := range sortedKeys(want) {
		w := want[key]
		switch key {
		case "type":
			if entry.Type != w {
				k.miss("entry", "want type %s, %s", w, got)
			}
		case "segment":
			if !strings.Contains(slug(str(cfg, "segment_id")), slug(w)) {
				k.miss("entry", "want a segment_id containing %q, %s", w, got)
			}
		case "cron":
			if strings.Join(strings.Fields(str(cfg, "cron")), " ") != strings.Join(strings.Fields(w), " ") {
				k.miss("entry", "want cron %q, %s", w, got)
			}
		default:
			if fmt.Sprint(cfg[key]) != w {
				k.miss("entry", "want %s %q, %s", key, w, got)
			}
		}
	}
}

// slug lowers s and joins its words with underscores, so "VIP customers",
// "vip-customers" and "vip_customers" compare equal.
func slug(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}), "_")
}

func (k *checker) sends(want map[string]int) {
	got := map[string]int{}
	for _, n := range k.g.Nodes {
		if graph.IsChannel(n.Type) {
			got[n.Type]++
		}
	}
	for _, typ := range sortedKeys(union(want, got)) {
		if want[typ] != got[typ] {
			k.miss("sends", "want %d %s, got %d (all sends: %v)", want[typ], typ, got[typ], got)
		}
	}
}

func (k *checker) waits(want []string) {
	var got []string
	for _, cfg := range k.nodes("wait") {
		got = append(got, str(cfg, "duration"))
	}
	if !matchAll(len(want), len(got), func(i, j int) bool { return sameDuration(want[i], got[j]) }) {
		k.miss("waits", "want %v, got %v", want, got)
	}
}

func (k *checker) waitForEvent(want []WaitForEvent) {
	got := k.nodes("wait_for_event")
	ok := matchAll(len(want), len(got), func(i, j int) bool {
		w, g := want[i], got[j]
		return (w.EventType == "" || w.EventType == str(g, "event_type")) &&
			(w.Timeout == "" || sameDuration(w.Timeout, str(g, "timeout")))
	})
	if !ok {
		var desc []string
		for _, g := range got {
			desc = append(desc, str(g, "event_type")+"/"+str(g, "timeout"))
		}
		k.miss("wait_for_event", "want %v, got %v", want, desc)
	}
}

func (k *checker) waitUntil(want []WaitUntil) {
	got := k.nodes("wait_until")
	ok := matchAll(len(want), len(got), func(i, j int) bool {
		w, g := want[i], got[j]
		if w.Until != "" && attrName(w.Until) != attrName(str(g, "until")) {
			return false
		}
		return w.Offset == "" || sameDuration(w.Offset, str(g, "offset"))
	})
	if !ok {
		var desc []string
		for _, g := range got {
			desc = append(desc, fmt.Sprintf("%s%+v", str(g, "until"), g["offset"]))
		}
		k.miss("wait_until", "want %v, got %v", want, desc)
	}
}

// attrName strips the customer. (or customer.attributes.) prefix, so an
// expectation may name the attribute either way.
func attrName(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "customer.")
	return strings.TrimPrefix(s, "attributes.")
}

func (k *checker) condition(want Condition) {
	attr := attrName(want.Attribute)
	ref := regexp.MustCompile(`(^|[^A-Za-z0-9_.])(customer(\.attributes)?|event(\.data)?)\.` + regexp.QuoteMeta(attr) + `($|[^A-Za-z0-9_])`)
	var exprs []string
	for _, cfg := range k.nodes("condition") {
		e := str(cfg, "expression")
		exprs = append(exprs, e)
		if ref.MatchString(e) && containsValue(e, want.Value) {
			return
		}
	}
	if want.Value == nil {
		k.miss("conditions", "no condition references %s; conditions: %q", want.Attribute, exprs)
		return
	}
	k.miss("conditions", "no condition references %s with %v; conditions: %q", want.Attribute, want.Value, exprs)
}

var numberLiteral = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// containsValue reports whether the CEL expression holds v: a number as a
// numeric literal of equal value, a string as written (case-insensitive),
// a boolean as true or false.
func containsValue(expr string, v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case float64:
		for _, lit := range numberLiteral.FindAllString(expr, -1) {
			if f, err := strconv.ParseFloat(lit, 64); err == nil && math.Abs(f-v) < 1e-9 {
				return true
			}
		}
		return false
	case bool:
		return strings.Contains(expr, strconv.FormatBool(v))
	case string:
		return strings.Contains(strings.ToLower(expr), strings.ToLower(v))
	case []any:
		for _, x := range v {
			if !containsValue(expr, x) {
				return false
			}
		}
		return true
	}
	return strings.Contains(expr, fmt.Sprint(v))
}

// hasEdge reports whether the graph has an edge "srcType[branch]->dstType";
// a wait_for_event's renamed branches answer to event_received and
// timed_out.
func (k *checker) hasEdge(spec string) bool {
	src, dst, _ := strings.Cut(strings.ReplaceAll(spec, " ", ""), "->")
	branch := graph.DefaultBranch
	if i := strings.IndexByte(src, '['); i >= 0 {
		src, branch = src[:i], strings.TrimSuffix(src[i+1:], "]")
	}
	for _, e := range k.g.Edges {
		s, t := k.byID[e.Source], k.byID[e.Target]
		if s.Type == src && t.Type == dst && canonicalBranch(s, e.BranchOf()) == branch {
			return true
		}
	}
	return false
}

func canonicalBranch(n graph.Node, branch string) string {
	if n.Type != "wait_for_event" {
		return branch
	}
	c, err := graph.DecodeConfig[graph.WaitForEventConfig](n)
	switch {
	case err != nil:
	case branch == c.EventBranchName():
		return graph.BranchEventReceived
	case branch == c.TimeoutBranchName():
		return graph.BranchTimedOut
	}
	return branch
}

func (k *checker) exit(want Exit) {
	ec := k.g.ExitCriteria
	if ec == nil {
		ec = &graph.ExitCriteria{}
	}
	if want.EventType != "" && ec.EventType != want.EventType {
		k.miss("exit", "want exit event %s, got %q", want.EventType, ec.EventType)
	}
	for _, m := range want.ExpressionMentions {
		if !strings.Contains(strings.ToLower(ec.Expression), strings.ToLower(m)) {
			k.miss("exit", "exit expression %q does not mention %q", ec.Expression, m)
		}
	}
}

func (k *checker) ab(want []Split) {
	var got [][]int
	for _, n := range k.g.Nodes {
		if n.Type != "ab_split" {
			continue
		}
		c, _ := graph.DecodeConfig[graph.ABSplitConfig](n)
		var w []int
		for _, v := range c.Variants {
			w = append(w, int(v.Weight))
		}
		got = append(got, w)
	}
	ok := matchAll(len(want), len(got), func(i, j int) bool {
		w, g := want[i], got[j]
		if w.Equal == 0 {
			return slices.Equal(w.Weights, g)
		}
		return len(g) == w.Equal && slices.Max(g)-slices.Min(g) <= 1
	})
	if !ok {
		k.miss("ab", "want splits %v, got %v", want, got)
	}
}

func (k *checker) cap(want Cap) {
	fits := func(channel string, max int, window string) bool {
		return (want.Channel == "" || want.Channel == channel) && (want.Max == 0 || want.Max == max) &&
			(want.Window == "" || sameDuration(want.Window, window))
	}
	var got []string
	for ch, c := range k.g.FrequencyCap {
		if fits(ch, c.Max, c.Window) {
			return
		}
		got = append(got, fmt.Sprintf("%s %d/%s", ch, c.Max, c.Window))
	}
	for _, n := range k.g.Nodes {
		if n.Type != "frequency_cap" {
			continue
		}
		c, _ := graph.DecodeConfig[graph.FrequencyCapConfig](n)
		if fits(c.Channel, c.Max, string(c.Window)) {
			return
		}
		got = append(got, fmt.Sprintf("node %s %d/%s", c.Channel, c.Max, c.Window))
	}
	slices.Sort(got)
	k.miss("cap", "want %+v, got %v", want, got)
}

// goal checks the goal_reached nodes named like want (words compared as in
// slug, so "first project" names first_project_created): at least one, and
// when want names an event, none reachable from the entry without passing
// the event branch of a wait_for_event on it or the true branch of a
// condition mentioning it.
func (k *checker) goal(want Goal) {
	var goals []string
	for _, n := range k.g.Nodes {
		if n.Type == "goal_reached" && strings.Contains(slug(str(config(n), "goal_name")), slug(want.GoalName)) {
			goals = append(goals, n.ID)
		}
	}
	if len(goals) == 0 {
		k.miss("goal", "no goal_reached node named like %q", want.GoalName)
		return
	}
	if want.EventType == "" {
		return
	}
	guarded := func(e graph.Edge) bool {
		src := k.byID[e.Source]
		switch src.Type {
		case "wait_for_event":
			c, err := graph.DecodeConfig[graph.WaitForEventConfig](src)
			return err == nil && c.EventType == want.EventType && e.BranchOf() == c.EventBranchName()
		case "condition":
			return e.BranchOf() == graph.BranchTrue && strings.Contains(str(config(src), "expression"), want.EventType)
		}
		return false
	}
	seen := map[string]bool{}
	var queue []string
	for _, n := range k.g.Nodes {
		if graph.IsEntry(n.Type) {
			seen[n.ID] = true
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, e := range k.g.Edges {
			if e.Source == id && !seen[e.Target] && !guarded(e) {
				seen[e.Target] = true
				queue = append(queue, e.Target)
			}
		}
	}
	for _, id := range goals {
		if seen[id] {
			k.miss("goal", "goal %s is reached without the event %s", id, want.EventType)
			return
		}
	}
}

// matchAll reports whether the wants and gots pair up one to one (equal
// counts) under fits: a small bipartite matching.
func matchAll(nWant, nGot int, fits func(i, j int) bool) bool {
	if nWant != nGot {
		return false
	}
	used := make([]bool, nGot)
	var try func(i int) bool
	try = func(i int) bool {
		if i == nWant {
			return true
		}
		for j := range nGot {
			if !used[j] && fits(i, j) {
				used[j] = true
				if try(i + 1) {
					return true
				}
				used[j] = false
			}
		}
		return false
	}
	return try(0)
}

// anyContains reports whether some line contains one of words,
// case-insensitively, ignoring differences in spacing.
func anyContains(lines []string, words ...string) bool {
	for _, l := range lines {
		l = strings.ToLower(strings.Join(strings.Fields(l), " "))
		for _, w := range words {
			if strings.Contains(l, strings.ToLower(strings.Join(strings.Fields(w), " "))) {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func union(a, b map[string]int) map[string]int {
	u := map[string]int{}
	for k := range a {
		u[k] = 0
	}
	for k := range b {
		u[k] = 0
	}
	return u
}

package offline

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

func suggestionTypes(ss []designer.Suggestion) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Type)
	}
	return out
}

// checkSuggestions checks what every suggestion must be: a valid graph, a
// diff that is graph.Compare's, and the input left alone.
func checkSuggestions(t *testing.T, g *graph.Graph, snapshot string, ss []designer.Suggestion) {
	t.Helper()
	for _, s := range ss {
		if p := graph.Validate(s.Graph); len(p) > 0 {
			t.Errorf("%s: proposed graph invalid: %v", s.Type, p)
		}
		if want := graph.Compare(g, s.Graph); !reflect.DeepEqual(s.Diff, want) || s.Diff.Empty() {
			t.Errorf("%s: diff %+v, want %+v (non-empty)", s.Type, s.Diff, want)
		}
		if s.Description == "" {
			t.Errorf("%s: no description", s.Type)
		}
	}
	if dump(g) != snapshot {
		t.Error("Suggest changed its input graph")
	}
}

func TestSuggestLowOpenRate(t *testing.T) {
	t.Parallel()
	g := seedGraph(t)
	snapshot := dump(g)
	stats := map[string]designer.NodeStats{
		"entry_1": {Entered: 400},
		"email_1": {Entered: 400, Sent: 400},
		"wait_1":  {Entered: 400, EventReceived: 40, TimedOut: 360},
	}
	ss := Suggest(g, stats)
	if got := suggestionTypes(ss); !slices.Equal(got, []string{"sms_reminder", "ab_test"}) {
		t.Fatalf("suggestions %v, want sms_reminder and ab_test (the seed has exit criteria and caps)", got)
	}
	checkSuggestions(t, g, snapshot, ss)
	if !strings.Contains(ss[0].Description, `Only 10% of the 400 customers who got the first email "welcome_email" (step 1) opened it within 3 days.`) {
		t.Errorf("description %q", ss[0].Description)
	}
	sms := only(t, ss[0].Graph, "wait_1", "timed_out")
	if sms.Type != "send_sms" || only(t, ss[0].Graph, sms.ID, "").ID != "email_3" {
		t.Errorf("sms_reminder graph: %s", dump(ss[0].Graph))
	}
	if ab := only(t, ss[1].Graph, "entry_1", ""); ab.Type != "ab_split" {
		t.Errorf("ab_test graph: entry leads to %s", ab.Type)
	}

	// A good open rate, or too few customers, gives nothing.
	for name, st := range map[string]designer.NodeStats{
		"good rate": {EventReceived: 200, TimedOut: 200},
		"too few":   {EventReceived: 5, TimedOut: 90},
	} {
		if ss := Suggest(g, map[string]designer.NodeStats{"entry_1": {Entered: 400}, "wait_1": st}); len(ss) != 0 {
			t.Errorf("%s: suggestions %v", name, suggestionTypes(ss))
		}
	}
}

func TestSuggestNoReminderTwice(t *testing.T) {
	t.Parallel()
	g, _, _, err := refine(seedGraph(t), "add SMS fallback for non-openers")
	if err != nil {
		t.Fatal(err)
	}
	ss := Suggest(g, map[string]designer.NodeStats{"wait_1": {EventReceived: 10, TimedOut: 190}})
	if got := suggestionTypes(ss); !slices.Equal(got, []string{"ab_test"}) {
		t.Errorf("suggestions %v, want only ab_test: non-openers already get an SMS", got)
	}
}

func TestSuggestFailuresAndJourneySettings(t *testing.T) {
	t.Parallel()
	g := mustGraph(t, linearJSON)
	snapshot := dump(g)
	stats := map[string]designer.NodeStats{
		"start":   {Entered: 200},
		"welcome": {Entered: 200, Sent: 150, Failed: 50},
		"pause_a": {Entered: 150, Exited: 20},
		"tips":    {Entered: 130, Sent: 128, Failed: 2},
	}
	ss := Suggest(g, stats)
	if got := suggestionTypes(ss); !slices.Equal(got, []string{"failure_fallback", "unsubscribe_exit", "frequency_cap"}) {
		t.Fatalf("suggestions %v", got)
	}
	checkSuggestions(t, g, snapshot, ss)
	if sms := only(t, ss[0].Graph, "welcome", "failed"); sms.Type != "send_sms" {
		t.Errorf("fallback is a %s", sms.Type)
	}
	if !strings.Contains(ss[0].Description, "failed for 25% of the 200 customers") {
		t.Errorf("description %q", ss[0].Description)
	}
	if ec := ss[1].Graph.ExitCriteria; ec == nil || ec.EventType != "unsubscribed" {
		t.Errorf("exit criteria %+v", ec)
	}
	if c := ss[2].Graph.FrequencyCap; !reflect.DeepEqual(c, map[string]graph.Cap{"email": {Max: 2, Window: "1d"}}) {
		t.Errorf("caps %+v", c)
	}

	// The same journey with 60 entries: no journey-wide suggestions.
	few := map[string]designer.NodeStats{"start": {Entered: 60}, "welcome": {Sent: 40, Failed: 20}}
	if ss := Suggest(g, few); len(ss) != 0 {
		t.Errorf("with too little data: %v", suggestionTypes(ss))
	}
}

func TestSuggestShortenWait(t *testing.T) {
	t.Parallel()
	g := mustGraph(t, linearJSON)
	g.ExitCriteria = &graph.ExitCriteria{EventType: "purchased"}
	ss := Suggest(g, map[string]designer.NodeStats{"start": {Entered: 350}, "pause_a": {Entered: 300, Exited: 180}})
	if got := suggestionTypes(ss); !slices.Equal(got, []string{"shorten_wait", "frequency_cap"}) {
		t.Fatalf("suggestions %v", got)
	}
	if d := field(t, ss[0].Graph, "pause_a", "duration"); d != "36h" {
		t.Errorf("shortened to %s, want 36h", d)
	}
	if !strings.Contains(ss[0].Description, "60% of the 300 customers who reached the first wait (3 days, step 2) left") {
		t.Errorf("description %q", ss[0].Description)
	}
	// A short wait is left alone whatever happens during it.
	if ss := Suggest(g, map[string]designer.NodeStats{"pause_b": {Entered: 300, Exited: 280}}); slices.Contains(suggestionTypes(ss), "shorten_wait") {
		t.Error("a 1-day wait was shortened")
	}
}

func TestSuggestNothingToSay(t *testing.T) {
	t.Parallel()
	for name, g := range map[string]*graph.Graph{"nil": nil, "empty": {}, "invalid": {Nodes: []graph.Node{{ID: "x", Type: "wait"}}}} {
		if ss := Suggest(g, map[string]designer.NodeStats{"x": {Entered: 1000}}); ss == nil || len(ss) != 0 {
			t.Errorf("%s: %v (want an empty, non-nil list)", name, ss)
		}
	}
	if ss := Suggest(seedGraph(t), nil); len(ss) != 0 {
		t.Errorf("no stats: %v", suggestionTypes(ss))
	}
}

func TestSuggestionJSON(t *testing.T) {
	t.Parallel()
	ss := Suggest(seedGraph(t), map[string]designer.NodeStats{"wait_1": {EventReceived: 1, TimedOut: 199}})
	data, err := json.Marshal(ss[0])
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "description", "graph", "proposed_diff"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("suggestion JSON lacks %q: %s", k, data)
		}
	}
	var st designer.NodeStats
	if err := json.Unmarshal([]byte(`{"entered":1,"sent":2,"failed":3,"event_received":4,"timed_out":5,"exited":6}`), &st); err != nil ||
		st != (designer.NodeStats{Entered: 1, Sent: 2, Failed: 3, EventReceived: 4, TimedOut: 5, Exited: 6}) {
		t.Errorf("NodeStats from JSON: %+v, %v", st, err)
	}
}

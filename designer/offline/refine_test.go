package offline

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// Journeys the refinement tests start from. seed is the seed example; the
// others are drawn by hand, with ids and edge orders no designer would make.
const (
	// linear: signup → welcome email → 3d → tips email → 1d → offer email → goal.
	linearJSON = `{
	  "nodes": [
	    {"id": "start", "type": "event_entry", "position": {"x": 0, "y": 0}, "config": {"event_type": "signed_up"}},
	    {"id": "welcome", "type": "send_email", "position": {"x": 200, "y": 0}, "config": {"template_id": "welcome_email"}},
	    {"id": "pause_a", "type": "wait", "position": {"x": 400, "y": 0}, "config": {"duration": "3d"}},
	    {"id": "tips", "type": "send_email", "position": {"x": 600, "y": 0}, "config": {"template_id": "tips_email"}},
	    {"id": "pause_b", "type": "wait", "position": {"x": 800, "y": 0}, "config": {"duration": "1d"}},
	    {"id": "offer", "type": "send_email", "position": {"x": 1000, "y": 0}, "config": {"template_id": "offer_email", "subject": "A gift"}},
	    {"id": "won", "type": "goal_reached", "position": {"x": 1200, "y": 0}, "config": {"goal_name": "purchased", "exit_after_goal": true}}
	  ],
	  "edges": [
	    {"id": "x5", "source": "pause_b", "target": "offer"},
	    {"id": "x1", "source": "start", "target": "welcome"},
	    {"id": "x6", "source": "offer", "target": "won"},
	    {"id": "x2", "source": "welcome", "target": "pause_a"},
	    {"id": "x3", "source": "pause_a", "target": "tips"},
	    {"id": "x4", "source": "tips", "target": "pause_b"}
	  ]
	}`
	// branchy: a condition whose arms each send an SMS, then meet at an email.
	branchyJSON = `{
	  "nodes": [
	    {"id": "in", "type": "segment_entry", "position": {"x": 0, "y": 0}, "config": {"segment_id": "vip"}},
	    {"id": "check", "type": "condition", "position": {"x": 200, "y": 0}, "config": {"expression": "customer.country == \"US\""}},
	    {"id": "sms_us", "type": "send_sms", "position": {"x": 400, "y": -100}, "config": {"body": "Hi from the US team"}},
	    {"id": "sms_row", "type": "send_sms", "position": {"x": 400, "y": 100}, "config": {"template_id": "intl_sms"}},
	    {"id": "mail", "type": "send_email", "position": {"x": 600, "y": 0}, "config": {"template_id": "newsletter"}}
	  ],
	  "edges": [
	    {"id": "a", "source": "in", "target": "check"},
	    {"id": "b", "source": "check", "target": "sms_us", "branch": "true"},
	    {"id": "c", "source": "check", "target": "sms_row", "branch": "false"},
	    {"id": "d", "source": "sms_us", "target": "mail"},
	    {"id": "f", "source": "sms_row", "target": "mail"}
	  ]
	}`
)

// labelledJSON is a journey as the offline designer labels it.
const labelledJSON = `{
  "nodes": [
    {"id": "in", "type": "event_entry", "position": {"x": 0, "y": 0}, "config": {"event_type": "signed_up"}},
    {"id": "m", "type": "send_email", "label": "Hello email", "position": {"x": 0, "y": 0}, "config": {"template_id": "hello_email"}},
    {"id": "w", "type": "wait_for_event", "label": "Wait up to 3 days for email_opened", "position": {"x": 0, "y": 0}, "config": {"event_type": "email_opened", "timeout": "3d"}},
    {"id": "d", "type": "wait", "label": "Wait 1 day", "position": {"x": 0, "y": 0}, "config": {"duration": "1d"}},
    {"id": "x", "type": "journey_exit", "position": {"x": 0, "y": 0}}
  ],
  "edges": [
    {"id": "1", "source": "in", "target": "m"},
    {"id": "2", "source": "m", "target": "w"},
    {"id": "3", "source": "w", "target": "d", "branch": "timed_out"},
    {"id": "4", "source": "w", "target": "d", "branch": "event_received"},
    {"id": "5", "source": "d", "target": "x"}
  ]
}`

// customBranchesJSON waits for the open with its own branch names.
const customBranchesJSON = `{
  "nodes": [
    {"id": "in", "type": "webhook_entry", "position": {"x": 0, "y": 0}},
    {"id": "m", "type": "send_email", "position": {"x": 0, "y": 0}, "config": {"template_id": "promo"}},
    {"id": "w", "type": "wait_for_event", "position": {"x": 0, "y": 0}, "config": {"event_type": "email_opened", "timeout": "2d", "event_branch": "opened", "timeout_branch": "ignored"}},
    {"id": "yes", "type": "add_tag", "position": {"x": 0, "y": 0}, "config": {"tag": "engaged"}},
    {"id": "no", "type": "journey_exit", "position": {"x": 0, "y": 0}}
  ],
  "edges": [
    {"id": "1", "source": "in", "target": "m"},
    {"id": "2", "source": "m", "target": "w"},
    {"id": "3", "source": "w", "target": "yes", "branch": "opened"},
    {"id": "4", "source": "w", "target": "no", "branch": "ignored"}
  ]
}`

func mustGraph(t *testing.T, data string) *graph.Graph {
	t.Helper()
	g, err := graph.Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if p := graph.Validate(g); len(p) > 0 {
		t.Fatalf("fixture is invalid: %v", p)
	}
	return g
}

func seedGraph(t *testing.T) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile("../../graph/testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return mustGraph(t, string(data))
}

// nodeOf returns the node with id, failing the test when there is none.
func nodeOf(t *testing.T, g *graph.Graph, id string) graph.Node {
	t.Helper()
	n, ok := g.Node(id)
	if !ok {
		t.Fatalf("no node %q in %s", id, dump(g))
	}
	return n
}

// field reads a string field of a node's config.
func field(t *testing.T, g *graph.Graph, id, name string) string {
	t.Helper()
	return stepField(nodeOf(t, g, id), name)
}

// next returns the targets of id's edges on branch ("" is the default).
func next(g *graph.Graph, id, branch string) []string {
	var out []string
	for _, e := range g.Edges {
		if e.Source == id && e.Branch == branch {
			out = append(out, e.Target)
		}
	}
	return out
}

// only returns the single target of id on branch, failing otherwise.
func only(t *testing.T, g *graph.Graph, id, branch string) graph.Node {
	t.Helper()
	ts := next(g, id, branch)
	if len(ts) != 1 {
		t.Fatalf("%s on %q leads to %v, want one step; graph %s", id, branch, ts, dump(g))
	}
	return nodeOf(t, g, ts[0])
}

func ofType(g *graph.Graph, typ string) []graph.Node {
	var out []graph.Node
	for _, n := range g.Nodes {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

func dump(g *graph.Graph) string {
	data, _ := json.Marshal(g)
	return string(data)
}

func TestRefine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, graph, message string
		wantInExplanation    string
		check                func(t *testing.T, before, after *graph.Graph)
	}{
		{
			name: "wait 5 days instead of 3 (seed: the wait_for_event timeout)", graph: "seed",
			message: "make the wait 5 days instead of 3", wantInExplanation: "from 3 days to 5 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "wait_1", "timeout"); got != "5d" {
					t.Errorf("timeout = %q, want 5d", got)
				}
			},
		},
		{
			name: "wait instead of: the first wait of that length in path order", graph: "linear",
			message: "Make the wait 5 days instead of 3 days.",
			check: func(t *testing.T, _, g *graph.Graph) {
				if a, b := field(t, g, "pause_a", "duration"), field(t, g, "pause_b", "duration"); a != "5d" || b != "1d" {
					t.Errorf("durations %s, %s; want 5d, 1d", a, b)
				}
			},
		},
		{
			name: "the second wait", graph: "linear", message: "change the second wait to 12 hours",
			check: func(t *testing.T, _, g *graph.Graph) {
				if a, b := field(t, g, "pause_a", "duration"), field(t, g, "pause_b", "duration"); a != "3d" || b != "12h" {
					t.Errorf("durations %s, %s; want 3d, 12h", a, b)
				}
			},
		},
		{
			name: "from 1 day to a week", graph: "linear", message: "change the wait from 1 day to a week",
			check: func(t *testing.T, _, g *graph.Graph) {
				if b := field(t, g, "pause_b", "duration"); b != "7d" {
					t.Errorf("duration %s, want 7d", b)
				}
			},
		},
		{
			name: "first email's template", graph: "linear", message: "change the first email's template to spring_sale",
			wantInExplanation: `from "welcome_email" to "spring_sale"`,
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "welcome", "template_id"); got != "spring_sale" {
					t.Errorf("template %q", got)
				}
				if got := field(t, g, "tips", "template_id"); got != "tips_email" {
					t.Errorf("second email changed to %q", got)
				}
			},
		},
		{
			name: "last email's subject", graph: "linear", message: `set the subject of the last email to "Don't miss out"`,
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "offer", "subject"); got != "Don't miss out" {
					t.Errorf("subject %q", got)
				}
			},
		},
		{
			name: "SMS fallback where a wait_for_event follows (seed)", graph: "seed", message: "add SMS fallback for non-openers",
			check: func(t *testing.T, _, g *graph.Graph) {
				sms := only(t, g, "wait_1", "timed_out")
				if sms.Type != "send_sms" {
					t.Fatalf("timed_out leads to %s, want send_sms", sms.Type)
				}
				if then := only(t, g, sms.ID, ""); then.ID != "email_3" {
					t.Errorf("after the SMS comes %s, want email_3", then.ID)
				}
				if only(t, g, "wait_1", "event_received").ID != "email_2" {
					t.Error("openers' path changed")
				}
			},
		},
		{
			name: "SMS fallback inserts a wait for the open", graph: "linear", message: "add an SMS reminder for people who don't open the second email within 2 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				w := only(t, g, "tips", "")
				if w.Type != "wait_for_event" || stepField(w, "event_type") != "email_opened" || stepField(w, "timeout") != "2d" {
					t.Fatalf("after tips comes %s", dump(&graph.Graph{Nodes: []graph.Node{w}}))
				}
				if only(t, g, w.ID, "event_received").ID != "pause_b" {
					t.Error("openers do not go on to pause_b")
				}
				sms := only(t, g, w.ID, "timed_out")
				if sms.Type != "send_sms" || only(t, g, sms.ID, "").ID != "pause_b" {
					t.Errorf("non-openers: %s", dump(g))
				}
			},
		},
		{
			name: "A/B test 70/30 on the first email", graph: "seed", message: "add an A/B test on the first email with 70/30 split",
			wantInExplanation: "70%",
			check: func(t *testing.T, _, g *graph.Graph) {
				ab := only(t, g, "entry_1", "")
				if ab.Type != "ab_split" || !strings.Contains(string(ab.Config), `"weight":70`) || !strings.Contains(string(ab.Config), `"weight":30`) {
					t.Fatalf("entry leads to %s %s", ab.Type, ab.Config)
				}
				a, b := only(t, g, ab.ID, "a"), only(t, g, ab.ID, "b")
				if a.ID != "email_1" || b.Type != "send_email" {
					t.Fatalf("variants lead to %s and %s", a.ID, b.ID)
				}
				if tpl := stepField(b, "template_id"); tpl == "welcome_email" || tpl == "" {
					t.Errorf("variant b template %q, want a distinct one", tpl)
				}
				if only(t, g, a.ID, "").ID != "wait_1" || only(t, g, b.ID, "").ID != "wait_1" {
					t.Error("variants do not both rejoin wait_1")
				}
			},
		},
		{
			name: "A/B test on the 2nd email, default 50/50", graph: "linear", message: "A/B test the 2nd email",
			check: func(t *testing.T, _, g *graph.Graph) {
				ab := only(t, g, "pause_a", "")
				if ab.Type != "ab_split" || !strings.Contains(string(ab.Config), `"weight":50`) {
					t.Fatalf("pause_a leads to %s %s", ab.Type, ab.Config)
				}
			},
		},
		{
			name: "remove the second email (seed: on the event branch)", graph: "seed", message: "remove the second email",
			wantInExplanation: "Removed the second email",
			check: func(t *testing.T, before, g *graph.Graph) {
				if _, ok := g.Node("email_2"); ok {
					t.Fatal("email_2 still there")
				}
				if only(t, g, "wait_1", "event_received").ID != "goal_1" {
					t.Error("event_received does not lead to the goal")
				}
				if len(g.Nodes) != len(before.Nodes)-1 {
					t.Errorf("%d nodes, want %d", len(g.Nodes), len(before.Nodes)-1)
				}
			},
		},
		{
			name: "remove a step with a fallback removes the fallback", graph: "branchy", message: "delete the first SMS",
			check: func(t *testing.T, _, g *graph.Graph) {
				if only(t, g, "check", "true").ID != "mail" {
					t.Errorf("true branch: %v", next(g, "check", "true"))
				}
			},
		},
		{
			name: "remove the last step of a required branch ends it", graph: "seed", message: "remove the goal",
			check: func(t *testing.T, _, g *graph.Graph) {
				if len(ofType(g, "goal_reached")) != 0 {
					t.Error("goal still there")
				}
			},
		},
		{
			name: "wait of 2 days before the SMS", graph: "branchy", message: "add a wait of 2 days before the second SMS",
			check: func(t *testing.T, _, g *graph.Graph) {
				w := only(t, g, "check", "false")
				if w.Type != "wait" || stepField(w, "duration") != "2d" || only(t, g, w.ID, "").ID != "sms_row" {
					t.Errorf("false branch: %s", dump(g))
				}
			},
		},
		{
			name: "an SMS reminder after a step is a new step", graph: "linear", message: "send an SMS reminder after the second email",
			check: func(t *testing.T, _, g *graph.Graph) {
				if m := only(t, g, "tips", ""); m.Type != "send_sms" || only(t, g, m.ID, "").ID != "pause_b" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "fallback on a wait with its own branch names", graph: "custom", message: "add SMS fallback for non-openers",
			check: func(t *testing.T, _, g *graph.Graph) {
				if m := only(t, g, "w", "ignored"); m.Type != "send_sms" || only(t, g, m.ID, "").ID != "no" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "wait for a click instead of an open", graph: "seed", message: "wait for a click instead of an open",
			wantInExplanation: "click a link in the email",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "wait_1", "event_type"); got != "email_clicked" {
					t.Errorf("event %q", got)
				}
			},
		},
		{
			name: "the wait for the open is about its length", graph: "seed", message: "change the wait for the open to 5 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "wait_1", "timeout"); got != "5d" {
					t.Errorf("timeout %q", got)
				}
			},
		},
		{
			name: "start the journey on another event", graph: "branchy", message: "start the journey when they make a purchase",
			check: func(t *testing.T, _, g *graph.Graph) {
				if n := nodeOf(t, g, "in"); n.Type != "event_entry" || stepField(n, "event_type") != "purchased" {
					t.Errorf("entry %s %s", n.Type, n.Config)
				}
			},
		},
		{
			name: "tag after the second email", graph: "seed", message: "tag them as engaged after the second email",
			check: func(t *testing.T, _, g *graph.Graph) {
				if tag := only(t, g, "email_2", ""); tag.Type != "add_tag" || stepField(tag, "tag") != "engaged" || only(t, g, tag.ID, "").ID != "goal_1" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "the 3 day wait made 2 days", graph: "seed", message: "make the 3 day wait 2 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "wait_1", "timeout"); got != "2d" {
					t.Errorf("timeout %q", got)
				}
			},
		},
		{
			name: "swap a template for another", graph: "seed", message: "swap the first email's template for spring_sale",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "email_1", "template_id"); got != "spring_sale" {
					t.Errorf("template %q", got)
				}
			},
		},
		{
			name: "split with weights", graph: "seed", message: "split the first email 80-20",
			check: func(t *testing.T, _, g *graph.Graph) {
				if ab := only(t, g, "entry_1", ""); ab.Type != "ab_split" || !strings.Contains(string(ab.Config), `"weight":80`) {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "call a step 'name'", graph: "seed", message: "call the reminder email 'Nudge'",
			check: func(t *testing.T, _, g *graph.Graph) {
				if nodeOf(t, g, "email_3").Label != "Nudge" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "remove them when they unsubscribe is an exit", graph: "linear", message: "remove them from the journey when they unsubscribe",
			check: func(t *testing.T, _, g *graph.Graph) {
				if g.ExitCriteria == nil || g.ExitCriteria.EventType != "unsubscribed" {
					t.Errorf("exit %+v", g.ExitCriteria)
				}
			},
		},
		{
			name: "push after the first email", graph: "linear", message: "send a push notification after the first email",
			check: func(t *testing.T, _, g *graph.Graph) {
				p := only(t, g, "welcome", "")
				if p.Type != "send_push" || only(t, g, p.ID, "").ID != "pause_a" {
					t.Errorf("after welcome: %s", dump(g))
				}
			},
		},
		{
			name: "exit when they unsubscribe", graph: "linear", message: "add exit when they unsubscribe",
			check: func(t *testing.T, _, g *graph.Graph) {
				if g.ExitCriteria == nil || g.ExitCriteria.EventType != "unsubscribed" {
					t.Errorf("exit criteria %+v", g.ExitCriteria)
				}
			},
		},
		{
			name: "change the exit event", graph: "seed", message: "change the exit so they leave when they purchase",
			check: func(t *testing.T, _, g *graph.Graph) {
				if g.ExitCriteria == nil || g.ExitCriteria.EventType != "purchased" {
					t.Errorf("exit criteria %+v", g.ExitCriteria)
				}
			},
		},
		{
			name: "cap emails at 2 per day", graph: "linear", message: "cap emails at 2 per day",
			check: func(t *testing.T, _, g *graph.Graph) {
				if c := g.FrequencyCap["email"]; c.Max != 2 || c.Window != "1d" || len(g.FrequencyCap) != 1 {
					t.Errorf("caps %+v", g.FrequencyCap)
				}
			},
		},
		{
			name: "limit messages per week on every channel used", graph: "branchy", message: "no more than 3 messages per week",
			check: func(t *testing.T, _, g *graph.Graph) {
				if g.FrequencyCap["email"] != (graph.Cap{Max: 3, Window: "7d"}) || g.FrequencyCap["sms"] != (graph.Cap{Max: 3, Window: "7d"}) {
					t.Errorf("caps %+v", g.FrequencyCap)
				}
			},
		},
		{
			name: "remove the frequency cap on SMS", graph: "seed", message: "remove the SMS frequency cap",
			check: func(t *testing.T, _, g *graph.Graph) {
				if _, ok := g.FrequencyCap["sms"]; ok || g.FrequencyCap["email"].Max != 2 {
					t.Errorf("caps %+v", g.FrequencyCap)
				}
			},
		},
		{
			name: "rename a step", graph: "linear", message: "rename the last email to Final offer",
			check: func(t *testing.T, _, g *graph.Graph) {
				if nodeOf(t, g, "offer").Label != "Final offer" {
					t.Error("label not set")
				}
			},
		},
		{
			name: "rename the goal", graph: "seed", message: "rename the goal to Trial converted",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "goal_1", "goal_name"); got != "trial_converted" {
					t.Errorf("goal %q", got)
				}
			},
		},
		{
			name: "change the goal", graph: "seed", message: "change the goal to first purchase",
			check: func(t *testing.T, _, g *graph.Graph) {
				if got := field(t, g, "goal_1", "goal_name"); got != "first_purchase" {
					t.Errorf("goal %q", got)
				}
			},
		},
		{
			name: "two edits in one sentence", graph: "linear", message: "please make the second wait 2 days and cap emails at 1 per day",
			check: func(t *testing.T, _, g *graph.Graph) {
				if field(t, g, "pause_b", "duration") != "2d" || g.FrequencyCap["email"].Max != 1 {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "fallback when the email fails", graph: "linear", message: "if the first email bounces, send an SMS instead",
			check: func(t *testing.T, _, g *graph.Graph) {
				sms := only(t, g, "welcome", "failed")
				if sms.Type != "send_sms" || only(t, g, sms.ID, "").ID != "pause_a" {
					t.Errorf("failed branch: %s", dump(g))
				}
			},
		},
		{
			name: "a wait's label follows its new length", graph: "labelled", message: "make the wait 5 days instead of 3",
			check: func(t *testing.T, _, g *graph.Graph) {
				if l := nodeOf(t, g, "w").Label; l != "Wait up to 5 days for email_opened" {
					t.Errorf("label %q", l)
				}
			},
		},
		{
			name: "the timeout is the wait for an event", graph: "labelled", message: "extend the timeout to 4 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				if field(t, g, "w", "timeout") != "4d" || field(t, g, "d", "duration") != "1d" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "the delay after a named email", graph: "linear", message: "change the delay after the tips email to 2 days",
			check: func(t *testing.T, _, g *graph.Graph) {
				if field(t, g, "pause_b", "duration") != "2d" || field(t, g, "pause_a", "duration") != "3d" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "push for non-openers of the email", graph: "labelled", message: "send a push notification if the email isn't opened",
			check: func(t *testing.T, _, g *graph.Graph) {
				p := only(t, g, "w", "timed_out")
				if p.Type != "send_push" || only(t, g, p.ID, "").ID != "d" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "a reminder email is a new email", graph: "labelled", message: "add a reminder email for people who don't open the first email",
			check: func(t *testing.T, _, g *graph.Graph) {
				if m := only(t, g, "w", "timed_out"); m.Type != "send_email" || stepField(m, "template_id") != "hello_email_reminder" {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "a wait left leading nowhere goes with the step after it", graph: "linear", message: "remove the goal. Remove the last email.",
			wantInExplanation: "which led nowhere",
			check: func(t *testing.T, _, g *graph.Graph) {
				if _, ok := g.Node("pause_b"); ok {
					t.Errorf("pause_b kept: %s", dump(g))
				}
				if len(g.Nodes) != 4 || len(next(g, "tips", "")) != 0 {
					t.Errorf("got %s", dump(g))
				}
			},
		},
		{
			name: "the last step", graph: "labelled", message: "remove the last step",
			check: func(t *testing.T, _, g *graph.Graph) {
				if _, ok := g.Node("x"); ok || len(g.Nodes) != 4 {
					t.Errorf("got %s", dump(g))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := fixture(t, tc.graph)
			snapshot := dump(before)
			g, explanation, unrecognized, err := refine(before, tc.message)
			if err != nil {
				t.Fatalf("refine: %v", err)
			}
			if p := graph.Validate(g); len(p) > 0 {
				t.Fatalf("refined graph is invalid: %v\n%s", p, dump(g))
			}
			if dump(before) != snapshot {
				t.Error("refine changed its input graph")
			}
			if len(unrecognized) > 0 {
				t.Errorf("unrecognized %q", unrecognized)
			}
			if explanation == "" || !strings.Contains(explanation, tc.wantInExplanation) {
				t.Errorf("explanation %q, want it to contain %q", explanation, tc.wantInExplanation)
			}
			if graph.Compare(before, g).Empty() {
				t.Fatal("nothing changed")
			}
			tc.check(t, before, g)
		})
	}
}

func fixture(t *testing.T, name string) *graph.Graph {
	t.Helper()
	switch name {
	case "seed":
		return seedGraph(t)
	case "linear":
		return mustGraph(t, linearJSON)
	case "branchy":
		return mustGraph(t, branchyJSON)
	case "labelled":
		return mustGraph(t, labelledJSON)
	case "custom":
		return mustGraph(t, customBranchesJSON)
	}
	t.Fatalf("no fixture %q", name)
	return nil
}

func TestRefineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, graph, message, wantErr string }{
		{"ordinal past the end", "seed", "remove the fourth email", "there is no fourth email in this journey (it has 3 emails)"},
		{"one of a kind", "branchy", "remove the second email", "there is no second email in this journey (it has 1 email)"},
		{"no such wait", "linear", "make the wait 5 days instead of 2", "there is no wait of 2 days in this journey (its waits last 3 days, 1 day)"},
		{"ambiguous wait", "linear", "make the wait 5 days", "this journey has 2 waits"},
		{"ambiguous email", "linear", "remove the email", "say which one"},
		{"entry", "seed", "remove the entry", "how customers enter"},
		{"branching step", "seed", "remove the wait", "remove the steps on one of its branches"},
		{"nonsense", "seed", "what a lovely day", "could not understand"},
		{"exit on a second event", "seed", "exit when they purchase", `already leave the journey on the "unsubscribed" event`},
		{"fallback twice", "seed", "add SMS fallback for non-openers. Add an SMS fallback for non-openers of the first email", ""},
		{"not an email", "branchy", "add a push fallback for non-openers of the first SMS", "is not an email"},
		{"A/B test weights", "seed", "add an A/B test on the first email with 0/100 split", "2 to 5 variants"},
		{"A/B on a wait", "seed", "add an A/B test on the wait", "only messages"},
		{"journey name", "seed", "rename the journey to Onboarding", "journey's settings"},
		{"before the entry", "seed", "add a wait of 1 day before the entry", "nothing can come before the entry"},
		{"same cap", "seed", "max 1 sms per day", "SMS messages are already capped at 1 per day"},
		{"cap of nothing", "seed", "cap emails at 0 per day", "a frequency cap allows"},
		{"template on a wait", "seed", "change the template of the first wait to x", "has no template"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, _, _, err := refine(fixture(t, tc.graph), tc.message)
			if tc.wantErr == "" { // the first sentence applies, the second fails
				if err != nil {
					t.Fatalf("refine: %v", err)
				}
				if len(ofType(g, "send_sms")) != 1 {
					t.Errorf("%d SMS steps, want 1", len(ofType(g, "send_sms")))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if g != nil {
				t.Error("a graph came back with the error")
			}
		})
	}
}

func TestRefinePartial(t *testing.T) {
	t.Parallel()
	g, explanation, unrecognized, err := refine(seedGraph(t), "Make the wait 2 days. Also paint it blue. Remove the ninth email.")
	if err != nil {
		t.Fatal(err)
	}
	if stepField(nodeOf(t, g, "wait_1"), "timeout") != "2d" {
		t.Error("the wait did not change")
	}
	if !slices.Equal(unrecognized, []string{"Also paint it blue"}) {
		t.Errorf("unrecognized %q", unrecognized)
	}
	if !strings.Contains(explanation, "Not changed: there is no ninth email") {
		t.Errorf("explanation %q", explanation)
	}
}

func TestRefineEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	if _, _, _, err := refine(&graph.Graph{}, "remove the email"); err == nil {
		t.Error("no error for an empty journey")
	}
	bad := &graph.Graph{Nodes: []graph.Node{{ID: "x", Type: "send_email"}}}
	if _, _, _, err := refine(bad, "remove the email"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("err = %v", err)
	}
}

func TestPathOrderCountsBreadthFirst(t *testing.T) {
	t.Parallel()
	g := seedGraph(t)
	// Listed out of order, the nodes still count from the entry.
	slices.Reverse(g.Nodes)
	want := []string{"entry_1", "email_1", "wait_1", "email_2", "email_3", "goal_1"}
	// email_2 and email_3 are both two steps after wait_1; reversed, email_3 comes first in the graph.
	want[3], want[4] = "email_3", "email_2"
	if got := pathOrder(g); !slices.Equal(got, want) {
		t.Errorf("pathOrder = %v, want %v", got, want)
	}
}

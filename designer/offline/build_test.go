package offline

import (
	"reflect"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

func TestBuilderIDs(t *testing.T) {
	b := NewBuilder()
	entry := b.Add("event_entry", "", map[string]any{"event_type": "signed_up"})
	e1 := b.Add("send_email", "Welcome", map[string]any{"template_id": "welcome"})
	e2 := b.Add("send_email", "Tips", map[string]any{"template_id": "tips"})
	w := b.Add("wait_for_event", "", map[string]any{"event_type": "email_opened", "timeout": "3d"})
	if got := []string{entry, e1, e2, w}; !reflect.DeepEqual(got, []string{"entry_1", "email_1", "email_2", "wait_1"}) {
		t.Errorf("ids %q", got)
	}
	if id := b.Connect(entry, e1, ""); id != "e1" {
		t.Errorf("first edge id %q, want e1", id)
	}
	if id := b.Connect(entry, e1, graph.DefaultBranch); id != "e1" {
		t.Errorf("a repeated edge got a new id %q", id)
	}

	// A builder on an existing graph never reuses its ids, and leaves it alone.
	g := b.Graph()
	more := BuilderFrom(g)
	if id := more.Add("send_email", "", map[string]any{"template_id": "x"}); id != "email_3" {
		t.Errorf("next email id %q, want email_3", id)
	}
	if id := more.Connect(e1, e2, ""); id != "e2" {
		t.Errorf("next edge id %q, want e2", id)
	}
	if len(g.Nodes) != 4 || len(g.Edges) != 1 {
		t.Errorf("BuilderFrom changed the original graph: %d nodes, %d edges", len(g.Nodes), len(g.Edges))
	}
}

func TestLayout(t *testing.T) {
	b := NewBuilder()
	entry := b.Add("event_entry", "", map[string]any{"event_type": "signed_up"})
	wait := b.Add("wait_for_event", "", map[string]any{"event_type": "email_opened", "timeout": "3d"})
	yes := b.Add("send_email", "", map[string]any{"template_id": "a"})
	no := b.Add("send_sms", "", map[string]any{"template_id": "b"})
	b.Connect(entry, wait, "")
	b.Connect(wait, yes, "event_received")
	b.Connect(wait, no, "timed_out")
	g := b.Graph()
	if problems := graph.Validate(g); problems != nil {
		t.Fatalf("invalid: %v", problems)
	}
	pos := map[string]graph.Position{}
	for _, n := range g.Nodes {
		pos[n.ID] = n.Position
	}
	if pos[entry].X >= pos[wait].X || pos[wait].X >= pos[yes].X {
		t.Errorf("not laid out left to right: %v", pos)
	}
	if pos[yes].X != pos[no].X || pos[yes].Y == pos[no].Y {
		t.Errorf("the two arms should share a column on different rows: %v", pos)
	}
}

// TestSplitSurgery checks an A/B test put in front of an email that has a
// step after it: each variant gets its own email, both continue.
func TestSplitSurgery(t *testing.T) {
	j := newJourney()
	j.b.Set(j.entry, "event_entry", "", map[string]any{"event_type": "signed_up"})
	email := j.add("send_email", "Welcome email", map[string]any{"template_id": "welcome_email"})
	j.add("wait", "", map[string]any{"duration": "2d"})
	j.split(email, []int{70, 30})
	g := j.b.Graph()
	if problems := graph.Validate(g); problems != nil {
		t.Fatalf("invalid: %v", problems)
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.Source+" "+e.Branch+" "+e.Target)
	}
	want := []string{"entry_1  split_1", "email_1  wait_1", "split_1 A email_1", "email_2  wait_1", "split_1 B email_2"}
	if !reflect.DeepEqual(edges, want) {
		t.Errorf("edges %q, want %q", edges, want)
	}
	if n, _ := g.Node("email_2"); configString(n.Config, "template_id") != "welcome_email_b" {
		t.Errorf("variant B config %s, want template welcome_email_b", n.Config)
	}
}

// TestGuard checks a condition put in front of a step: those who pass go
// through it, the others skip to what follows it.
func TestGuard(t *testing.T) {
	p, err := parseJourney("When a user signs up, send a welcome email, but only to customers who opted in. Wait 2 days, send a tips email.")
	if err != nil {
		t.Fatal(err)
	}
	g := p.graph
	if problems := graph.Validate(g); problems != nil {
		t.Fatalf("invalid: %v", problems)
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.Source+" "+e.Branch+" "+e.Target)
	}
	want := []string{"entry_1  condition_1", "condition_1 true email_1", "email_1  wait_1", "condition_1 false wait_1", "wait_1  email_2"}
	if !reflect.DeepEqual(edges, want) {
		t.Errorf("edges %q, want %q", edges, want)
	}
	if n, _ := g.Node("condition_1"); configString(n.Config, "expression") != "customer.marketing_opt_in == true" {
		t.Errorf("condition %s", n.Config)
	}
}

package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// randomGraph draws a valid acyclic journey: nodes in a line, each edge
// going forward, every required branch wired, some nodes forking.
func randomGraph(t *rapid.T) *graph.Graph {
	n := rapid.IntRange(2, 12).Draw(t, "nodes")
	g := &graph.Graph{Nodes: []graph.Node{{ID: "n0", Type: "event_entry", Config: json.RawMessage(`{"event_type":"go"}`)}}}
	kinds := []struct{ typ, cfg string }{
		{"wait", `{"duration":"1h"}`},
		{"wait_for_event", `{"event_type":"opened","timeout":"1d"}`},
		{"condition", `{"expression":"customer.score > 5"}`},
		{"ab_split", `{"variants":[{"key":"a","weight":1},{"key":"b","weight":2}]}`},
		{"send_email", `{"template_id":"t"}`},
		{"call_webhook", `{"url":"http://127.0.0.1:1/hook"}`},
		{"add_tag", `{"tag":"x"}`},
		{"update_profile", `{"set":{"score":9}}`},
		{"goal_reached", `{"goal_name":"g"}`},
		{"frequency_cap", `{"channel":"email","max":1,"window":"1d"}`},
	}
	for i := 1; i < n; i++ {
		k := kinds[rapid.IntRange(0, len(kinds)-1).Draw(t, "kind")]
		g.Nodes = append(g.Nodes, graph.Node{ID: fmt.Sprintf("n%d", i), Type: k.typ, Config: json.RawMessage(k.cfg)})
	}
	g.Nodes = append(g.Nodes, graph.Node{ID: "end", Type: "journey_exit"})
	edge := func(src int, branch string) {
		dst := rapid.IntRange(src+1, len(g.Nodes)-1).Draw(t, "target")
		id := fmt.Sprintf("e%d", len(g.Edges))
		for _, e := range g.Edges { // no repeated (source, branch, target)
			if e.Source == g.Nodes[src].ID && e.Branch == branch && e.Target == g.Nodes[dst].ID {
				return
			}
		}
		g.Edges = append(g.Edges, graph.Edge{ID: id, Source: g.Nodes[src].ID, Target: g.Nodes[dst].ID, Branch: branch})
	}
	for i := 0; i < len(g.Nodes)-1; i++ {
		node := g.Nodes[i]
		required, _ := graph.BranchesOf(node)
		switch {
		case len(required) > 0:
			for _, b := range required {
				edge(i, b)
			}
		case node.Type == "journey_exit":
		default:
			for f := rapid.IntRange(1, 2).Draw(t, "fork"); f > 0; f-- {
				edge(i, "")
			}
		}
	}
	// Every node must be reachable: wire unreached ones from the entry.
	reached := map[string]bool{"n0": true}
	for changed := true; changed; {
		changed = false
		for _, e := range g.Edges {
			if reached[e.Source] && !reached[e.Target] {
				reached[e.Target], changed = true, true
			}
		}
	}
	for _, nd := range g.Nodes {
		if !reached[nd.ID] {
			g.Edges = append(g.Edges, graph.Edge{ID: fmt.Sprintf("e%d", len(g.Edges)), Source: "n0", Target: nd.ID})
		}
	}
	return g
}

// TestPropertyRandomJourneys runs random graphs under random interleavings
// of timers, events and send outcomes, and checks the engine's promises.
func TestPropertyRandomJourneys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := randomGraph(t)
		if ps := graph.Validate(g); ps != nil {
			t.Fatalf("generator made an invalid graph: %+v", ps)
		}
		p, err := Compile("j", 1, g)
		if err != nil {
			t.Fatal(err)
		}
		customer := &kalcifer.Customer{ID: rapid.StringMatching(`c[0-9]{1,4}`).Draw(t, "customer"),
			Attributes: map[string]any{"score": float64(rapid.IntRange(0, 10).Draw(t, "score"))}}
		now := t0
		out, err := p.Run(Input{Now: now, InstanceID: "i", Customer: customer, Wake: Wake{Kind: WakeStart},
			SentSince: func(string, time.Time) int { return rapid.IntRange(0, 2).Draw(t, "sent") }})
		if err != nil {
			t.Fatal(err)
		}
		var steps []kalcifer.Step
		sends := map[string]bool{}
		record := func(o Output) {
			steps = append(steps, o.Steps...)
			for _, s := range o.Sends {
				if sends[s.Key] {
					t.Fatalf("send %s decided twice", s.Key)
				}
				sends[s.Key] = true
			}
			for _, w := range o.Waits {
				if w.Kind == kalcifer.WaitSend && !sends[w.SendKey] {
					t.Fatalf("a path waits for send %s that has no ledger row", w.SendKey)
				}
			}
		}
		record(out)
		for wakes := 0; out.Status == kalcifer.InstanceActive; wakes++ {
			if wakes > 200 {
				t.Fatalf("instance did not terminate after %d wakes", wakes)
			}
			ids := make([]int, 0, len(out.Waits))
			for id := range out.Waits {
				ids = append(ids, id)
			}
			if len(ids) == 0 {
				t.Fatalf("active instance with nothing waiting")
			}
			slices.Sort(ids)
			id := rapid.SampledFrom(ids).Draw(t, "path")
			w := out.Waits[id]
			var wk Wake
			switch w.Kind {
			case kalcifer.WaitTimer:
				wk = Wake{Kind: WakeTimer, PathID: id}
			case kalcifer.WaitEvent:
				if rapid.Bool().Draw(t, "event wins") {
					wk = Wake{Kind: WakeEvent, PathID: id, Event: &kalcifer.Event{Type: w.EventType}}
				} else {
					wk = Wake{Kind: WakeTimer, PathID: id}
				}
			case kalcifer.WaitSend:
				wk = Wake{Kind: WakeSend, PathID: id, Send: rapid.SampledFrom([]SendOutcome{SendSent, SendFailed, SendAmbiguous, SendCapped}).Draw(t, "outcome")}
			}
			now = now.Add(time.Hour)
			prev := out
			out, err = p.Run(Input{Now: now, InstanceID: "i", Customer: customer, State: prev.State, Wake: wk,
				SentSince: func(string, time.Time) int { return 0 }})
			if err != nil {
				t.Fatalf("wake %+v: %v", wk, err)
			}
			record(out)
			// The losing side of a race finds nothing to do.
			if _, err := p.Run(Input{Now: now, Customer: customer, State: out.State, Wake: Wake{Kind: WakeTimer, PathID: id}}); err != ErrStaleWake {
				if _, still := out.Waits[id]; !still {
					t.Fatalf("a second wake of path %d was not refused: %v", id, err)
				}
			}
		}
		checkSteps(t, p, steps)
	})
}

// checkSteps: each node executes at most once per visit (a waiting node
// shows "waiting" then exactly one outcome), and each wait_for_event visit
// resolves to exactly one of its branches.
func checkSteps(t *rapid.T, p *Program, steps []kalcifer.Step) {
	type visit struct {
		node string
		n    int
	}
	results := map[visit][]string{}
	for _, s := range steps {
		if s.NodeID == "" {
			continue
		}
		v := visit{s.NodeID, s.Visit}
		results[v] = append(results[v], s.Result)
	}
	for v, rs := range results {
		switch {
		case len(rs) == 1 && rs[0] != "waiting":
		case len(rs) == 1 && rs[0] == "waiting": // still waiting when the instance ended
		case len(rs) == 2 && rs[0] == "waiting" && rs[1] != "waiting":
		default:
			t.Fatalf("node %s visit %d executed as %v", v.node, v.n, rs)
		}
		if p.byID[v.node].typ == "wait_for_event" && len(rs) == 2 && rs[1] != "event_received" && rs[1] != "timed_out" && rs[1] != "exited" {
			t.Fatalf("wait_for_event %s resolved as %q", v.node, rs[1])
		}
	}
}

package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

func compileJSON(t *testing.T, version int, g string) *Program {
	t.Helper()
	gr, err := graph.Parse([]byte(g))
	if err != nil {
		t.Fatal(err)
	}
	if problems := graph.Validate(gr); problems != nil {
		t.Fatalf("invalid graph: %+v", problems)
	}
	p, err := Compile("j", version, gr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func oneWait(typ, cfg string) string {
	return `{"nodes":[{"id":"in","type":"event_entry","config":{"event_type":"go"}},
		{"id":"w","type":"` + typ + `","config":` + cfg + `},{"id":"x","type":"journey_exit"}],
		"edges":[{"id":"a","source":"in","target":"w"},` + func() string {
		if typ == "wait_for_event" {
			return `{"id":"b","source":"w","target":"x","branch":"event_received"},{"id":"c","source":"w","target":"x","branch":"timed_out"}`
		}
		return `{"id":"b","source":"w","target":"x"}`
	}() + `]}`
}

// A waiting customer's wait is measured again from when it began.
func TestMoveCarriesWaitsOver(t *testing.T) {
	began := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := began.Add(48 * time.Hour) // two days in
	due := began.Add(72 * time.Hour)
	waiting := func(w kalcifer.Wait) State {
		return State{Paths: []Path{{ID: 0, Node: "w", Visit: 1, Wait: &w, Since: began}}, NextPath: 1, Visits: map[string]int{"in": 1, "w": 1}}
	}
	timer := kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due}
	event := kalcifer.Wait{Kind: kalcifer.WaitEvent, EventType: "opened", DueAt: &due}
	cases := []struct {
		name     string
		from, to string
		state    State
		want     kalcifer.Wait
	}{
		{"3d wait becomes 5d: entry + 5 days", oneWait("wait", `{"duration":"3d"}`), oneWait("wait", `{"duration":"5d"}`),
			waiting(timer), kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: ptr(began.Add(120 * time.Hour))}},
		{"3d wait becomes 1d: already past, fires now", oneWait("wait", `{"duration":"3d"}`), oneWait("wait", `{"duration":"1d"}`),
			waiting(timer), kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &now}},
		{"wait_for_event's event changes: same deadline rule", oneWait("wait_for_event", `{"event_type":"opened","timeout":"3d"}`),
			oneWait("wait_for_event", `{"event_type":"clicked","timeout":"3d","filter":{"link":"a"}}`), waiting(event),
			kalcifer.Wait{Kind: kalcifer.WaitEvent, EventType: "clicked", Filter: map[string]any{"link": "a"}, DueAt: &due}},
		{"a wait becomes a wait_for_event with the same start", oneWait("wait", `{"duration":"3d"}`),
			oneWait("wait_for_event", `{"event_type":"paid","timeout":"4d"}`), waiting(timer),
			kalcifer.Wait{Kind: kalcifer.WaitEvent, EventType: "paid", DueAt: ptr(began.Add(96 * time.Hour))}},
		{"a state without a start derives it from the old duration", oneWait("wait", `{"duration":"3d"}`), oneWait("wait", `{"duration":"5d"}`),
			func() State { s := waiting(timer); s.Paths[0].Since = time.Time{}; return s }(),
			kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: ptr(began.Add(120 * time.Hour))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := NewPlan(compileJSON(t, 1, c.from), compileJSON(t, 2, c.to), map[string]string{"in": "in", "w": "w", "x": "x"}, "")
			if err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(c.state)
			mv, err := plan.Move(c.state, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := json.Marshal(c.state); string(after) != string(before) {
				t.Fatal("Move changed its input")
			}
			got, ok := mv.Waits[0]
			if !ok || !sameWait(got, c.want) || !sameWait(*mv.State.Paths[0].Wait, c.want) {
				t.Fatalf("wait = %+v (due %v), want %+v (due %v)", got, got.DueAt, c.want, c.want.DueAt)
			}
		})
	}
}

// An unchanged wait is not rewritten; a wait_until on a missing attribute
// fails the instance's move with a message naming the attribute.
func TestMoveEdges(t *testing.T) {
	due := time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)
	st := State{Paths: []Path{{ID: 0, Node: "w", Visit: 1, Wait: &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due},
		Since: due.Add(-72 * time.Hour)}}, NextPath: 1}
	g := oneWait("wait", `{"duration":"3d"}`)
	plan, err := NewPlan(compileJSON(t, 1, g), compileJSON(t, 2, g), map[string]string{"in": "in", "w": "w", "x": "x"}, "")
	if err != nil {
		t.Fatalf("unchanged graph: plan: %v", err)
	}
	mv, err := plan.Move(st, due.Add(-time.Hour), nil)
	if err != nil || len(mv.Waits) != 0 || !mv.Unchanged(st) {
		t.Fatalf("unchanged graph: waits %v, err %v", mv.Waits, err)
	}
	plan, err = NewPlan(compileJSON(t, 1, g), compileJSON(t, 2, oneWait("wait_until", `{"until":"customer.renews_at"}`)),
		map[string]string{"in": "in", "w": "w", "x": "x"}, "")
	if err != nil {
		t.Fatalf("wait → wait_until: plan: %v", err)
	}
	_, err = plan.Move(st, due, func() (*kalcifer.Customer, error) { return &kalcifer.Customer{ID: "c"}, nil })
	if err == nil || !strings.Contains(err.Error(), "renews_at") {
		t.Fatalf("err = %v", err)
	}
	// A channel node cannot take a waiting customer.
	_, err = NewPlan(compileJSON(t, 1, g), compileJSON(t, 2, `{"nodes":[{"id":"in","type":"event_entry","config":{"event_type":"go"}},
		{"id":"m","type":"send_email","config":{"template_id":"t"}}],"edges":[{"id":"a","source":"in","target":"m"}]}`),
		map[string]string{"w": "m"}, "")
	if err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("wait → email accepted: %v", err)
	}
}

func ptr(t time.Time) *time.Time { return &t }

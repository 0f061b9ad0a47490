package graph

import (
	"encoding/json"
	"strings"
	"testing"
)

// Segment and scheduled entries validate (drafts may hold them) but are
// listed as unrunnable, each with why and what to use instead; the other
// types are not.
func TestUnrunnable(t *testing.T) {
	g := &Graph{Nodes: []Node{
		{ID: "in", Type: "event_entry", Config: json.RawMessage(`{"event_type":"go"}`)},
		{ID: "seg", Type: "segment_entry", Config: json.RawMessage(`{"segment_id":"vip"}`)},
		{ID: "cron", Type: "scheduled_entry", Config: json.RawMessage(`{"cron":"0 9 * * 1"}`)},
		{ID: "out", Type: "journey_exit"},
	}, Edges: []Edge{{ID: "a", Source: "in", Target: "out"}, {ID: "b", Source: "seg", Target: "out"}, {ID: "c", Source: "cron", Target: "out"}}}
	if ps := Validate(g); ps != nil {
		t.Fatalf("a draft may hold them: %+v", ps)
	}
	ps := Unrunnable(g)
	if len(ps) != 2 || ps[0].NodeID != "seg" || ps[1].NodeID != "cron" {
		t.Fatalf("got %+v", ps)
	}
	for _, p := range ps {
		if !strings.Contains(p.Message, `node "`+p.NodeID+`"`) || !strings.Contains(p.Message, "cannot enrol customers yet") ||
			!strings.Contains(p.Message, "use event_entry, webhook_entry or POST /journeys/{id}/trigger") {
			t.Errorf("message %q", p.Message)
		}
	}
	if !strings.Contains(ps[0].Message, "segments are not implemented") {
		t.Errorf("message %q", ps[0].Message)
	}
	for _, nt := range Types() {
		if want := nt.Type == "segment_entry" || nt.Type == "scheduled_entry" || nt.Type == "custom_code"; (nt.NotRunnable != "") != want {
			t.Errorf("%s: NotRunnable %q", nt.Type, nt.NotRunnable)
		}
	}
	if ps := Unrunnable(mustParse(t, `{"nodes":[{"id":"in","type":"webhook_entry"},{"id":"x","type":"nope"}],"edges":[]}`)); ps != nil {
		t.Fatalf("webhook_entry and unknown types: %+v", ps)
	}
}

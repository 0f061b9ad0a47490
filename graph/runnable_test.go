package graph

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every type runs but custom_code, which is off unless turned on; segment
// and scheduled entries run.
func TestUnrunnable(t *testing.T) {
	g := &Graph{Nodes: []Node{
		{ID: "in", Type: "event_entry", Config: json.RawMessage(`{"event_type":"go"}`)},
		{ID: "seg", Type: "segment_entry", Config: json.RawMessage(`{"segment_id":"vip"}`)},
		{ID: "cron", Type: "scheduled_entry", Config: json.RawMessage(`{"cron":"0 9 * * 1"}`)},
		{ID: "out", Type: "journey_exit"},
	}, Edges: []Edge{{ID: "a", Source: "in", Target: "out"}, {ID: "b", Source: "seg", Target: "out"}, {ID: "c", Source: "cron", Target: "out"}}}
	if ps := Validate(g); ps != nil {
		t.Fatalf("valid: %+v", ps)
	}
	if ps := Unrunnable(g); ps != nil {
		t.Fatalf("got %+v", ps)
	}
	for _, nt := range Types() {
		if want := nt.Type == "custom_code"; (nt.NotRunnable != "") != want {
			t.Errorf("%s: NotRunnable %q", nt.Type, nt.NotRunnable)
		}
	}
	for _, nt := range Types("custom_code") {
		if nt.NotRunnable != "" {
			t.Errorf("custom_code on: %s: NotRunnable %q", nt.Type, nt.NotRunnable)
		}
	}
	if ps := Unrunnable(mustParse(t, `{"nodes":[{"id":"in","type":"webhook_entry"},{"id":"x","type":"nope"}],"edges":[]}`)); ps != nil {
		t.Fatalf("webhook_entry and unknown types: %+v", ps)
	}
}

// custom_code runs only where the server turned it on; elsewhere the
// refusal says how to turn it on.
func TestUnrunnableCustomCode(t *testing.T) {
	g := mustParse(t, `{"nodes":[{"id":"in","type":"event_entry","config":{"event_type":"go"}},
		{"id":"lua","type":"custom_code","config":{"language":"lua","code":"return {}"}}],"edges":[{"id":"a","source":"in","target":"lua"}]}`)
	ps := Unrunnable(g)
	if len(ps) != 1 || ps[0].NodeID != "lua" || !strings.Contains(ps[0].Message, "custom_code is off on this server") ||
		!strings.Contains(ps[0].Message, "KALCIFER_ENABLE_CUSTOM_CODE=true") {
		t.Fatalf("off: %+v", ps)
	}
	if ps := Unrunnable(g, TypeCustomCode); ps != nil {
		t.Fatalf("on: %+v", ps)
	}
}

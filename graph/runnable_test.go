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
	// Turning a type on runs only a type that is off by default.
	for _, nt := range Types("custom_code", "segment_entry") {
		if want := nt.Type == "segment_entry" || nt.Type == "scheduled_entry"; (nt.NotRunnable != "") != want {
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
	if ps := Unrunnable(mustParse(t, withEntries), TypeSegmentEntry, TypeScheduledEntry); len(ps) != 2 {
		t.Fatalf("turning on a type that is not off by default runs it: %+v", ps)
	}
}

const withEntries = `{"nodes":[{"id":"seg","type":"segment_entry","config":{"segment_id":"vip"}},
	{"id":"cron","type":"scheduled_entry","config":{"cron":"0 9 * * 1"}}],"edges":[]}`

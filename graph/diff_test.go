package graph

import (
	"encoding/json"
	"os"
	"testing"
)

func seedGraph(t *testing.T) *Graph {
	t.Helper()
	data, err := os.ReadFile("testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCompare(t *testing.T) {
	a := seedGraph(t)
	if d := Compare(a, seedGraph(t)); !d.Empty() {
		t.Fatalf("a graph differs from itself: %+v", d)
	}
	b := seedGraph(t)
	// Change one config field, move a node (not a change), remove email_3,
	// add an SMS in its place and tighten the SMS cap.
	b.Nodes[2].Config = json.RawMessage(`{"event_type": "email_opened", "timeout": "5d", "timeout_branch": "timed_out"}`)
	b.Nodes[1].Position.X = 999
	b.Nodes = append(b.Nodes[:4], b.Nodes[5:]...)
	b.Nodes = append(b.Nodes, Node{ID: "sms_1", Type: "send_sms", Config: json.RawMessage(`{"body":"hi"}`)})
	b.Edges[3].Target, b.Edges[5].Source = "sms_1", "sms_1"
	b.FrequencyCap = map[string]Cap{"email": {Max: 2, Window: "1d"}, "sms": {Max: 2, Window: "1d"}}

	d := Compare(a, b)
	if len(d.AddedNodes) != 1 || d.AddedNodes[0].ID != "sms_1" {
		t.Errorf("added = %+v, want sms_1", d.AddedNodes)
	}
	if len(d.RemovedNodes) != 1 || d.RemovedNodes[0].ID != "email_3" {
		t.Errorf("removed = %+v, want email_3", d.RemovedNodes)
	}
	if len(d.ChangedNodes) != 1 || d.ChangedNodes[0].ID != "wait_1" ||
		len(d.ChangedNodes[0].Fields) != 1 || d.ChangedNodes[0].Fields[0].Field != "config.timeout" ||
		string(d.ChangedNodes[0].Fields[0].Old) != `"3d"` || string(d.ChangedNodes[0].Fields[0].New) != `"5d"` {
		t.Errorf("changed = %+v, want wait_1 config.timeout 3d → 5d", d.ChangedNodes)
	}
	var added, removed int
	for _, e := range d.ChangedEdges {
		switch e.Change {
		case EdgeAdded:
			added++
		case EdgeRemoved:
			removed++
		}
	}
	if added != 2 || removed != 2 {
		t.Errorf("edges added %d removed %d, want 2 and 2: %+v", added, removed, d.ChangedEdges)
	}
	if len(d.Settings) != 1 || d.Settings[0].Field != "frequency_cap.sms.max" {
		t.Errorf("settings = %+v, want frequency_cap.sms.max", d.Settings)
	}
	if d := Compare(nil, a); len(d.AddedNodes) != len(a.Nodes) {
		t.Errorf("from nil: %d added, want %d", len(d.AddedNodes), len(a.Nodes))
	}
}

func TestProposeMapping(t *testing.T) {
	a := seedGraph(t)
	b := seedGraph(t)
	// Rename email_3 (same template: a match by similarity), change wait_1's
	// timeout (same id: changed), drop goal_1 for a journey_exit (no match).
	b.Nodes[4].ID = "reminder"
	b.Nodes[2].Config = json.RawMessage(`{"event_type": "email_opened", "timeout": "5d", "timeout_branch": "timed_out"}`)
	b.Nodes[5] = Node{ID: "bye", Type: "journey_exit"}
	b.Edges[3].Target, b.Edges[5].Source = "reminder", "reminder"
	b.Edges[4].Target, b.Edges[5].Target = "bye", "bye"

	m := ProposeMapping(a, b)
	want := map[string]string{"entry_1": "entry_1", "email_1": "email_1", "wait_1": "wait_1", "email_2": "email_2", "email_3": "reminder"}
	for o, n := range want {
		if m.Nodes[o] != n {
			t.Errorf("%s → %q, want %q (mapping %v)", o, m.Nodes[o], n, m.Nodes)
		}
	}
	if m.Confidence["entry_1"] != 1 || m.Confidence["wait_1"] != 0.9 {
		t.Errorf("confidence %v: want 1 for unchanged, 0.9 for changed", m.Confidence)
	}
	if c := m.Confidence["email_3"]; c < minSimilarity || c > maxByThreshold {
		t.Errorf("confidence of a similarity match = %v", c)
	}
	if len(m.Unmapped) != 1 || m.Unmapped[0] != "goal_1" {
		t.Errorf("unmapped = %v, want [goal_1]", m.Unmapped)
	}
	// A very different node of the same type is not matched.
	b.Nodes[4].Config = json.RawMessage(`{"template_id": "zzzz_totally_other", "subject": "qqq"}`)
	b.Nodes[4].Label = "xyz"
	if m := ProposeMapping(a, b); m.Nodes["email_3"] != "" {
		t.Errorf("email_3 matched %q despite nothing in common (confidence %v)", m.Nodes["email_3"], m.Confidence["email_3"])
	}
}

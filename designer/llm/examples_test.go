package llm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// Every worked example of the prompt is a valid journey whose sources
// quote its request and name its nodes, and the prompt shows them all.
func TestPromptExamples(t *testing.T) {
	t.Parallel()
	if len(examples) < 3 {
		t.Fatalf("%d examples", len(examples))
	}
	for i, ex := range examples {
		a, g, problems := check(ex.answer)
		if problems != nil {
			t.Fatalf("example %d: %+v", i+1, problems)
		}
		if !strings.Contains(systemPrompt(), ex.request) {
			t.Errorf("example %d is not in the system prompt", i+1)
		}
		got := sources(ex.request, g, a.Sources)
		if len(got) != len(a.Sources) {
			t.Errorf("example %d: %d of %d sources found in the request: %+v", i+1, len(got), len(a.Sources), got)
		}
		for _, u := range a.Unrecognized {
			if !strings.Contains(ex.request, u) {
				t.Errorf("example %d: unrecognized %q is not the request's words", i+1, u)
			}
		}
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	var g graph.Graph
	if err := json.Unmarshal([]byte(`{"nodes": [{"id": "email_1", "type": "send_email", "config": {"template_id": "x"}}], "edges": []}`), &g); err != nil {
		t.Fatal(err)
	}
	msg := "When they sign up, Send the welcome email. Stop on unsubscribe."
	got := sources(msg, &g, []answerSource{
		{NodeID: "email_1", Text: "send the welcome email"}, // case differs
		{Part: "exit_criteria", Text: "Stop on unsubscribe"},
		{NodeID: "email_9", Text: "Send the welcome email"}, // no such node
		{NodeID: "email_1", Text: "send a text"},            // not in the request
		{Text: "When they sign up"},                         // names nothing
	})
	if len(got) != 2 || got[0].Text != "Send the welcome email" || msg[got[0].Start:got[0].End] != got[0].Text ||
		got[1].Part != "exit_criteria" || msg[got[1].Start:got[1].End] != "Stop on unsubscribe" {
		t.Errorf("sources %+v", got)
	}
}

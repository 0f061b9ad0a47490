package llm

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

// A refinement sends the current graph and the history, and its result
// carries the diff from the current graph.
func TestRefinementSetsDiff(t *testing.T) {
	t.Parallel()
	seed := seedJSON(t)
	updated := strings.Replace(seed, `"timeout": "3d"`, `"timeout": "5d"`, 1)
	srv := newOpenAI(t, envelope(updated))
	req := designer.Request{
		Message: "Make the wait 5 days instead of 3.",
		Current: mustParseGraph(t, seed),
		History: []designer.Turn{
			{Role: "user", Text: "Welcome premium sign-ups."},
			{Role: "assistant", Text: "Here is a welcome journey."},
		},
	}
	res, err := newDesigner(t, openAIConfig(srv.URL)).Design(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, updated)
	if res.Diff == nil || len(res.Diff.ChangedNodes) != 1 || res.Diff.ChangedNodes[0].ID != "wait_1" ||
		res.Diff.ChangedNodes[0].Fields[0].Field != "config.timeout" || string(res.Diff.ChangedNodes[0].Fields[0].New) != `"5d"` {
		t.Fatalf("diff: %+v", res.Diff)
	}
	if len(res.Diff.AddedNodes)+len(res.Diff.RemovedNodes)+len(res.Diff.ChangedEdges) != 0 {
		t.Errorf("diff has more than the timeout: %+v", res.Diff)
	}

	var body chatBody
	srv.request(1, &body)
	roles := []string{}
	for _, m := range body.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,user,assistant,user" || body.Messages[1].Content != "Welcome premium sign-ups." {
		t.Fatalf("messages: %+v", body.Messages)
	}
	last := body.Messages[3].Content
	cur, _ := json.Marshal(req.Current)
	if !strings.Contains(last, string(cur)) || !strings.Contains(last, "whole updated journey") || !strings.HasSuffix(last, req.Message) {
		t.Errorf("last message does not carry the current graph and the request:\n%s", last)
	}
}

func TestDesignMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		req     designer.Request
		roles   string
		problem string
	}{
		{"empty message", designer.Request{Message: "  "}, "", "no message"},
		{"bad role", designer.Request{Message: "x", History: []designer.Turn{{Role: "system", Text: "y"}}}, "", `role "system"`},
		{"assistant first", designer.Request{Message: "x", History: []designer.Turn{{Role: "assistant", Text: "Hi!"}}}, "user,assistant,user", ""},
		{"user twice", designer.Request{Message: "x", History: []designer.Turn{{Role: "user", Text: "a"}}}, "user", ""},
	}
	for _, c := range cases {
		msgs, err := designMessages(c.req)
		if c.problem != "" {
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.problem)
			}
			continue
		}
		roles := []string{}
		for _, m := range msgs {
			roles = append(roles, m.Role)
		}
		if err != nil || strings.Join(roles, ",") != c.roles {
			t.Errorf("%s: roles %v, error %v; want %s", c.name, roles, err, c.roles)
		}
	}
}

func TestRepairTextIsBounded(t *testing.T) {
	t.Parallel()
	problems := make([]string, 45)
	for i := range problems {
		problems[i] = fmt.Sprintf("problem %d", i+1)
	}
	text := repairText(problems)
	if !strings.Contains(text, "- problem 30\n") || strings.Contains(text, "problem 31") || !strings.Contains(text, "and 15 more problems") {
		t.Errorf("repair text:\n%s", text)
	}
	if problems[30] != "problem 31" {
		t.Error("repairText changed its argument")
	}
}

package llm

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileOutputSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(OutputSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem:///output.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///output.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOutputSchema(t *testing.T) {
	t.Parallel()
	schema := compileOutputSchema(t)
	seed := seedJSON(t)
	cases := []struct {
		name   string
		answer string
		valid  bool
	}{
		{"seed example", envelope(seed), true},
		{"prompt example", exampleAnswer, true},
		{"no explanation", `{"graph": ` + seed + `, "follow_up_questions": []}`, false},
		{"unknown node type", envelope(strings.Replace(seed, `"type": "goal_reached"`, `"type": "goal"`, 1)), false},
		{"config of another type", envelope(strings.Replace(seed, `"config": {"template_id": "reminder_email"}`, `"config": {"duration": "3d"}`, 1)), false},
		{"bad duration", envelope(strings.Replace(seed, `"timeout": "3d"`, `"timeout": "3 days"`, 1)), false},
		{"unknown edge field", envelope(strings.Replace(seed, `"id": "e1",`, `"id": "e1", "label": "x",`, 1)), false},
		{"unknown cap channel", envelope(strings.Replace(seed, `"sms": {`, `"fax": {`, 1)), false},
	}
	for _, c := range cases {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(c.answer))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := schema.Validate(inst); (err == nil) != c.valid {
			t.Errorf("%s: valid=%v, want %v (%v)", c.name, err == nil, c.valid, err)
		}
	}
	if a, b := OutputSchema(), OutputSchema(); &a[0] != &b[0] {
		t.Error("OutputSchema is rebuilt on every call")
	}
}

// The worked example in the system prompt must itself be a valid journey.
func TestPromptExampleIsValid(t *testing.T) {
	t.Parallel()
	_, g, problems := check(exampleAnswer)
	if problems != nil {
		t.Fatalf("prompt example: %+v", problems)
	}
	if len(g.Nodes) != 6 {
		t.Fatalf("prompt example has %d nodes", len(g.Nodes))
	}
	p := systemPrompt()
	for _, nt := range graph.Types() {
		if !strings.Contains(p, "- "+nt.Type+" ("+nt.Group+")") {
			t.Errorf("system prompt does not describe %s", nt.Type)
		}
	}
	for _, want := range []string{"url* (string)", "needs template_id, or subject and html", "channel* (email|sms|push|whatsapp|webhook|any)", "needs template_id, or body", "timed_out", exampleRequest} {
		if !strings.Contains(p, want) {
			t.Errorf("system prompt lacks %q", want)
		}
	}
}

func TestDecodeAnswer(t *testing.T) {
	t.Parallel()
	seed := envelope(seedJSON(t))
	cases := []struct {
		name, text, problem string // problem "" means it decodes
	}{
		{"plain", seed, ""},
		{"json fence", "```json\n" + seed + "\n```", ""},
		{"bare fence", "```\n" + seed + "\n```\n", ""},
		{"prose around", "Here is your journey:\n" + seed + "\nEnjoy!", ""},
		{"prose and fence", "Sure! Here it is.\n\n```json\n" + seed + "\n```\nLet me know.", ""},
		{"no json", "I cannot do that.", "no JSON object"},
		{"no graph", `{"explanation": "x"}`, `no "graph"`},
		{"unknown graph field", `{"graph": {"nodes": [], "edges": [], "entry": "x"}}`, "could not be read"},
		{"truncated", seed[:len(seed)/2] + "}", "not the requested JSON"},
	}
	for _, c := range cases {
		_, _, err := decodeAnswer(c.text)
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.problem)
		}
	}
}

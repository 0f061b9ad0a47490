package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kalcifer/kalcifer/graph"
)

// answer is what the model is asked to produce: the journey and a word
// about it. OutputSchema describes it.
type answer struct {
	Graph             json.RawMessage `json:"graph"`
	Explanation       string          `json:"explanation"`
	FollowUpQuestions []string        `json:"follow_up_questions"`
	Unrecognized      []string        `json:"unrecognized"`
	Sources           []answerSource  `json:"sources"`
}

// answerSource is the words of the request a node (or a journey setting,
// Part) came from; the offsets are found by searching the request.
type answerSource struct {
	NodeID string `json:"node_id"`
	Part   string `json:"part"`
	Text   string `json:"text"`
}

// capChannels are the channels a journey-wide frequency cap may name (as
// graph.Validate accepts them).
var capChannels = []string{"email", "sms", "push", "whatsapp", "webhook"}

// durationSchema matches graph.ParseDuration's format.
const durationSchema = `{"type": "string", "pattern": "^[0-9]{1,9}(s|m|h|d)$"}`

var outputSchema = sync.OnceValue(buildOutputSchema)

// OutputSchema returns the JSON Schema (draft 2020-12) of a model's answer:
//
//	{"graph": {"nodes": […], "edges": […], "exit_criteria": {…}, "frequency_cap": {…}},
//	 "explanation": "…", "follow_up_questions": ["…"], "unrecognized": ["…"],
//	 "sources": [{"node_id": "…", "text": "…"}]}
//
// Each node is one of the catalog's types, with "type" a const and "config"
// that type's config schema. It is built once from graph.Types; callers must
// not modify the returned bytes.
func OutputSchema() json.RawMessage { return outputSchema() }

func buildOutputSchema() json.RawMessage {
	var nodes []any
	for _, nt := range graph.Types() {
		nodes = append(nodes, map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"id", "type", "config"},
			"properties": map[string]any{
				"id":    map[string]any{"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
				"type":  map[string]any{"const": nt.Type},
				"label": map[string]any{"type": "string"},
				"position": map[string]any{
					"type": "object", "additionalProperties": false,
					"properties": map[string]any{"x": map[string]any{"type": "number"}, "y": map[string]any{"type": "number"}},
				},
				"config": nt.ConfigSchema,
			},
		})
	}
	caps := map[string]any{}
	for _, ch := range capChannels {
		caps[ch] = map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"max", "window"},
			"properties": map[string]any{
				"max":    map[string]any{"type": "integer", "minimum": 1},
				"window": json.RawMessage(durationSchema),
			},
		}
	}
	g := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"nodes", "edges"},
		"properties": map[string]any{
			"nodes": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"anyOf": nodes}},
			"edges": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"id", "source", "target"},
				"properties": map[string]any{
					"id":     map[string]any{"type": "string", "minLength": 1},
					"source": map[string]any{"type": "string"},
					"target": map[string]any{"type": "string"},
					"branch": map[string]any{"type": "string", "description": "The source's branch this edge follows; omit for default."},
				},
			}},
			"exit_criteria": map[string]any{
				"type": "object", "additionalProperties": false,
				"description": "Customers leave the journey when this event arrives or this CEL expression holds.",
				"properties": map[string]any{
					"event_type": map[string]any{"type": "string"},
					"expression": map[string]any{"type": "string"},
				},
			},
			"frequency_cap": map[string]any{
				"type": "object", "additionalProperties": false, "properties": caps,
				"description": "At most max messages per window on a channel, across all journeys.",
			},
		},
	}
	root := map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"graph", "explanation", "follow_up_questions"},
		"properties": map[string]any{
			"graph":       g,
			"explanation": map[string]any{"type": "string", "description": "What the journey does, in plain language, for the marketer."},
			"follow_up_questions": map[string]any{
				"type": "array", "items": map[string]any{"type": "string"},
				"description": "Questions about what had to be guessed, naming the value used; empty when nothing was.",
			},
			"unrecognized": map[string]any{
				"type": "array", "items": map[string]any{"type": "string"},
				"description": "The parts of the request not built, word for word.",
			},
			"sources": map[string]any{
				"type": "array", "description": "For each node (node_id) or journey setting (part: exit_criteria, frequency_cap), the exact words of the request it came from.",
				"items": map[string]any{
					"type": "object", "additionalProperties": false, "required": []string{"text"},
					"properties": map[string]any{
						"node_id": map[string]any{"type": "string"},
						"part":    map[string]any{"type": "string", "enum": []string{"exit_criteria", "frequency_cap"}},
						"text":    map[string]any{"type": "string", "minLength": 1},
					},
				},
			},
		},
	}
	out, err := json.Marshal(root)
	if err != nil { // only our own maps and graph's constant schemas go in
		panic("llm: output schema: " + err.Error())
	}
	return out
}

// decodeAnswer reads the model's answer. Local servers may ignore the
// schema and wrap the JSON in prose or a ```json fence; that is tolerated.
// The error is a sentence to send back to the model.
func decodeAnswer(text string) (*answer, *graph.Graph, error) {
	raw := extractJSON(text)
	if raw == "" {
		return nil, nil, errors.New("the answer contained no JSON object")
	}
	var a answer
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&a); err != nil {
		return nil, nil, fmt.Errorf("the answer is not the requested JSON object: %v", err)
	}
	if len(bytes.TrimSpace(a.Graph)) == 0 || bytes.Equal(bytes.TrimSpace(a.Graph), []byte("null")) {
		return nil, nil, errors.New(`the answer has no "graph"`)
	}
	g, err := graph.Parse(a.Graph)
	if err != nil {
		return nil, nil, fmt.Errorf("the graph could not be read: %v", err)
	}
	return &a, g, nil
}

// extractJSON returns the JSON object in text: the whole text, the inside of
// a ``` fence, or failing those the span from the first '{' to the last '}'.
func extractJSON(text string) string {
	s := strings.TrimSpace(text)
	if i := strings.Index(s, "```"); i >= 0 {
		rest := s[i+3:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 { // skip the language tag
			rest = rest[nl+1:]
		}
		if j := strings.Index(rest, "```"); j >= 0 {
			rest = rest[:j]
		}
		s = strings.TrimSpace(rest)
	}
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		return s
	}
	i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if i < 0 || j < i {
		return ""
	}
	return s[i : j+1]
}

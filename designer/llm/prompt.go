package llm

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// exampleRequest and exampleAnswer are the first worked example of the
// system prompt (examples.go): user story US-1 and a valid answer to it.
const exampleRequest = `When someone signs up, send a welcome email, wait 3 days, if not opened send an SMS reminder, if opened send an upsell after 1 week.`

const exampleAnswer = `{"graph": {
  "nodes": [
    {"id": "entry_1", "type": "event_entry", "position": {"x": 0, "y": 200}, "config": {"event_type": "signed_up"}},
    {"id": "email_1", "type": "send_email", "position": {"x": 200, "y": 200}, "config": {"template_id": "welcome_email"}},
    {"id": "wait_1", "type": "wait_for_event", "position": {"x": 400, "y": 200}, "config": {"event_type": "email_opened", "timeout": "3d"}},
    {"id": "wait_2", "type": "wait", "position": {"x": 600, "y": 100}, "config": {"duration": "7d"}},
    {"id": "email_2", "type": "send_email", "position": {"x": 800, "y": 100}, "config": {"template_id": "upsell_email"}},
    {"id": "sms_1", "type": "send_sms", "position": {"x": 600, "y": 300}, "config": {"template_id": "reminder_sms"}}
  ],
  "edges": [
    {"id": "e1", "source": "entry_1", "target": "email_1"},
    {"id": "e2", "source": "email_1", "target": "wait_1"},
    {"id": "e3", "source": "wait_1", "target": "wait_2", "branch": "event_received"},
    {"id": "e4", "source": "wait_2", "target": "email_2"},
    {"id": "e5", "source": "wait_1", "target": "sms_1", "branch": "timed_out"}
  ]},
 "explanation": "New sign-ups get a welcome email. Whoever opens it within 3 days gets an upsell email a week later; the others get an SMS reminder.",
 "follow_up_questions": ["Which templates should the welcome email, the upsell email and the SMS reminder use?"]}`

var systemPrompt = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(`You design customer journeys for Kalcifer, a journey orchestration engine. A journey is a directed graph: customers enter at an entry node and move along edges from node to node.

Answer with one JSON object and nothing else:
{"graph": {"nodes": [...], "edges": [...], "exit_criteria": {...}, "frequency_cap": {...}}, "explanation": "...", "follow_up_questions": ["..."], "unrecognized": ["..."], "sources": [{"node_id": "...", "text": "..."}]}
- A node is {"id", "type", "label" (optional), "position": {"x", "y"}, "config"}. Ids are short and readable: entry_1, email_1, sms_1, wait_1, condition_1, split_1, exit_1. Lay nodes out left to right, 200 apart in x.
- An edge is {"id", "source", "target", "branch"}; ids e1, e2, ... Omit "branch" for the default branch.
- exit_criteria (optional) is {"event_type", "expression"}: the customer leaves the journey when that event arrives or the expression holds.
- frequency_cap (optional) maps a channel (email, sms, push, whatsapp, webhook) to {"max", "window"}: at most max messages per window across all journeys.
- explanation says in plain language what the journey does. follow_up_questions asks about what you had to guess (template names, segments, events, durations, the entry), naming the value you used; leave it empty when nothing was guessed.
- unrecognized lists, word for word, each part of the request you did not build (something no node type can do, or that you did not understand). Never drop a step silently and never add one the request does not ask for.
- sources gives, for each node (node_id) and for exit_criteria and frequency_cap (part), the exact words of the request it came from (text: copied character for character, so it can be found in the request).

Reading the request:
- Names written as identifiers (snake_case, in quotes or backticks) are used exactly as written: an event order_completed is "order_completed".
- The entry is what the request says starts the journey: an event (event_entry), an audience or list such as "VIP customers" (segment_entry with a snake_case segment_id), a webhook another system calls (webhook_entry), a schedule (scheduled_entry with a cron and an IANA timezone such as Europe/Berlin). When the request does not say, pick one and ask about it.
- "Day 7" or "d7" or "T+7" is 7 days after the start, not after the previous step. "24h" is 24 hours. A stated timeout is used as stated.
- "instead" and "otherwise" are alternatives: one path or the other, never both. "unless they X" is a wait_for_event on X whose event branch skips the step.
- "2 days before renewal_date" is a wait_until on customer.renewal_date with offset -2d. A goal is reached only after its event (behind a wait_for_event on it), not by everyone.

Rules — the graph is rejected unless all hold:
- At least one entry node; entry nodes have no incoming edges. Every node is reachable from an entry node.
- No cycles: a customer never returns to a node.
- Every required branch has an edge: ` + requiredBranches() + `. Other nodes continue on the default branch (no "branch"); a path may simply end.
- Exit nodes (goal_reached with exit_after_goal, journey_exit) have no outgoing edges.
- Durations are a whole number and a unit: 30s, 15m, 12h, 3d (a week is 7d).
- Conditions and expressions are CEL over customer, event and journey, e.g. customer.plan == "premium", "vip" in customer.tags.
- ab_split variants are 2 to 5 of {"key", "weight"}, e.g. [{"key": "a", "weight": 70}, {"key": "b", "weight": 30}], and each key is a branch.
- config has exactly the fields listed for its type; * marks required fields.

Node types:
`)
	for _, nt := range graph.Types() {
		fmt.Fprintf(&b, "- %s (%s): %s Branches: %s. Config: %s.\n", nt.Type, nt.Group, nt.Description, branchText(nt), configText(nt.ConfigSchema))
	}
	for i, ex := range examples {
		fmt.Fprintf(&b, "\nExample %d. Request: %s\nAnswer:\n%s\n", i+1, ex.request, ex.answer)
	}
	return b.String()
})

// requiredBranches says, from the catalog, which branches each node type
// with required branches needs an edge on.
func requiredBranches() string {
	var parts []string
	for _, k := range graph.Kinds() {
		required, _ := graph.BranchesOf(graph.Node{Type: k.Type})
		switch _, dynamic := k.Config.(graph.Brancher); {
		case len(required) > 0:
			quoted := make([]string, len(required))
			for i, b := range required {
				quoted[i] = fmt.Sprintf("%q", b)
			}
			parts = append(parts, k.Type+" needs "+strings.Join(quoted, " and "))
		case dynamic:
			parts = append(parts, k.Type+" needs an edge on each of its branches ("+k.DynamicBranches+")")
		}
	}
	return strings.Join(parts, "; ")
}

// branchText describes the branches out of a node type.
func branchText(nt graph.NodeType) string {
	var parts []string
	if nt.DynamicBranches != "" {
		parts = append(parts, nt.DynamicBranches)
	} else if len(nt.Branches) > 0 {
		parts = append(parts, strings.Join(nt.Branches, ", "))
	}
	if len(nt.OptionalBranches) > 0 && nt.DynamicBranches == "" {
		parts = append(parts, "optional "+strings.Join(nt.OptionalBranches, ", "))
	}
	if len(parts) == 0 {
		return "none (ends the journey)"
	}
	return strings.Join(parts, "; ")
}

// configText lists a config schema's fields, required ones first.
func configText(schema json.RawMessage) string {
	var s struct {
		Required   []string                      `json:"required"`
		AnyOf      []struct{ Required []string } `json:"anyOf"`
		Properties map[string]struct {
			Type string `json:"type"`
			Enum []any  `json:"enum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema, &s); err != nil || len(s.Properties) == 0 {
		return "{}"
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := slices.Contains(s.Required, names[i]), slices.Contains(s.Required, names[j])
		if ri != rj {
			return ri
		}
		return names[i] < names[j]
	})
	fields := make([]string, len(names))
	for i, name := range names {
		p := s.Properties[name]
		typ := p.Type
		if len(p.Enum) > 0 {
			vals := make([]string, len(p.Enum))
			for k, v := range p.Enum {
				vals[k] = fmt.Sprint(v)
			}
			typ = strings.Join(vals, "|")
		}
		star := ""
		if slices.Contains(s.Required, name) {
			star = "*"
		}
		fields[i] = fmt.Sprintf("%s%s (%s)", name, star, typ)
	}
	out := strings.Join(fields, ", ")
	if len(s.AnyOf) > 0 {
		alts := make([]string, len(s.AnyOf))
		for i, a := range s.AnyOf {
			alts[i] = strings.Join(a.Required, " and ")
		}
		out += "; needs " + strings.Join(alts, ", or ")
	}
	return out
}

// message is one turn sent to a model. An assistant turn that carried a
// structured answer keeps the provider's call id (Anthropic's tool_use id),
// and a user turn answering it names that id in ReplyTo.
type message struct {
	Role    string // "user" or "assistant"
	Text    string
	CallID  string // assistant: the tool call that carried Text as its input
	ReplyTo string // user: the tool call this message reports on
}

// designMessages turns a request into the conversation sent to the model.
func designMessages(req designer.Request) ([]message, error) {
	var msgs []message
	for i, t := range req.History {
		if t.Role != "user" && t.Role != "assistant" {
			return nil, fmt.Errorf("llm: history turn %d has role %q; use user or assistant", i+1, t.Role)
		}
		msgs = appendTurn(msgs, message{Role: t.Role, Text: t.Text})
	}
	text := strings.TrimSpace(req.Message)
	if text == "" {
		return nil, fmt.Errorf("llm: the request has no message")
	}
	if req.Current != nil {
		cur, err := json.Marshal(req.Current)
		if err != nil {
			return nil, fmt.Errorf("llm: encode the current graph: %w", err)
		}
		text = "This is the current journey:\n```json\n" + string(cur) + "\n```\n" +
			"Change it as asked below and answer with the whole updated journey. Keep the ids of nodes you do not change.\n\n" + text
	}
	return appendTurn(msgs, message{Role: "user", Text: text}), nil
}

// appendTurn adds m, merging it into the previous turn of the same role:
// providers expect user and assistant turns to alternate, starting with user.
func appendTurn(msgs []message, m message) []message {
	if len(msgs) == 0 && m.Role == "assistant" {
		msgs = append(msgs, message{Role: "user", Text: "(earlier in this conversation)"})
	}
	if n := len(msgs); n > 0 && msgs[n-1].Role == m.Role && msgs[n-1].CallID == "" && m.ReplyTo == "" {
		msgs[n-1].Text += "\n\n" + m.Text
		return msgs
	}
	return append(msgs, m)
}

// maxRepairProblems bounds the problems listed in one repair request: a
// badly broken graph is better redone than patched line by line.
const maxRepairProblems = 30

// repairText tells the model what was wrong with its graph.
func repairText(problems []string) string {
	if n := len(problems); n > maxRepairProblems {
		problems = append(problems[:maxRepairProblems:maxRepairProblems], fmt.Sprintf("... and %d more problems", n-maxRepairProblems))
	}
	return "The journey you answered is invalid:\n- " + strings.Join(problems, "\n- ") +
		"\nFix every problem and answer again with the whole corrected journey in the same JSON format."
}

const explainPrompt = `You explain Kalcifer customer journeys to marketers in plain language. Given a journey graph as JSON, describe who enters, what they receive and when, how they are routed, and how they leave. Use short paragraphs or a numbered list, no JSON and no node ids.

Node types:
`

var explainSystem = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(explainPrompt)
	for _, nt := range graph.Types() {
		fmt.Fprintf(&b, "- %s: %s Branches: %s.\n", nt.Type, nt.Description, branchText(nt))
	}
	return b.String()
})

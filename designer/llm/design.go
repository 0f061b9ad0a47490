package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// backend speaks one provider's wire format.
type backend interface {
	// chat sends the conversation and returns the model's answer. With
	// structured, the answer is constrained to OutputSchema. Model output is
	// passed to emit as "delta" events while it streams.
	chat(ctx context.Context, system string, msgs []message, structured bool, emit func(designer.Event)) (reply, error)
}

// reply is a model's answer: its text (for a structured answer, the JSON),
// and the provider's id of the tool call that carried it, if any.
type reply struct {
	Text   string
	CallID string
}

// InvalidGraphError is returned when the model's journey was still invalid
// after every repair round. Problems are those of its last answer.
type InvalidGraphError struct {
	Engine   string
	Attempts int
	Problems []graph.Problem
}

func (e *InvalidGraphError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return fmt.Sprintf("llm: %s answered an invalid journey %d times; the last one has these problems:\n- %s",
		e.Engine, e.Attempts, strings.Join(msgs, "\n- "))
}

// llmDesigner is a designer.Designer backed by a model.
type llmDesigner struct {
	cfg     Config
	backend backend
}

// Name is "provider:model".
func (d *llmDesigner) Name() string { return d.cfg.Provider + ":" + d.cfg.Model }

// Design asks the model for a journey (or the whole updated journey when
// req.Current is set), checks it with graph.Validate and sends the problems
// back for repair up to MaxRepairs times.
//
// emit receives "status" events for each phase and repair round, and
// "delta" events with the model's raw output as it streams — for a journey
// that is the JSON answer being written.
func (d *llmDesigner) Design(ctx context.Context, req designer.Request, emit func(designer.Event)) (*designer.Result, error) {
	if emit == nil {
		emit = func(designer.Event) {}
	}
	msgs, err := designMessages(req)
	if err != nil {
		return nil, err
	}
	emit(designer.Event{Type: "status", Text: "asking " + d.Name()})
	for attempt := 1; ; attempt++ {
		rep, err := d.backend.chat(ctx, systemPrompt(), msgs, true, emit)
		if err != nil {
			return nil, fmt.Errorf("llm: %s: %w", d.Name(), err)
		}
		emit(designer.Event{Type: "status", Text: "checking the journey"})
		a, g, problems := check(rep.Text)
		if len(problems) == 0 {
			res := &designer.Result{
				Graph:             g,
				Explanation:       a.Explanation,
				FollowUpQuestions: nonNil(a.FollowUpQuestions),
				Unrecognized:      nonNil(a.Unrecognized),
				Sources:           sources(req.Message, g, a.Sources),
				Engine:            d.Name(),
			}
			if req.Current != nil {
				diff := graph.Compare(req.Current, g)
				res.Diff = &diff
			}
			return res, nil
		}
		if attempt > d.cfg.MaxRepairs {
			return nil, &InvalidGraphError{Engine: d.Name(), Attempts: attempt, Problems: problems}
		}
		emit(designer.Event{Type: "status", Text: fmt.Sprintf("repairing: %s (round %d of %d)", count(len(problems), "problem"), attempt, d.cfg.MaxRepairs)})
		texts := make([]string, len(problems))
		for i, p := range problems {
			texts[i] = p.Message
		}
		msgs = append(msgs,
			message{Role: "assistant", Text: rep.Text, CallID: rep.CallID},
			message{Role: "user", Text: repairText(texts), ReplyTo: rep.CallID})
	}
}

// check reads and validates an answer; problems is empty when it is usable.
func check(text string) (*answer, *graph.Graph, []graph.Problem) {
	a, g, err := decodeAnswer(text)
	if err != nil {
		return nil, nil, []graph.Problem{{Message: err.Error()}}
	}
	return a, g, graph.Validate(g)
}

// count writes "1 problem", "2 problems".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Explain asks the model to describe g in plain language.
func (d *llmDesigner) Explain(ctx context.Context, g *graph.Graph) (string, error) {
	if g.Empty() {
		return "", errors.New("llm: explain: the journey has no nodes")
	}
	data, err := json.Marshal(g)
	if err != nil {
		return "", fmt.Errorf("llm: explain: encode the journey: %w", err)
	}
	msgs := []message{{Role: "user", Text: "Explain this journey:\n```json\n" + string(data) + "\n```"}}
	rep, err := d.backend.chat(ctx, explainSystem(), msgs, false, func(designer.Event) {})
	if err != nil {
		return "", fmt.Errorf("llm: %s: %w", d.Name(), err)
	}
	text := strings.TrimSpace(rep.Text)
	if text == "" {
		return "", fmt.Errorf("llm: %s gave an empty explanation", d.Name())
	}
	return text, nil
}

// sources finds the words the model quoted for each node in the request:
// exactly, else ignoring case. A quote not found, or for a node the graph
// does not have, is left out: a span must be the request's own text.
func sources(message string, g *graph.Graph, quoted []answerSource) []designer.Source {
	var out []designer.Source
	lower := strings.ToLower(message)
	for _, q := range quoted {
		if q.Text == "" {
			continue
		}
		if _, ok := g.Node(q.NodeID); q.NodeID != "" && !ok || q.NodeID == "" && q.Part == "" {
			continue
		}
		i := strings.Index(message, q.Text)
		if i < 0 {
			i = strings.Index(lower, strings.ToLower(q.Text))
			if i < 0 || len(lower) != len(message) { // lowering changed the byte offsets
				continue
			}
		}
		end := i + len(q.Text)
		out = append(out, designer.Source{NodeID: q.NodeID, Part: q.Part, Start: i, End: end, Text: message[i:end]})
	}
	return out
}

// Package offline is Kalcifer's built-in journey designer: it reads journeys
// described in plain English with rules, not a model, so descriptions never
// leave the server. It understands channels, waits, waits for events with
// timeouts, attribute conditions, A/B tests, frequency caps, exit criteria,
// goals and the four kinds of entry; what it does not understand it hands
// back verbatim instead of guessing.
package offline

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// Designer is the offline designer.
type Designer struct{}

// New returns the offline designer.
func New() designer.Designer { return Designer{} }

// Name is "offline".
func (Designer) Name() string { return "offline" }

// Design builds a journey from req.Message, or refines req.Current with it.
func (Designer) Design(ctx context.Context, req designer.Request, emit func(designer.Event)) (*designer.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !req.Current.Empty() {
		g, explanation, unrecognized, err := refine(req.Current, req.Message)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, errors.New("offline designer: refining gave no journey")
		}
		diff := graph.Compare(req.Current, g)
		return &designer.Result{Graph: g, Explanation: explanation, FollowUpQuestions: []string{},
			Unrecognized: nonNil(unrecognized), Diff: &diff, Engine: "offline"}, nil
	}
	p, err := parseJourney(req.Message)
	if err != nil {
		return nil, fmt.Errorf("offline designer: %w", err)
	}
	if emit != nil {
		emit(designer.Event{Type: "status", Text: fmt.Sprintf("read %d steps", len(p.graph.Nodes))})
	}
	return &designer.Result{
		Graph:             p.graph,
		Explanation:       explain(p.graph) + courtesyNote(p.courtesy),
		FollowUpQuestions: nonNil(p.questions),
		Unrecognized:      nonNil(p.unrecognized),
		Sources:           p.sources,
		Engine:            "offline",
	}, nil
}

// Explain describes g in plain language.
func (Designer) Explain(ctx context.Context, g *graph.Graph) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if g == nil {
		return "", errors.New("offline designer: no journey to explain")
	}
	return explain(g), nil
}

// nonNil makes an empty list [] rather than null in JSON.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// Program is a journey version compiled for running: nodes indexed, edges
// grouped by branch, configs decoded and CEL expressions compiled once, so
// that stepping an instance does no parsing.
type Program struct {
	JourneyID string
	Version   int
	nodes     []*node
	byID      map[string]*node
	entries   []*node
	exitEvent string
	exitExpr  cel.Program
	caps      map[string]capLimit // channel → the journey's frequency cap
	journey   map[string]any      // the journey as CEL sees it; never changed, so runs share it
}

// capLimit is a journey-level frequency cap on one channel.
type capLimit struct {
	max    int
	window time.Duration
}

// node is one compiled node.
type node struct {
	id   string
	typ  string
	out  map[string][]*node // branch → targets, in edge order
	next []*node            // every target, in edge order
	kind kind
	// For event_entry nodes: the event that starts the journey.
	entryEvent  string
	entryFilter map[string]any
	// For segment_entry and scheduled_entry nodes: their config.
	segmentEntry   *graph.SegmentEntryConfig
	scheduledEntry *graph.ScheduledEntryConfig
}

// result is what a node did with a path.
type result struct {
	branch string         // follow this branch's edges ("" with wait or end)
	wait   *kalcifer.Wait // block the path on this
	end    bool           // the path ends here
	exit   string         // the whole instance exits, for this reason
	err    error          // the instance fails
	// failure notes a send that failed on a node without a failed branch:
	// the path goes on, and the step and the instance say what failed.
	failure string
	// detail is said on the step of a branch taken (what custom code set).
	detail string
}

// kind is a node type's behaviour. enter runs when a path arrives; resume
// runs when what the path waited for happens.
type kind interface {
	enter(r *run, p *Path) result
	resume(r *run, p *Path, w Wake) result
}

// Compile builds a Program from a validated graph.
func Compile(journeyID string, version int, g *graph.Graph) (*Program, error) {
	p := &Program{JourneyID: journeyID, Version: version, byID: make(map[string]*node, len(g.Nodes)),
		journey: map[string]any{"id": journeyID, "version": int64(version)}}
	for _, gn := range g.Nodes {
		k, err := newKind(gn)
		if err != nil {
			return nil, fmt.Errorf("compile node %q (%s): %w", gn.ID, gn.Type, err)
		}
		n := &node{id: gn.ID, typ: gn.Type, out: map[string][]*node{}, kind: k}
		p.nodes = append(p.nodes, n)
		p.byID[n.id] = n
		if graph.IsEntry(n.typ) {
			p.entries = append(p.entries, n)
		}
		if n.typ == graph.TypeEventEntry {
			c, err := graph.DecodeConfig[graph.EventEntryConfig](gn)
			if err != nil {
				return nil, fmt.Errorf("compile node %q: %w", gn.ID, err)
			}
			n.entryEvent, n.entryFilter = c.EventType, c.Filter
		}
		switch n.typ {
		case graph.TypeSegmentEntry:
			c, err := graph.DecodeConfig[graph.SegmentEntryConfig](gn)
			if err != nil {
				return nil, fmt.Errorf("compile node %q: %w", gn.ID, err)
			}
			n.segmentEntry = &c
		case graph.TypeScheduledEntry:
			c, err := graph.DecodeConfig[graph.ScheduledEntryConfig](gn)
			if err != nil {
				return nil, fmt.Errorf("compile node %q: %w", gn.ID, err)
			}
			n.scheduledEntry = &c
		}
	}
	for _, e := range g.Edges {
		src, dst := p.byID[e.Source], p.byID[e.Target]
		if src == nil || dst == nil {
			return nil, fmt.Errorf("compile edge %q: unknown node", e.ID)
		}
		src.out[e.BranchOf()] = append(src.out[e.BranchOf()], dst)
		src.next = append(src.next, dst)
	}
	if ec := g.ExitCriteria; ec != nil {
		p.exitEvent = ec.EventType
		if ec.Expression != "" {
			prg, err := compileCEL(ec.Expression)
			if err != nil {
				return nil, fmt.Errorf("compile exit criteria: %w", err)
			}
			p.exitExpr = prg
		}
	}
	p.caps = map[string]capLimit{}
	for ch, c := range g.FrequencyCap {
		d, err := graph.ParseDuration(c.Window)
		if err != nil {
			return nil, fmt.Errorf("compile frequency cap %s: %w", ch, err)
		}
		p.caps[ch] = capLimit{max: c.Max, window: d}
	}
	return p, nil
}

// Entry returns the entry node with the given ID, or the first entry node
// when id is empty.
func (p *Program) entry(id string) *node {
	if id == "" && len(p.entries) > 0 {
		return p.entries[0]
	}
	if n := p.byID[id]; n != nil && graph.IsEntry(n.typ) {
		return n
	}
	return nil
}

// ExitEvent is the event type that removes a customer from the journey, if
// any.
func (p *Program) ExitEvent() string { return p.exitEvent }

// decode unmarshals a node's config into v; an absent config is {}.
func decode(n graph.Node, v any) error {
	if len(n.Config) == 0 {
		return nil
	}
	if err := json.Unmarshal(n.Config, v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

func compileCEL(expr string) (cel.Program, error) {
	env, err := graph.CELEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	return env.Program(ast)
}

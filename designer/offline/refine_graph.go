package offline

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// editGraph is a copy of a journey being changed by a refinement or a
// suggestion, with the lookups the edits need. It builds on A1's Builder for
// ids and edges but never re-lays the graph out: a hand-drawn journey keeps
// its layout, and new steps are drawn next to the step they relate to. Edits
// keep node and edge ids stable so that the diff shows only what changed.
type editGraph struct {
	*Builder
	g *graph.Graph
}

// newEditGraph deep-copies g: the caller's graph is never changed.
func newEditGraph(g *graph.Graph) *editGraph {
	b := BuilderFrom(g)
	return &editGraph{Builder: b, g: b.g}
}

// node returns a pointer to the node with the given id, nil when none.
func (e *editGraph) node(id string) *graph.Node {
	for i := range e.g.Nodes {
		if e.g.Nodes[i].ID == id {
			return &e.g.Nodes[i]
		}
	}
	return nil
}

// outEdges returns the edges leaving id, in edge order.
func (e *editGraph) outEdges(id string) []graph.Edge {
	var out []graph.Edge
	for _, ed := range e.g.Edges {
		if ed.Source == id {
			out = append(out, ed)
		}
	}
	return out
}

// inEdges returns the edges reaching id, in edge order.
func (e *editGraph) inEdges(id string) []graph.Edge {
	var in []graph.Edge
	for _, ed := range e.g.Edges {
		if ed.Target == id {
			in = append(in, ed)
		}
	}
	return in
}

// targets returns the nodes id leads to on branch, in edge order.
func (e *editGraph) targets(id, branch string) []string {
	var out []string
	for _, ed := range e.outEdges(id) {
		if ed.BranchOf() == branch {
			out = append(out, ed.Target)
		}
	}
	return out
}

// pathOrder lists node ids breadth-first from the entry nodes: by distance
// from an entry, ties broken by the nodes' order in the graph. Nodes no
// entry leads to come last, in graph order. Ordinals ("the second email")
// count in this order.
func pathOrder(g *graph.Graph) []string {
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.ID] = i
	}
	out := map[string][]string{}
	for _, ed := range g.Edges {
		out[ed.Source] = append(out[ed.Source], ed.Target)
	}
	seen := map[string]bool{}
	var level, order []string
	for _, n := range g.Nodes {
		if graph.IsEntry(n.Type) {
			level = append(level, n.ID)
			seen[n.ID] = true
		}
	}
	for len(level) > 0 {
		sort.SliceStable(level, func(i, j int) bool { return index[level[i]] < index[level[j]] })
		order = append(order, level...)
		var next []string
		for _, id := range level {
			for _, t := range out[id] {
				if _, ok := index[t]; ok && !seen[t] {
					seen[t] = true
					next = append(next, t)
				}
			}
		}
		level = next
	}
	for _, n := range g.Nodes {
		if !seen[n.ID] {
			order = append(order, n.ID)
		}
	}
	return order
}

// addNode appends a step of type typ, drawn near the step at: dx columns
// right and dy rows down. It returns the new step's id.
func (e *editGraph) addNode(typ, label string, config map[string]any, near string, dx, dy float64) string {
	id := e.Add(typ, label, config)
	if at := e.node(near); at != nil {
		e.node(id).Position = graph.Position{X: at.Position.X + dx*250, Y: at.Position.Y + dy*150}
	}
	return id
}

// connect adds an edge from source to target on branch ("" or "default"
// for the default branch), unless the same edge exists already.
func (e *editGraph) connect(source, target, branch string) { e.Connect(source, target, branch) }

// removeEdges drops every edge for which drop is true.
func (e *editGraph) removeEdges(drop func(graph.Edge) bool) {
	e.g.Edges = slices.DeleteFunc(e.g.Edges, drop)
}

// retarget points every edge reaching from at to instead, keeping ids and
// branches.
func (e *editGraph) retarget(from, to string) {
	e.Redirect(from, to)
	e.dedupe()
}

// dedupe drops edges that repeat an earlier one (same source, branch and
// target), which splicing a step out can make.
func (e *editGraph) dedupe() {
	seen := map[[3]string]bool{}
	e.removeEdges(func(ed graph.Edge) bool {
		k := [3]string{ed.Source, ed.BranchOf(), ed.Target}
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}

// removeNode deletes a node and its edges.
func (e *editGraph) removeNode(id string) {
	e.g.Nodes = slices.DeleteFunc(e.g.Nodes, func(n graph.Node) bool { return n.ID == id })
	e.removeEdges(func(ed graph.Edge) bool { return ed.Source == id || ed.Target == id })
}

// pruneUnreachable deletes the nodes no entry node leads to any more and
// returns them, so that an edit never leaves orphans behind.
func (e *editGraph) pruneUnreachable() []graph.Node {
	reach := map[string]bool{}
	var stack []string
	for _, n := range e.g.Nodes {
		if graph.IsEntry(n.Type) {
			reach[n.ID] = true
			stack = append(stack, n.ID)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ed := range e.outEdges(id) {
			if !reach[ed.Target] {
				reach[ed.Target] = true
				stack = append(stack, ed.Target)
			}
		}
	}
	var gone []graph.Node
	for _, n := range e.g.Nodes {
		if !reach[n.ID] {
			gone = append(gone, n)
		}
	}
	for _, n := range gone {
		e.removeNode(n.ID)
	}
	return gone
}

// stepConfigMap decodes a node's config into a map; an absent config is empty.
func stepConfigMap(n graph.Node) map[string]any {
	c := map[string]any{}
	_ = json.Unmarshal(n.Config, &c) // the graph was validated: a bad config reads as empty
	return c
}

// setStepConfig re-encodes a node's config after a change.
func setStepConfig(n *graph.Node, c map[string]any) {
	n.Config, _ = json.Marshal(c) // decoded from JSON, changed with strings and numbers: always encodes
}

// stepField returns a string field of a node's config, "" when absent.
func stepField(n graph.Node, field string) string {
	s, _ := stepConfigMap(n)[field].(string)
	return s
}

// validOrError returns an error naming the problems when g is not valid. The
// edits are built to keep graphs valid, so this guards against our own bugs
// and against a starting graph that was already broken.
func validOrError(g *graph.Graph) error {
	problems := graph.Validate(g)
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(problems))
	for _, p := range problems {
		msgs = append(msgs, p.Message)
	}
	return fmt.Errorf("the changed journey would not be valid: %s", strings.Join(msgs, "; "))
}

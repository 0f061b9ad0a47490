package graph

import (
	"fmt"
	"slices"
)

// Unrunnable lists the nodes of g whose types a server that turned on the
// types named in on cannot run (NodeType.NotRunnable, Kind.Off), one problem
// each, in graph order; nil when every node can run. Validation accepts
// such nodes, so drafts may hold them; activating a journey, publishing a
// version and rolling back to one refuse a graph with any, since every
// customer would fail or never enter there.
func Unrunnable(g *Graph, on ...string) []Problem {
	var out []Problem
	for _, n := range g.Nodes {
		k, ok := kindByType[n.Type]
		if !ok {
			continue
		}
		why := k.NotRunnable
		if why == "" && k.Off != "" && !slices.Contains(on, n.Type) {
			why = k.Off
		}
		if why != "" {
			out = append(out, Problem{NodeID: n.ID, Field: "type", Message: fmt.Sprintf("node %q: %s", n.ID, why)})
		}
	}
	return out
}

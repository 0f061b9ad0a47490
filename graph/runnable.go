package graph

import "fmt"

// Unrunnable lists the nodes of g whose types the engine cannot run yet
// (NodeType.NotRunnable), one problem each, in graph order; nil when every
// node can run. Validation accepts such nodes, so drafts may hold them;
// activating a journey, publishing a version and rolling back to one refuse
// a graph with any, since it would enrol nobody through them.
func Unrunnable(g *Graph) []Problem {
	var out []Problem
	for _, n := range g.Nodes {
		if nt, ok := byType[n.Type]; ok && nt.NotRunnable != "" {
			out = append(out, Problem{NodeID: n.ID, Field: "type", Message: fmt.Sprintf("node %q: %s", n.ID, nt.NotRunnable)})
		}
	}
	return out
}

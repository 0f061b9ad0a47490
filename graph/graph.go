package graph

import (
	"encoding/json"
)

// Graph is a journey: nodes joined by edges, plus journey-wide exit criteria
// and frequency caps. Its JSON is the contract of the seed technical spec §4.1.
type Graph struct {
	Nodes        []Node         `json:"nodes"`
	Edges        []Edge         `json:"edges"`
	ExitCriteria *ExitCriteria  `json:"exit_criteria,omitempty"`
	FrequencyCap map[string]Cap `json:"frequency_cap,omitempty"`
}

// Node is one step. Config is kept as raw JSON: it is checked against the
// node type's JSON Schema, and the engine decodes it into the type's own struct.
type Node struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Label    string          `json:"label,omitempty"`
	Position Position        `json:"position"`
	Config   json.RawMessage `json:"config,omitempty"`
}

// Position is where the editor draws a node. The engine ignores it.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Edge leads from Source to Target. Branch names which of the source's
// outcomes it follows; empty means the default branch.
type Edge struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Target string `json:"target"`
	Branch string `json:"branch,omitempty"`
}

// ExitCriteria removes a customer from the journey at any point: when an event
// of EventType arrives, and/or when the CEL Expression holds.
type ExitCriteria struct {
	EventType  string `json:"event_type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// Cap limits messages on one channel: at most Max per Window (a duration
// such as "1d"), across every journey of the tenant.
type Cap struct {
	Max    int    `json:"max"`
	Window string `json:"window"`
}

// DefaultBranch is the branch of an edge that names none.
const DefaultBranch = "default"

// BranchOf returns the edge's branch, DefaultBranch when empty.
func (e Edge) BranchOf() string {
	if e.Branch == "" {
		return DefaultBranch
	}
	return e.Branch
}

// Node returns the node with the given id.
func (g *Graph) Node(id string) (Node, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// Empty reports whether the graph has no nodes.
func (g *Graph) Empty() bool { return g == nil || len(g.Nodes) == 0 }

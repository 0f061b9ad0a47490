package graph

import (
	"bytes"
	"encoding/json"
	"sort"
)

// Diff is what changed from one graph to another (seed FR-3.8): nodes
// matched by id, edges by source, target and branch. A node's position is the
// editor's business and is not a change.
type Diff struct {
	AddedNodes   []Node        `json:"added_nodes"`
	RemovedNodes []Node        `json:"removed_nodes"`
	ChangedNodes []NodeChange  `json:"changed_nodes"`
	ChangedEdges []EdgeChange  `json:"changed_edges"`
	Settings     []FieldChange `json:"changed_settings,omitempty"`
}

// NodeChange is a node present in both graphs whose type, label or config
// differs, field by field.
type NodeChange struct {
	ID     string        `json:"id"`
	Type   string        `json:"type"`
	Fields []FieldChange `json:"fields"`
}

// FieldChange is one field's old and new value. Field is a dotted path such
// as "config.duration"; a missing value is null.
type FieldChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// Edge changes.
const (
	EdgeAdded   = "added"
	EdgeRemoved = "removed"
)

// EdgeChange is an edge only one of the graphs has.
type EdgeChange struct {
	Change string `json:"change"`
	Edge
}

// Empty reports whether the two graphs are the same journey.
func (d Diff) Empty() bool {
	return len(d.AddedNodes)+len(d.RemovedNodes)+len(d.ChangedNodes)+len(d.ChangedEdges)+len(d.Settings) == 0
}

// Compare returns what changed from a to b. Either may be nil (an empty graph).
// Lists are in a stable order: nodes as they appear in their graph, edges
// removed before added.
func Compare(a, b *Graph) Diff {
	if a == nil {
		a = &Graph{}
	}
	if b == nil {
		b = &Graph{}
	}
	d := Diff{AddedNodes: []Node{}, RemovedNodes: []Node{}, ChangedNodes: []NodeChange{}, ChangedEdges: []EdgeChange{}}
	inA := make(map[string]Node, len(a.Nodes))
	for _, n := range a.Nodes {
		inA[n.ID] = n
	}
	inB := make(map[string]bool, len(b.Nodes))
	for _, n := range b.Nodes {
		inB[n.ID] = true
		old, ok := inA[n.ID]
		if !ok {
			d.AddedNodes = append(d.AddedNodes, n)
			continue
		}
		if fields := nodeFields(old, n); len(fields) > 0 {
			d.ChangedNodes = append(d.ChangedNodes, NodeChange{ID: n.ID, Type: n.Type, Fields: fields})
		}
	}
	for _, n := range a.Nodes {
		if !inB[n.ID] {
			d.RemovedNodes = append(d.RemovedNodes, n)
		}
	}

	key := func(e Edge) [3]string { return [3]string{e.Source, e.Target, e.BranchOf()} }
	edgesA := make(map[[3]string]bool, len(a.Edges))
	for _, e := range a.Edges {
		edgesA[key(e)] = true
	}
	edgesB := make(map[[3]string]bool, len(b.Edges))
	for _, e := range b.Edges {
		edgesB[key(e)] = true
	}
	for _, e := range a.Edges {
		if !edgesB[key(e)] {
			d.ChangedEdges = append(d.ChangedEdges, EdgeChange{Change: EdgeRemoved, Edge: e})
		}
	}
	for _, e := range b.Edges {
		if !edgesA[key(e)] {
			d.ChangedEdges = append(d.ChangedEdges, EdgeChange{Change: EdgeAdded, Edge: e})
		}
	}

	d.Settings = append(fieldDiff("exit_criteria", marshal(a.ExitCriteria), marshal(b.ExitCriteria)),
		fieldDiff("frequency_cap", marshal(a.FrequencyCap), marshal(b.FrequencyCap))...)
	return d
}

func nodeFields(a, b Node) []FieldChange {
	var out []FieldChange
	if a.Type != b.Type {
		out = append(out, FieldChange{Field: "type", Old: marshal(a.Type), New: marshal(b.Type)})
	}
	if a.Label != b.Label {
		out = append(out, FieldChange{Field: "label", Old: marshal(a.Label), New: marshal(b.Label)})
	}
	return append(out, fieldDiff("config", a.Config, b.Config)...)
}

// fieldDiff compares two JSON values, descending into objects so that each
// changed leaf is its own FieldChange; arrays and scalars compare whole.
func fieldDiff(path string, a, b json.RawMessage) []FieldChange {
	va, vb := decode(a), decode(b)
	ma, aObj := va.(map[string]any)
	mb, bObj := vb.(map[string]any)
	if aObj && bObj {
		keys := make(map[string]bool, len(ma)+len(mb))
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []FieldChange
		for _, k := range sorted {
			out = append(out, fieldDiff(path+"."+k, marshal(ma[k]), marshal(mb[k]))...)
		}
		return out
	}
	ca, cb := marshal(va), marshal(vb)
	if bytes.Equal(ca, cb) {
		return nil
	}
	return []FieldChange{{Field: path, Old: ca, New: cb}}
}

// decode reads JSON into generic values; empty or invalid input is null, so an
// absent config and "{}" differ but an absent config and "null" do not.
func decode(raw json.RawMessage) any {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// marshal encodes v canonically (encoding/json sorts map keys); nil pointers
// and empty maps are null.
func marshal(v any) json.RawMessage {
	switch x := v.(type) {
	case json.RawMessage:
		return marshal(decode(x))
	case *ExitCriteria:
		if x == nil {
			return json.RawMessage("null")
		}
	case map[string]Cap:
		if len(x) == 0 {
			return json.RawMessage("null")
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

package graph

import (
	"encoding/json"
	"slices"
)

// NodeType describes one kind of node: its group, what it does, the branches
// out of it and the JSON Schema of its config.
type NodeType struct {
	Type        string `json:"type"`
	Group       string `json:"group"` // entry, channel, logic, data or exit
	Description string `json:"description"`
	// Branches are the fixed branches out of the node; "default" for plain
	// nodes, none for nodes that end the journey.
	Branches []string `json:"branches"`
	// OptionalBranches may have an edge but need none (channel "failed").
	OptionalBranches []string `json:"optional_branches,omitempty"`
	// DynamicBranches explains branches that come from the config.
	DynamicBranches string          `json:"dynamic_branches,omitempty"`
	ConfigSchema    json.RawMessage `json:"config_schema"`
	// NotRunnable, when set, says why this server cannot run the type and
	// what to do instead, or how to turn it on. Drafts may hold such nodes;
	// a journey with one is neither activated nor published (see
	// Unrunnable).
	NotRunnable string `json:"not_runnable,omitempty"`
}

// Groups of node types.
const (
	GroupEntry   = "entry"
	GroupChannel = "channel"
	GroupLogic   = "logic"
	GroupData    = "data"
	GroupExit    = "exit"
)

// Types returns every node type, grouped as in the design's table, as a
// server that turned on the types named in on sees them: a kind that is
// off unless turned on (Kind.Off) is NotRunnable unless it is in on.
func Types(on ...string) []NodeType {
	out := slices.Clone(types)
	for i, nt := range out {
		if slices.Contains(on, nt.Type) && kindByType[nt.Type].Off != "" {
			out[i].NotRunnable = kindByType[nt.Type].NotRunnable
		}
	}
	return out
}

// Lookup returns the node type named typ.
func Lookup(typ string) (NodeType, bool) {
	nt, ok := byType[typ]
	return nt, ok
}

// IsEntry reports whether typ starts a journey.
func IsEntry(typ string) bool { return byType[typ].Group == GroupEntry }

// IsExit reports whether typ is an exit node.
func IsExit(typ string) bool { return byType[typ].Group == GroupExit }

// IsChannel reports whether typ sends a message.
func IsChannel(typ string) bool { return byType[typ].Group == GroupChannel }

// BranchesOf returns the branches node n must have an edge on (required) and
// may have one on (optional), given its config. A config that names its
// branches (Brancher) decides; otherwise a plain node may end on default or
// its optional branches, and a decision's named outcomes are all required.
func BranchesOf(n Node) (required, optional []string) {
	k, ok := kindByType[n.Type]
	if !ok {
		return nil, nil
	}
	if _, dynamic := k.Config.(Brancher); dynamic {
		c, err := decodeAny(n)
		if err != nil { // an invalid config is reported by Validate
			c = k.Config
		}
		return c.(Brancher).Branches()
	}
	if len(k.Branches) > 0 && !slices.Equal(k.Branches, []string{DefaultBranch}) {
		return slices.Clone(k.Branches), slices.Clone(k.OptionalBranches)
	}
	// Plain nodes: a path may end anywhere, so "default" needs no edge.
	return nil, append(slices.Clone(k.Branches), k.OptionalBranches...)
}

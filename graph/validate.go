package graph

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Problem is one thing wrong with a graph, as precisely located as possible.
// Message is a whole sentence that names the node or edge.
type Problem struct {
	NodeID  string
	EdgeID  string
	Field   string
	Message string
}

// Limits on a graph's size: journeys are written by people, and a graph past
// these is a mistake or an attack.
const (
	MaxNodes = 1000
	MaxEdges = 5000
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// Validate checks g per the seed technical spec §4.2 — entry nodes, node and
// edge references, branches, no cycles, no orphans — and every node's config
// against its type's schema. It returns every problem found, in a stable
// order, or nil when g is valid.
func Validate(g *Graph) []Problem {
	v := &validator{g: g}
	if len(g.Nodes) > MaxNodes || len(g.Edges) > MaxEdges {
		return []Problem{{Field: "nodes", Message: fmt.Sprintf(
			"the graph has %d nodes and %d edges; at most %d nodes and %d edges are allowed", len(g.Nodes), len(g.Edges), MaxNodes, MaxEdges)}}
	}
	v.nodes()
	v.edges()
	// Structure is checked whatever else is wrong, so that one answer lists
	// every problem: on the nodes with sound ids and the edges between them.
	v.cycles()
	v.orphans()
	v.graphLevel()
	return v.problems
}

type validator struct {
	g        *Graph
	byID     map[string]*Node
	entries  int
	problems []Problem
}

// known returns the nodes with a sound, unrepeated id, in graph order.
func (v *validator) known() []*Node {
	out := make([]*Node, 0, len(v.byID))
	for i := range v.g.Nodes {
		if n := &v.g.Nodes[i]; v.byID[n.ID] == n {
			out = append(out, n)
		}
	}
	return out
}

// successors maps each known node to the targets of its edges, skipping
// edges that name a missing node and self-loops: both are reported by edges.
func (v *validator) successors() map[string][]string {
	out := make(map[string][]string, len(v.byID))
	for _, e := range v.g.Edges {
		if v.byID[e.Source] == nil || v.byID[e.Target] == nil || e.Source == e.Target {
			continue
		}
		out[e.Source] = append(out[e.Source], e.Target)
	}
	return out
}

func (v *validator) add(p Problem) { v.problems = append(v.problems, p) }

func (v *validator) nodes() {
	v.byID = make(map[string]*Node, len(v.g.Nodes))
	if len(v.g.Nodes) == 0 {
		v.add(Problem{Field: "nodes", Message: "the graph has no nodes; it needs at least one entry node"})
		return
	}
	for i := range v.g.Nodes {
		n := &v.g.Nodes[i]
		switch {
		case !idPattern.MatchString(n.ID):
			v.add(Problem{NodeID: n.ID, Field: "id", Message: fmt.Sprintf(
				"node %d has id %q; ids are 1-128 letters, digits, '_', '.', ':' or '-'", i, n.ID)})
			continue
		case v.byID[n.ID] != nil:
			v.add(Problem{NodeID: n.ID, Field: "id", Message: fmt.Sprintf("node id %q is used twice", n.ID)})
			continue
		}
		v.byID[n.ID] = n
		if _, ok := Lookup(n.Type); !ok {
			v.add(Problem{NodeID: n.ID, Field: "type", Message: fmt.Sprintf("node %q has unknown type %q", n.ID, n.Type)})
			continue
		}
		if IsEntry(n.Type) {
			v.entries++
		}
		for _, p := range checkConfig(*n) {
			v.add(p)
		}
	}
	if v.entries == 0 {
		v.add(Problem{Field: "nodes", Message: "the graph has no entry node (event_entry, segment_entry, webhook_entry or scheduled_entry)"})
	}
}

func (v *validator) edges() {
	seenID := map[string]bool{}
	seenEdge := map[[3]string]bool{}
	hasEdge := map[string]map[string]bool{} // source → branch → has an edge
	for i, e := range v.g.Edges {
		bad := func(field, format string, args ...any) {
			v.add(Problem{EdgeID: e.ID, NodeID: e.Source, Field: field, Message: fmt.Sprintf("edge %q: ", e.ID) + fmt.Sprintf(format, args...)})
		}
		switch {
		case e.ID == "":
			v.add(Problem{Field: fmt.Sprintf("edges[%d].id", i), Message: fmt.Sprintf("edge %d has no id", i)})
			continue
		case seenID[e.ID]:
			bad("id", "the id is used twice")
			continue
		}
		seenID[e.ID] = true
		src, dst := v.byID[e.Source], v.byID[e.Target]
		if src == nil {
			bad("source", "source node %q does not exist", e.Source)
		}
		if dst == nil {
			bad("target", "target node %q does not exist", e.Target)
		}
		if src == nil || dst == nil {
			continue
		}
		if e.Source == e.Target {
			bad("target", "a node cannot lead to itself")
			continue
		}
		if IsEntry(dst.Type) {
			bad("target", "entry node %q cannot have incoming edges", e.Target)
		}
		required, optional := BranchesOf(*src)
		allowed := append(slices.Clone(required), optional...)
		if !slices.Contains(allowed, e.BranchOf()) {
			if len(allowed) == 0 {
				bad("source", "node %q (%s) ends the journey and cannot have outgoing edges", e.Source, src.Type)
			} else {
				bad("branch", "node %q (%s) has no branch %q; its branches are %s", e.Source, src.Type, e.BranchOf(), strings.Join(allowed, ", "))
			}
			continue
		}
		key := [3]string{e.Source, e.BranchOf(), e.Target}
		if seenEdge[key] {
			bad("target", "it repeats another edge from %q on branch %q to %q", e.Source, e.BranchOf(), e.Target)
		}
		seenEdge[key] = true
		if hasEdge[e.Source] == nil {
			hasEdge[e.Source] = map[string]bool{}
		}
		hasEdge[e.Source][e.BranchOf()] = true
	}
	for i := range v.g.Nodes {
		n := &v.g.Nodes[i]
		if v.byID[n.ID] != n { // a bad or repeated id, reported already
			continue
		}
		required, _ := BranchesOf(*n)
		for _, b := range required {
			if !hasEdge[n.ID][b] {
				v.add(Problem{NodeID: n.ID, Field: "branch", Message: fmt.Sprintf("node %q (%s) needs an edge on its %q branch", n.ID, n.Type, b)})
			}
		}
	}
}

// cycles finds cycles with Kahn's algorithm: nodes never freed lie on or
// behind a cycle.
func (v *validator) cycles() {
	nodes, out := v.known(), v.successors()
	indeg := make(map[string]int, len(nodes))
	for _, ts := range out {
		for _, t := range ts {
			indeg[t]++
		}
	}
	var queue []string
	for _, n := range nodes {
		if indeg[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	done := 0
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		done++
		for _, t := range out[id] {
			if indeg[t]--; indeg[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	if done == len(nodes) {
		return
	}
	var stuck []string
	for _, n := range nodes {
		if indeg[n.ID] > 0 {
			stuck = append(stuck, n.ID)
		}
	}
	sort.Strings(stuck)
	v.add(Problem{NodeID: stuck[0], Field: "edges", Message: fmt.Sprintf(
		"the graph has a cycle through nodes %s; journeys must be acyclic", strings.Join(quoteAll(stuck), ", "))})
}

// orphans reports nodes no entry node leads to. Without any entry node that
// would be every node, and the missing entry is reported already.
func (v *validator) orphans() {
	if v.entries == 0 {
		return
	}
	nodes, out := v.known(), v.successors()
	seen := map[string]bool{}
	var stack []string
	for _, n := range nodes {
		if IsEntry(n.Type) {
			stack = append(stack, n.ID)
			seen[n.ID] = true
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range out[id] {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	for _, n := range nodes {
		if !seen[n.ID] {
			v.add(Problem{NodeID: n.ID, Field: "edges", Message: fmt.Sprintf("node %q cannot be reached from any entry node", n.ID)})
		}
	}
}

var channels = []string{"email", "sms", "push", "whatsapp", "webhook"}

func (v *validator) graphLevel() {
	if ec := v.g.ExitCriteria; ec != nil {
		if ec.EventType == "" && ec.Expression == "" {
			v.add(Problem{Field: "exit_criteria", Message: "exit_criteria needs an event_type, an expression, or both"})
		}
		if ec.Expression != "" {
			if err := CheckExpression(ec.Expression); err != nil {
				v.add(Problem{Field: "exit_criteria.expression", Message: "exit_criteria.expression: " + err.Error()})
			}
		}
	}
	keys := make([]string, 0, len(v.g.FrequencyCap))
	for k := range v.g.FrequencyCap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, ch := range keys {
		c := v.g.FrequencyCap[ch]
		field := "frequency_cap." + ch
		if !slices.Contains(channels, ch) {
			v.add(Problem{Field: field, Message: fmt.Sprintf("frequency_cap: %q is not a channel; use %s", ch, strings.Join(channels, ", "))})
		}
		if c.Max < 1 {
			v.add(Problem{Field: field + ".max", Message: fmt.Sprintf("frequency_cap.%s.max must be at least 1", ch)})
		}
		checkDuration(c.Window, MaxDuration, "window", func(_ string, err error) {
			v.add(Problem{Field: field + ".window", Message: fmt.Sprintf("frequency_cap.%s.window %v", ch, err)})
		})
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

var (
	schemasOnce sync.Once
	schemas     map[string]*jsonschema.Schema
	schemasErr  error
)

// compiledSchemas compiles every node type's schema once.
func compiledSchemas() (map[string]*jsonschema.Schema, error) {
	schemasOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		out := map[string]*jsonschema.Schema{}
		for _, nt := range types {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(nt.ConfigSchema))
			if err != nil {
				schemasErr = fmt.Errorf("schema of %s: %w", nt.Type, err)
				return
			}
			url := "mem:///" + nt.Type + ".json"
			if err := c.AddResource(url, doc); err != nil {
				schemasErr = fmt.Errorf("schema of %s: %w", nt.Type, err)
				return
			}
			if out[nt.Type], err = c.Compile(url); err != nil {
				schemasErr = fmt.Errorf("schema of %s: %w", nt.Type, err)
				return
			}
		}
		schemas = out
	})
	return schemas, schemasErr
}

package offline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/kalcifer/kalcifer/graph"
)

// Builder constructs a journey graph step by step: it gives nodes readable
// unique ids (email_1, wait_2), edges ids e1, e2, … and lays the nodes out
// left to right when the graph is taken. Both the parser and refine use it.
//
// Node configs are Go values (maps or structs) marshalled to JSON; a builder
// never validates, so callers run graph.Validate on the result.
type Builder struct {
	g     *graph.Graph
	taken map[string]bool // node and edge ids in use
	next  map[string]int  // the next number to try per id prefix
}

// NewBuilder starts an empty graph.
func NewBuilder() *Builder {
	return &Builder{g: &graph.Graph{}, taken: map[string]bool{}, next: map[string]int{}}
}

// BuilderFrom continues building on a deep copy of g: new ids never collide
// with g's.
func BuilderFrom(g *graph.Graph) *Builder {
	b := NewBuilder()
	if g == nil {
		return b
	}
	data, err := json.Marshal(g)
	if err == nil {
		err = json.Unmarshal(data, b.g)
	}
	if err != nil { // a graph always marshals; keep going with an empty one
		b.g = &graph.Graph{}
	}
	for _, n := range b.g.Nodes {
		b.taken[n.ID] = true
	}
	for _, e := range b.g.Edges {
		b.taken[e.ID] = true
	}
	return b
}

// idPrefix is the readable stem of a node type's ids.
var idPrefix = map[string]string{
	"event_entry": "entry", "segment_entry": "entry", "webhook_entry": "entry", "scheduled_entry": "entry",
	"send_email": "email", "send_sms": "sms", "send_push": "push", "send_whatsapp": "whatsapp", "call_webhook": "webhook",
	"wait": "wait", "wait_until": "wait", "wait_for_event": "wait", "condition": "condition", "ab_split": "split",
	"frequency_cap": "cap", "update_profile": "update", "add_tag": "tag", "remove_tag": "untag", "custom_code": "code",
	"goal_reached": "goal", "journey_exit": "exit",
}

// newID returns the first unused id prefix_1, prefix_2, …
func (b *Builder) newID(prefix string) string {
	for i := max(b.next[prefix], 1); ; i++ {
		id := fmt.Sprintf("%s_%d", prefix, i)
		if prefix == "e" {
			id = fmt.Sprintf("e%d", i)
		}
		if !b.taken[id] {
			b.taken[id] = true
			b.next[prefix] = i + 1
			return id
		}
	}
}

// Add appends a node of type typ with the given label and config and returns
// its id.
func (b *Builder) Add(typ, label string, config any) string {
	prefix := idPrefix[typ]
	if prefix == "" {
		prefix = "node"
	}
	id := b.newID(prefix)
	b.g.Nodes = append(b.g.Nodes, graph.Node{ID: id, Type: typ, Label: label, Config: rawConfig(config)})
	return id
}

// Set replaces the type, label and config of node id, keeping its edges.
func (b *Builder) Set(id, typ, label string, config any) {
	for i := range b.g.Nodes {
		if b.g.Nodes[i].ID == id {
			b.g.Nodes[i].Type, b.g.Nodes[i].Label, b.g.Nodes[i].Config = typ, label, rawConfig(config)
		}
	}
}

// Node returns the node with the given id.
func (b *Builder) Node(id string) (graph.Node, bool) { return b.g.Node(id) }

// Connect adds an edge from source to target on branch ("" for the default
// branch) and returns its id. A repeated edge is not added twice.
func (b *Builder) Connect(source, target, branch string) string {
	if branch == graph.DefaultBranch {
		branch = ""
	}
	for _, e := range b.g.Edges {
		if e.Source == source && e.Target == target && e.Branch == branch {
			return e.ID
		}
	}
	id := b.newID("e")
	b.g.Edges = append(b.g.Edges, graph.Edge{ID: id, Source: source, Target: target, Branch: branch})
	return id
}

// Edges returns the edges out of node id, in the order they were added.
func (b *Builder) Edges(id string) []graph.Edge {
	var out []graph.Edge
	for _, e := range b.g.Edges {
		if e.Source == id {
			out = append(out, e)
		}
	}
	return out
}

// Redirect makes every edge that leads to from lead to to instead.
func (b *Builder) Redirect(from, to string) {
	for i := range b.g.Edges {
		if b.g.Edges[i].Target == from {
			b.g.Edges[i].Target = to
		}
	}
}

// SetExitCriteria sets the journey-wide exit criteria.
func (b *Builder) SetExitCriteria(ec *graph.ExitCriteria) { b.g.ExitCriteria = ec }

// SetCap sets the journey-wide frequency cap of one channel.
func (b *Builder) SetCap(channel string, c graph.Cap) {
	if b.g.FrequencyCap == nil {
		b.g.FrequencyCap = map[string]graph.Cap{}
	}
	b.g.FrequencyCap[channel] = c
}

// Graph lays the nodes out and returns the graph built so far. The builder
// keeps sharing it: take it once, when done.
func (b *Builder) Graph() *graph.Graph {
	Layout(b.g)
	return b.g
}

// Layout positions g's nodes left to right: a node's column is its longest
// distance from an entry node, and the nodes of a column are stacked in the
// order they appear in g. Deterministic, and readable in the editor.
func Layout(g *graph.Graph) {
	const (
		x0, y0 = 100.0, 200.0
		dx, dy = 250.0, 150.0
	)
	depth := map[string]int{}
	indeg := map[string]int{}
	out := map[string][]string{}
	for _, e := range g.Edges {
		indeg[e.Target]++
		out[e.Source] = append(out[e.Source], e.Target)
	}
	var queue []string
	for _, n := range g.Nodes {
		if indeg[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 { // Kahn's order: longest path; nodes on a cycle keep column 0
		id := queue[0]
		queue = queue[1:]
		for _, t := range out[id] {
			depth[t] = max(depth[t], depth[id]+1)
			if indeg[t]--; indeg[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	columns := map[int][]int{}
	for i, n := range g.Nodes {
		columns[depth[n.ID]] = append(columns[depth[n.ID]], i)
	}
	keys := make([]int, 0, len(columns))
	for k := range columns {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, col := range keys {
		idx := columns[col]
		top := y0 - dy*float64(len(idx)-1)/2
		for row, i := range idx {
			g.Nodes[i].Position = graph.Position{X: x0 + dx*float64(col), Y: top + dy*float64(row)}
		}
	}
}

// rawConfig marshals a node config; nil gives no config.
func rawConfig(config any) json.RawMessage {
	if config == nil {
		return nil
	}
	if raw, ok := config.(json.RawMessage); ok {
		return slices.Clone(raw)
	}
	// Without HTML escaping, an expression reads "a > 5", not "a \u003e 5".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(config); err != nil { // configs are maps of strings and numbers: cannot happen
		return nil
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

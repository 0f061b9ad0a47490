package graph

import (
	"math"
	"sort"
	"strings"
)

// Mapping says where each node of an old graph continues in a new one, for
// moving customers who are mid-journey onto a new version (seed FR-3.4).
type Mapping struct {
	// Nodes maps an old node id to a new node id. Old nodes without a
	// counterpart are absent from it and listed in Unmapped.
	Nodes map[string]string `json:"suggested_mapping"`
	// Confidence is, per mapped old node, how sure the proposal is: 1 for the
	// same id, type and config; lower for a changed config or a match by
	// similarity.
	Confidence map[string]float64 `json:"confidence"`
	// Unmapped lists the old nodes the proposal found no counterpart for, in
	// graph order.
	Unmapped []string `json:"unmapped"`
}

// Confidence levels of a proposal.
const (
	sameNode       = 1.0  // same id, type and config
	sameIDChanged  = 0.9  // same id and type, config changed
	minSimilarity  = 0.55 // below this a node is left unmapped
	maxByThreshold = 0.85 // a match by similarity is never surer than this
)

// ProposeMapping proposes a mapping from old to new: a node keeps its id
// when the new graph has a node of the same type under that id; otherwise it
// maps to the unclaimed new node of the same type that is most alike in
// config, label and place in the graph, if any is alike enough.
func ProposeMapping(old, new *Graph) Mapping {
	m := Mapping{Nodes: map[string]string{}, Confidence: map[string]float64{}, Unmapped: []string{}}
	if old == nil || new == nil {
		if old != nil {
			for _, n := range old.Nodes {
				m.Unmapped = append(m.Unmapped, n.ID)
			}
		}
		return m
	}
	claimed := map[string]bool{}
	for _, o := range old.Nodes {
		if n, ok := new.Node(o.ID); ok && n.Type == o.Type {
			m.Nodes[o.ID] = n.ID
			m.Confidence[o.ID] = sameIDChanged
			if string(marshal(o.Config)) == string(marshal(n.Config)) {
				m.Confidence[o.ID] = sameNode
			}
			claimed[n.ID] = true
		}
	}

	depthOld, depthNew := Depths(old), Depths(new)
	maxDepth := 1
	for _, d := range depthOld {
		maxDepth = max(maxDepth, d)
	}
	for _, d := range depthNew {
		maxDepth = max(maxDepth, d)
	}
	type candidate struct {
		old, new string
		score    float64
	}
	var cands []candidate
	for _, o := range old.Nodes {
		if _, done := m.Nodes[o.ID]; done {
			continue
		}
		for _, n := range new.Nodes {
			if claimed[n.ID] || n.Type != o.Type {
				continue
			}
			place := 1 - math.Abs(float64(depthOld[o.ID]-depthNew[n.ID]))/float64(maxDepth)
			score := 0.5*similarity(marshal(o.Config), marshal(n.Config)) +
				0.3*place + 0.2*similarity([]byte(strings.ToLower(o.Label)), []byte(strings.ToLower(n.Label)))
			if score >= minSimilarity {
				cands = append(cands, candidate{o.ID, n.ID, score})
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	for _, c := range cands {
		if _, done := m.Nodes[c.old]; done || claimed[c.new] {
			continue
		}
		m.Nodes[c.old] = c.new
		m.Confidence[c.old] = math.Round(min(c.score, maxByThreshold)*100) / 100
		claimed[c.new] = true
	}
	for _, o := range old.Nodes {
		if _, ok := m.Nodes[o.ID]; !ok {
			m.Unmapped = append(m.Unmapped, o.ID)
		}
	}
	return m
}

// Depths returns each node's distance from the nearest entry node, counted in
// edges (entry nodes are 0; nodes no entry reaches are absent).
func Depths(g *Graph) map[string]int {
	out := map[string][]string{}
	for _, e := range g.Edges {
		out[e.Source] = append(out[e.Source], e.Target)
	}
	depth := map[string]int{}
	var queue []string
	for _, n := range g.Nodes {
		if IsEntry(n.Type) {
			depth[n.ID] = 0
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, t := range out[id] {
			if _, seen := depth[t]; !seen {
				depth[t] = depth[id] + 1
				queue = append(queue, t)
			}
		}
	}
	return depth
}

// similarity is the Dice coefficient of two byte strings' bigrams: 1 for
// equal strings, 0 for nothing in common. Two empty strings are equal.
func similarity(a, b []byte) float64 {
	if string(a) == string(b) {
		return 1
	}
	if len(a) < 2 || len(b) < 2 {
		return 0
	}
	grams := map[[2]byte]int{}
	for i := 0; i+1 < len(a); i++ {
		grams[[2]byte{a[i], a[i+1]}]++
	}
	shared := 0
	for i := 0; i+1 < len(b); i++ {
		k := [2]byte{b[i], b[i+1]}
		if grams[k] > 0 {
			grams[k]--
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(a)+len(b)-2)
}

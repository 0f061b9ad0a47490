package offline

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// explain describes a journey in plain language (seed FR-1.6, POST
// /ai/explain): how customers enter, each step in order as a numbered list,
// branches with what sends customers down each, then the journey-wide exit
// criteria, frequency caps and goals. Where branches meet again the text
// says so and goes on once, so a diamond is not told twice. It works on any
// valid graph, whoever made it, and is deterministic; on an invalid graph it
// still says what it can and never loops.
func explain(g *graph.Graph) string {
	if g.Empty() {
		return "This journey is empty: it has no steps yet."
	}
	n := tell(g)
	n.settings()
	return strings.TrimRight(n.b.String(), "\n")
}

// stepNumbers are the numbers explain gives g's steps, by node id, so that
// other texts (suggestions) can point at "step 3".
func stepNumbers(g *graph.Graph) map[string]int {
	if g.Empty() {
		return map[string]int{}
	}
	return tell(g).step
}

// tell tells g's entries and steps.
func tell(g *graph.Graph) *narrator {
	n := newNarrator(g)
	var entries []graph.Node
	for _, node := range g.Nodes {
		if graph.IsEntry(node.Type) {
			entries = append(entries, node)
		}
	}
	switch len(entries) {
	case 0:
		n.line(0, "This journey has no entry step, so no customer can enter it.")
	case 1:
		n.line(0, entryText(entries[0])+".")
		n.chain(n.targets(entries[0].ID, graph.DefaultBranch), "", 0)
	default:
		n.line(0, fmt.Sprintf("Customers enter this journey in %d ways.", len(entries)))
		for i, e := range entries {
			n.line(0, fmt.Sprintf("Entry %d: %s.", i+1, lowerFirst(entryText(e))))
			n.chain(n.targets(e.ID, graph.DefaultBranch), "", 1)
		}
	}
	return n
}

// narrator writes the explanation of one graph.
type narrator struct {
	g     *graph.Graph
	nodes map[string]graph.Node
	out   map[string][]graph.Edge // by source, in edge order
	order map[string]int          // topological position: where branches meet
	reach map[string]map[string]bool
	step  map[string]int // the number each told step got
	b     strings.Builder
}

func newNarrator(g *graph.Graph) *narrator {
	n := &narrator{g: g, nodes: map[string]graph.Node{}, out: map[string][]graph.Edge{},
		order: map[string]int{}, reach: map[string]map[string]bool{}, step: map[string]int{}}
	for _, node := range g.Nodes {
		n.nodes[node.ID] = node
	}
	for _, e := range g.Edges {
		if _, ok := n.nodes[e.Target]; ok {
			n.out[e.Source] = append(n.out[e.Source], e)
		}
	}
	for i, id := range topoOrder(g) {
		n.order[id] = i
	}
	return n
}

// topoOrder lists the nodes so that every edge points forward (Kahn's
// algorithm, ties in graph order); nodes on a cycle come last.
func topoOrder(g *graph.Graph) []string {
	indeg := map[string]int{}
	out := map[string][]string{}
	for _, e := range g.Edges {
		indeg[e.Target]++
		out[e.Source] = append(out[e.Source], e.Target)
	}
	var queue, order []string
	for _, n := range g.Nodes {
		if indeg[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		order = append(order, id)
		seen[id] = true
		for _, t := range out[id] {
			if indeg[t]--; indeg[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	for _, n := range g.Nodes {
		if !seen[n.ID] {
			order = append(order, n.ID)
		}
	}
	return order
}

func (n *narrator) line(indent int, text string) {
	n.b.WriteString(strings.Repeat("   ", indent))
	n.b.WriteString(text)
	n.b.WriteByte('\n')
}

// targets are the steps id leads to on branch.
func (n *narrator) targets(id, branch string) []string {
	var out []string
	for _, e := range n.out[id] {
		if e.BranchOf() == branch && !slices.Contains(out, e.Target) {
			out = append(out, e.Target)
		}
	}
	return out
}

// reachable is every step from id on, id included.
func (n *narrator) reachable(id string) map[string]bool {
	if r, ok := n.reach[id]; ok {
		return r
	}
	r := map[string]bool{id: true}
	n.reach[id] = r // a cycle sees the partial set instead of looping
	for _, e := range n.out[id] {
		for k := range n.reachable(e.Target) {
			r[k] = true
		}
	}
	return r
}

// meeting is the first step (in topological order) every one of heads
// leads to: where the paths from heads meet again; "" when they never do.
func (n *narrator) meeting(heads []string) string {
	if len(heads) < 2 {
		return ""
	}
	best := ""
	for id := range n.reachable(heads[0]) {
		all := true
		for _, h := range heads[1:] {
			all = all && n.reachable(h)[id]
		}
		if all && (best == "" || n.order[id] < n.order[best]) {
			best = id
		}
	}
	return best
}

// chain tells the steps from heads on until stop ("" for the end). Several
// heads are parallel paths. It reports whether the telling reached stop.
func (n *narrator) chain(heads []string, stop string, indent int) bool {
	switch len(heads) {
	case 0:
		return false
	case 1:
		return n.walk(heads[0], stop, indent)
	}
	meet := n.meeting(heads)
	if meet == "" || (stop != "" && n.order[stop] < n.order[meet]) {
		meet = stop
	}
	n.line(indent, fmt.Sprintf("Then customers follow %d paths at the same time:", len(heads)))
	for i, h := range heads {
		n.line(indent, fmt.Sprintf("- Path %d:", i+1))
		n.walk(h, meet, indent+1)
	}
	if meet == "" || meet == stop {
		return meet != ""
	}
	n.line(indent, "When the paths meet again:")
	return n.walk(meet, stop, indent)
}

// walk tells id and what follows it, until stop.
func (n *narrator) walk(id, stop string, indent int) bool {
	for id != "" {
		if id == stop {
			return true
		}
		node, ok := n.nodes[id]
		if !ok {
			return false
		}
		if num, told := n.step[id]; told {
			n.line(indent, fmt.Sprintf("Then they continue at step %d.", num))
			return false
		}
		n.step[id] = len(n.step) + 1
		n.line(indent, fmt.Sprintf("%d. %s", n.step[id], n.stepText(node)))
		branches := n.branches(node)
		if len(branches) == 0 {
			return n.plainNext(node, stop, indent)
		}
		heads := make([]string, 0, len(branches))
		for _, br := range branches {
			heads = append(heads, n.targets(id, br.name)...)
		}
		meet := n.meeting(heads)
		if meet == "" || (stop != "" && n.order[stop] < n.order[meet]) {
			meet = stop
		}
		for _, br := range branches {
			n.line(indent+1, "- "+br.says)
			if heads := n.targets(id, br.name); len(heads) == 1 && heads[0] == meet {
				n.line(indent+2, "Nothing happens on this path; they go straight on.")
			} else {
				n.chain(heads, meet, indent+2)
			}
		}
		if meet == "" || meet == stop {
			return meet != ""
		}
		n.line(indent, "Then, whichever path they took:")
		id = meet
	}
	return false
}

// plainNext goes on after a step without branches of its own: its failed
// branch, if any, then its one or several next steps.
func (n *narrator) plainNext(node graph.Node, stop string, indent int) bool {
	next := n.targets(node.ID, graph.DefaultBranch)
	if failed := n.targets(node.ID, graph.BranchFailed); len(failed) > 0 {
		meet := n.meeting(append(slices.Clone(failed), next...))
		if meet == "" || (stop != "" && n.order[stop] < n.order[meet]) {
			meet = stop
		}
		n.line(indent+1, "- If it cannot be sent:")
		if n.chain(failed, meet, indent+2) && meet != "" {
			n.line(indent+2, "Then they go on like everyone else.")
		}
	}
	if len(next) == 0 {
		if node.Type != "journey_exit" && !(node.Type == "goal_reached" && stepBool(node, "exit_after_goal")) {
			n.line(indent, "The journey ends here for them.")
		}
		return false
	}
	return n.chain(next, stop, indent)
}

// branch is one named way out of a branching step and the words for it.
type branch struct{ name, says string }

// branches lists a branching step's ways out with the words for them; nil
// for steps that simply go on.
func (n *narrator) branches(node graph.Node) []branch {
	switch node.Type {
	case "wait_for_event":
		eb, tb := waitBranches(node)
		ev, d := stepField(node, "event_type"), humanDuration(stepField(node, "timeout"))
		return []branch{
			{eb, fmt.Sprintf("If they %s within %s:", eventPhrase(ev), d)},
			{tb, fmt.Sprintf("Otherwise, if they have not done so within %s:", d)},
		}
	case "condition":
		return []branch{{graph.BranchTrue, "If so:"}, {graph.BranchFalse, "If not:"}}
	case "frequency_cap":
		return []branch{{graph.BranchWithinCap, "If they are within the cap:"}, {graph.BranchExceeded, "If they have had too many already:"}}
	case "ab_split":
		keys, weights := splitVariants(node)
		out := make([]branch, len(keys))
		for i, k := range keys {
			out[i] = branch{k, fmt.Sprintf("Variant %s (%d%%):", k, splitPercent(weights, i))}
		}
		return out
	}
	return nil
}

// settings tells the journey-wide exit criteria, frequency caps and goals.
func (n *narrator) settings() {
	if ec := n.g.ExitCriteria; ec != nil {
		var when []string
		if ec.EventType != "" {
			when = append(when, fmt.Sprintf("when they %s (event %q)", eventPhrase(ec.EventType), ec.EventType))
		}
		if ec.Expression != "" {
			when = append(when, "as soon as "+celText(ec.Expression))
		}
		n.line(0, "Customers leave the journey at any point "+strings.Join(when, ", or ")+".")
	}
	if len(n.g.FrequencyCap) > 0 {
		chans := make([]string, 0, len(n.g.FrequencyCap))
		for ch := range n.g.FrequencyCap {
			chans = append(chans, ch)
		}
		sort.Strings(chans)
		caps := make([]string, len(chans))
		for i, ch := range chans {
			c := n.g.FrequencyCap[ch]
			caps[i] = fmt.Sprintf("%s per %s", messageCount(c.Max, ch), windowWords(c.Window))
		}
		n.line(0, "Frequency caps, counted across all journeys: at most "+listAnd(caps)+".")
	}
	var goals []string
	for _, node := range n.g.Nodes {
		if name := stepField(node, "goal_name"); node.Type == "goal_reached" && name != "" && !slices.Contains(goals, fmt.Sprintf("%q", name)) {
			goals = append(goals, fmt.Sprintf("%q", name))
		}
	}
	switch len(goals) {
	case 0:
		n.line(0, "It has no conversion goal.")
	case 1:
		n.line(0, "Conversion goal: "+goals[0]+".")
	default:
		n.line(0, "Conversion goals: "+listAnd(goals)+".")
	}
}

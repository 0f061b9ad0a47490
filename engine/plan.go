package engine

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// Plan is a checked node mapping from one compiled version to another: what
// a live migration does to each running instance (seed FR-3.4 to FR-3.7).
type Plan struct {
	From, To *Program
	// Mapping maps an old node id to a new one; old nodes absent from it
	// were removed.
	Mapping map[string]string
	Policy  kalcifer.RemovedNodePolicy
	// reachOld and reachNew hold, per node, the nodes strictly downstream.
	reachOld, reachNew map[string]map[string]bool
	// untouched holds the old nodes where a customer's state is the same
	// after the move as before (see Untouched); nil when any node is renamed.
	untouched map[string]bool
}

// untouchedNodes finds the nodes Move would leave a waiting customer's state
// alone at: every mapped node keeps its id (no visit counts or recorded
// variants to carry over), and the node keeps its type and config (its
// wait comes out the same), it is not a wait_until on a customer attribute
// (Move would read the attribute again), and no message's counterpart
// lies ahead of it in the new graph that did not in the old
// (checkNoResend could refuse).
func (p *Plan) untouchedNodes() map[string]bool {
	for old, nw := range p.Mapping {
		if old != nw {
			return nil
		}
	}
	out := map[string]bool{}
	for id := range p.Mapping {
		on, nn := p.From.byID[id], p.To.byID[id]
		if on.typ != nn.typ || !reflect.DeepEqual(on.kind, nn.kind) {
			continue
		}
		if wu, ok := nn.kind.(waitUntil); ok && wu.attr != "" {
			continue
		}
		risky := false
		for c := range p.Mapping {
			if graph.IsChannel(p.From.typeOf(c)) && c != id && p.reachNew[id][c] && !p.stillAhead(id, c) {
				risky = true
				break
			}
		}
		if !risky {
			out[id] = true
		}
	}
	return out
}

// Untouched reports whether an instance whose paths are at nodes moves
// with its state unchanged: Move would give back the same state, no wait
// changed. The runtime then skips decoding and encoding it.
func (p *Plan) Untouched(nodes []string) bool {
	if p.untouched == nil || len(nodes) == 0 {
		return false
	}
	for _, n := range nodes {
		if !p.untouched[n] {
			return false
		}
	}
	return true
}

// NewPlan checks mapping against both programs: every old node named must
// exist in from and map to a node of to; a node where customers wait must map
// to one where they can go on waiting (a wait to a wait, a channel node to a
// channel node); and no two nodes may swap order, so that no customer is
// moved upstream of a step they already took (FR-3.7). All problems are
// returned together as one EUNPROCESSABLE error.
func NewPlan(from, to *Program, mapping map[string]string, policy kalcifer.RemovedNodePolicy) (*Plan, error) {
	return newPlan(from, to, mapping, policy, nil)
}

// newPlan is NewPlan checking the order of steps only for customers at the
// nodes in at (every node when at is nil).
func newPlan(from, to *Program, mapping map[string]string, policy kalcifer.RemovedNodePolicy, at map[string]bool) (*Plan, error) {
	var problems []kalcifer.Detail
	add := func(node, format string, args ...any) {
		problems = append(problems, kalcifer.Detail{NodeID: node, Field: "node_mapping." + node, Message: fmt.Sprintf(format, args...)})
	}
	clean := make(map[string]string, len(mapping))
	for _, old := range slices.Sorted(maps.Keys(mapping)) {
		nw := mapping[old]
		on := from.byID[old]
		if on == nil {
			add(old, "node_mapping names node %q, which version %d does not have", old, from.Version)
			continue
		}
		if nw == "" {
			continue // explicitly unmapped
		}
		nn := to.byID[nw]
		if nn == nil {
			add(old, "node_mapping maps %q to node %q, which version %d does not have", old, nw, to.Version)
			continue
		}
		// A customer waiting at a node can only go on waiting for the same
		// kind of thing: a timer or event wait at another wait, a send in
		// flight at another channel node (graph.Kind.Holds).
		if f := graph.HoldsOf(on.typ); f != graph.HoldsNothing && graph.HoldsOf(nn.typ) != f {
			add(old, "node_mapping maps %s node %q to %s node %q: customers waiting at a %s can only continue at a %s node",
				on.typ, old, nn.typ, nw, on.typ, familyNoun(f))
			continue
		}
		clean[old] = nw
	}
	reachOld, reachNew := reachability(from), reachability(to)
	for _, a := range slices.Sorted(maps.Keys(clean)) {
		for b := range reachOld[a] {
			nb, ok := clean[b]
			if !ok || nb == clean[a] || (at != nil && !at[b]) {
				continue
			}
			if reachNew[nb][clean[a]] {
				add(b, "node_mapping reverses the order of %q and %q (%q comes before %q in version %d, but %q comes after %q in version %d): customers would go backwards",
					a, b, a, b, from.Version, clean[a], nb, to.Version)
			}
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(x, y kalcifer.Detail) int { return strings.Compare(x.NodeID, y.NodeID) })
		return nil, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
			Message: fmt.Sprintf("the node mapping is invalid (%d problems)", len(problems)), Details: problems}
	}
	plan := &Plan{From: from, To: to, Mapping: clean, Policy: policy, reachOld: reachOld, reachNew: reachNew}
	plan.untouched = plan.untouchedNodes()
	return plan, nil
}

func familyNoun(f graph.Holds) string {
	if f == graph.HoldsSend {
		return "channel"
	}
	types := graph.TypesHolding(f)
	if len(types) < 2 {
		return strings.Join(types, "")
	}
	return strings.Join(types[:len(types)-1], ", ") + " or " + types[len(types)-1]
}

// reachability returns, for each node, the nodes strictly downstream of it.
func reachability(p *Program) map[string]map[string]bool {
	reach := make(map[string]map[string]bool, len(p.nodes))
	var visit func(n *node) map[string]bool
	visit = func(n *node) map[string]bool {
		if r, ok := reach[n.id]; ok {
			return r
		}
		r := map[string]bool{}
		reach[n.id] = r // graphs are acyclic: no node is met again on its own path
		for _, targets := range n.out {
			for _, t := range targets {
				r[t.id] = true
				for id := range visit(t) {
					r[id] = true
				}
			}
		}
		return r
	}
	for _, n := range p.nodes {
		visit(n)
	}
	return reach
}

// Unmapped returns the nodes of populated (node id → customers waiting
// there) that the plan neither maps nor has a policy for, with their counts.
func (p *Plan) Unmapped(populated map[string]int) map[string]int {
	out := map[string]int{}
	if p.Policy != "" {
		return out
	}
	for id, n := range populated {
		if _, ok := p.Mapping[id]; !ok && n > 0 {
			out[id] = n
		}
	}
	return out
}

// Move is what a migration does to one instance.
type Move struct {
	Outcome string // kalcifer.MoveMigrated, MoveHeld or MoveExited
	Status  kalcifer.InstanceStatus
	State   State
	// Waits are the wait rows to write, by path; paths not in it keep
	// their row unless listed in Drop.
	Waits map[int]kalcifer.Wait
	Drop  []int
	// Detail says what happened, for the instance's history.
	Detail string
}

// Unchanged reports whether the move changes nothing but the version: no
// path moved to another node id and no wait changed.
func (m *Move) Unchanged(old State) bool {
	if len(m.Waits) > 0 || len(m.Drop) > 0 || len(m.State.Paths) != len(old.Paths) {
		return false
	}
	for i := range old.Paths {
		if old.Paths[i].Node != m.State.Paths[i].Node {
			return false
		}
	}
	return true
}

// Move computes where an instance in state st (on p.From, active or paused)
// continues on p.To at now. customer is asked only when a wait_until on a
// customer attribute needs the profile. The caller's state is not changed.
//
// Per path: a mapped node carries the customer over, its wait recomputed
// from when the path started waiting (a 3-day wait that became 5 days fires
// 5 days after it began, or now if that has passed; a changed
// wait_for_event listens for the new event with the new timeout from the
// same start). A removed node follows the policy: skip_to_next_mapped puts
// the path before the nearest mapped node downstream in the old graph, which
// it enters at once; exit ends the instance; hold leaves it for review.
func (p *Plan) Move(st State, now time.Time, customer func() (*kalcifer.Customer, error)) (Move, error) {
	st = st.clone()
	m := Move{Outcome: kalcifer.MoveMigrated, Status: kalcifer.InstanceActive, Waits: map[int]kalcifer.Wait{}}
	var removed []string
	for _, path := range st.Paths {
		if _, ok := p.Mapping[path.Node]; !ok {
			removed = append(removed, path.Node)
		}
	}
	if len(removed) > 0 {
		switch p.Policy {
		case kalcifer.PolicyHold:
			m.Outcome, m.State = kalcifer.MoveHeld, st
			m.Detail = fmt.Sprintf("held for review: node %s is not in version %d", strings.Join(quote(removed), ", "), p.To.Version)
			return m, nil
		case kalcifer.PolicyExit:
			m.Outcome, m.Status = kalcifer.MoveExited, kalcifer.InstanceExited
			for _, path := range st.Paths {
				m.Drop = append(m.Drop, path.ID)
			}
			st.Paths = nil
			m.State = st
			m.Detail = fmt.Sprintf("exited: node %s is not in version %d", strings.Join(quote(removed), ", "), p.To.Version)
			return m, nil
		case kalcifer.PolicySkipToNextMapped:
		default:
			return Move{}, fmt.Errorf("node %s has no counterpart in version %d and no removed_node_policy was given",
				strings.Join(quote(removed), ", "), p.To.Version)
		}
	}

	var notes []string
	live := st.Paths[:0]
	for _, path := range st.Paths {
		target, mapped := p.Mapping[path.Node]
		if !mapped {
			next := p.nextMapped(path.Node)
			if next == "" {
				m.Drop = append(m.Drop, path.ID)
				notes = append(notes, fmt.Sprintf("path %d ended: nothing after %q is in version %d", path.ID, path.Node, p.To.Version))
				continue
			}
			if err := p.checkNoResend(st, path.Node, p.Mapping[next], true); err != nil {
				return Move{}, err
			}
			due := now
			path.Node, path.Enter, path.Since = p.Mapping[next], true, now
			path.Wait = &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due}
			m.Waits[path.ID] = *path.Wait
			notes = append(notes, fmt.Sprintf("path %d skipped to %q", path.ID, path.Node))
			live = append(live, path)
			continue
		}
		oldNode, newNode := p.From.byID[path.Node], p.To.byID[target]
		if err := p.checkNoResend(st, path.Node, target, path.Enter); err != nil {
			return Move{}, err
		}
		path.Node = target
		if path.Wait != nil && !path.Enter && path.Wait.Kind != kalcifer.WaitSend {
			w, err := carryWait(oldNode, newNode, path, now, customer)
			if err != nil {
				return Move{}, fmt.Errorf("path %d at %q: %w", path.ID, oldNode.id, err)
			}
			if !sameWait(*path.Wait, w) && !bothDue(*path.Wait, w, now) {
				path.Wait = &w
				m.Waits[path.ID] = w
			}
		}
		if oldNode.id != target {
			notes = append(notes, fmt.Sprintf("%q → %q", oldNode.id, target))
		}
		live = append(live, path)
	}
	st.Paths = live
	if len(live) == 0 {
		m.Status = kalcifer.InstanceCompleted
	}

	// Visit counts carry over (a send's key includes its visit: a node
	// renamed onto another must not repeat a key), and so do the A/B
	// variants and events nodes recorded.
	for old, nw := range p.Mapping {
		if v := st.Visits[old]; v > st.Visits[nw] {
			st.Visits[nw] = v
		}
		for _, prefix := range []string{"variant:", "event:"} {
			if v, ok := st.Vars[prefix+old]; ok {
				if _, taken := st.Vars[prefix+nw]; !taken {
					st.Vars[prefix+nw] = v
				}
			}
		}
	}
	m.State = st
	m.Detail = fmt.Sprintf("migrated from version %d to %d", p.From.Version, p.To.Version)
	if len(notes) > 0 {
		m.Detail += ": " + strings.Join(notes, "; ")
	}
	return m, nil
}

// checkNoResend refuses to move a path from old node n to new node m (which
// it enters, if entering) when that would lead it through the image of a
// channel node the instance already sent from, while from n the old version
// would not have gone through that node again. NewPlan's order check covers
// nodes on one line; this covers a mapping onto a parallel branch.
func (p *Plan) checkNoResend(st State, n, m string, entering bool) error {
	for c, visits := range st.Visits {
		if visits == 0 || c == n || !graph.IsChannel(p.From.typeOf(c)) {
			continue
		}
		img, ok := p.Mapping[c]
		if !ok || !(p.reachNew[m][img] || (entering && img == m)) || p.stillAhead(n, img) {
			continue
		}
		return fmt.Errorf("moving the customer from %q to %q would send %q (%q before) again", n, m, img, c)
	}
	return nil
}

// stillAhead reports whether, from old node n, the old version would still
// reach a node that maps onto new node img: then img is no repeat.
func (p *Plan) stillAhead(n, img string) bool {
	for o := range p.reachOld[n] {
		if p.Mapping[o] == img {
			return true
		}
	}
	return false
}

// typeOf is the type of the node with id, or "".
func (p *Program) typeOf(id string) string {
	if n := p.byID[id]; n != nil {
		return n.typ
	}
	return ""
}

// nextMapped returns the nearest mapped node strictly downstream of id in
// the old graph (breadth first, branches in the order the node declares
// its edges), or "".
func (p *Plan) nextMapped(id string) string {
	start := p.From.byID[id]
	if start == nil {
		return ""
	}
	seen := map[string]bool{id: true}
	queue := []*node{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, t := range n.next {
			if seen[t.id] {
				continue
			}
			seen[t.id] = true
			if _, ok := p.Mapping[t.id]; ok {
				return t.id
			}
			queue = append(queue, t)
		}
	}
	return ""
}

// carryWait recomputes a waiting path's wait for the node it moves to.
func carryWait(oldNode, newNode *node, path Path, now time.Time, customer func() (*kalcifer.Customer, error)) (kalcifer.Wait, error) {
	since := path.Since
	if since.IsZero() && path.Wait.DueAt != nil { // states written before Since was recorded
		switch k := oldNode.kind.(type) {
		case wait:
			since = path.Wait.DueAt.Add(-k.d)
		case waitForEvent:
			since = path.Wait.DueAt.Add(-k.timeout)
		}
	}
	if since.IsZero() {
		since = now
	}
	atLeastNow := func(t time.Time) *time.Time {
		if t.Before(now) {
			t = now
		}
		t = t.UTC()
		return &t
	}
	switch k := newNode.kind.(type) {
	case wait:
		return kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: atLeastNow(since.Add(k.d))}, nil
	case waitForEvent:
		return kalcifer.Wait{Kind: kalcifer.WaitEvent, EventType: k.eventType, Filter: k.filter, DueAt: atLeastNow(since.Add(k.timeout))}, nil
	case waitUntil:
		at := k.at
		if k.attr != "" {
			c, err := customer()
			if err != nil {
				return kalcifer.Wait{}, err
			}
			r := &run{in: Input{Customer: c}}
			v, ok := lookup(r.customerMap(), k.attr)
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339, s)
			if !ok || err != nil {
				return kalcifer.Wait{}, fmt.Errorf("wait_until %q: customer attribute %q is not an RFC 3339 time", newNode.id, k.attr)
			}
			at = t
		}
		return kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: atLeastNow(at)}, nil
	}
	return kalcifer.Wait{}, fmt.Errorf("node %q (%s) cannot hold a waiting customer", newNode.id, newNode.typ)
}

func sameWait(a, b kalcifer.Wait) bool {
	if a.Kind != b.Kind || a.EventType != b.EventType || (a.DueAt == nil) != (b.DueAt == nil) {
		return false
	}
	if a.DueAt != nil && !a.DueAt.Equal(*b.DueAt) {
		return false
	}
	return jsonEqual(a.Filter, b.Filter)
}

// bothDue reports whether two waits differ only in due times that have both
// passed: either fires now, so the stored one stays.
func bothDue(a, b kalcifer.Wait, now time.Time) bool {
	if a.DueAt == nil || b.DueAt == nil || a.DueAt.After(now) || b.DueAt.After(now) {
		return false
	}
	a.DueAt, b.DueAt = nil, nil
	return sameWait(a, b)
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

package offline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// The journey under construction while a description is read: where the
// next step attaches, and the branch whose arms the prose is filling in.

// tail is an open end of the journey: the next step hangs off node's branch.
type tail struct {
	node, branch string
}

// fork is a branching node (wait_for_event or condition) whose two arms the
// description is filling in: "if not opened send an SMS, if opened send the
// upsell". Its arms merge when the sentence ends and a plain step follows.
type fork struct {
	node string
	key  string    // the event type or expression it tests
	side [2]string // branch names: [0] the event came / expression holds, [1] the opposite
	arms map[string][]tail
	cur  string // the arm steps go on now; "" when steps go after both arms
	// gate is a fork said without an action ("only for US customers:"): its
	// other arm ends the journey unless "otherwise" fills it.
	gate bool
	// defaulted: the timeout was not said, so a later "within" sets it.
	defaulted bool
}

// journey is the graph being built with its open ends.
type journey struct {
	b        *Builder
	entry    string // the entry node, typed when the whole text is read
	tails    []tail
	parked   []tail // arms that end the journey
	fork     *fork
	ended    bool   // a sentence ended since the fork was opened
	lastWait string // the plain wait node the tails hang off, if any
}

func newJourney() *journey {
	j := &journey{b: NewBuilder()}
	j.entry = j.b.Add("event_entry", "", nil)
	j.tails = []tail{{j.entry, ""}}
	return j
}

// steps reports whether any step follows the entry yet.
func (j *journey) steps() bool { return len(j.b.g.Nodes) > 1 }

// add appends a step after every open end and returns its id. A node that
// ends the journey leaves no open end.
func (j *journey) add(typ, label string, config any) string {
	j.settle()
	id := j.b.Add(typ, label, config)
	for _, t := range j.tails {
		j.b.Connect(t.node, id, t.branch)
	}
	j.tails = []tail{{id, ""}}
	if graph.IsExit(typ) && typ != "goal_reached" {
		j.tails = nil
	}
	j.lastWait = ""
	if typ == "wait" {
		j.lastWait = id
	}
	return id
}

// settle closes the fork when the steps that follow go after both arms.
func (j *journey) settle() {
	if j.fork == nil {
		return
	}
	if j.fork.cur == "" {
		j.fork = nil // both arms are already the open ends
		return
	}
	if j.ended {
		j.merge()
	}
}

// merge joins the fork's arms into the open ends; a gate's untouched arm
// ends the journey.
func (j *journey) merge() {
	f := j.fork
	if f == nil {
		return
	}
	j.fork = nil
	if f.cur == "" {
		return
	}
	f.arms[f.cur] = j.tails
	var all []tail
	for _, s := range f.side {
		if f.gate && s != f.cur {
			j.parked = append(j.parked, f.arms[s]...)
			continue
		}
		all = append(all, f.arms[s]...)
	}
	j.tails = all
}

// open starts filling the arms of the branching node and puts the next steps on
// its arm side ("" for after both arms).
func (j *journey) open(node, key string, side [2]string, cur string, gate bool) {
	j.fork = &fork{node: node, key: key, side: side, cur: cur, gate: gate, arms: map[string][]tail{
		side[0]: {{node, side[0]}}, side[1]: {{node, side[1]}},
	}}
	j.ended = false
	j.tails = j.fork.arms[cur]
	if cur == "" {
		j.tails = []tail{{node, side[0]}, {node, side[1]}}
	}
}

// switchTo moves to another arm of the open fork.
func (j *journey) switchTo(side string) {
	f := j.fork
	if f.cur != "" {
		f.arms[f.cur] = j.tails
	}
	f.cur = side
	f.gate = false // both arms have been spoken for
	j.tails = f.arms[side]
	j.ended = false
}

// branchOn attaches a conditional step: it continues the open fork when the
// condition is the same one (or its opposite), and otherwise adds a new
// wait_for_event or condition node. It returns the fork's node.
func (j *journey) branchOn(c cond, gate bool, defaultTimeout string) string {
	key := c.event
	if key == "" {
		key = c.expr
	}
	want := 0
	if c.negated {
		want = 1
	}
	waited := j.lastWait != "" && len(j.tails) == 1 && j.tails[0] == (tail{j.lastWait, ""})
	if f := j.fork; f != nil && f.key == key && waited && c.negated {
		// "d1 sms if no kyc_completed / d3 push if still no kyc_completed":
		// a wait on this arm since the fork was opened is a new wait for the
		// event; those it already came for leave the journey.
		j.switchTo(f.side[1])
		j.parked = append(j.parked, f.arms[f.side[0]]...)
		j.fork = nil
	}
	if f := j.fork; f != nil && f.key == key {
		fresh := len(f.arms[f.side[want]]) == 1 && f.arms[f.side[want]][0] == (tail{f.node, f.side[want]}) && f.cur != f.side[want]
		j.switchTo(f.side[want])
		if c.within != "" && f.defaulted {
			// "if they click … if they haven't clicked in 5 days": the
			// timeout said second is the fork's
			n, _ := j.b.Node(f.node)
			cfg := map[string]any{"event_type": c.event, "timeout": c.within}
			j.b.Set(f.node, n.Type, fmt.Sprintf("Wait up to %s for %s", humanDuration(c.within), c.event), cfg)
			f.defaulted = false
		}
		if fresh || c.within == "" {
			return f.node
		}
		// "if they still don't reply after another 4 days": a new wait on
		// this arm; the other arm ends.
		other := f.side[1-want]
		j.parked = append(j.parked, f.arms[other]...)
		j.fork = nil
	}
	j.merge()
	j.settle()
	var node string
	defaulted := false
	side := [2]string{graph.BranchTrue, graph.BranchFalse}
	if c.event != "" {
		side = [2]string{graph.BranchEventReceived, graph.BranchTimedOut}
		timeout := c.within
		if timeout == "" && j.lastWait != "" && len(j.tails) == 1 && j.tails[0] == (tail{j.lastWait, ""}) {
			// "wait 3 days, if not opened …": the wait becomes the event's timeout.
			w, _ := j.b.Node(j.lastWait)
			timeout = configString(w.Config, "duration")
			node = j.lastWait
		}
		defaulted = timeout == ""
		if timeout == "" {
			timeout = defaultTimeout
		}
		cfg := map[string]any{"event_type": c.event, "timeout": timeout}
		label := fmt.Sprintf("Wait up to %s for %s", humanDuration(timeout), c.event)
		if node != "" {
			j.b.Set(node, "wait_for_event", label, cfg)
		} else {
			node = j.add("wait_for_event", label, cfg)
		}
	} else {
		node = j.add("condition", "If "+c.text, map[string]any{"expression": c.expr})
	}
	j.lastWait = ""
	cur := side[want]
	if c.explicitWait {
		cur = ""
	}
	j.open(node, key, side, cur, gate)
	j.fork.defaulted = defaulted
	return node
}

// otherwise moves to the arm opposite the current one. It reports false when
// there is no fork to continue.
func (j *journey) otherwise() bool {
	f := j.fork
	if f == nil {
		return false
	}
	side := f.side[1]
	if f.cur == f.side[1] {
		side = f.side[0]
	}
	j.switchTo(side)
	return true
}

// sentenceEnd records that a sentence ended: plain steps that follow go
// after the fork's arms.
func (j *journey) sentenceEnd() { j.ended = true }

// finish closes the journey: branches that need an edge get a journey_exit. It
// returns the labels of the steps no path reaches, which it drops.
func (j *journey) finish() []string {
	j.merge()
	j.fork = nil
	var dangling []tail
	for _, t := range append(j.tails, j.parked...) {
		if t.branch != "" && !slices.Contains(dangling, t) {
			dangling = append(dangling, t)
		}
	}
	if len(dangling) > 0 {
		exit := j.b.Add("journey_exit", "End", map[string]any{})
		for _, t := range dangling {
			j.b.Connect(t.node, exit, t.branch)
		}
	}
	return j.prune()
}

// prune drops the steps no path reaches — those said after the journey
// ended ("End the journey. Wait a day.") — and returns their labels.
func (j *journey) prune() []string {
	reached := map[string]bool{j.entry: true}
	for changed := true; changed; {
		changed = false
		for _, e := range j.b.g.Edges {
			if reached[e.Source] && !reached[e.Target] {
				reached[e.Target], changed = true, true
			}
		}
	}
	var dropped []string
	j.b.g.Nodes = slices.DeleteFunc(j.b.g.Nodes, func(n graph.Node) bool {
		if !reached[n.ID] {
			dropped = append(dropped, n.Label)
		}
		return !reached[n.ID]
	})
	j.b.g.Edges = slices.DeleteFunc(j.b.g.Edges, func(e graph.Edge) bool { return !reached[e.Source] })
	return dropped
}

// split puts an A/B test in front of node id: an ab_split whose variants
// each lead to their own copy of the node (template ids suffixed _a, _b, …),
// every copy continuing where the node did.
func (j *journey) split(id string, weights []int) {
	n, ok := j.b.Node(id)
	if !ok {
		return
	}
	var variants []map[string]any
	for i, w := range weights {
		variants = append(variants, map[string]any{"key": string(rune('A' + i)), "weight": w})
	}
	s := j.b.Add("ab_split", "A/B test: "+n.Label, map[string]any{"variants": variants})
	j.b.Redirect(id, s)
	out := j.b.Edges(id)
	isTail := slices.Contains(j.tails, tail{id, ""})
	template := configString(n.Config, "template_id")
	for i := range weights {
		key := string(rune('A' + i))
		copyID := id
		cfg := map[string]any{}
		if err := json.Unmarshal(n.Config, &cfg); err != nil {
			cfg = map[string]any{}
		}
		if template != "" {
			cfg["template_id"] = template + "_" + strings.ToLower(key)
		}
		label := fmt.Sprintf("%s (variant %s)", n.Label, key)
		if i == 0 {
			j.b.Set(id, n.Type, label, cfg)
		} else {
			copyID = j.b.Add(n.Type, label, cfg)
			for _, e := range out {
				j.b.Connect(copyID, e.Target, e.Branch)
			}
			if isTail {
				j.tails = append(j.tails, tail{copyID, ""})
			}
		}
		j.b.Connect(s, copyID, key)
	}
}

// configString reads a string field of a node's config.
func configString(raw json.RawMessage, field string) string {
	var c map[string]any
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	s, _ := c[field].(string)
	return s
}

// guard puts a condition in front of step id: customers for whom it holds
// go through the step, the others skip it ("…, but only to customers who
// opted in"). With unless the other way round: those for whom it holds
// skip the step ("…, unless they have booked already").
func (j *journey) guard(id string, c cond, unless bool) {
	through, past := graph.BranchTrue, graph.BranchFalse
	if unless {
		through, past = past, through
	}
	check := j.b.Add("condition", "If "+c.text, map[string]any{"expression": c.expr})
	j.b.Redirect(id, check)
	j.b.Connect(check, id, through)
	skipped := false
	for _, e := range j.b.Edges(id) {
		if e.Branch == "" {
			j.b.Connect(check, e.Target, past)
			skipped = true
		}
	}
	step, skip := tail{id, ""}, tail{check, past}
	for _, list := range []*[]tail{&j.tails, &j.parked} {
		if slices.Contains(*list, step) {
			*list, skipped = append(*list, skip), true
		}
	}
	if f := j.fork; f != nil {
		for side, arm := range f.arms {
			if slices.Contains(arm, step) {
				f.arms[side], skipped = append(arm, skip), true
			}
		}
	}
	if !skipped {
		j.parked = append(j.parked, skip)
	}
}

// instead puts a condition in front of step id: customers for whom it
// holds get what build adds instead of the step, then go on where the step
// leads ("…, send an SMS instead"); the others get the step as before.
func (j *journey) instead(id string, c cond, build func()) {
	check := j.b.Add("condition", "If "+c.text, map[string]any{"expression": c.expr})
	j.b.Redirect(id, check)
	j.b.Connect(check, id, graph.BranchFalse)
	saved, fork := j.tails, j.fork
	j.fork, j.tails = nil, []tail{{check, graph.BranchTrue}}
	build()
	j.settle()
	alt := j.tails
	var next []string
	for _, e := range j.b.Edges(id) {
		if e.Branch == "" {
			next = append(next, e.Target)
		}
	}
	j.tails, j.fork = saved, fork
	if len(next) == 0 {
		j.tails = append(j.tails, alt...)
		return
	}
	for _, t := range alt {
		for _, n := range next {
			j.b.Connect(t.node, n, t.branch)
		}
	}
}

// goalTimeout is how long the end of a journey waits for its goal's event
// when the description does not say.
const goalTimeout = "7d"

// addGoal records goal only for customers whose goalEvent was seen: on the
// event branch of a wait for it when the journey has one, else behind a
// wait for it at the end of every open arm, for within (goalTimeout when
// not said). It reports whether it made that wait with a timeout the
// description did not give.
func (j *journey) addGoal(goal, goalEvent, within string) bool {
	j.merge()
	j.fork = nil
	for _, n := range j.b.g.Nodes {
		if n.Type != "wait_for_event" || !sameEvent(configString(n.Config, "event_type"), goal, goalEvent) {
			continue
		}
		id := j.b.Add("goal_reached", "Goal: "+goal, map[string]any{"goal_name": goal, "exit_after_goal": false})
		if last := j.armEnd(n.ID); last != "" {
			// "attended -> thank-you email, that's our goal": the arm's
			// steps first, then the goal, on the same path
			for i, e := range j.b.g.Edges {
				if e.Source == last {
					j.b.g.Edges[i].Source = id
				}
			}
			j.b.Connect(last, id, "")
			for i, t := range j.tails {
				if t == (tail{last, ""}) {
					j.tails[i] = tail{id, ""}
				}
			}
			return false
		}
		for i, e := range j.b.g.Edges {
			if e.Source == n.ID && e.Branch == graph.BranchEventReceived {
				j.b.g.Edges[i].Source, j.b.g.Edges[i].Branch = id, ""
			}
		}
		j.b.Connect(n.ID, id, graph.BranchEventReceived)
		for i, t := range j.tails {
			if t == (tail{n.ID, graph.BranchEventReceived}) {
				j.tails[i] = tail{id, ""}
			}
		}
		return false
	}
	timeout := within
	if timeout == "" {
		timeout = goalTimeout
	}
	wait := j.add("wait_for_event", "Wait for "+goalEvent, map[string]any{"event_type": goalEvent, "timeout": timeout})
	j.tails = []tail{{wait, graph.BranchEventReceived}}
	j.add("goal_reached", "Goal: "+goal, map[string]any{"goal_name": goal, "exit_after_goal": true})
	j.parked = append(j.parked, tail{wait, graph.BranchTimedOut})
	return within == ""
}

// armEnd is the last step of the plain chain of steps on wait's
// event_received arm (messages, data and waits, one after the other), ""
// when the arm starts with something else.
func (j *journey) armEnd(wait string) string {
	step := func(id string) bool {
		n, ok := j.b.Node(id)
		return ok && (graph.IsChannel(n.Type) || n.Type == "wait" || n.Type == "add_tag" || n.Type == "remove_tag" || n.Type == "update_profile")
	}
	ins := func(id string) int {
		c := 0
		for _, e := range j.b.g.Edges {
			if e.Target == id {
				c++
			}
		}
		return c
	}
	cur := ""
	for _, e := range j.b.g.Edges {
		if e.Source == wait && e.Branch == graph.BranchEventReceived && step(e.Target) && ins(e.Target) == 1 {
			cur = e.Target
		}
	}
	for cur != "" {
		out := j.b.Edges(cur)
		if len(out) != 1 || out[0].Branch != "" || !step(out[0].Target) || ins(out[0].Target) != 1 {
			return cur
		}
		cur = out[0].Target
	}
	return ""
}

// sameEvent reports whether event is the goal's: its event, or named by
// the same words ("first_project" for first_project_created).
func sameEvent(event, goal, goalEvent string) bool {
	if event == "" {
		return false
	}
	if event == goalEvent || strings.Contains(event, goal) || strings.Contains(goal, event) {
		return true
	}
	words := strings.Split(event, "_")
	for _, w := range strings.Split(goal, "_") {
		if len(w) >= 4 && !vagueGoalWords[w] && slices.Contains(words, w) {
			return true // first_deposit and deposit_made
		}
	}
	return false
}

// vagueGoalWords say nothing about which event a goal is.
var vagueGoalWords = map[string]bool{"first": true, "second": true, "made": true, "make": true, "completed": true,
	"created": true, "done": true, "event": true, "opened": true, "clicked": true, "email": true, "push": true}

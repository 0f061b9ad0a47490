package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/sandbox"
)

// WakeKind names what woke an instance.
type WakeKind string

// What can wake an instance.
const (
	WakeStart WakeKind = "start" // a customer enters at an entry node
	WakeTimer WakeKind = "timer" // a path's timer fell due
	WakeEvent WakeKind = "event" // an event matched a path's wait
	WakeSend  WakeKind = "send"  // a path's send has an outcome
)

// Wake is what happened to an instance.
type Wake struct {
	Kind   WakeKind
	PathID int             // the path woken (timer, event, send)
	Entry  string          // entry node ID (start); "" for the first entry
	Event  *kalcifer.Event // the event (start by event, event)
	Send   SendOutcome
	// SendKey is the key of the send whose outcome this is (send), and
	// SendDetail the ledger's account of it.
	SendKey    string
	SendDetail string
}

// SendOutcome is how a send ended.
type SendOutcome string

// Send outcomes. Ambiguous means the request may have reached the provider:
// the path goes on as if it had failed. Logged means a dry-run provider
// recorded it: the path goes on as if it had been sent.
const (
	SendSent      SendOutcome = "sent"
	SendLogged    SendOutcome = "logged"
	SendFailed    SendOutcome = "failed"
	SendAmbiguous SendOutcome = "ambiguous"
	SendCapped    SendOutcome = "capped"  // refused by a frequency cap
	SendSkipped   SendOutcome = "skipped" // the customer unsubscribed from the channel
)

// Input is everything one run may look at.
type Input struct {
	Now        time.Time
	TenantID   string
	InstanceID string
	Customer   *kalcifer.Customer
	State      State
	Wake       Wake
	// SentSince counts the customer's sends on channel ("any" for all) since
	// a time, across journeys; the frequency_cap node asks it.
	SentSince func(channel string, since time.Time) int
	// RunCode runs a custom_code node's Lua in the sandbox; nil when custom
	// code is off, which fails an instance that reaches one. An error that
	// is not a *sandbox.CodeError is the caller's to handle: the run's
	// output is then to be dropped (the runtime rolls back and retries).
	RunCode func(sandbox.Request) (sandbox.Result, error)
}

// Output is what one run decided.
type Output struct {
	State  State
	Status kalcifer.InstanceStatus
	Reason string // why it exited or failed
	// Steps are the node executions of this run; the runtime numbers them.
	Steps []kalcifer.Step
	// Sends are messages decided in this run, for the ledger: the runtime
	// writes them in the same transaction as the state, then delivers them.
	Sends []kalcifer.Send
	// Waits are the paths now blocked, keyed by path ID: the runtime
	// replaces the instance's wait registrations with these.
	Waits map[int]kalcifer.Wait
	// Profile changes to apply to the customer.
	Set        map[string]any
	AddTags    []string
	RemoveTags []string
	Goals      []string
}

// maxSteps bounds one run: graphs are acyclic, but forks multiply paths.
const maxSteps = 10_000

// ErrStaleWake is returned when a wake names a path that no longer waits
// (its other race already won): the caller drops it.
var ErrStaleWake = errors.New("engine: the woken path is not waiting")

// Run steps the instance from what woke it until every path blocks or ends.
// It never panics on a node's behalf: a node's failure fails the instance.
func (p *Program) Run(in Input) (out Output, err error) {
	r := &run{prog: p, in: in, state: in.State.clone()}
	if r.in.Customer == nil {
		r.in.Customer = &kalcifer.Customer{}
	}
	// Nodes never change the caller's customer: profile changes go to
	// out.Set and r.tags, and the CEL view lays them over the profile.
	r.tags = r.in.Customer.Tags
	r.queue = r.qbuf[:0] // room for a few forks without allocating
	defer func() {
		if v := recover(); v != nil {
			out = r.fail(fmt.Errorf("node panicked: %v", v))
			err = nil
		}
	}()
	if r.state.Vars == nil {
		r.state.Vars = map[string]string{}
	}
	switch in.Wake.Kind {
	case WakeStart:
		n := p.entry(in.Wake.Entry)
		if n == nil {
			return Output{}, fmt.Errorf("journey %s v%d has no entry node %q", p.JourneyID, p.Version, in.Wake.Entry)
		}
		r.state.Event = in.Wake.Event
		r.place(n, -1)
		r.drain()
	case WakeTimer, WakeEvent, WakeSend:
		i := r.pathIndex(in.Wake.PathID)
		if i < 0 || r.state.Paths[i].Wait == nil {
			return Output{}, ErrStaleWake
		}
		path := &r.state.Paths[i]
		n := p.byID[path.Node]
		if n == nil {
			return Output{}, fmt.Errorf("path %d is at node %q, which version %d lacks", path.ID, path.Node, p.Version)
		}
		path.Wait = nil
		if r.exitCriteriaMet() {
			return r.exit("exit criteria met"), nil
		}
		if path.Enter { // placed before n by a live migration
			path.Enter = false
			r.place(n, i)
		} else {
			r.apply(n, i, n.kind.resume(r, path, in.Wake))
		}
		r.drain()
	default:
		return Output{}, fmt.Errorf("unknown wake %q", in.Wake.Kind)
	}
	return r.finish(), nil
}

// run is the working state of one Run.
type run struct {
	prog    *Program
	in      Input
	state   State
	out     Output
	steps   int
	queue   []ready // paths ready to enter their node, first in first out
	head    int     // queue[head] is next
	qbuf    [4]ready
	exited  string
	failErr error
	tags    []string       // the customer's tags as this run changed them; never changed in place
	cust    map[string]any // customer as CEL sees it, built when first asked for
	event   map[string]any // event as CEL sees it, built when first asked for
	// exitMet is the exit criteria's answer, while exitKnown: a profile
	// change makes it unknown.
	exitMet, exitKnown bool
}

// ready is a queued path: its index in state.Paths and the node it enters.
type ready struct {
	path int
	node *node
}

func (r *run) pathIndex(id int) int {
	for i := range r.state.Paths {
		if r.state.Paths[i].ID == id {
			return i
		}
	}
	return -1
}

// drain executes queued paths, and what follows them, until every path
// blocks or ends, or the instance exits or fails.
func (r *run) drain() {
	for r.head < len(r.queue) && r.exited == "" && r.failErr == nil {
		i, n := r.queue[r.head].path, r.queue[r.head].node
		if r.head++; r.head == len(r.queue) { // empty: reuse the space
			r.queue, r.head = r.queue[:0], 0
		}
		path := &r.state.Paths[i]
		if r.steps++; r.steps > maxSteps {
			r.failErr = fmt.Errorf("more than %d steps in one run", maxSteps)
			return
		}
		if r.exitCriteriaMet() {
			r.exited = "exit criteria met"
			return
		}
		r.apply(n, i, n.kind.enter(r, path))
	}
}

// place puts path i (or a new one) on n with a fresh visit number and queues
// it to execute.
func (r *run) place(n *node, i int) {
	visit := r.state.Visits[n.id] + 1
	r.state.Visits[n.id] = visit
	if i < 0 {
		r.state.Paths = append(r.state.Paths, Path{ID: r.state.NextPath})
		r.state.NextPath++
		i = len(r.state.Paths) - 1
	}
	path := &r.state.Paths[i]
	path.Node, path.Visit, path.Wait, path.Since = n.id, visit, nil, time.Time{}
	r.queue = append(r.queue, ready{path: i, node: n})
}

// apply records what node n did with path i and moves the path on.
func (r *run) apply(n *node, i int, res result) {
	path := &r.state.Paths[i]
	step := kalcifer.Step{Version: r.prog.Version, PathID: path.ID, NodeID: n.id, Type: n.typ, Visit: path.Visit, At: r.in.Now}
	switch {
	case res.err != nil:
		step.Result, step.Detail = "failed", res.err.Error()
		r.failErr = fmt.Errorf("node %q: %w", n.id, res.err)
	case res.exit != "":
		step.Result, step.Detail = "exited", res.exit
		r.exited = res.exit
	case res.wait != nil:
		step.Result = "waiting"
		path.Wait, path.Since = res.wait, r.in.Now
	case res.end:
		step.Result = "ended"
		path.Node = "" // removed in finish
	default:
		step.Result, step.Detail = res.branch, res.detail
		if res.failure != "" {
			step.Detail = res.failure
			r.state.FailedSends++
			r.state.LastFailure = "node " + n.id + ": " + res.failure
		}
		targets := n.out[res.branch]
		if len(targets) == 0 {
			path.Node = "" // nothing follows: this path ends
			break
		}
		r.place(targets[0], i)
		for _, t := range targets[1:] { // fork
			r.place(t, -1)
		}
	}
	if r.out.Steps == nil { // most runs step through a few nodes: room for them saves regrowing
		r.out.Steps = make([]kalcifer.Step, 0, min(len(r.prog.nodes), 16))
	}
	r.out.Steps = append(r.out.Steps, step)
}

// exitCriteriaMet evaluates the journey's exit expression, if any. The
// expression reads only customer, event and journey, so its answer holds
// until a node changes the profile: it is not evaluated again before then.
func (r *run) exitCriteriaMet() bool {
	if r.prog.exitExpr == nil {
		return false
	}
	if !r.exitKnown {
		v, err := evalBool(r.prog.exitExpr, r)
		r.exitMet, r.exitKnown = err == nil && v, true
	}
	return r.exitMet
}

func (r *run) finish() Output {
	if r.failErr != nil {
		return r.fail(r.failErr)
	}
	if r.exited != "" {
		return r.exit(r.exited)
	}
	live := r.state.Paths[:0]
	for _, p := range r.state.Paths {
		if p.Node != "" {
			live = append(live, p)
		}
	}
	r.state.Paths = live
	r.out.Waits = make(map[int]kalcifer.Wait, len(live))
	for _, p := range live {
		if p.Wait != nil {
			r.out.Waits[p.ID] = *p.Wait
		}
	}
	r.out.Status = kalcifer.InstanceActive
	if len(live) == 0 {
		r.out.Status = kalcifer.InstanceCompleted
	}
	if r.state.FailedSends > 0 {
		r.out.Reason = fmt.Sprintf("%d send(s) failed; the last: %s", r.state.FailedSends, r.state.LastFailure)
	}
	r.out.State = r.state
	return r.out
}

// exit and fail end the instance: no path is left and nothing waits. Sends
// decided earlier in the run stay in Output.Sends: they were decided before
// the exit, and their outcome will find no waiting path.
func (r *run) exit(reason string) Output { return r.end(kalcifer.InstanceExited, reason) }

func (r *run) fail(err error) Output { return r.end(kalcifer.InstanceFailed, err.Error()) }

func (r *run) end(status kalcifer.InstanceStatus, reason string) Output {
	r.state.Paths = nil
	r.out.State, r.out.Status, r.out.Reason, r.out.Waits = r.state, status, reason, map[int]kalcifer.Wait{}
	return r.out
}

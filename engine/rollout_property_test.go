package engine_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/store"
)

// step is one node of a chain journey: in → steps[0] → steps[1] → …
type step struct{ id, typ, cfg string }

// chainGraph is the graph JSON of a chain journey entered on "go" and
// ending on a tag "done".
func chainGraph(steps []step) string {
	nodes := []string{`in:event_entry:{"event_type":"go"}`}
	var edges []string
	prev, prevTyp := "in", "event_entry"
	for _, s := range append(slices.Clone(steps), step{"done", "add_tag", `{"tag":"done"}`}) {
		nodes = append(nodes, s.id+":"+s.typ+":"+s.cfg)
		if prevTyp == "wait_for_event" {
			edges = append(edges, prev+"-event_received->"+s.id, prev+"-timed_out->"+s.id)
		} else {
			edges = append(edges, prev+"->"+s.id)
		}
		prev, prevTyp = s.id, s.typ
	}
	return g(nodes, edges, "")
}

// drawStep draws a step of a random type with id.
func drawStep(t *rapid.T, id string) step {
	dur := rapid.SampledFrom([]string{"30m", "2h", "1d", "3d"}).Draw(t, "duration")
	switch rapid.SampledFrom([]string{"wait", "wait", "wait_for_event", "send_email", "add_tag"}).Draw(t, "type") {
	case "wait":
		return step{id, "wait", `{"duration":"` + dur + `"}`}
	case "wait_for_event":
		ev := rapid.SampledFrom([]string{"opened", "clicked"}).Draw(t, "event_type")
		return step{id, "wait_for_event", `{"event_type":"` + ev + `","timeout":"` + dur + `"}`}
	case "send_email":
		return step{id, "send_email", `{"template_id":"` + id + `"}`}
	}
	return step{id, "add_tag", `{"tag":"` + id + `"}`}
}

// editChain draws one edit of a chain: a changed wait, a removed, inserted
// or renamed step, or a wait that became a wait_for_event (or back). It
// returns the new steps and the node mapping the edit needs by hand.
func editChain(t *rapid.T, steps []step) ([]step, map[string]string) {
	out := slices.Clone(steps)
	i := rapid.IntRange(0, len(out)-1).Draw(t, "edited step")
	s := &out[i]
	isWait := s.typ == "wait" || s.typ == "wait_for_event"
	switch edit := rapid.SampledFrom([]string{"retime", "remove", "insert", "rename", "retype"}).Draw(t, "edit"); {
	case edit == "retime" && isWait:
		return editChainRetime(t, steps, i), nil
	case edit == "remove" && len(out) > 1:
		out = slices.Delete(out, i, i+1)
	case edit == "insert":
		out = slices.Insert(out, i, drawStep(t, "x"+s.id))
	case edit == "rename":
		s.id = "r" + s.id
	case edit == "retype" && s.typ == "wait":
		s.typ, s.cfg = "wait_for_event", `{"event_type":"clicked","timeout":"1d"}`
		return out, map[string]string{s.id: s.id}
	case edit == "retype" && s.typ == "wait_for_event":
		s.typ, s.cfg = "wait", `{"duration":"1d"}`
		return out, map[string]string{s.id: s.id}
	default: // the edit does not apply to the step: insert instead
		out = slices.Insert(out, i, step{"x" + s.id, "add_tag", `{"tag":"inserted"}`})
	}
	return out, nil
}

// editChainRetime changes the duration of wait step i, or the timeout and
// event type of wait_for_event step i.
func editChainRetime(t *rapid.T, steps []step, i int) []step {
	out := slices.Clone(steps)
	dur := rapid.SampledFrom([]string{"30m", "2h", "1d", "3d", "5d"}).Draw(t, "new duration")
	if out[i].typ == "wait" {
		out[i].cfg = `{"duration":"` + dur + `"}`
	} else {
		ev := rapid.SampledFrom([]string{"opened", "clicked"}).Draw(t, "new event_type")
		out[i].cfg = `{"event_type":"` + ev + `","timeout":"` + dur + `"}`
	}
	return out
}

// snapshot is what an abort must give back of an instance.
type snapshot struct {
	version int
	status  kalcifer.InstanceStatus
	state   string
	nodes   []string
}

func (e *env) snapshots(journeyID string) map[string]snapshot {
	out := map[string]snapshot{}
	for _, in := range e.instances(journeyID) {
		out[in.ID] = snapshot{in.Version, in.Status, string(in.State), slices.Clone(in.Nodes)}
	}
	return out
}

// dues lists, per instance, the times its paths' timers fall due, from its
// state.
func dues(t *rapid.T, e *env, journeyID string) map[string][]time.Time {
	out := map[string][]time.Time{}
	for _, in := range e.instances(journeyID) {
		var st engine.State
		if err := json.Unmarshal(in.State, &st); err != nil {
			t.Fatal(err)
		}
		for _, p := range st.Paths {
			if p.Wait != nil && p.Wait.DueAt != nil && in.Status == kalcifer.InstanceActive {
				out[in.ID] = append(out[in.ID], *p.Wait.DueAt)
			}
		}
	}
	return out
}

// TestPropertyAbortRestoresPriorState: customers at random positions of a
// random chain journey; a random edit is published with migrate_all or a
// gradual rollout and a random removed-node policy; the migration runs for
// a random number of batches and is aborted. Every instance must be back
// exactly as it was (version, status, state, nodes), the old version
// current again, and the timers must fire on the old schedule.
func TestPropertyAbortRestoresPriorState(t *testing.T) {
	fewChecks(t, 12)
	rapid.Check(t, func(rt *rapid.T) {
		b := backends["sqlite"](t)
		defer b.Close() // each case's store, so a high -rapid.checks runs out of no file handles
		e := newEnv(t, b)

		var steps []step
		for i := range rapid.IntRange(2, 6).Draw(rt, "steps") {
			steps = append(steps, drawStep(rt, fmt.Sprintf("s%d", i)))
		}
		j := e.journey(false, chainGraph(steps))
		for i := range rapid.IntRange(5, 30).Draw(rt, "customers") {
			e.event(fmt.Sprintf("c%02d", i), "go", "")
			if rapid.IntRange(0, 3).Draw(rt, "event?") == 0 {
				e.event(fmt.Sprintf("c%02d", rapid.IntRange(0, i).Draw(rt, "to")), rapid.SampledFrom([]string{"opened", "clicked"}).Draw(rt, "event"), "")
			}
			e.drain()
			e.clock.advance(time.Duration(rapid.IntRange(0, 600).Draw(rt, "minutes")) * time.Minute)
		}
		e.drain()
		before := e.snapshots(j)
		dueBefore := dues(rt, e, j)
		nextBefore, _, err := e.st.NextDue(e.ctx)
		if err != nil {
			rt.Fatal(err)
		}

		newSteps, override := editChain(rt, steps)
		if rapid.IntRange(0, 3).Draw(rt, "manual?") == 0 {
			old := rapid.SampledFrom(steps).Draw(rt, "override from").id
			override = map[string]string{old: rapid.SampledFrom(append(newSteps, step{})).Draw(rt, "override to").id}
		}
		req := kalcifer.PublishRequest{Strategy: kalcifer.StrategyMigrateAll, NodeMapping: override,
			Config: kalcifer.MigrationConfig{BatchSize: rapid.IntRange(1, 20).Draw(rt, "batch"),
				RemovedNodePolicy: rapid.SampledFrom([]kalcifer.RemovedNodePolicy{kalcifer.PolicySkipToNextMapped, kalcifer.PolicyExit, kalcifer.PolicyHold}).Draw(rt, "policy")}}
		if rapid.Bool().Draw(rt, "gradual") {
			req.Strategy, req.Config.RolloutPercent = kalcifer.StrategyGradual, rapid.IntRange(1, 100).Draw(rt, "percent")
		}
		plan, err := e.publish(j, chainGraph(newSteps), req)
		if kalcifer.ErrorCode(err) == kalcifer.EUNPROCESSABLE {
			rt.Skipf("publish refused: %v", err)
		}
		if err != nil {
			rt.Fatalf("publish: %v", err)
		}
		id := plan.Migration.ID
		for range rapid.IntRange(0, 40).Draw(rt, "batches before the abort") {
			if _, err := e.rt.MigrateBatch(e.ctx); err != nil {
				rt.Fatalf("migrate: %v", err)
			}
		}
		newIDs := map[string]bool{"in": true, "done": true}
		for _, s := range newSteps {
			newIDs[s.id] = true
		}
		for _, in := range e.instances(j) {
			for _, n := range in.Nodes {
				if in.Version == 2 && !newIDs[n] {
					rt.Fatalf("instance %s migrated to node %q, which version 2 lacks", in.ID, n)
				}
			}
			b := before[in.ID]
			switch {
			case in.Version == 2 || in.Status == b.status && string(in.State) == b.state: // migrated, or not yet
			case in.Status == kalcifer.InstancePaused && req.Config.RemovedNodePolicy == kalcifer.PolicyHold && string(in.State) == b.state:
			case in.Status == kalcifer.InstanceExited && req.Config.RemovedNodePolicy == kalcifer.PolicyExit && len(in.Nodes) == 0:
			default:
				rt.Fatalf("instance %s on version 1 is %s at %v (%s), was %s at %v (%s)", in.ID, in.Status, in.Nodes, in.State, b.status, b.nodes, b.state)
			}
		}
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: id, Action: engine.MigrationAbort}); err != nil {
			rt.Fatalf("abort: %v", err)
		}
		m := e.migrate(id)
		if m.Status != kalcifer.MigrationAborted || m.Progress.MovedOn != 0 {
			rt.Fatalf("after the abort: %s %q %+v", m.Status, m.Reason, m.Progress)
		}
		after := e.snapshots(j)
		if len(after) != len(before) {
			rt.Fatalf("%d instances before, %d after", len(before), len(after))
		}
		for id, b := range before {
			a := after[id]
			if a.version != b.version || a.status != b.status || a.state != b.state || !slices.Equal(a.nodes, b.nodes) {
				rt.Fatalf("instance %s after the abort: v%d %s %v %s\nbefore: v%d %s %v %s", id, a.version, a.status, a.nodes, a.state,
					b.version, b.status, b.nodes, b.state)
			}
		}
		if jr, err := e.st.GetJourney(e.ctx, kalcifer.DefaultTenantID, j); err != nil || jr.CurrentVersion != 1 {
			rt.Fatalf("current version after the abort: %d, %v", jr.CurrentVersion, err)
		}
		if next, _, err := e.st.NextDue(e.ctx); err != nil || !next.Equal(nextBefore) {
			rt.Fatalf("the earliest wait row falls due at %v after the abort, at %v before (%v)", next, nextBefore, err)
		}
		checkSchedule(rt, e, j, dueBefore)
	})
}

// fewChecks makes the rapid checks of t n unless -rapid.checks was given:
// each case of a runtime property opens a fresh store, about 0.2 s, so
// rapid's default of 100 cases would take too long.
func fewChecks(t *testing.T, n int) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if set {
		return
	}
	f := flag.Lookup("rapid.checks")
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Value.Set(old) })
}

// checkSchedule moves the clock through the first due times of dueBefore:
// an instance that has not moved yet moves exactly when its earliest timer
// falls due, not a second earlier, so the restored wait rows are the old
// ones.
// waitsOnSend reports whether an instance's state has a path waiting for a
// send: that path moves when the send settles, which may wait for the clock
// (a retry's backoff, an open circuit breaker), not when a timer falls due.
func waitsOnSend(t *rapid.T, state string) bool {
	var st engine.State
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(st.Paths, func(p engine.Path) bool { return p.Wait != nil && p.Wait.Kind == kalcifer.WaitSend })
}

func checkSchedule(t *rapid.T, e *env, journeyID string, dueBefore map[string][]time.Time) {
	var times []time.Time
	for _, ts := range dueBefore {
		times = append(times, ts...)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.Equal(b) })
	orig := e.snapshots(journeyID)
	unmoved := func(id string, s map[string]snapshot) bool { return s[id].state == orig[id].state }
	for _, at := range times[:min(len(times), 3)] {
		if d := at.Sub(e.clock.Now()); d > time.Second {
			e.clock.advance(d - time.Second)
			prev := e.snapshots(journeyID)
			e.drain()
			for id, s := range e.snapshots(journeyID) {
				if unmoved(id, prev) && s.state != prev[id].state && !waitsOnSend(t, prev[id].state) {
					t.Fatalf("instance %s moved a second before %v, its earliest timer", id, at)
				}
			}
		}
		if d := at.Sub(e.clock.Now()); d > 0 {
			e.clock.advance(d)
		}
		prev := e.snapshots(journeyID)
		e.drain()
		for id, s := range e.snapshots(journeyID) {
			due := slices.ContainsFunc(dueBefore[id], func(d time.Time) bool { return d.Equal(at) })
			if due && unmoved(id, prev) && s.state == prev[id].state {
				t.Fatalf("instance %s did not move at %v, when its timer fell due (at %s)", id, at, strings.Join(s.nodes, ","))
			}
		}
	}
}

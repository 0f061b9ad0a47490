package engine_test

// Regression tests for problems a review of live migration found: each
// failed before its fix.

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/store"
)

// A held instance whose send finishes while it is held: once released,
// the send's outcome must still move it on.
func TestMigrationRegressionHeldSendOutcomeLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`w:wait:{"duration":"1d"}`}, []string{"in->hook", "hook->w"}, "")
		j := e.journey(false, v1)
		e.event("c", "go", "")
		if _, err := e.rt.ProcessEvents(e.ctx); err != nil { // enters, send pending, not delivered
			t.Fatal(err)
		}
		if in := e.only(j, "c"); !slices.Equal(in.Nodes, []string{"hook"}) {
			t.Fatalf("before the migration: at %v, want [hook]", in.Nodes)
		}
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `hook2:call_webhook:{"url":"` + e.hook.URL + `/x"}`, `w:wait:{"duration":"1d"}`},
			[]string{"in->hook2", "hook2->w"}, "")
		req := migrateAll(kalcifer.PolicyHold)
		req.NodeMapping = map[string]string{"hook": ""}
		plan, err := e.publish(j, v2, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, mapped := plan.Mapping["hook"]; mapped {
			t.Fatalf("mapping %v: hook should be unmapped", plan.Mapping)
		}
		m := e.migrate(plan.Migration.ID)
		if m.Progress.Held != 1 {
			t.Fatalf("migration %s %+v: want the instance held", m.Status, m.Progress)
		}
		e.drain() // delivered while held
		in := e.only(j, "c")
		wantStatus(t, in, kalcifer.InstancePaused)
		if in.Version != 1 || !slices.Equal(in.Nodes, []string{"hook"}) {
			t.Fatalf("held: v%d at %v, want v1 at [hook]", in.Version, in.Nodes)
		}
		if s := e.sends(in); len(s) != 1 || s[0].Status != kalcifer.SendSent {
			t.Fatalf("sends while held = %+v, want the webhook sent", s)
		}
		res, err := e.rt.ReleaseHeld(e.ctx, kalcifer.DefaultTenantID, m.ID, kalcifer.ReleaseRequest{NodeMapping: map[string]string{"hook": "hook2"}})
		if err != nil {
			t.Fatalf("release: %v", err)
		}
		if res.Migrated != 1 || res.Exited != 0 || len(res.Skipped) != 0 || len(res.Failed) != 0 {
			t.Fatalf("release = %+v, want 1 migrated", res)
		}
		e.drain()
		in = e.only(j, "c")
		if slices.Equal(in.Nodes, []string{"hook2"}) {
			t.Fatal("released instance stuck waiting for a send that already finished")
		}
		wantStatus(t, in, kalcifer.InstanceActive)
		if in.Version != 2 || !slices.Equal(in.Nodes, []string{"w"}) {
			t.Fatalf("released: v%d at %v, want v2 at [w]", in.Version, in.Nodes)
		}
		if n := len(e.hook.calls()); n != 1 {
			t.Fatalf("webhook called %d times, want once: the finished send must not go again", n)
		}
	})
}

// An instance a migration exited; the customer enters again; the migration
// is aborted: the customer must not end up in two active instances.
func TestMigrationRegressionAbortRestoresExitedAfterReentry(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `w1:wait:{"duration":"1d"}`, `w2:wait:{"duration":"1d"}`},
			[]string{"in->w1", "w1->w2"}, "")
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `w2:wait:{"duration":"1d"}`}, []string{"in->w2"}, "")
		j := e.journey(false, v1)
		e.event("c", "go", "")
		e.drain()
		plan, err := e.publish(j, v2, migrateAll(kalcifer.PolicyExit))
		if err != nil {
			t.Fatal(err)
		}
		m := e.migrate(plan.Migration.ID)
		e.event("c", "go", "")
		e.drain()
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationAbort}); err != nil {
			t.Fatal(err)
		}
		m = e.migrate(m.ID)
		if m.Status != kalcifer.MigrationAborted {
			t.Fatalf("migration %s %q %+v, want aborted", m.Status, m.Reason, m.Progress)
		}
		var active []string
		for _, in := range e.instances(j) {
			if !in.Status.Ended() {
				active = append(active, fmt.Sprintf("%s v%d at %v", in.ID, in.Version, in.Nodes))
			}
		}
		if len(active) != 1 {
			t.Fatalf("customer is in %d active instances of a journey without re-entry, want 1: %v", len(active), active)
		}
	})
}

// On PostgreSQL an abort whose last pass meets an instance another
// transaction holds (without changing it) must not end as aborted with
// that instance left on the new version.
func TestMigrationRegressionAbortSkipsLockedInstance(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"3d"}`}, []string{"in->w"}, "")
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"5d"}`}, []string{"in->w"}, "")
		j := e.journey(false, v1)
		e.event("a", "go", "")
		e.event("b", "go", "")
		e.drain()
		plan, err := e.publish(j, v2, migrateAll(""))
		if err != nil {
			t.Fatal(err)
		}
		m := e.migrate(plan.Migration.ID)
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationAbort}); err != nil {
			t.Fatal(err)
		}
		held := e.only(j, "b")
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			err := e.st.WithEngineTx(e.ctx, func(tx *store.EngineTx) error {
				if _, err := tx.Instance(held.ID); err != nil { // locks it, like a wake that turns out stale
					return err
				}
				close(locked)
				<-release
				return nil
			})
			if err != nil {
				t.Errorf("locking transaction: %v", err)
			}
		}()
		select {
		case <-locked:
		case <-done:
			t.FailNow() // the transaction failed before it held the lock; it reported why
		}
		if !e.st.Dialect().SingleWriter { // one writer on SQLite: nothing to show
			m = e.migrate(m.ID)
			if b := e.only(j, "b"); m.Status == kalcifer.MigrationAborted && b.Version != 1 {
				t.Fatalf("abort finished with instance b still on version %d and not counted (restored %d, moved on %d)", b.Version, m.Progress.Restored, m.Progress.MovedOn)
			}
		}
		close(release)
		<-done
		// The lock gone, the abort finishes and puts everyone back.
		m = e.migrate(m.ID)
		if m.Status != kalcifer.MigrationAborted {
			t.Fatalf("migration %s %q %+v once the lock is gone, want aborted", m.Status, m.Reason, m.Progress)
		}
		for _, c := range []string{"a", "b"} {
			if in := e.only(j, c); in.Version != 1 {
				t.Fatalf("after the abort %s is on version %d, want 1", c, in.Version)
			}
		}
	})
}

// A send node removed with skip_to_next_mapped: the path moves on to a
// wait; the old send's outcome arriving later must not wake the wait.
func TestMigrationRegressionLateSendOutcomeAfterSkip(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`w:wait:{"duration":"1d"}`, `sms:send_sms:{"body":"hi"}`}, []string{"in->hook", "hook->w", "w->sms"}, "")
		j := e.journey(false, v1)
		e.event("c", "go", "")
		if _, err := e.rt.ProcessEvents(e.ctx); err != nil { // enters, send pending, not delivered
			t.Fatal(err)
		}
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"1d"}`, `sms:send_sms:{"body":"hi"}`},
			[]string{"in->w", "w->sms"}, "")
		plan, err := e.publish(j, v2, migrateAll(kalcifer.PolicySkipToNextMapped))
		if err != nil {
			t.Fatal(err)
		}
		e.migrate(plan.Migration.ID)
		if _, err := e.rt.FireTimers(e.ctx); err != nil { // enters w (1 day)
			t.Fatal(err)
		}
		in := e.only(j, "c")
		wantStatus(t, in, kalcifer.InstanceActive)
		if in.Version != 2 || !slices.Equal(in.Nodes, []string{"w"}) {
			t.Fatalf("before delivery: v%d at %v, want v2 at [w]", in.Version, in.Nodes)
		}
		e.drain() // the webhook goes out; its outcome arrives
		in = e.only(j, "c")
		wantStatus(t, in, kalcifer.InstanceActive)
		if !slices.Equal(in.Nodes, []string{"w"}) {
			t.Fatalf("after delivery: at %v, want still waiting at [w]", in.Nodes)
		}
		if s := e.sends(in); len(s) != 1 || s[0].NodeID != "hook" || s[0].Status != kalcifer.SendSent {
			t.Fatalf("sends = %+v, want only the old webhook, sent", s)
		}
	})
}

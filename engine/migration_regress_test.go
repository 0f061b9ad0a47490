package engine_test

// Regression tests for problems a review of live migration found: each
// failed before its fix.

import (
	"testing"
	"time"

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
		if _, err := e.rt.ProcessEvents(e.ctx); err != nil {
			t.Fatal(err)
		}
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `hook2:call_webhook:{"url":"` + e.hook.URL + `/x"}`, `w:wait:{"duration":"1d"}`},
			[]string{"in->hook2", "hook2->w"}, "")
		req := migrateAll(kalcifer.PolicyHold)
		req.NodeMapping = map[string]string{"hook": ""}
		plan, err := e.publish(j, v2, req)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("mapping %v", plan.Mapping)
		m := e.migrate(plan.Migration.ID)
		t.Logf("progress %+v", m.Progress)
		e.drain() // delivered while held
		res, err := e.rt.ReleaseHeld(e.ctx, kalcifer.DefaultTenantID, m.ID, kalcifer.ReleaseRequest{NodeMapping: map[string]string{"hook": "hook2"}})
		t.Logf("release %+v %v", res, err)
		e.drain()
		in := e.only(j, "c")
		t.Logf("after release: %s v%d at %v state %s", in.Status, in.Version, in.Nodes, in.State)
		if len(in.Nodes) == 1 && in.Nodes[0] == "hook2" {
			t.Fatal("released instance stuck waiting for a send that already finished")
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
		if _, err := e.rt.ControlMigration(e.ctx, "test", kalcifer.DefaultTenantID, m.ID, engine.MigrationAbort, 0); err != nil {
			t.Fatal(err)
		}
		m = e.migrate(m.ID)
		active := 0
		for _, in := range e.instances(j) {
			t.Logf("%s v%d %s at %v", in.ID, in.Version, in.Status, in.Nodes)
			if !in.Status.Ended() {
				active++
			}
		}
		t.Logf("migration %s %+v", m.Status, m.Progress)
		if active > 1 {
			t.Fatalf("customer is in %d active instances of a journey without re-entry", active)
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
		if _, err := e.rt.ControlMigration(e.ctx, "test", kalcifer.DefaultTenantID, m.ID, engine.MigrationAbort, 0); err != nil {
			t.Fatal(err)
		}
		held := e.only(j, "b")
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			_ = e.st.WithEngineTx(e.ctx, func(tx *store.EngineTx) error {
				if _, err := tx.Instance(held.ID); err != nil { // locks it, like a wake that turns out stale
					t.Error(err)
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		if e.st.Kind() == "sqlite" { // one writer: nothing to show
			close(release)
			<-done
			return
		}
		m = e.migrate(m.ID)
		close(release)
		<-done
		b := e.only(j, "b")
		t.Logf("migration %s %q %+v; b on v%d", m.Status, m.Reason, m.Progress, b.Version)
		if m.Status == kalcifer.MigrationAborted && b.Version != 1 {
			t.Fatalf("abort finished with instance b still on version %d and not counted (restored %d, moved on %d)", b.Version, m.Progress.Restored, m.Progress.MovedOn)
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
		t.Logf("before delivery: %s at %v", in.Status, in.Nodes)
		e.drain() // the webhook goes out; its outcome arrives
		in = e.only(j, "c")
		t.Logf("after delivery: %s %q at %v, sends %d", in.Status, in.Reason, in.Nodes, len(e.sends(in)))
		if in.Status != kalcifer.InstanceActive {
			t.Fatalf("instance %s: %s", in.Status, in.Reason)
		}
		_ = time.Hour
	})
}

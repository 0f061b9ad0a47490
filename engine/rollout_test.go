package engine_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// publish stores g as the journey's next draft and publishes it with req.
func (e *env) publish(journeyID, g string, req kalcifer.PublishRequest) (*kalcifer.PublishPlan, error) {
	e.t.Helper()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(g), &gr); err != nil {
		e.t.Fatalf("graph: %v", err)
	}
	v, err := e.st.CreateVersion(e.ctx, store.CreateVersionParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: journeyID, Graph: &gr, Changelog: "change"})
	if err != nil {
		e.t.Fatalf("create version: %v", err)
	}
	return e.rt.Publish(e.ctx, store.PublishParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: journeyID,
		Version: v.Version, Request: req})
}

// migrate runs migration batches until there is no work left, and returns
// the migration as it ends.
func (e *env) migrate(id string) *kalcifer.Migration {
	e.t.Helper()
	for range 1000 {
		n, err := e.rt.MigrateBatch(e.ctx)
		if err != nil {
			e.t.Fatalf("migrate: %v", err)
		}
		if n == 0 {
			break
		}
	}
	m, err := e.st.GetMigration(e.ctx, kalcifer.DefaultTenantID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) waitRows(in *kalcifer.Instance) string {
	e.t.Helper()
	var state engine.State
	if err := json.Unmarshal(in.State, &state); err != nil {
		e.t.Fatal(err)
	}
	var s []string
	for _, p := range state.Paths {
		if p.Wait != nil && p.Wait.DueAt != nil {
			s = append(s, fmt.Sprintf("%s@%s", p.Node, p.Wait.DueAt.Sub(start)))
		}
	}
	return strings.Join(s, " ")
}

func migrateAll(policy kalcifer.RemovedNodePolicy) kalcifer.PublishRequest {
	return kalcifer.PublishRequest{Strategy: kalcifer.StrategyMigrateAll, Config: kalcifer.MigrationConfig{RemovedNodePolicy: policy}}
}

// US-8: a running journey's wait changes from 3 to 5 days and a new step is
// inserted before it; customers already waiting carry on from their wait,
// measured from when they began it, and skip the inserted step.
func TestMigrateAllCarriesWaitsOver(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `mail:send_email:{"template_id":"a"}`, `w:wait:{"duration":"3d"}`,
			`sms:send_sms:{"body":"hi"}`}, []string{"in->mail", "mail->w", "w->sms"}, "")
		j := e.journey(false, v1)
		e.event("early", "go", "")
		e.drain()
		e.clock.advance(48 * time.Hour)
		e.event("late", "go", "")
		e.drain()

		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `mail:send_email:{"template_id":"a"}`, `tag:add_tag:{"tag":"new"}`,
			`w:wait:{"duration":"5d"}`, `sms:send_sms:{"body":"hi"}`}, []string{"in->mail", "mail->tag", "tag->w", "w->sms"}, "")
		plan, err := e.publish(j, v2, migrateAll(""))
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		if plan.Migration.Status != kalcifer.MigrationRunning || plan.Migration.Progress.Total != 2 || plan.Mapping["w"] != "w" {
			t.Fatalf("plan = %+v, migration %+v", plan, plan.Migration)
		}
		if plan.Populated["w"] != 2 {
			t.Fatalf("populated = %v", plan.Populated)
		}
		m := e.migrate(plan.Migration.ID)
		if m.Status != kalcifer.MigrationCompleted || m.Progress.Migrated != 2 || m.Progress.Batches != 1 {
			t.Fatalf("migration = %+v", m)
		}
		early, late := e.only(j, "early"), e.only(j, "late")
		if early.Version != 2 || late.Version != 2 {
			t.Fatalf("versions %d, %d; want 2", early.Version, late.Version)
		}
		if got := e.waitRows(early) + " " + e.waitRows(late); got != "w@120h0m0s w@168h0m0s" {
			t.Fatalf("waits = %q, want entry + 5 days each", got)
		}
		if !hasMigrationStep(e, early, "migrated") {
			t.Fatal("the instance's history does not show the migration")
		}
		counts, err := e.st.CountByVersion(e.ctx, kalcifer.DefaultTenantID, j)
		if err != nil || counts[2] != 2 || counts[1] != 0 {
			t.Fatalf("by version = %v, %v", counts, err)
		}

		e.clock.advance(71 * time.Hour) // 4 days 23 h after "early" entered
		e.drain()
		if len(e.sends(e.only(j, "early"))) != 1 {
			t.Fatal("the SMS went before the new 5 days were up")
		}
		e.clock.advance(time.Hour)
		e.drain()
		early = e.only(j, "early")
		wantStatus(t, early, kalcifer.InstanceCompleted)
		if s := e.sends(early); len(s) != 2 || s[0].NodeID != "mail" || s[1].NodeID != "sms" {
			t.Fatalf("sends = %+v: want the email once and the SMS", s)
		}
		if strings.Contains(e.trail(early), "tag=") || slices.Contains(e.customer("early").Tags, "new") {
			t.Fatal("a step inserted before the customer's position ran: customers must never go backwards")
		}
		if e.only(j, "late").Status != kalcifer.InstanceActive {
			t.Fatal("late finished early")
		}
		// New customers enter version 2 and take the new step.
		e.event("new", "go", "")
		e.drain()
		if in := e.only(j, "new"); in.Version != 2 || !slices.Contains(e.customer("new").Tags, "new") {
			t.Fatalf("new entry on version %d with tags %v", in.Version, e.customer("new").Tags)
		}
	})
}

func hasMigrationStep(e *env, in *kalcifer.Instance, result string) bool {
	steps, err := e.st.InstanceSteps(e.ctx, in.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range steps {
		if s.Type == "migration" && s.Result == result {
			return true
		}
	}
	return false
}

// A customer at a node the new version removed follows the publish's
// policy; without one, publishing is refused.
func TestRemovedNodePolicies(t *testing.T) {
	v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `w1:wait:{"duration":"1d"}`, `mail:send_email:{"template_id":"a"}`,
		`w2:wait:{"duration":"1d"}`}, []string{"in->w1", "w1->mail", "mail->w2"}, "")
	v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `mail:send_email:{"template_id":"a"}`,
		`w2:wait:{"duration":"1d"}`}, []string{"in->mail", "mail->w2"}, "")
	eachBackend(t, func(t *testing.T, e *env) {
		for _, policy := range []kalcifer.RemovedNodePolicy{"", kalcifer.PolicySkipToNextMapped, kalcifer.PolicyExit, kalcifer.PolicyHold} {
			j := e.journey(false, v1)
			e.event("c", "go", "")
			e.drain()
			plan, err := e.publish(j, v2, migrateAll(policy))
			if policy == "" {
				var ke *kalcifer.Error
				if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !errors.As(err, &ke) || len(ke.Details) != 1 || ke.Details[0].NodeID != "w1" {
					t.Fatalf("publish without a policy: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: publish: %v", policy, err)
			}
			m := e.migrate(plan.Migration.ID)
			in := e.only(j, "c")
			switch policy {
			case kalcifer.PolicySkipToNextMapped:
				if m.Progress.Migrated != 1 || in.Version != 2 || !slices.Equal(in.Nodes, []string{"mail"}) {
					t.Fatalf("skip: migration %+v, instance v%d at %v", m.Progress, in.Version, in.Nodes)
				}
				e.drain() // the path enters the email at once
				in = e.only(j, "c")
				if s := e.sends(in); len(s) != 1 || !slices.Equal(in.Nodes, []string{"w2"}) {
					t.Fatalf("skip: sends %+v, at %v", s, in.Nodes)
				}
			case kalcifer.PolicyExit:
				wantStatus(t, in, kalcifer.InstanceExited)
				if m.Progress.Exited != 1 || len(e.sends(in)) != 0 {
					t.Fatalf("exit: %+v", m.Progress)
				}
				e.event("c", "go", "") // out of the journey, the customer may enter again
				e.drain()
				if len(e.instances(j)) != 2 {
					t.Fatal("an instance exited by a migration still blocks re-entry")
				}
			case kalcifer.PolicyHold:
				wantStatus(t, in, kalcifer.InstancePaused)
				if m.Progress.Held != 1 || in.Version != 1 {
					t.Fatalf("hold: %+v, version %d", m.Progress, in.Version)
				}
				held, err := e.st.HeldInstances(e.ctx, kalcifer.DefaultTenantID, m.ID, 10, "")
				if err != nil || len(held.Data) != 1 {
					t.Fatalf("held = %v, %v", held.Data, err)
				}
				e.clock.advance(48 * time.Hour)
				e.drain()
				if len(e.sends(e.only(j, "c"))) != 0 {
					t.Fatal("a held instance moved on")
				}
				res, err := e.rt.ReleaseHeld(e.ctx, kalcifer.DefaultTenantID, m.ID, kalcifer.ReleaseRequest{NodeMapping: map[string]string{"w1": "w2"}})
				if err != nil || res.Migrated != 1 {
					t.Fatalf("release: %+v, %v", res, err)
				}
				in = e.only(j, "c")
				wantStatus(t, in, kalcifer.InstanceActive)
				if in.Version != 2 || !slices.Equal(in.Nodes, []string{"w2"}) {
					t.Fatalf("released: v%d at %v", in.Version, in.Nodes)
				}
				m, err := e.st.GetMigration(e.ctx, kalcifer.DefaultTenantID, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if m.Progress.Held != 0 || m.Progress.Migrated != 1 {
					t.Fatalf("after release: %+v", m.Progress)
				}
			}
			// Leave no journey behind for the next policy's customer.
			if _, err := e.st.TransitionJourney(e.ctx, store.TransitionJourneyParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: j, Action: kalcifer.ActionArchive}); err != nil {
				t.Fatal(err)
			}
			for _, in := range e.instances(j) {
				if !in.Status.Ended() {
					if _, err := e.rt.ExitInstance(e.ctx, kalcifer.DefaultTenantID, in.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}

// US-9: a gradual rollout moves a deterministic share, can be raised, and
// an abort puts every moved instance back exactly as it was.
func TestGradualRolloutAndAbort(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait_for_event:{"event_type":"opened","timeout":"3d"}`,
			`yes:add_tag:{"tag":"yes"}`, `no:add_tag:{"tag":"no"}`}, []string{"in->w", "w-event_received->yes", "w-timed_out->no"}, "")
		j := e.journey(false, v1)
		const n = 60
		for i := range n {
			e.event(fmt.Sprintf("c%02d", i), "go", "")
		}
		e.drain()
		before := map[string]*kalcifer.Instance{}
		for _, in := range e.instances(j) {
			before[in.ID] = in
		}
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait_for_event:{"event_type":"clicked","timeout":"3d"}`,
			`yes:add_tag:{"tag":"yes"}`, `no:add_tag:{"tag":"no"}`}, []string{"in->w", "w-event_received->yes", "w-timed_out->no"}, "")
		plan, err := e.publish(j, v2, kalcifer.PublishRequest{Strategy: kalcifer.StrategyGradual,
			Config: kalcifer.MigrationConfig{RolloutPercent: 25, BatchSize: 7}})
		if err != nil {
			t.Fatal(err)
		}
		m := e.migrate(plan.Migration.ID)
		want := 0
		for id := range before {
			if kalcifer.SelectedForRollout(id, 25) {
				want++
			}
		}
		if m.Status != kalcifer.MigrationPartial || m.Progress.Migrated != want || m.Progress.NotSelected != n-want || want == 0 || want == n {
			t.Fatalf("25%%: %+v (want %d migrated)", m, want)
		}
		// Raise to 100 %: the rest follow; those done already are not touched.
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationRollout, Percent: 20}); err == nil {
			t.Fatal("lowering the rollout was accepted")
		}
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationRollout, Percent: 100}); err != nil {
			t.Fatal(err)
		}
		m = e.migrate(m.ID)
		if m.Status != kalcifer.MigrationCompleted || m.Progress.NotSelected != 0 {
			t.Fatalf("100%%: %+v", m)
		}
		// Everyone now listens for the new event type, not the old.
		for _, in := range e.instances(j) {
			if in.Version != 2 {
				t.Fatalf("instance %s still on version %d", in.ID, in.Version)
			}
			e.event(in.CustomerID, "opened", "")
		}
		e.drainEvents()
		for _, in := range e.instances(j) {
			wantStatus(t, in, kalcifer.InstanceActive)
			e.event(in.CustomerID, "clicked", "")
		}
		e.drainEvents()
		for _, in := range e.instances(j) {
			wantStatus(t, in, kalcifer.InstanceCompleted)
			if !slices.Contains(e.customer(in.CustomerID).Tags, "yes") {
				t.Fatalf("customer %s went the timeout way", in.CustomerID)
			}
		}
	})
}

// An abort returns every moved instance to its old version, state and waits,
// and the old version becomes current again.
func TestAbortRestoresPriorState(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		v1 := g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"3d"}`, `x:wait:{"duration":"1d"}`,
			`mail:send_email:{"template_id":"a"}`}, []string{"in->w", "w->x", "x->mail"}, "")
		j := e.journey(false, v1)
		for i := range 25 {
			e.event(fmt.Sprintf("c%02d", i), "go", "")
			e.drain()
			e.clock.advance(10 * time.Minute)
		}
		e.drain()
		before := map[string]*kalcifer.Instance{}
		for _, in := range e.instances(j) {
			before[in.ID] = in
		}
		v2 := g([]string{`in:event_entry:{"event_type":"go"}`, `w2:wait:{"duration":"5d"}`,
			`mail:send_email:{"template_id":"a"}`}, []string{"in->w2", "w2->mail"}, "")
		plan, err := e.publish(j, v2, kalcifer.PublishRequest{Strategy: kalcifer.StrategyMigrateAll,
			Config: kalcifer.MigrationConfig{BatchSize: 10}, NodeMapping: map[string]string{"w": "w2"}})
		if err != nil {
			t.Fatal(err)
		}
		m := e.migrate(plan.Migration.ID)
		if m.Progress.Migrated != 25 || m.Progress.Batches != 3 {
			t.Fatalf("migration = %+v", m.Progress)
		}
		batches, err := e.st.MigrationBatches(e.ctx, m.ID)
		if err != nil || len(batches) != 3 || batches[0].Migrated != 10 || batches[2].Migrated != 5 {
			t.Fatalf("batches = %+v, %v", batches, err)
		}
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationAbort}); err != nil {
			t.Fatal(err)
		}
		m = e.migrate(m.ID)
		if m.Status != kalcifer.MigrationAborted || m.Progress.Restored != 25 {
			t.Fatalf("abort = %+v", m)
		}
		for _, in := range e.instances(j) {
			b := before[in.ID]
			if in.Version != 1 || in.Status != b.Status || string(in.State) != string(b.State) || !slices.Equal(in.Nodes, b.Nodes) {
				t.Fatalf("instance %s after abort: v%d %s %s %v; before: %s %s %v", in.ID, in.Version, in.Status, in.State, in.Nodes,
					b.Status, b.State, b.Nodes)
			}
		}
		jr, err := e.st.GetJourney(e.ctx, kalcifer.DefaultTenantID, j)
		if err != nil || jr.CurrentVersion != 1 {
			t.Fatalf("current version after abort = %d, %v", jr.CurrentVersion, err)
		}
		// The restored waits fire on their old schedule.
		e.clock.advance(77*time.Hour - 250*time.Minute) // past every w, before any x
		e.drain()
		moved := 0
		for _, in := range e.instances(j) {
			if slices.Equal(in.Nodes, []string{"x"}) {
				moved++
			}
		}
		if moved != 25 {
			t.Fatalf("%d of 25 restored instances reached x on the old schedule", moved)
		}
	})
}

// A failure rate above the threshold pauses a migration by itself.
func TestMigrationPausesOnFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(true, g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"3d"}`}, []string{"in->w"}, ""))
		evs := make([]*kalcifer.Event, 150)
		for i := range evs {
			evs[i] = &kalcifer.Event{TenantID: kalcifer.DefaultTenantID, CustomerID: fmt.Sprintf("c%03d", i), Type: "go"}
		}
		if _, err := e.rt.Ingest(e.ctx, evs); err != nil {
			t.Fatal(err)
		}
		e.drain()
		// The new wait reads a customer attribute nobody has.
		plan, err := e.publish(j, g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait_until:{"until":"customer.renews_at"}`},
			[]string{"in->w"}, ""), kalcifer.PublishRequest{Strategy: kalcifer.StrategyMigrateAll, Config: kalcifer.MigrationConfig{BatchSize: 50},
			NodeMapping: map[string]string{"w": "w"}})
		if err != nil {
			t.Fatal(err)
		}
		m := e.migrate(plan.Migration.ID)
		if m.Status != kalcifer.MigrationPaused || m.Progress.Failed != 100 || !strings.Contains(m.Reason, "threshold") {
			t.Fatalf("migration = %s %q %+v", m.Status, m.Reason, m.Progress)
		}
		batches, err := e.st.MigrationBatches(e.ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(batches) != 2 || len(batches[0].Errors) != 20 || !strings.Contains(batches[0].Errors[0], "renews_at") {
			t.Fatalf("batches = %+v", batches)
		}
		for _, in := range e.instances(j) {
			if in.Version != 1 {
				t.Fatal("a failed instance left its version")
			}
		}
		// Resumed, the rate counts from the resume: the last 50 fail too, but
		// 50 tried is too few to judge, so the migration finishes.
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, MigrationID: m.ID, Action: engine.MigrationResume}); err != nil {
			t.Fatal(err)
		}
		m = e.migrate(m.ID)
		if m.Status != kalcifer.MigrationCompleted || m.Progress.Failed != 150 {
			t.Fatalf("after resume: %s %q %+v", m.Status, m.Reason, m.Progress)
		}
	})
}

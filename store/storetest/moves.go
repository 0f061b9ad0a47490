package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// migrating makes an active journey with n running instances of version 1,
// customers c0…, each at node "entry" with a timer wait on path 0 and an
// event wait on path 1, and publishes version 2 (waitGraph) with
// migrate_all. Instance ids rise with their index.
func migrating(t *testing.T, s *store.Store, n int) (*kalcifer.Journey, []*kalcifer.Instance, *kalcifer.Migration) {
	t.Helper()
	ctx := context.Background()
	j := activeJourney(t, s)
	ins := make([]*kalcifer.Instance, n)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for i := range ins {
			in, ok := newInstance(t, tx, j, "c"+string(rune('0'+i)), false)
			if !ok {
				t.Fatalf("instance %d refused", i)
			}
			in.Nodes = []string{"entry"}
			in.State = json.RawMessage(`{"paths":[{"id":0,"node":"entry"}],"n":` + string(rune('0'+i)) + `}`)
			due := tx.Now().Add(time.Hour)
			must(t, tx.SaveInstance(in, nil, map[int]kalcifer.Wait{
				0: {Kind: kalcifer.WaitTimer, DueAt: &due},
				1: {Kind: kalcifer.WaitEvent, EventType: "opened"},
			}))
			ins[i] = in
		}
		return nil
	}))
	v2 := newVersion(t, s, j, waitGraph())
	m := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 1, ToVersion: v2.Version,
		Strategy: kalcifer.StrategyMigrateAll, Config: kalcifer.MigrationConfig{RolloutPercent: 100, BatchSize: 2},
		Mapping: map[string]string{"entry": "entry", "exit": "exit"}, Actor: actor}
	must(t, s.Publish(ctx, m))
	return j, ins, m
}

// move is a move of in: onto version 2 at node "w" with a new timer on path
// 0 and path 1's wait dropped (migrated), or a hold, exit or failure, the
// way the engine's planner makes them.
func move(in *kalcifer.Instance, outcome string, now time.Time) store.InstanceMove {
	mv := store.InstanceMove{Prior: in, Outcome: outcome, Version: 2, Status: kalcifer.InstanceActive,
		State: json.RawMessage(`{"paths":[{"id":0,"node":"w"}]}`), Nodes: []string{"w"}, Detail: outcome + " by the test"}
	switch outcome {
	case kalcifer.MoveMigrated:
		due := now.Add(72 * time.Hour)
		mv.Waits, mv.Drop = map[int]kalcifer.Wait{0: {Kind: kalcifer.WaitTimer, DueAt: &due}}, []int{1}
	case kalcifer.MoveHeld:
		mv.Version, mv.Status, mv.Reason, mv.State, mv.Nodes = 1, kalcifer.InstancePaused, "held for review", in.State, in.Nodes
	case kalcifer.MoveExited:
		mv.Version, mv.Status, mv.Reason, mv.Nodes = 1, kalcifer.InstanceExited, "node removed", []string{}
	case kalcifer.MoveFailed:
		mv = store.InstanceMove{Prior: in, Outcome: kalcifer.MoveFailed, Detail: "boom"}
	}
	return mv
}

// waitRows returns an instance's wait rows: path → kind, with the timer's
// due time.
func waitRows(t *testing.T, s *store.Store, instanceID string) (map[int]string, map[int]int64) {
	t.Helper()
	rows, err := s.Backend().Q().Query(context.Background(),
		`SELECT path_id, kind, COALESCE(due_at, 0) FROM waits WHERE instance_id = $1`, instanceID)
	must(t, err)
	defer rows.Close()
	kinds, dues := map[int]string{}, map[int]int64{}
	for rows.Next() {
		var path int
		var kind string
		var due int64
		must(t, rows.Scan(&path, &kind, &due))
		kinds[path], dues[path] = kind, due
	}
	must(t, rows.Err())
	return kinds, dues
}

func instance(t *testing.T, s *store.Store, id string) *kalcifer.Instance {
	t.Helper()
	in, err := s.GetInstance(context.Background(), "default", id)
	must(t, err)
	return in
}

func lastStep(t *testing.T, s *store.Store, id string) kalcifer.Step {
	t.Helper()
	steps, err := s.InstanceSteps(context.Background(), id)
	must(t, err)
	if len(steps) == 0 {
		t.Fatalf("instance %s has no steps", id)
	}
	return steps[len(steps)-1]
}

// reenters reports whether the customer may start a new instance of j
// without re-entry, i.e. whether no instance holds their place.
func reenters(t *testing.T, s *store.Store, j *kalcifer.Journey, customer string) bool {
	t.Helper()
	var ok bool
	must(t, s.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
		_, ok = newInstance(t, tx, j, customer, false)
		return nil
	}))
	return ok
}

// testMigrationMoves drives a migration's batches the way the engine does:
// candidates after the cursor, a batch of moves of every outcome, progress
// and the batch's result saved, and the instances left found.
func testMigrationMoves(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j, ins, m := migrating(t, s, 5)
	// An ended instance of version 1 is no candidate.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		done, _ := newInstance(t, tx, j, "done", false)
		done.Status = kalcifer.InstanceCompleted
		return tx.SaveInstance(done, nil, nil)
	}))

	batch := func(want []*kalcifer.Instance, outcomes []string) {
		t.Helper()
		must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			next, err := tx.NextMigration()
			must(t, err)
			if next == nil || next.ID != m.ID || next.Status != kalcifer.MigrationRunning || next.Cursor != m.Cursor {
				t.Fatalf("next migration = %+v, want %s at cursor %q", next, m.ID, m.Cursor)
			}
			cands, err := tx.MigrationCandidates(next, next.Config.BatchSize)
			must(t, err)
			if len(cands) != len(want) {
				t.Fatalf("candidates = %d, want %d", len(cands), len(want))
			}
			b := kalcifer.MigrationBatch{Seq: next.Progress.Batches + 1, StartedAt: tx.Now()}
			var moves []store.InstanceMove
			for i, in := range cands {
				if in.ID != want[i].ID || in.Version != 1 || in.LockVersion != want[i].LockVersion || !sameJSON(t, in.State, want[i].State) {
					t.Fatalf("candidate %d = %+v, want %+v", i, in, want[i])
				}
				moves = append(moves, move(in, outcomes[i], tx.Now()))
				next.Cursor = in.ID
				switch outcomes[i] {
				case kalcifer.MoveMigrated:
					b.Migrated++
				case kalcifer.MoveHeld:
					b.Held++
				case kalcifer.MoveExited:
					b.Exited++
				case kalcifer.MoveFailed:
					b.Failed++
				}
			}
			must(t, tx.ApplyMoves(next.ID, moves))
			p := &next.Progress
			p.Migrated, p.Held, p.Exited, p.Failed = p.Migrated+b.Migrated, p.Held+b.Held, p.Exited+b.Exited, p.Failed+b.Failed
			p.Examined += len(cands)
			p.Batches, b.FinishedAt = b.Seq, tx.Now()
			must(t, tx.SaveMigration(next, &b))
			m = next
			return nil
		}))
	}
	batch(ins[0:2], []string{kalcifer.MoveMigrated, kalcifer.MoveHeld})
	batch(ins[2:4], []string{kalcifer.MoveExited, kalcifer.MoveFailed})

	// Migrated: on version 2 at "w", its timer replaced and its event
	// wait dropped, with a history step.
	got := instance(t, s, ins[0].ID)
	if got.Version != 2 || got.Status != kalcifer.InstanceActive || len(got.Nodes) != 1 || got.Nodes[0] != "w" ||
		got.LockVersion != ins[0].LockVersion+1 || got.StepCount != ins[0].StepCount+1 {
		t.Fatalf("migrated instance = %+v", got)
	}
	if st := lastStep(t, s, ins[0].ID); st.Type != "migration" || st.Result != kalcifer.MoveMigrated || st.Version != 2 ||
		st.Detail != "migrated by the test" {
		t.Fatalf("migration step = %+v", st)
	}
	kinds, dues := waitRows(t, s, ins[0].ID)
	if len(kinds) != 1 || kinds[0] != "timer" || dues[0] <= time.Now().Add(48*time.Hour).UnixMicro() {
		t.Fatalf("migrated waits = %v %v, want only the new 3-day timer", kinds, dues)
	}
	// Held: paused on version 1 with the reason, waits kept.
	got = instance(t, s, ins[1].ID)
	if got.Version != 1 || got.Status != kalcifer.InstancePaused || got.Reason != "held for review" || got.Nodes[0] != "entry" {
		t.Fatalf("held instance = %+v", got)
	}
	if kinds, _ := waitRows(t, s, ins[1].ID); len(kinds) != 2 {
		t.Fatalf("held waits = %v, want both kept", kinds)
	}
	// Exited: ended, no waits, and the customer may enter again.
	got = instance(t, s, ins[2].ID)
	if got.Status != kalcifer.InstanceExited || got.EndedAt == nil || got.Reason != "node removed" {
		t.Fatalf("exited instance = %+v", got)
	}
	if kinds, _ := waitRows(t, s, ins[2].ID); len(kinds) != 0 {
		t.Fatalf("exited waits = %v", kinds)
	}
	// Failed: only recorded, the instance untouched.
	got = instance(t, s, ins[3].ID)
	if got.Version != 1 || got.Status != kalcifer.InstanceActive || got.LockVersion != ins[3].LockVersion {
		t.Fatalf("failed instance was changed: %+v", got)
	}
	if kinds, _ := waitRows(t, s, ins[3].ID); len(kinds) != 2 {
		t.Fatalf("failed waits = %v", kinds)
	}

	// The end of a pass: only the untried instance is left, and a new pass
	// from the start finds only it.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		left, err := tx.MigrationLeft(m)
		must(t, err)
		if len(left) != 1 || left[0] != ins[4].ID {
			t.Fatalf("left = %v, want [%s]", left, ins[4].ID)
		}
		again := *m
		again.Cursor = ""
		cands, err := tx.MigrationCandidates(&again, 10)
		must(t, err)
		if len(cands) != 1 || cands[0].ID != ins[4].ID {
			t.Fatalf("second pass candidates = %d", len(cands))
		}
		// Within a pass, candidates come after the cursor only: those a
		// gradual rollout passed by are not looked at again.
		again.Cursor = ins[4].ID
		cands, err = tx.MigrationCandidates(&again, 10)
		must(t, err)
		if len(cands) != 0 {
			t.Fatalf("candidates at or before the cursor = %d", len(cands))
		}
		return nil
	}))

	stored, err := s.GetMigration(ctx, "default", m.ID)
	must(t, err)
	if p := stored.Progress; p.Migrated != 1 || p.Held != 1 || p.Exited != 1 || p.Failed != 1 || p.Examined != 4 || p.Batches != 2 ||
		p.Total != 5 || stored.Cursor != ins[3].ID || stored.LockVersion != 3 {
		t.Fatalf("stored progress = %+v cursor %q lock %d", p, stored.Cursor, stored.LockVersion)
	}
	batches, err := s.MigrationBatches(ctx, m.ID)
	must(t, err)
	if len(batches) != 2 || batches[0].Seq != 1 || batches[0].Migrated != 1 || batches[0].Held != 1 ||
		batches[1].Seq != 2 || batches[1].Exited != 1 || batches[1].Failed != 1 || batches[1].StartedAt.IsZero() {
		t.Fatalf("batches = %+v", batches)
	}
	// A stale save of the migration is refused.
	stale := *stored
	stale.LockVersion--
	err = s.WithEngineTx(ctx, func(tx *store.EngineTx) error { return tx.SaveMigration(&stale, nil) })
	wantCode(t, err, kalcifer.ECONFLICT)

	// Customers per node, for the publish plan.
	pop, err := s.PopulatedNodes(ctx, "default", j.ID, 1)
	must(t, err)
	if len(pop) != 1 || pop["entry"] != 3 {
		t.Fatalf("populated nodes of version 1 = %v, want entry: 3 (held, failed, untried)", pop)
	}
	pop, err = s.PopulatedNodes(ctx, "default", j.ID, 2)
	must(t, err)
	if len(pop) != 1 || pop["w"] != 1 {
		t.Fatalf("populated nodes of version 2 = %v", pop)
	}
	held, err := s.HeldInstances(ctx, "default", m.ID, 0, "")
	must(t, err)
	if len(held.Data) != 1 || held.Data[0].ID != ins[1].ID {
		t.Fatalf("held instances = %+v", held.Data)
	}

	if !reenters(t, s, j, "c2") {
		t.Fatal("an instance a migration ended still holds its customer's place")
	}

	// Once finished, a migration is no longer work.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		now := tx.Now()
		m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
		must(t, tx.SaveMigration(m, nil))
		next, err := tx.NextMigration()
		must(t, err)
		if next != nil {
			t.Fatalf("a completed migration is still work: %+v", next)
		}
		return nil
	}))
}

package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testMigrationRestore: an abort puts every instance the migration moved
// back as it was, except those that moved on since.
func testMigrationRestore(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j, ins, m := migrating(t, s, 6)
	// The failed move (instance 5) is never restored.
	outcomes := []string{kalcifer.MoveMigrated, kalcifer.MoveHeld, kalcifer.MoveExited, kalcifer.MoveMigrated, kalcifer.MoveExited,
		kalcifer.MoveFailed}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		cands, err := tx.MigrationCandidates(m, 10)
		must(t, err)
		var moves []store.InstanceMove
		for i, in := range cands {
			moves = append(moves, move(in, outcomes[i], tx.Now()))
		}
		must(t, tx.ApplyMoves(m.ID, moves))
		now := tx.Now()
		m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
		m.Progress.Migrated, m.Progress.Held, m.Progress.Exited = 2, 1, 2
		return tx.SaveMigration(m, nil)
	}))
	// Instance 3 moves on after the migration; customer c4 enters again
	// after instance 4 was ended.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, err := tx.Instance(ins[3].ID)
		must(t, err)
		in.Nodes = []string{"exit"}
		return tx.SaveInstance(in, nil, nil)
	}))
	if !reenters(t, s, j, "c4") {
		t.Fatal("c4 could not enter again")
	}

	// The abort makes version 1 current again.
	ab, err := s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "abort"}, func(j *kalcifer.Journey, m *kalcifer.Migration) error {
		m.Status, m.Cursor, m.FinishedAt = kalcifer.MigrationAborting, "", nil
		j.CurrentVersion = m.FromVersion
		return nil
	})
	must(t, err)
	if ab.Status != kalcifer.MigrationAborting {
		t.Fatalf("aborting = %+v", ab)
	}
	if got, _ := s.GetJourney(ctx, "default", j.ID); got.CurrentVersion != 1 {
		t.Fatalf("current version after abort = %d, want 1", got.CurrentVersion)
	}

	restoredOK := map[string]bool{}
	var seen []string
	for pass := 0; pass < 5; pass++ {
		var n int
		must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			mg, err := tx.NextMigration()
			must(t, err)
			if mg == nil || mg.ID != m.ID || mg.Status != kalcifer.MigrationAborting {
				t.Fatalf("next migration while aborting = %+v", mg)
			}
			list, err := tx.MovesToRestore(mg, 2)
			must(t, err)
			n = len(list)
			jr, err := tx.Journey("default", j.ID)
			must(t, err)
			for _, mi := range list {
				seen = append(seen, mi.Current.ID)
				i := indexOf(ins, mi.Current.ID)
				if mi.Outcome != outcomes[i] || mi.PriorVersion != 1 || mi.PriorStatus != kalcifer.InstanceActive ||
					!sameJSON(t, mi.PriorState, ins[i].State) || len(mi.PriorNodes) != 1 || mi.PriorNodes[0] != "entry" {
					t.Fatalf("move record of instance %d = %+v", i, mi)
				}
				if mi.LockVersion != ins[i].LockVersion+1 {
					t.Fatalf("move record of instance %d: lock %d, want %d", i, mi.LockVersion, ins[i].LockVersion+1)
				}
				due := tx.Now().Add(30 * time.Minute)
				ok, err := tx.RestoreMove(mg.ID, mi, map[int]kalcifer.Wait{
					0: {Kind: kalcifer.WaitTimer, DueAt: &due}, 1: {Kind: kalcifer.WaitEvent, EventType: "opened"}}, jr.Settings.AllowReentry)
				must(t, err)
				restoredOK[mi.Current.ID] = ok
				mg.Cursor = mi.Current.ID
			}
			left, err := tx.RestoreLeft(mg)
			must(t, err)
			if n < 2 && left != 0 {
				t.Fatalf("restore left after the last batch = %d", left)
			}
			if n < 2 {
				now := tx.Now()
				mg.Status, mg.FinishedAt = kalcifer.MigrationAborted, &now
			}
			return tx.SaveMigration(mg, nil)
		}))
		if n < 2 {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("restored %d instances, want the 5 moved (not the failed one)", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("restore batches repeat or skip: %v", seen)
		}
	}
	for i, want := range []bool{true, true, true, false, false} {
		if restoredOK[ins[i].ID] != want {
			t.Fatalf("instance %d restored = %v, want %v", i, restoredOK[ins[i].ID], want)
		}
	}

	// Restored: back on version 1 as it was, with its waits and a step.
	for _, i := range []int{0, 1, 2} {
		got := instance(t, s, ins[i].ID)
		if got.Version != 1 || got.Status != kalcifer.InstanceActive || got.Reason != "" || got.EndedAt != nil ||
			!sameJSON(t, got.State, ins[i].State) || len(got.Nodes) != 1 || got.Nodes[0] != "entry" {
			t.Fatalf("restored instance %d = %+v", i, got)
		}
		if st := lastStep(t, s, ins[i].ID); st.Type != "migration" || st.Result != "restored" || st.Version != 1 {
			t.Fatalf("restore step of %d = %+v", i, st)
		}
		if kinds, _ := waitRows(t, s, ins[i].ID); len(kinds) != 2 || kinds[0] != "timer" || kinds[1] != "event" {
			t.Fatalf("restored waits of %d = %v", i, kinds)
		}
	}
	// The restored exit holds its customer's place again.
	if reenters(t, s, j, "c2") {
		t.Fatal("a restored instance did not take its customer's place back")
	}
	// Moved on: left where they are.
	if got := instance(t, s, ins[3].ID); got.Version != 2 || got.Nodes[0] != "exit" {
		t.Fatalf("instance that moved on = %+v", got)
	}
	if got := instance(t, s, ins[4].ID); got.Status != kalcifer.InstanceExited {
		t.Fatalf("instance whose customer entered again = %+v", got)
	}
	// Nothing is left to restore, and the migration is no longer work.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		mg, err := tx.Migration("default", m.ID)
		must(t, err)
		if mg.Status != kalcifer.MigrationAborted {
			t.Fatalf("migration = %+v", mg)
		}
		mg.Cursor = ""
		list, err := tx.MovesToRestore(mg, 10)
		must(t, err)
		left, err := tx.RestoreLeft(mg)
		must(t, err)
		if len(list) != 0 || left != 0 {
			t.Fatalf("after the abort: %d to restore, %d left", len(list), left)
		}
		if next, _ := tx.NextMigration(); next != nil {
			t.Fatalf("an aborted migration is still work: %+v", next)
		}
		_, err = tx.Migration("other", m.ID)
		wantCode(t, err, kalcifer.ENOTFOUND)
		return nil
	}))
}

// sameJSON compares JSON by value: PostgreSQL's jsonb does not keep the
// text as written.
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	must(t, json.Unmarshal(a, &x))
	must(t, json.Unmarshal(b, &y))
	return reflect.DeepEqual(x, y)
}

func indexOf(ins []*kalcifer.Instance, id string) int {
	for i, in := range ins {
		if in.ID == id {
			return i
		}
	}
	panic("unknown instance " + id)
}

// testReleaseHeld: instances a migration held are listed for review and
// released onto the new version, or ended, one at a time.
func testReleaseHeld(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j, ins, m := migrating(t, s, 3)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		cands, err := tx.MigrationCandidates(m, 10)
		must(t, err)
		var moves []store.InstanceMove
		for i, in := range cands {
			outcome := kalcifer.MoveHeld
			if i == 2 {
				outcome = kalcifer.MoveMigrated
			}
			moves = append(moves, move(in, outcome, tx.Now()))
		}
		return tx.ApplyMoves(m.ID, moves)
	}))

	page, err := s.HeldInstances(ctx, "default", m.ID, 1, "")
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != ins[0].ID || page.NextCursor == "" || page.Data[0].Status != kalcifer.InstancePaused {
		t.Fatalf("held page 1 = %+v", page)
	}
	page, err = s.HeldInstances(ctx, "default", m.ID, 1, page.NextCursor)
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != ins[1].ID || page.NextCursor != "" {
		t.Fatalf("held page 2 = %+v", page)
	}
	if other, _ := s.HeldInstances(ctx, "other", m.ID, 0, ""); len(other.Data) != 0 {
		t.Fatal("another tenant sees held instances")
	}

	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if mi, err := tx.HeldMove(m.ID, ins[2].ID); err != nil || mi != nil {
			t.Fatalf("a migrated instance is not held: %+v %v", mi, err)
		}
		if mi, err := tx.HeldMove("mig_ghost", ins[0].ID); err != nil || mi != nil {
			t.Fatalf("held by another migration: %+v %v", mi, err)
		}
		mi, err := tx.HeldMove(m.ID, ins[0].ID)
		must(t, err)
		if mi == nil || mi.Outcome != kalcifer.MoveHeld || mi.PriorStatus != kalcifer.InstanceActive ||
			mi.Current.Status != kalcifer.InstancePaused || mi.LockVersion != mi.Current.LockVersion {
			t.Fatalf("held move = %+v", mi)
		}
		// Released onto version 2.
		in := *mi.Current
		in.Status = mi.PriorStatus
		mv := move(&in, kalcifer.MoveMigrated, tx.Now())
		mv.Prior = mi.Current
		must(t, tx.ReleaseHeld(m.ID, mv))
		// The other one ends.
		mi, err = tx.HeldMove(m.ID, ins[1].ID)
		must(t, err)
		mv = move(mi.Current, kalcifer.MoveExited, tx.Now())
		must(t, tx.ReleaseHeld(m.ID, mv))
		return nil
	}))

	got := instance(t, s, ins[0].ID)
	if got.Version != 2 || got.Status != kalcifer.InstanceActive || got.Nodes[0] != "w" {
		t.Fatalf("released instance = %+v", got)
	}
	if kinds, _ := waitRows(t, s, ins[0].ID); len(kinds) != 1 || kinds[0] != "timer" {
		t.Fatalf("released waits = %v", kinds)
	}
	if st := lastStep(t, s, ins[0].ID); st.Result != kalcifer.MoveMigrated || st.Version != 2 {
		t.Fatalf("release step = %+v", st)
	}
	got = instance(t, s, ins[1].ID)
	if got.Status != kalcifer.InstanceExited || got.EndedAt == nil {
		t.Fatalf("released-as-exited instance = %+v", got)
	}
	if !reenters(t, s, j, "c1") {
		t.Fatal("a released exit still holds its customer's place")
	}
	held, err := s.HeldInstances(ctx, "default", m.ID, 0, "")
	must(t, err)
	if len(held.Data) != 0 {
		t.Fatalf("still held after release: %d", len(held.Data))
	}
	// The move records now say what the release did, with the lock version
	// after it: an abort would restore both.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if mi, _ := tx.HeldMove(m.ID, ins[0].ID); mi != nil {
			t.Fatal("a released instance is still held")
		}
		list, err := tx.MovesToRestore(m, 10)
		must(t, err)
		if len(list) != 3 {
			t.Fatalf("moves to restore = %d", len(list))
		}
		for _, mi := range list[:2] {
			want := kalcifer.MoveMigrated
			if mi.Current.ID == ins[1].ID {
				want = kalcifer.MoveExited
			}
			if mi.Outcome != want || mi.LockVersion != mi.Current.LockVersion || mi.PriorStatus != kalcifer.InstanceActive {
				t.Fatalf("record after release = %+v (current lock %d)", mi, mi.Current.LockVersion)
			}
		}
		return nil
	}))
}

// testMigrationControl: ChangeMigration saves what its function decides,
// with an audit row, or nothing when it refuses; migrations list newest
// first.
func testMigrationControl(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j, _, m := migrating(t, s, 1)
	refusal := kalcifer.Errorf(kalcifer.ECONFLICT, "no")
	_, err := s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "pause"}, func(_ *kalcifer.Journey, m *kalcifer.Migration) error {
		m.Status = kalcifer.MigrationPaused
		return refusal
	})
	if err != refusal {
		t.Fatalf("refused change = %v", err)
	}
	if got, _ := s.GetMigration(ctx, "default", m.ID); got.Status != kalcifer.MigrationRunning || got.LockVersion != 1 {
		t.Fatalf("a refused change was saved: %+v", got)
	}
	paused, err := s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "pause"}, func(_ *kalcifer.Journey, m *kalcifer.Migration) error {
		m.Status, m.Reason = kalcifer.MigrationPaused, "by hand"
		return nil
	})
	must(t, err)
	got, err := s.GetMigration(ctx, "default", m.ID)
	must(t, err)
	if paused.Status != kalcifer.MigrationPaused || got.Status != kalcifer.MigrationPaused || got.Reason != "by hand" || got.LockVersion != 2 {
		t.Fatalf("paused = %+v, stored %+v", paused, got)
	}
	if a := auditActions(t, s, "migration", m.ID); len(a) != 1 || a[0] != "migration.pause" {
		t.Fatalf("migration audit = %v", a)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if next, _ := tx.NextMigration(); next != nil {
			t.Fatal("a paused migration is work")
		}
		return nil
	}))
	_, err = s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "rollout"}, func(_ *kalcifer.Journey, m *kalcifer.Migration) error {
		m.Status, m.Config.RolloutPercent = kalcifer.MigrationRunning, 100
		return nil
	})
	must(t, err)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		next, err := tx.NextMigration()
		must(t, err)
		if next == nil || next.ID != m.ID {
			t.Fatalf("a resumed migration is not work: %+v", next)
		}
		return nil
	}))
	_, err = s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: "mig_ghost", Action: "pause"}, func(*kalcifer.Journey, *kalcifer.Migration) error { return nil })
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "other", MigrationID: m.ID, Action: "pause"}, func(*kalcifer.Journey, *kalcifer.Migration) error { return nil })
	wantCode(t, err, kalcifer.ENOTFOUND)

	// Finish it, and publish twice more: three migrations, newest first.
	_, err = s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "finish"}, func(_ *kalcifer.Journey, m *kalcifer.Migration) error {
		now := m.UpdatedAt
		m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
		return nil
	})
	must(t, err)
	ids := []string{m.ID}
	for from := 2; from <= 3; from++ {
		v := newVersion(t, s, j, validGraph())
		next := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: from, ToVersion: v.Version,
			Strategy: kalcifer.StrategyNewEntriesOnly, Actor: actor}
		must(t, s.Publish(ctx, next))
		ids = append(ids, next.ID)
	}
	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("migration paging does not end")
		}
		page, err := s.ListMigrations(ctx, "default", j.ID, 2, cursor)
		must(t, err)
		for _, mg := range page.Data {
			listed = append(listed, mg.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(listed) != 3 || listed[0] != ids[2] || listed[1] != ids[1] || listed[2] != ids[0] {
		t.Fatalf("listed = %v, want %v newest first", listed, ids)
	}
	_, err = s.ListMigrations(ctx, "default", "jrn_ghost", 0, "")
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.ListMigrations(ctx, "other", j.ID, 0, "")
	wantCode(t, err, kalcifer.ENOTFOUND)
}

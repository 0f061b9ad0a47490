package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		// No grace: the suite checks that a replica without its lock is
		// dead; TestReplicaGrace checks the grace.
		b, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.WithReplicaGrace(0))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// Event lanes split the inbox by customer: every event is in exactly one
// lane, and all of a customer's events are in the same one.
func TestEventLanes(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	if _, _, err := s.EnsureTenant(ctx, "test", "default"); err != nil {
		t.Fatal(err)
	}
	var events []*kalcifer.Event
	for i := range 200 {
		events = append(events, &kalcifer.Event{TenantID: "default", CustomerID: fmt.Sprintf("c%d", i%40), Type: "x"})
	}
	if _, err := s.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	laneOf := map[string]int{}
	seen := 0
	for lane := range 4 {
		err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			got, err := tx.UnprocessedEventsOfLane(1000, lane, 4)
			for _, e := range got {
				if l, ok := laneOf[e.CustomerID]; ok && l != lane {
					t.Errorf("customer %s in lanes %d and %d", e.CustomerID, l, lane)
				}
				laneOf[e.CustomerID] = lane
			}
			seen += len(got)
			if len(got) == 0 || len(got) == 200 {
				t.Errorf("lane %d has %d of 200 events", lane, len(got))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen != 200 {
		t.Fatalf("lanes hold %d events, want 200", seen)
	}
}

// Only one transaction at a time holds an event lane, across connections
// (and so across replicas).
func TestLaneLock(t *testing.T) {
	ctx := context.Background()
	s := migratedStore(t)
	err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if ok, err := tx.TryLockLane(3); err != nil || !ok {
			t.Fatalf("first lock: %v %v", ok, err)
		}
		return s.WithEngineTx(ctx, func(other *store.EngineTx) error {
			if ok, err := other.TryLockLane(3); err != nil || ok {
				t.Fatalf("lane 3 taken twice: %v %v", ok, err)
			}
			if ok, err := other.TryLockLane(4); err != nil || !ok {
				t.Fatalf("lane 4: %v %v", ok, err)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Released at commit.
	if err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if ok, err := tx.TryLockLane(3); err != nil || !ok {
			t.Fatalf("lock after commit: %v %v", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// migratedStore is a store over a fresh, migrated database, closed with t.
func migratedStore(t *testing.T) *store.Store {
	t.Helper()
	b, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	t.Cleanup(func() { s.Close() })
	return s
}

// A replica whose liveness lock is free counts as dead only once it has
// stayed free for the grace period: a live replica taking its lock again on
// a new connection (after a database restart) is not taken for dead.
func TestReplicaGrace(t *testing.T) {
	ctx := context.Background()
	b, err := postgres.Open(ctx, pgtest.URL(t), postgres.WithReplicaGrace(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	defer s.Close()
	alive := func(id int64) bool {
		var ok bool
		err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			var err error
			ok, err = tx.ReplicaAlive(id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !alive(7) {
		t.Fatal("a replica first seen without its lock is dead at once")
	}
	// It takes its lock (again) within the grace: alive, and the clock restarts.
	live, stop := context.WithCancel(ctx)
	if err := b.Live(live, 7); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	if !alive(7) {
		t.Fatal("a replica holding its lock is dead")
	}
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for alive(7) {
		if time.Now().After(deadline) {
			t.Fatal("a replica whose lock stayed free past the grace is still alive")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

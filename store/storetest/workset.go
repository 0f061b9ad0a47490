package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testWorkingSet checks that an engine transaction sees its own pending
// writes (store/workset.go): a batch that read its waits and customers
// first, then saved, took and saw within itself, reads what it wrote, and
// the database holds it all after the commit.
func testWorkingSet(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	var in *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		must(t, tx.LoadCustomers("default", []string{"w1", "w2"}))
		must(t, tx.LoadEventWaits("default", []string{"w1", "w2"}, []string{"clicked"}))
		ev, err := tx.EventWaits("default", "w1", "clicked")
		must(t, err)
		if len(ev) != 0 {
			t.Fatalf("waits before any = %+v", ev)
		}
		var ok bool
		if in, ok = newInstance(t, tx, j, "w1", false); !ok {
			t.Fatal("entry refused")
		}
		in.Nodes = []string{"wait_1"}
		must(t, tx.SaveInstance(in, []kalcifer.Step{{Version: 1, NodeID: "wait_1", Type: "wait_for_event", Result: "waiting", At: tx.Now()}},
			map[int]kalcifer.Wait{0: {Kind: kalcifer.WaitEvent, EventType: "clicked"}, 1: {Kind: kalcifer.WaitEvent, EventType: "opened"}}))
		// The second event of the batch sees the wait the first made.
		ev, err = tx.EventWaits("default", "w1", "clicked")
		must(t, err)
		if len(ev) != 1 || ev[0].InstanceID != in.ID || ev[0].PathID != 0 {
			t.Fatalf("waits after the save = %+v", ev)
		}
		if ok, err := tx.TakeWait(in.ID, 0); err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
		if ok, err := tx.TakeWait(in.ID, 0); err != nil || ok {
			t.Fatalf("second take: %v %v", ok, err)
		}
		if ev, _ := tx.EventWaits("default", "w1", "clicked"); len(ev) != 0 {
			t.Fatalf("waits after the take = %+v", ev)
		}
		// Every read of a customer is the transaction's one profile.
		c, err := tx.Customer("default", "w2")
		must(t, err)
		seen := tx.Now().Add(-time.Hour)
		must(t, tx.SeeCustomer("default", c, seen))
		again, err := tx.Customer("default", "w2")
		must(t, err)
		if again.LastSeenAt == nil || !again.LastSeenAt.Equal(seen) {
			t.Fatalf("customer read again = %+v", again)
		}
		// A statement of its own reads the pending writes.
		var waits int
		must(t, tx.Tx().QueryRow(ctx, `SELECT COUNT(*) FROM waits WHERE instance_id = $1`, in.ID).Scan(&waits))
		if waits != 1 {
			t.Fatalf("%d wait rows before the commit, want 1", waits)
		}
		return nil
	}))
	got, err := s.GetInstance(ctx, "default", in.ID)
	must(t, err)
	if got.LockVersion != 2 || len(got.Nodes) != 1 || got.StepCount != 1 {
		t.Fatalf("stored instance = %+v", got)
	}
	c, err := s.GetCustomer(ctx, "default", "w2")
	must(t, err)
	if c.LastSeenAt == nil || c.FirstSeenAt == nil {
		t.Fatalf("stored customer = %+v", c)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		ev, err := tx.EventWaits("default", "w1", "opened")
		must(t, err)
		if len(ev) != 1 || ev[0].PathID != 1 {
			t.Fatalf("stored waits = %+v", ev)
		}
		if ev, _ := tx.EventWaits("default", "w1", "clicked"); len(ev) != 0 {
			t.Fatalf("the taken wait is stored: %+v", ev)
		}
		return nil
	}))
}

package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testEngineCustomers: the engine's customer reads create an empty profile
// on first sight, and profile changes apply in its transaction.
func testEngineCustomers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		c, err := tx.Customer("default", "new")
		must(t, err)
		if c.ID != "new" || len(c.Attributes) != 0 || len(c.Tags) != 0 {
			t.Fatalf("new customer = %+v", c)
		}
		must(t, tx.ApplyProfile("default", c, map[string]any{"plan": "pro"}, []string{"vip"}, nil))
		must(t, tx.ApplyProfile("default", c, map[string]any{"seats": 3.0}, []string{"beta"}, []string{"vip"}))
		again, err := tx.Customer("default", "new")
		must(t, err)
		if again.Attributes["plan"] != "pro" || again.Attributes["seats"] != 3.0 || len(again.Tags) != 1 || again.Tags[0] != "beta" {
			t.Fatalf("customer in the transaction = %+v", again)
		}
		// No change writes nothing.
		must(t, tx.ApplyProfile("default", again, nil, nil, nil))
		return nil
	}))
	got, err := s.GetCustomer(ctx, "default", "new")
	must(t, err)
	if got.Attributes["plan"] != "pro" || len(got.Tags) != 1 || got.Tags[0] != "beta" {
		t.Fatalf("stored customer = %+v", got)
	}
	// A customer only read is stored, with an empty profile.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		_, err := tx.Customer("default", "seen")
		return err
	}))
	seen, err := s.GetCustomer(ctx, "default", "seen")
	must(t, err)
	if len(seen.Attributes) != 0 || len(seen.Tags) != 0 {
		t.Fatalf("customer only read = %+v", seen)
	}
	_, err = s.GetCustomer(ctx, "other", "new")
	wantCode(t, err, kalcifer.ENOTFOUND)
}

// testCustomerInstances: the journeys a customer is in, from the API and
// from the engine's transaction.
func testCustomerInstances(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, b := activeJourney(t, s), activeJourney(t, s)
	var inA, inB *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		inA, _ = newInstance(t, tx, a, "c1", false)
		inB, _ = newInstance(t, tx, b, "c1", false)
		inB.Status = kalcifer.InstancePaused
		must(t, tx.SaveInstance(inB, nil, nil))
		ended, _ := newInstance(t, tx, a, "c1", true)
		ended.Status = kalcifer.InstanceExited
		must(t, tx.SaveInstance(ended, nil, nil))
		newInstance(t, tx, a, "c2", false)
		return nil
	}))
	list, err := s.CustomerInstances(ctx, "default", "c1")
	must(t, err)
	if len(list) != 2 || list[0].ID != inB.ID || list[1].ID != inA.ID || list[0].Status != kalcifer.InstancePaused {
		t.Fatalf("customer instances = %+v, want %s then %s", list, inB.ID, inA.ID)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, err := tx.ActiveInstances("default", "c1")
		must(t, err)
		if len(in) != 2 || in[0].ID != inB.ID || in[1].ID != inA.ID {
			t.Fatalf("active instances in the transaction = %+v", in)
		}
		none, err := tx.ActiveInstances("other", "c1")
		must(t, err)
		if len(none) != 0 {
			t.Fatal("another tenant's customer has our instances")
		}
		return nil
	}))
	if none, _ := s.CustomerInstances(ctx, "default", "nobody"); len(none) != 0 {
		t.Fatalf("unknown customer instances = %d", len(none))
	}
}

// testJourneyIndex: what the engine reads to build its entry index, and the
// value that tells it to rebuild.
func testJourneyIndex(t *testing.T, s *store.Store) {
	ctx := context.Background()
	before, err := s.JourneysChanged(ctx)
	must(t, err)
	active := activeJourney(t, s)
	reentry := newJourney(t, s, "default", "Again", validGraph())
	_, err = s.UpdateJourney(ctx, actor, "default", reentry.ID, kalcifer.JourneyUpdate{Settings: &kalcifer.JourneySettings{AllowReentry: true}})
	must(t, err)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: reentry.ID, Action: kalcifer.ActionActivate})
	must(t, err)
	paused := activeJourney(t, s)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: paused.ID, Action: kalcifer.ActionPause})
	must(t, err)
	draft := newJourney(t, s, "default", "Draft", validGraph())
	newVersion(t, s, draft, waitGraph())

	list, err := s.ActiveJourneys(ctx)
	must(t, err)
	want := map[string]bool{active.ID: false, reentry.ID: true}
	if len(list) != 2 {
		t.Fatalf("active journeys = %+v", list)
	}
	for _, a := range list {
		re, ok := want[a.JourneyID]
		if !ok || a.AllowReentry != re || a.Version != 1 || a.TenantID != "default" {
			t.Fatalf("active journey = %+v", a)
		}
	}
	versions, err := s.AllVersions(ctx)
	must(t, err)
	byJourney := map[string]int{}
	for _, v := range versions {
		byJourney[v.JourneyID]++
	}
	if len(versions) != 4 || byJourney[paused.ID] != 1 || byJourney[draft.ID] != 1 {
		t.Fatalf("all versions = %+v", versions)
	}

	after, err := s.JourneysChanged(ctx)
	must(t, err)
	if after == before {
		t.Fatalf("JourneysChanged did not change: %q", after)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, err := tx.JourneysChanged()
		must(t, err)
		if in != after {
			t.Fatalf("JourneysChanged in a transaction = %q, outside %q", in, after)
		}
		return nil
	}))
	// Any write of a journey changes it, even within one microsecond.
	name := "Renamed"
	_, err = s.UpdateJourney(ctx, actor, "default", draft.ID, kalcifer.JourneyUpdate{Name: &name})
	must(t, err)
	if again, _ := s.JourneysChanged(ctx); again == after {
		t.Fatal("JourneysChanged missed an update")
	}

	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		got, err := tx.Journey("default", active.ID)
		must(t, err)
		if got.ID != active.ID || got.Status != kalcifer.JourneyActive || got.CurrentVersion != 1 {
			t.Fatalf("journey in the transaction = %+v", got)
		}
		_, err = tx.Journey("other", active.ID)
		wantCode(t, err, kalcifer.ENOTFOUND)
		return nil
	}))
}

// testLanes: events split into lanes by customer, each customer's in one
// lane, and a lane's lock held by one transaction at a time. SQLite has one
// writer: one lane, whose lock is always free.
func testLanes(t *testing.T, s *store.Store) {
	ctx := context.Background()
	var evs []*kalcifer.Event
	for i := 0; i < 24; i++ {
		evs = append(evs, &kalcifer.Event{TenantID: "default", CustomerID: fmt.Sprintf("c%d", i%8), Type: "clicked"})
	}
	_, err := s.InsertEvents(ctx, evs)
	must(t, err)
	const lanes = 4
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		ok, err := tx.TryLockLane(1)
		must(t, err)
		if !ok {
			t.Fatal("a free lane's lock was refused")
		}
		one, err := tx.UnprocessedEventsOfLane(100, 0, 1)
		must(t, err)
		if len(one) != len(evs) {
			t.Fatalf("one lane holds %d events, want %d", len(one), len(evs))
		}
		if s.Dialect().CustomerHash == "" {
			if _, err := tx.UnprocessedEventsOfLane(100, 0, lanes); err == nil {
				t.Fatal("lanes above 1 must be refused on a single-writer backend")
			}
			return nil
		}
		laneOf, seen := map[string]int{}, map[string]bool{}
		for lane := 0; lane < lanes; lane++ {
			got, err := tx.UnprocessedEventsOfLane(100, lane, lanes)
			must(t, err)
			for i, e := range got {
				if seen[e.ID] {
					t.Fatalf("event %s in two lanes", e.ID)
				}
				seen[e.ID] = true
				if l, ok := laneOf[e.CustomerID]; ok && l != lane {
					t.Fatalf("customer %s in lanes %d and %d", e.CustomerID, l, lane)
				}
				laneOf[e.CustomerID] = lane
				if i > 0 && got[i-1].ID >= e.ID {
					t.Fatalf("lane %d out of order", lane)
				}
			}
		}
		if len(seen) != len(evs) {
			t.Fatalf("lanes hold %d events, want %d", len(seen), len(evs))
		}
		// Another transaction cannot take lane 1 while this one holds it,
		// but can take another lane.
		for lane, want := range map[int]bool{1: false, 2: true} {
			must(t, s.WithEngineTx(ctx, func(other *store.EngineTx) error {
				ok, err := other.TryLockLane(lane)
				must(t, err)
				if ok != want {
					t.Fatalf("lane %d taken by a second transaction = %v, want %v", lane, ok, want)
				}
				return nil
			}))
		}
		return nil
	}))
	// Released when the holder ends.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if ok, err := tx.TryLockLane(1); err != nil || !ok {
			t.Fatalf("lane 1 after its holder ended: %v %v", ok, err)
		}
		return nil
	}))
}

// testLedgerReads: a send's status, and an instance's sends in order.
func testLedgerReads(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	var in *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, _ = newInstance(t, tx, j, "c1", false)
		return nil
	}))
	// Two sends a second apart (a store on the same backend with a clock of
	// its own): the older one's key sorts last.
	clock := &stepClock{at: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	stepped := store.New(s.Backend(), clock, s.Keyring())
	for _, node := range []string{"b_mail", "a_sms"} {
		clock.at = clock.at.Add(time.Second)
		must(t, stepped.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			_, err := tx.InsertSend(&kalcifer.Send{Key: in.ID + ":" + node + ":1", TenantID: "default", JourneyID: j.ID, Version: 1,
				InstanceID: in.ID, NodeID: node, NodeType: "send_email", CustomerID: "c1", Channel: "email",
				Config: map[string]any{"n": node}, Status: kalcifer.SendPending})
			return err
		}))
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		st, err := tx.SendStatus(in.ID + ":b_mail:1")
		must(t, err)
		if st != kalcifer.SendPending {
			t.Fatalf("status = %s", st)
		}
		ok, err := tx.FinishSend(&kalcifer.Send{Key: in.ID + ":b_mail:1"}, kalcifer.SendFailed, "HTTP 400")
		must(t, err)
		if !ok {
			t.Fatal("finish")
		}
		if st, _ := tx.SendStatus(in.ID + ":b_mail:1"); st != kalcifer.SendFailed {
			t.Fatalf("status after finishing = %s", st)
		}
		_, err = tx.SendStatus("no:such:key")
		wantCode(t, err, kalcifer.ENOTFOUND)
		return nil
	}))
	list, err := s.ListSends(ctx, "default", in.ID)
	must(t, err)
	if len(list) != 2 || list[0].NodeID != "b_mail" || list[1].NodeID != "a_sms" || list[0].Status != kalcifer.SendFailed ||
		list[0].Detail != "HTTP 400" || list[1].Config["n"] != "a_sms" {
		t.Fatalf("sends = %+v", list)
	}
	if other, _ := s.ListSends(ctx, "other", in.ID); len(other) != 0 {
		t.Fatal("another tenant sees our sends")
	}
}

// stepClock is a clock that stands still until the test moves it.
type stepClock struct{ at time.Time }

func (c *stepClock) Now() time.Time { return c.at }

// testInfo: totals for /info, liveness, and the backend's name.
func testInfo(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.Ping(ctx))
	if k := s.Kind(); k != s.Backend().Kind() || (k != "sqlite" && k != "postgres") {
		t.Fatalf("kind = %q", k)
	}
	// A backend's dialect holds together: concurrent writers divide rows
	// with locks, lanes have both a lock and a hash, or neither.
	if d := s.Dialect(); d != s.Backend().Dialect() || d.InsertRows < 1 || d.SingleWriter == (d.SkipLocked != "") ||
		(d.LaneLock == "") != (d.CustomerHash == "") || (d.ForUpdate == "") != (d.ForUpdateOf == "") {
		t.Fatalf("dialect = %+v", d)
	}
	_, err := s.CreateTenant(ctx, actor, "other")
	must(t, err)
	activeJourney(t, s)
	newJourney(t, s, "default", "Draft", validGraph())
	newJourney(t, s, "other", "Theirs", validGraph())
	_, err = s.InsertEvents(ctx, []*kalcifer.Event{{TenantID: "default", CustomerID: "c1", Type: "a"}, {TenantID: "other", CustomerID: "c1", Type: "b"}})
	must(t, err)
	c, err := s.Counts(ctx)
	must(t, err)
	if c != (store.Counts{Tenants: 2, Journeys: 3, ActiveJourneys: 1, PendingEvents: 2}) {
		t.Fatalf("counts = %+v", c)
	}
	// EngineTx.Tx runs statements in the engine's transaction: what it
	// writes commits or rolls back with the rest.
	boom := fmt.Errorf("boom")
	err = s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if _, err := tx.Tx().Exec(ctx, `UPDATE events SET processed_at = $1`, time.Now().UnixMicro()); err != nil {
			return err
		}
		var n int
		must(t, tx.Tx().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE processed_at IS NULL`).Scan(&n))
		if n != 0 {
			t.Fatalf("the transaction does not see its own write: %d pending", n)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("WithEngineTx = %v", err)
	}
	if c, _ = s.Counts(ctx); c.PendingEvents != 2 {
		t.Fatalf("a rolled-back write through Tx() stayed: %+v", c)
	}
}

package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testCustomerMerge: merging a customer into another moves its profile
// (the survivor's values win), events, instances with their waits and
// places in journeys, sends and aliases, and later events for the merged id
// are stored for the survivor.
func testCustomerMerge(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	_, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "anon",
		Set: map[string]any{"plan": "free", "utm": "ad"}, AddTags: []string{"visitor", "vip"}})
	must(t, err)
	_, err = s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "user",
		Set: map[string]any{"plan": "pro"}, AddTags: []string{"vip"}})
	must(t, err)
	// An older alias of anon follows it, and so do its queued change and
	// its segment entry memberships, but for the one user has too.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for _, q := range []string{
			`INSERT INTO customer_aliases (tenant_id, alias_id, customer_id, created_at) VALUES ('default', 'older', 'anon', 0)`,
			`INSERT INTO customer_changes (tenant_id, customer_id) VALUES ('default', 'anon')`,
			`INSERT INTO entry_members (journey_id, node_id, customer_id) VALUES ('` + j.ID + `', 'seg1', 'anon'),
				('` + j.ID + `', 'seg2', 'anon'), ('` + j.ID + `', 'seg1', 'user')`,
		} {
			if _, err := tx.Tx().Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}))
	evs := []*kalcifer.Event{{TenantID: "default", CustomerID: "anon", Type: "viewed"}, {TenantID: "default", CustomerID: "anon", Type: "clicked"}}
	_, err = s.InsertEvents(ctx, evs)
	must(t, err)
	var in *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, _ = newInstance(t, tx, j, "anon", false)
		due := tx.Now().Add(time.Hour)
		must(t, tx.SaveInstance(in, nil, map[int]kalcifer.Wait{1: {Kind: kalcifer.WaitEvent, EventType: "paid", DueAt: &due}}))
		_, err := tx.InsertSend(&kalcifer.Send{Key: in.ID + ":mail:1", TenantID: "default", JourneyID: j.ID, Version: 1,
			InstanceID: in.ID, NodeID: "mail", NodeType: "send_email", CustomerID: "anon", Channel: "email",
			Config: map[string]any{}, Status: kalcifer.SendPending})
		must(t, err)
		return tx.MarkEventProcessed(evs[0].ID)
	}))

	var merged *kalcifer.Customer
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if err := tx.LockCustomerLanes(4, "anon", "user"); err != nil {
			return err
		}
		got, err := tx.InstancesToMerge("default", "anon", "user")
		must(t, err)
		if len(got) != 1 || got[0].ID != in.ID {
			t.Fatalf("instances to merge = %+v", got)
		}
		merged, err = tx.MergeCustomer(store.MergeCustomerParams{TenantID: "default", From: "anon", Into: "user", Actor: actor})
		return err
	}))
	if merged.Attributes["plan"] != "pro" || merged.Attributes["utm"] != "ad" || len(merged.Tags) != 2 {
		t.Fatalf("merged profile = %+v, want plan pro (the survivor's), utm ad, tags vip and visitor", merged)
	}
	stored, err := s.GetCustomer(ctx, "default", "user")
	must(t, err)
	if stored.Attributes["utm"] != "ad" || len(stored.Tags) != 2 {
		t.Fatalf("stored survivor = %+v", stored)
	}
	_, err = s.GetCustomer(ctx, "default", "anon")
	wantCode(t, err, kalcifer.ENOTFOUND)

	list, err := s.CustomerInstances(ctx, "default", "user")
	must(t, err)
	if len(list) != 1 || list[0].ID != in.ID {
		t.Fatalf("survivor's instances = %+v", list)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		// The place in the journey moved: the survivor cannot enter twice.
		again, ok := newInstance(t, tx, j, "user", false)
		if ok {
			t.Fatalf("the survivor entered a journey it holds a place in: %s", again.ID)
		}
		waits, err := tx.EventWaits("default", "user", "paid")
		must(t, err)
		if len(waits) != 1 || waits[0].InstanceID != in.ID {
			t.Fatalf("survivor's waits = %+v", waits)
		}
		n, err := tx.CountSends("default", "user", "email", tx.Now().Add(-time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("survivor's sends = %d, want 1", n)
		}
		inbox, err := tx.UnprocessedEvents(10)
		must(t, err)
		if len(inbox) != 1 || inbox[0].ID != evs[1].ID || inbox[0].CustomerID != "user" {
			t.Fatalf("inbox = %+v", inbox)
		}
		var processed int
		must(t, tx.Tx().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE customer_id = 'user' AND processed_at IS NOT NULL`).Scan(&processed))
		if processed != 1 {
			t.Fatalf("processed events moved = %d, want 1", processed)
		}
		for _, c := range []struct {
			query string
			want  string
		}{
			{`SELECT node_id FROM entry_members WHERE customer_id = 'user' ORDER BY node_id`, "[seg1 seg2]"},
			{`SELECT node_id FROM entry_members WHERE customer_id = 'anon'`, "[]"},
			{`SELECT customer_id FROM customer_changes WHERE customer_id IN ('anon', 'user')`, "[user]"},
		} {
			rows, err := tx.Tx().Query(ctx, c.query)
			must(t, err)
			got := []string{}
			for rows.Next() {
				var v string
				must(t, rows.Scan(&v))
				got = append(got, v)
			}
			rows.Close()
			if fmt.Sprint(got) != c.want {
				t.Errorf("%s: %v, want %s", c.query, got, c.want)
			}
		}
		for _, id := range []string{"anon", "older"} {
			into, err := tx.AliasOf("default", id)
			must(t, err)
			if into != "user" {
				t.Fatalf("alias of %s = %q, want user", id, into)
			}
		}
		return nil
	}))
	aliases, err := s.CustomerAliases(ctx, "default", "user")
	must(t, err)
	if fmt.Sprint(aliases) != "[older anon]" {
		t.Fatalf("aliases = %v", aliases)
	}

	// Later events for either alias are the survivor's; another tenant's
	// customer of the same id is not.
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	later := []*kalcifer.Event{{TenantID: "default", CustomerID: "anon", Type: "paid"}, {TenantID: "default", CustomerID: "older", Type: "paid"},
		{TenantID: "other", CustomerID: "anon", Type: "paid"}}
	_, err = s.InsertEvents(ctx, later)
	must(t, err)
	if later[0].CustomerID != "user" || later[1].CustomerID != "user" || later[2].CustomerID != "anon" {
		t.Fatalf("later events are for %s, %s, %s; want user, user, anon", later[0].CustomerID, later[1].CustomerID, later[2].CustomerID)
	}
	// An identify of an alias (one, or in a batch as the import sends
	// them) changes the survivor; the alias gets no profile of its own.
	c, created, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "anon",
		Attributes: map[string]any{"utm": "mail"}}})
	must(t, err)
	if c.ID != "user" || created || c.Attributes["utm"] != "mail" {
		t.Fatalf("identify of an alias: created %v, %+v", created, c)
	}
	res, err := s.IdentifyCustomers(ctx, "default", []store.Identity{{CustomerID: "older", AddTags: []string{"imported"}}, {CustomerID: "new"}})
	must(t, err)
	if res.Created != 1 || res.Updated != 1 {
		t.Fatalf("import of an alias and a new customer = %+v", res)
	}
	_, err = s.GetCustomer(ctx, "default", "anon")
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.GetCustomer(ctx, "default", "older")
	wantCode(t, err, kalcifer.ENOTFOUND)
	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "customer", ResourceID: "user"})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].Action != "customer.merge" {
		t.Fatalf("audit = %+v", page.Data)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		_, err := tx.MergeCustomer(store.MergeCustomerParams{TenantID: "default", From: "user", Into: "user", Actor: actor})
		wantCode(t, err, kalcifer.EUNPROCESSABLE)
		return nil
	}))
}

// testAliasInbox: an event stored for an id as it was being merged away
// (concurrent transactions on PostgreSQL) is given to the survivor when the
// inbox is read, and routed in the survivor's lane.
func testAliasInbox(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		_, err := tx.MergeCustomer(store.MergeCustomerParams{TenantID: "default", From: "anon", Into: "user", Actor: actor})
		must(t, err)
		// As if stored before the alias was visible to its transaction.
		_, err = tx.Tx().Exec(ctx, `INSERT INTO events (id, tenant_id, customer_id, event_type, data, occurred_at, received_at)
			VALUES ('evt_race', 'default', 'anon', 'clicked', '{}', 1, 1)`)
		return err
	}))
	if s.Dialect().CustomerHash != "" {
		// Several lanes: anon's lane gives it up; it is then in user's lane.
		for lane := range 4 {
			must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				got, err := tx.UnprocessedEventsOfLane(10, lane, 4)
				must(t, err)
				for _, e := range got {
					if e.CustomerID != "user" {
						t.Fatalf("lane %d routes %s for %q", lane, e.ID, e.CustomerID)
					}
				}
				return nil
			}))
		}
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		got, err := tx.UnprocessedEvents(10)
		must(t, err)
		if len(got) != 1 || got[0].ID != "evt_race" || got[0].CustomerID != "user" {
			t.Fatalf("inbox = %+v, want evt_race for user", got)
		}
		return nil
	}))
	var customer string
	must(t, s.Backend().Q().QueryRow(ctx, `SELECT customer_id FROM events WHERE id = 'evt_race'`).Scan(&customer))
	if customer != "user" {
		t.Fatalf("stored event's customer = %q, want user", customer)
	}
}

// testCustomerLanes: LockCustomerLanes holds the lane a customer's events
// are routed in, so a merge falls between two of its event batches.
func testCustomerLanes(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if s.Dialect().CustomerHash == "" {
		must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error { return tx.LockCustomerLanes(4, "c1") }))
		return
	}
	_, err := s.InsertEvents(ctx, []*kalcifer.Event{{TenantID: "default", CustomerID: "c1", Type: "clicked"}})
	must(t, err)
	lane := -1
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for l := range 4 {
			got, err := tx.UnprocessedEventsOfLane(10, l, 4)
			must(t, err)
			if len(got) > 0 {
				lane = l
			}
		}
		return nil
	}))
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		must(t, tx.LockCustomerLanes(4, "c1", "c1"))
		for l := range 4 {
			must(t, s.WithEngineTx(ctx, func(other *store.EngineTx) error {
				ok, err := other.TryLockLane(l)
				must(t, err)
				if ok != (l != lane) {
					t.Fatalf("lane %d free to a worker = %v while c1's lane %d is held", l, ok, lane)
				}
				return nil
			}))
		}
		return nil
	}))
}

package engine_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/store"
)

// Merging an anonymous id into a known customer: the customer keeps its own
// instance of a journey both were in (the anonymous one is exited), takes
// over the anonymous instance of a journey it was not in, and events sent
// later for the anonymous id wake the survivor's waits.
func TestAliasMergesJourneys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		waitPaid := func(entry string) string {
			return e.journey(false, g([]string{
				`in:event_entry:{"event_type":"` + entry + `"}`,
				`w:wait_for_event:{"event_type":"paid","timeout":"3d"}`,
				`x:journey_exit`,
			}, []string{"in->w", "w-event_received->x", "w-timed_out->x"}, ""))
		}
		both, anonOnly := waitPaid("visited"), waitPaid("browsed")
		e.event("anon", "visited", "")
		e.event("anon", "browsed", "")
		e.event("user", "visited", "")
		e.drain()
		anonBoth, userBoth, anonAlone := e.only(both, "anon"), e.only(both, "user"), e.only(anonOnly, "anon")
		if _, err := e.st.PatchCustomer(e.ctx, patch("anon", map[string]any{"plan": "free", "utm": "ad"})); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.PatchCustomer(e.ctx, patch("user", map[string]any{"plan": "pro"})); err != nil {
			t.Fatal(err)
		}

		res, err := e.rt.Alias(e.ctx, kalcifer.DefaultTenantID, "anon", "user", "key:test")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Merged || len(res.ExitedInstances) != 1 || res.ExitedInstances[0] != anonBoth.ID {
			t.Fatalf("alias result = %+v, want %s exited", res, anonBoth.ID)
		}
		if c := res.Customer; c.ID != "user" || c.Attributes["plan"] != "pro" || c.Attributes["utm"] != "ad" {
			t.Fatalf("merged profile = %+v", c)
		}
		in, err := e.st.GetInstance(e.ctx, kalcifer.DefaultTenantID, anonBoth.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, in, kalcifer.InstanceExited)
		// Every instance is the survivor's now; the exited one is history.
		for _, j := range []string{both, anonOnly} {
			for _, in := range e.instances(j) {
				if in.CustomerID != "user" {
					t.Fatalf("instance %s is still %q's", in.ID, in.CustomerID)
				}
			}
		}

		// Later events for the anonymous id are the survivor's.
		e.event("anon", "paid", "")
		e.drain()
		for _, id := range []string{userBoth.ID, anonAlone.ID} {
			in, err := e.st.GetInstance(e.ctx, kalcifer.DefaultTenantID, id)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, in, kalcifer.InstanceExited)
			if got := e.trail(in); got != "in=default w=waiting w=event_received x=exited" {
				t.Fatalf("instance %s: %s", id, got)
			}
		}
		// A journey both ids could enter again is entered once, by user.
		e.event("anon", "visited", "")
		e.drain()
		var active int
		for _, in := range e.instances(both) {
			if in.Status == kalcifer.InstanceActive {
				active++
				if in.CustomerID != "user" {
					t.Fatalf("instance %s is for %q", in.ID, in.CustomerID)
				}
			}
		}
		if active != 1 {
			t.Fatalf("%d active instances of the journey, want 1", active)
		}

		// An SDK's retry changes nothing; a different survivor is refused.
		again, err := e.rt.Alias(e.ctx, kalcifer.DefaultTenantID, "anon", "user", "key:test")
		if err != nil || again.Merged {
			t.Fatalf("repeated alias = %+v, %v; want no change", again, err)
		}
		_, err = e.rt.Alias(e.ctx, kalcifer.DefaultTenantID, "anon", "someone", "key:test")
		if kalcifer.ErrorCode(err) != kalcifer.ECONFLICT {
			t.Fatalf("alias into another customer: %v, want conflict", err)
		}
		_, err = e.rt.Alias(e.ctx, kalcifer.DefaultTenantID, "user", "user", "key:test")
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
			t.Fatalf("alias of a customer to itself: %v, want unprocessable", err)
		}
		// Merging into an alias merges into the customer it stands for.
		e.event("later", "browsed", "")
		e.drain()
		res, err = e.rt.Alias(e.ctx, kalcifer.DefaultTenantID, "later", "anon", "key:test")
		if err != nil || !res.Merged || res.Customer.ID != "user" {
			t.Fatalf("alias into an alias = %+v, %v; want merged into user", res, err)
		}

		// Traits sent for an alias change the survivor.
		c, created, err := e.rt.Identify(e.ctx, kalcifer.DefaultTenantID, store.Identity{CustomerID: "anon",
			Attributes: map[string]any{"email": "u@example.com", "utm": nil}})
		if err != nil || created {
			t.Fatalf("identify of an alias: created %v, %v", created, err)
		}
		if _, ok := c.Attributes["utm"]; c.ID != "user" || c.Attributes["email"] != "u@example.com" || ok {
			t.Fatalf("traits of an alias = %+v", c)
		}
	})
}

func patch(id string, set map[string]any) store.PatchCustomerParams {
	return store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: id, Set: set}
}

// Merges while both customers' events stream in, routed by the background
// workers (four lanes on PostgreSQL): every event ends up routed for the
// survivor, nothing is left for the merged id, and the customer is never in
// the journey twice.
func TestAliasUnderConcurrentEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"visited"}`,
			`w:wait_for_event:{"event_type":"paid","timeout":"3d"}`,
			`x:journey_exit`,
		}, []string{"in->w", "w-event_received->x", "w-timed_out->x"}, ""))
		rt := engine.New(engine.Config{Store: e.st, Clock: e.clock, EventWorkers: 4, PollInterval: 5 * time.Millisecond,
			Providers: channel.NewRegistry(map[string]channel.Provider{"email": logprovider.New(nil)})})
		if err := rt.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
		defer rt.Stop()

		const rounds = 40
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		halfway := make(chan struct{}) // the merge starts as anon's events are half sent
		for _, customer := range []string{"anon", "user"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					typ := []string{"visited", "paid"}[i%2]
					ev := &kalcifer.Event{TenantID: kalcifer.DefaultTenantID, CustomerID: customer, Type: typ, Data: json.RawMessage(`{}`)}
					if _, err := rt.Ingest(e.ctx, []*kalcifer.Event{ev}); err != nil {
						errs <- err
						return
					}
					if customer == "anon" && i == rounds/2 {
						close(halfway)
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-halfway
			for _, prev := range []string{"anon", "anon"} { // the second is an SDK's retry
				for {
					_, err := rt.Alias(e.ctx, kalcifer.DefaultTenantID, prev, "user", "key:test")
					if kalcifer.ErrorCode(err) == kalcifer.ECONFLICT {
						continue // a journey changed under the merge: try again, as a client would
					}
					if err != nil {
						errs <- err
					}
					break
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			n, err := e.st.PendingEvents(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events still unrouted after a minute", n)
			}
		}
		var left, active int
		q := e.st.Backend().Q()
		if err := q.QueryRow(e.ctx, `SELECT COUNT(*) FROM events WHERE customer_id = 'anon'`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Fatalf("%d events left for the merged id", left)
		}
		for _, in := range e.instances(j) {
			if in.CustomerID != "user" {
				t.Fatalf("instance %s is for %q", in.ID, in.CustomerID)
			}
			if in.Status == kalcifer.InstanceActive {
				active++
			}
		}
		if active > 1 {
			t.Fatalf("the survivor is in the journey %d times", active)
		}
		if err := q.QueryRow(e.ctx, `SELECT COUNT(*) FROM active_entries WHERE customer_id = 'anon'`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("places in journeys left for the merged id: %d (%v)", left, err)
		}
	})
}

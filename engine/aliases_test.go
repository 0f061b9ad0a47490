package engine_test

import (
	"testing"

	"github.com/kalcifer/kalcifer"
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
		c, err := e.rt.MergeTraits(e.ctx, kalcifer.DefaultTenantID, "anon", map[string]any{"email": "u@example.com", "utm": nil})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Attributes["utm"]; c.ID != "user" || c.Attributes["email"] != "u@example.com" || ok {
			t.Fatalf("traits of an alias = %+v", c)
		}
	})
}

func patch(id string, set map[string]any) store.PatchCustomerParams {
	return store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: id, Set: set}
}

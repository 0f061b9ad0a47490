package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// activeJourney makes an active journey with a published version 1.
func activeJourney(t *testing.T, s *store.Store) *kalcifer.Journey {
	t.Helper()
	j := newJourney(t, s, "default", "Engine", validGraph())
	j, err := s.TransitionJourney(context.Background(), store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: kalcifer.ActionActivate})
	must(t, err)
	return j
}

func testEvents(t *testing.T, s *store.Store) {
	ctx := context.Background()
	evs := []*kalcifer.Event{
		{TenantID: "default", CustomerID: "c1", Type: "signed_up", ClientID: "abc", Data: json.RawMessage(`{"plan":"pro"}`)},
		{TenantID: "default", CustomerID: "c1", Type: "clicked"},
	}
	dup, err := s.InsertEvents(ctx, evs)
	must(t, err)
	if dup[0] || dup[1] || evs[0].ID == "" {
		t.Fatalf("first insert: dup %v ids %s", dup, evs[0].ID)
	}
	again := []*kalcifer.Event{{TenantID: "default", CustomerID: "c1", Type: "signed_up", ClientID: "abc"}}
	dup, err = s.InsertEvents(ctx, again)
	must(t, err)
	if !dup[0] || again[0].ID != evs[0].ID {
		t.Fatalf("a repeated client id must be recognised: dup %v id %s want %s", dup, again[0].ID, evs[0].ID)
	}
	// Another tenant may use the same client id.
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	dup, err = s.InsertEvents(ctx, []*kalcifer.Event{{TenantID: "other", CustomerID: "c1", Type: "signed_up", ClientID: "abc"}})
	must(t, err)
	if dup[0] {
		t.Fatal("client ids are per tenant")
	}
	n, err := s.PendingEvents(ctx)
	must(t, err)
	if n != 3 {
		t.Fatalf("pending = %d, want 3", n)
	}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		got, err := tx.UnprocessedEvents(10)
		if err != nil {
			return err
		}
		if len(got) != 3 || got[0].ID != evs[0].ID || string(got[0].Data) == "" || got[0].ClientID != "abc" {
			t.Fatalf("inbox = %+v", got)
		}
		return tx.MarkEventProcessed(got[0].ID)
	}))
	n, err = s.PendingEvents(ctx)
	must(t, err)
	if n != 2 {
		t.Fatalf("pending after processing one = %d", n)
	}
}

func testCustomers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.GetCustomer(ctx, "default", "c1")
	wantCode(t, err, kalcifer.ENOTFOUND)
	c, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "c1", Set: map[string]any{"plan": "pro", "age": 41.0}, AddTags: []string{"vip", "beta"}})
	must(t, err)
	if c.Attributes["plan"] != "pro" || len(c.Tags) != 2 {
		t.Fatalf("patched = %+v", c)
	}
	c, err = s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "c1", Set: map[string]any{"plan": nil}, RemoveTags: []string{"beta"}})
	must(t, err)
	got, err := s.GetCustomer(ctx, "default", "c1")
	must(t, err)
	if _, ok := got.Attributes["plan"]; ok || got.Attributes["age"] != 41.0 || len(got.Tags) != 1 || got.Tags[0] != "vip" {
		t.Fatalf("stored = %+v (patched %+v)", got, c)
	}
}

func newInstance(t *testing.T, tx *store.EngineTx, j *kalcifer.Journey, customer string, reentry bool) (*kalcifer.Instance, bool) {
	t.Helper()
	in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1,
		CustomerID: customer, Status: kalcifer.InstanceActive, State: json.RawMessage(`{"paths":[]}`)}
	ok, err := tx.StartInstance(in, reentry)
	if err != nil {
		t.Fatal(err)
	}
	if ok { // the first save stores a started instance
		if err := tx.SaveInstance(in, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return in, ok
}

func testInstances(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	var first *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		var ok bool
		first, ok = newInstance(t, tx, j, "c1", false)
		if !ok {
			t.Fatal("first entry refused")
		}
		if _, ok := newInstance(t, tx, j, "c1", false); ok {
			t.Fatal("a second concurrent entry must be refused without re-entry")
		}
		if _, ok := newInstance(t, tx, j, "c1", true); !ok {
			t.Fatal("re-entry allowed must enter")
		}
		due := tx.Now().Add(-time.Second)
		later := tx.Now().Add(time.Hour)
		first.Nodes = []string{"wait_1", "email_1"}
		return tx.SaveInstance(first, []kalcifer.Step{{Version: 1, NodeID: "entry", Type: "event_entry", Result: "default", At: tx.Now()}},
			map[int]kalcifer.Wait{
				0: {Kind: kalcifer.WaitTimer, DueAt: &due},
				1: {Kind: kalcifer.WaitEvent, EventType: "opened", Filter: map[string]any{"campaign": "w"}, DueAt: &later},
				2: {Kind: kalcifer.WaitSend, SendKey: "k"},
			})
	}))
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		due, err := tx.DueWaits(10)
		must(t, err)
		if len(due) != 1 || due[0].InstanceID != first.ID || due[0].PathID != 0 {
			t.Fatalf("due = %+v", due)
		}
		ev, err := tx.EventWaits("default", "c1", "opened")
		must(t, err)
		if len(ev) != 1 || ev[0].Wait.Filter["campaign"] != "w" || ev[0].Wait.DueAt == nil {
			t.Fatalf("event waits = %+v", ev)
		}
		// Whoever takes a wait owns the wake; the second taker finds nothing.
		if ok, err := tx.TakeWait(first.ID, 0); err != nil || !ok {
			t.Fatalf("take: %v %v", ok, err)
		}
		if ok, err := tx.TakeWait(first.ID, 0); err != nil || ok {
			t.Fatalf("second take: %v %v", ok, err)
		}
		// A stale write of an instance the transaction read is refused at
		// once.
		read, err := tx.Instance(first.ID)
		must(t, err)
		stale := *read
		stale.LockVersion--
		if err := tx.SaveInstance(&stale, nil, nil); err != store.ErrConflict {
			t.Fatalf("stale save = %v", err)
		}
		return nil
	}))
	// One it did not read is refused when its writes are flushed: the
	// transaction fails whole.
	stale := *first
	stale.LockVersion--
	if err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		return tx.SaveInstance(&stale, nil, nil)
	}); err != store.ErrConflict {
		t.Fatalf("stale save of an instance not read = %v", err)
	}
	page, err := s.ListInstances(ctx, store.InstanceFilter{TenantID: "default", JourneyID: j.ID, NodeID: "wait_1"})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != first.ID || len(page.Data[0].Nodes) != 2 {
		t.Fatalf("node filter = %+v", page.Data)
	}
	page, err = s.ListInstances(ctx, store.InstanceFilter{TenantID: "default", JourneyID: j.ID, Version: 2})
	must(t, err)
	if len(page.Data) != 0 {
		t.Fatal("version filter")
	}
	counts, err := s.CountByVersion(ctx, "default", j.ID)
	must(t, err)
	if counts[1] != 2 {
		t.Fatalf("by version = %v", counts)
	}
	steps, err := s.InstanceSteps(ctx, first.ID)
	must(t, err)
	if len(steps) != 1 || steps[0].Seq != 1 || steps[0].NodeID != "entry" {
		t.Fatalf("steps = %+v", steps)
	}
	_, err = s.GetInstance(ctx, "other-tenant", first.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)

	// Ending the instance frees the customer to enter again.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, err := tx.Instance(first.ID)
		must(t, err)
		in.Status = kalcifer.InstanceCompleted
		must(t, tx.SaveInstance(in, nil, nil))
		if _, ok := newInstance(t, tx, j, "c1", false); !ok {
			t.Fatal("entry after the earlier instance ended was refused")
		}
		return nil
	}))
	next, ok, err := s.NextDue(ctx)
	must(t, err)
	if ok && next.IsZero() {
		t.Fatal("next due")
	}
}

func testSends(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, _ := newInstance(t, tx, j, "c9", true)
		send := &kalcifer.Send{Key: in.ID + ":email_1:1", TenantID: "default", JourneyID: j.ID, Version: 1, InstanceID: in.ID,
			NodeID: "email_1", NodeType: "send_email", CustomerID: "c9", Channel: "email",
			Config: map[string]any{"template_id": "w"}, Status: kalcifer.SendPending, Target: "mail.example.com"}
		ok, err := tx.InsertSend(send)
		must(t, err)
		again, err := tx.InsertSend(send)
		must(t, err)
		if !ok || again {
			t.Fatalf("ledger rows are unique by key: first %v, second %v", ok, again)
		}
		n, err := tx.CountSends("default", "c9", "email", tx.Now().Add(-time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("pending sends count toward caps: %d", n)
		}
		if n, _ := tx.CountSends("default", "c9", "sms", tx.Now().Add(-time.Hour)); n != 0 {
			t.Fatalf("other channel counted: %d", n)
		}
		if n, _ := tx.CountSends("default", "c9", "any", tx.Now().Add(-time.Hour)); n != 1 {
			t.Fatalf("any channel: %d", n)
		}
		must(t, tx.SaveCustomer("default", &kalcifer.Customer{ID: "c9", Attributes: map[string]any{"plan": "pro"}, Tags: []string{}}))
		due, err := tx.DueSends(store.DueParams{Limit: 10})
		must(t, err)
		if len(due) != 1 || due[0].Send.Key != send.Key || due[0].InstanceStatus != kalcifer.InstanceActive || due[0].Customer == nil ||
			due[0].Customer.ID != "c9" || due[0].Customer.Attributes["plan"] != "pro" || due[0].Send.Config["template_id"] != "w" {
			t.Fatalf("due = %+v", due)
		}
		if skip, _ := tx.DueSends(store.DueParams{Limit: 10, SkipTenants: []string{"default"}}); len(skip) != 0 {
			t.Fatal("a skipped tenant's send was due")
		}
		if skip, _ := tx.DueSends(store.DueParams{Limit: 10, SkipTargets: []string{"elsewhere", due[0].Send.Target}}); len(skip) != 0 {
			t.Fatal("a skipped target's send was due")
		}
		must(t, tx.MarkSending([]*kalcifer.Send{due[0].Send}, 7))
		if due[0].Send.Status != kalcifer.SendSending || due[0].Send.Attempts != 1 {
			t.Fatalf("marked = %+v", due[0].Send)
		}
		if again, _ := tx.DueSends(store.DueParams{Limit: 10}); len(again) != 0 {
			t.Fatal("a send in flight was due again")
		}
		if err := tx.MarkSending([]*kalcifer.Send{due[0].Send}, 7); err == nil {
			t.Fatal("a send in flight was marked sending twice")
		}
		if ids, _ := tx.InFlightReplicas(7); len(ids) != 0 {
			t.Fatalf("own replica listed: %v", ids)
		}
		ids, err := tx.InFlightReplicas(8)
		must(t, err)
		if len(ids) != 1 || ids[0] != 7 {
			t.Fatalf("replicas in flight = %v", ids)
		}
		if stranded, _ := tx.StrandedSends(nil, tx.Now().Add(-time.Minute), 10); len(stranded) != 0 {
			t.Fatal("a send within its lease of a live replica is not stranded")
		}
		if stranded, _ := tx.StrandedSends([]int64{7}, tx.Now().Add(-time.Minute), 10); len(stranded) != 1 {
			t.Fatal("a dead replica's send is stranded")
		}
		stale, err := tx.StrandedSends(nil, tx.Now().Add(time.Second), 10)
		must(t, err)
		if len(stale) != 1 {
			t.Fatalf("sends past their lease = %d", len(stale))
		}
		// A retry returns it to the outbox, due later.
		must(t, tx.RetrySend(send.Key, "HTTP 503", tx.Now().Add(time.Minute)))
		if early, _ := tx.DueSends(store.DueParams{Limit: 10}); len(early) != 0 {
			t.Fatal("a retry was claimed before its time")
		}
		must(t, tx.RetrySend(send.Key, "", tx.Now())) // not in flight: no effect
		ok, err = tx.FinishSend(send, kalcifer.SendSent, "HTTP 200")
		must(t, err)
		if !ok {
			t.Fatal("finish pending send")
		}
		if ok, _ := tx.FinishSend(send, kalcifer.SendAmbiguous, "late"); ok {
			t.Fatal("a final send was finished twice")
		}
		got, err := tx.Send(send.Key)
		must(t, err)
		if got.Status != kalcifer.SendSent || got.Attempts != 1 || got.CompletedAt == nil || got.Config["template_id"] != "w" ||
			got.Target != "mail.example.com" {
			t.Fatalf("send = %+v", got)
		}
		return nil
	}))
}

// testReplicas checks liveness: a replica is alive while it holds Live,
// and not after.
func testReplicas(t *testing.T, s *store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, s.Backend().Live(ctx, 41))
	alive := func(id int64) bool {
		var ok bool
		must(t, s.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
			var err error
			ok, err = tx.ReplicaAlive(id)
			return err
		}))
		return ok
	}
	if !alive(41) {
		t.Fatal("a live replica is not alive")
	}
	if alive(42) || alive(0) {
		t.Fatal("an unknown replica is alive")
	}
}

func testWebhookSecret(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, err := s.WebhookSecret(ctx, "default")
	must(t, err)
	b, err := s.WebhookSecret(ctx, "default")
	must(t, err)
	if len(a) < 32 || string(a) != string(b) {
		t.Fatalf("secret must be made once and kept: %q %q", a, b)
	}
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	c, err := s.WebhookSecret(ctx, "other")
	must(t, err)
	if string(c) == string(a) {
		t.Fatal("each tenant has its own secret")
	}
}

package notify_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/notify"
	"github.com/kalcifer/kalcifer/store"
)

// TestEveryEventDeliveredOnce drives real journeys, a migration and an
// alert, and checks that a subscription to every event type receives each
// once, signed, with seed §3.3's payload and an id.
func TestEveryEventDeliveredOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := newReceiver(t)
		sub := e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookEventTypes...)
		refuses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
		t.Cleanup(refuses.Close)

		// entered, message.failed (the webhook refuses), goal reached, exited.
		j := e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`,
			`hook:call_webhook:{"url":"` + refuses.URL + `"}`, `goal:goal_reached:{"goal_name":"paid"}`, `x:journey_exit`},
			[]string{"in->hook", "hook->goal", "goal->x"})
		// instance.failed: the condition cannot be evaluated for this customer.
		broken := e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"boom"}`,
			`c:condition:{"expression":"customer.attributes.missing.deeper > 1"}`, `t:journey_exit`, `f:journey_exit`},
			[]string{"in->c", "c-true->t", "c-false->f"})
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.event(kalcifer.DefaultTenantID, "c2", "boom")
		e.drain()

		// An alert on the journey's failed sends fires.
		rule := &kalcifer.AlertRule{TenantID: kalcifer.DefaultTenantID, Name: "webhook failures", Kind: kalcifer.AlertFailureRate,
			JourneyID: j, Threshold: 0.5, MinCount: 1, Active: true}
		if err := e.st.CreateAlertRule(e.ctx, "test", rule); err != nil {
			t.Fatal(err)
		}
		if n, err := e.alerts.Evaluate(e.ctx); err != nil || n != 1 {
			t.Fatalf("evaluate: %d changes, %v", n, err)
		}

		// A migration pauses, then completes.
		plan := e.publish(j, kalcifer.PublishRequest{Strategy: kalcifer.StrategyMigrateAll})
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
			MigrationID: plan.Migration.ID, Action: "pause"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.ControlMigration(e.ctx, store.ControlMigrationParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
			MigrationID: plan.Migration.ID, Action: "resume"}); err != nil {
			t.Fatal(err)
		}
		e.drain()

		// The alert resolves once its window has passed.
		e.clock.advance(2 * time.Hour)
		if n, err := e.alerts.Evaluate(e.ctx); err != nil || n != 1 {
			t.Fatalf("evaluate: %d changes, %v", n, err)
		}

		for e.deliver() > 0 {
		}
		hits := r.hits()
		var types []string
		for _, h := range hits {
			types = append(types, h.eventType)
			if !h.validSig {
				t.Errorf("%s: the signature does not verify", h.eventType)
			}
			if h.event.ID == "" || h.event.ID != h.eventID || h.event.Type != h.eventType || h.delivery == "" {
				t.Errorf("%s: id %q (header %q), type %q, delivery %q", h.eventType, h.event.ID, h.eventID, h.event.Type, h.delivery)
			}
			for _, field := range []string{"id", "event_type", "journey_id", "instance_id", "customer_id", "node_id", "data", "timestamp"} {
				if _, ok := h.raw[field]; !ok {
					t.Errorf("%s: the payload has no %q: %v", h.eventType, field, h.raw)
				}
			}
			if !h.event.Timestamp.Equal(start) && !h.event.Timestamp.Equal(start.Add(2*time.Hour)) {
				t.Errorf("%s: timestamp %v", h.eventType, h.event.Timestamp)
			}
		}
		slices.Sort(types)
		want := append(slices.Clone(kalcifer.HookEventTypes), kalcifer.HookCustomerEntered) // c2 entered the broken journey
		slices.Sort(want)
		if !slices.Equal(types, want) {
			t.Fatalf("delivered %v\nwant       %v", types, want)
		}
		byType := map[string]hit{}
		for _, h := range hits {
			if h.eventType != kalcifer.HookCustomerEntered || h.event.JourneyID == j {
				byType[h.eventType] = h
			}
		}
		for typ, want := range map[string]struct{ journey, customer, node string }{
			kalcifer.HookCustomerEntered:     {j, "c1", "in"},
			kalcifer.HookMessageFailed:       {j, "c1", "hook"},
			kalcifer.HookCustomerGoalReached: {j, "c1", "goal"},
			kalcifer.HookCustomerExited:      {j, "c1", "x"},
			kalcifer.HookInstanceFailed:      {broken, "c2", "c"},
			kalcifer.HookMigrationCompleted:  {j, "", ""},
			kalcifer.HookAlertFired:          {j, "", ""},
		} {
			got := byType[typ].event
			if got.JourneyID != want.journey || got.CustomerID != want.customer || got.NodeID != want.node {
				t.Errorf("%s: journey %q customer %q node %q, want %+v", typ, got.JourneyID, got.CustomerID, got.NodeID, want)
			}
		}
		if d := byType[kalcifer.HookMessageFailed].event.Data; d["channel"] != "webhook" {
			t.Errorf("message.failed data: %v", d)
		}
		if d := byType[kalcifer.HookMigrationPaused].event.Data; d["migration_id"] != plan.Migration.ID || d["status"] != "paused" {
			t.Errorf("migration.paused data: %v", d)
		}
		fired, resolved := byType[kalcifer.HookAlertFired].event.Data, byType[kalcifer.HookAlertResolved].event.Data
		if fired["rule_id"] != rule.ID || fired["alert_id"] == nil || fired["alert_id"] != resolved["alert_id"] || resolved["status"] != "resolved" {
			t.Errorf("alert data: fired %v, resolved %v", fired, resolved)
		}
		for _, d := range e.deliveries(kalcifer.DefaultTenantID, sub.ID) {
			if d.Status != kalcifer.HookDelivered || d.Attempts != 1 || d.ResponseCode != 200 || d.DeliveredAt == nil {
				t.Errorf("delivery log: %+v", d)
			}
		}
	})
}

// publish makes a new version of journey j (an exit right after entry) and
// publishes it.
func (e *env) publish(j string, req kalcifer.PublishRequest) *kalcifer.PublishPlan {
	e.t.Helper()
	var gr = mustGraph(e.t, g([]string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"}))
	v, err := e.st.CreateVersion(e.ctx, store.CreateVersionParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: j, Graph: gr, Changelog: "v2"})
	if err != nil {
		e.t.Fatalf("create version: %v", err)
	}
	plan, err := e.rt.Publish(e.ctx, store.PublishParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: j,
		Version: v.Version, Request: req})
	if err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	return plan
}

// TestNoSubscriptionNoOutbox: a tenant without subscriptions, or with
// subscriptions to other events or journeys, writes no delivery.
func TestNoSubscriptionNoOutbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		other := e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"other"}`, `x:journey_exit`}, []string{"in->x"})
		r := newReceiver(t)
		e.subscribe(kalcifer.DefaultTenantID, r, other, kalcifer.HookCustomerEntered)
		e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookInstanceFailed)
		j := e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"})
		_ = j
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.drain()
		if n := e.outbox(); n != 0 {
			t.Fatalf("%d deliveries written for events nobody subscribed to", n)
		}
		e.event(kalcifer.DefaultTenantID, "c1", "other")
		e.drain()
		if n := e.outbox(); n != 1 {
			t.Fatalf("%d deliveries written, want the one customer.entered of the subscribed journey", n)
		}
	})
}

// TestTenantIsolation: each tenant's subscriptions hear only its own
// events.
func TestTenantIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mine, theirs := newReceiver(t), newReceiver(t)
		e.subscribe(kalcifer.DefaultTenantID, mine, "", kalcifer.HookCustomerEntered)
		e.subscribe("other", theirs, "", kalcifer.HookCustomerEntered)
		nodes, edges := []string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"}
		e.journey(kalcifer.DefaultTenantID, nodes, edges)
		e.journey("other", nodes, edges)
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.event(kalcifer.DefaultTenantID, "c2", "signed_up")
		e.event("other", "c9", "signed_up")
		e.drain()
		for e.deliver() > 0 {
		}
		var got []string
		for _, h := range mine.hits() {
			got = append(got, h.event.CustomerID)
		}
		slices.Sort(got)
		if strings.Join(got, ",") != "c1,c2" {
			t.Errorf("the default tenant's receiver got %v", got)
		}
		if h := theirs.hits(); len(h) != 1 || h[0].event.CustomerID != "c9" || !h[0].validSig {
			t.Errorf("the other tenant's receiver got %+v", h)
		}
	})
}

// TestRetriesThenSuccess: a 500 and a 429 with Retry-After are retried, the
// second no sooner than the receiver asked, with the same event id.
func TestRetriesThenSuccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := newReceiver(t)
		sub := e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookCustomerEntered)
		e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"})
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.drain()
		r.answer(answer{status: 500}, answer{status: 429, retryAfter: "600"})

		if n := e.deliver(); n != 1 {
			t.Fatalf("first pass claimed %d", n)
		}
		d := e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]
		if d.Status != kalcifer.HookPending || d.Attempts != 1 || d.ResponseCode != 500 || d.NextAttemptAt == nil ||
			d.NextAttemptAt.Before(start.Add(5*time.Second)) || d.NextAttemptAt.After(start.Add(10*time.Second)) {
			t.Fatalf("after a 500: %+v", d)
		}
		if n := e.deliver(); n != 0 {
			t.Fatalf("a delivery was retried before its time")
		}
		e.clock.advance(10 * time.Second)
		if n := e.deliver(); n != 1 {
			t.Fatalf("second pass claimed %d", n)
		}
		d = e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]
		if d.Status != kalcifer.HookPending || d.Attempts != 2 || d.ResponseCode != 429 || !d.NextAttemptAt.Equal(start.Add(610*time.Second)) {
			t.Fatalf("after a 429 asking for 600 s: %+v", d)
		}
		e.clock.advance(599 * time.Second)
		if n := e.deliver(); n != 0 {
			t.Fatalf("Retry-After was not honoured")
		}
		e.clock.advance(time.Second)
		if n := e.deliver(); n != 1 {
			t.Fatalf("third pass claimed %d", n)
		}
		d = e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]
		if d.Status != kalcifer.HookDelivered || d.Attempts != 3 || d.ResponseCode != 200 || d.LastError != "" {
			t.Fatalf("after a 200: %+v", d)
		}
		hits := r.hits()
		if len(hits) != 3 || hits[0].event.ID != hits[2].event.ID || hits[0].delivery != hits[2].delivery {
			t.Fatalf("attempts carry different ids: %+v", hits)
		}
	})
}

// TestGiveUpAndRedeliver: a delivery the receiver keeps refusing is given
// up after MaxAttempts; a 400 is given up at once; redelivery sends the
// same event again as a new delivery of the log.
func TestGiveUpAndRedeliver(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.d = e.deliverer(notify.Config{MaxAttempts: 3})
		r := newReceiver(t)
		sub := e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookCustomerEntered)
		e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"})
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.drain()
		r.answer(answer{status: 503}, answer{status: 502}, answer{status: 500})
		for range 3 {
			if n := e.deliver(); n != 1 {
				t.Fatalf("a pass claimed %d", n)
			}
			e.clock.advance(time.Hour)
		}
		if n := e.deliver(); n != 0 {
			t.Fatalf("a given-up delivery was tried again")
		}
		log := e.deliveries(kalcifer.DefaultTenantID, sub.ID)
		if len(log) != 1 || log[0].Status != kalcifer.HookFailed || log[0].Attempts != 3 || log[0].ResponseCode != 500 ||
			!strings.Contains(log[0].LastError, "gave up after 3 attempts") {
			t.Fatalf("after three 5xx: %+v", log)
		}

		again, err := e.st.RedeliverHook(e.ctx, "test", kalcifer.DefaultTenantID, sub.ID, log[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.deliver(); n != 1 {
			t.Fatalf("the redelivery was not claimed")
		}
		log = e.deliveries(kalcifer.DefaultTenantID, sub.ID)
		if len(log) != 2 || log[0].ID != again.ID || log[0].Status != kalcifer.HookDelivered || log[0].RedeliveryOf != log[1].ID ||
			log[0].EventID != log[1].EventID || log[1].Status != kalcifer.HookFailed {
			t.Fatalf("after redelivery: %+v", log)
		}
		hits := r.hits()
		if len(hits) != 4 || hits[3].event.ID != hits[0].event.ID || !hits[3].validSig {
			t.Fatalf("the redelivery is not the same event: %+v", hits)
		}

		// A 400 is not retried.
		e.event(kalcifer.DefaultTenantID, "c2", "signed_up")
		e.drain()
		r.answer(answer{status: 400})
		e.deliver()
		if d := e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]; d.Status != kalcifer.HookFailed || d.Attempts != 1 || d.ResponseCode != 400 {
			t.Fatalf("after a 400: %+v", d)
		}

		// Another tenant cannot redeliver it.
		if _, err := e.st.RedeliverHook(e.ctx, "test", "other", sub.ID, log[0].ID); kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
			t.Fatalf("another tenant's redelivery: %v", err)
		}
	})
}

// TestCrashBetweenClaimAndRecord: a delivery loop stopped while its request
// is in flight records nothing; after the lease, a new loop delivers the
// delivery again (same event id), and a claim never recorded is taken
// again too. Nothing is lost.
func TestCrashBetweenClaimAndRecord(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := newReceiver(t)
		sub := e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookCustomerEntered)
		e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`, `x:journey_exit`}, []string{"in->x"})
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.drain()

		// The first loop is stopped while the receiver holds its request.
		r.mu.Lock()
		r.hangOnce, r.arrived = make(chan struct{}), make(chan struct{}, 10)
		arrived := r.arrived
		r.mu.Unlock()
		first := e.deliverer(notify.Config{Poll: time.Millisecond})
		if err := first.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
		<-arrived
		first.Stop()
		if d := e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]; d.Status != kalcifer.HookDelivering || d.Attempts != 1 {
			t.Fatalf("after the crash: %+v", d)
		}

		// A new loop leaves it alone while the lease runs, then delivers it.
		second := e.deliverer(notify.Config{})
		if n, err := second.DeliverDue(e.ctx); err != nil || n != 0 {
			t.Fatalf("a leased delivery was taken: %d, %v", n, err)
		}
		e.clock.advance(time.Minute + 41*time.Second)
		if n, err := second.DeliverDue(e.ctx); err != nil || n != 1 {
			t.Fatalf("the stranded delivery was not taken again: %d, %v", n, err)
		}
		d := e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]
		if d.Status != kalcifer.HookDelivered || d.Attempts != 2 {
			t.Fatalf("after the restart: %+v", d)
		}
		hits := r.hits()
		if len(hits) != 2 || hits[0].event.ID != hits[1].event.ID {
			t.Fatalf("the receiver got %+v", hits)
		}

		// A claim that was never recorded (the process died right after it).
		e.event(kalcifer.DefaultTenantID, "c2", "signed_up")
		e.drain()
		claimed, err := e.st.ClaimHookDeliveries(e.ctx, 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		e.clock.advance(time.Minute)
		if n, err := second.DeliverDue(e.ctx); err != nil || n != 1 {
			t.Fatalf("the claimed delivery was not taken again: %d, %v", n, err)
		}
		// The dead worker's late record is ignored: the newer claim owns the row.
		if err := e.st.RecordHookDelivery(e.ctx, &claimed[0], store.HookResult{Status: kalcifer.HookFailed, Error: "late"}); err != nil {
			t.Fatal(err)
		}
		if d := e.deliveries(kalcifer.DefaultTenantID, sub.ID)[0]; d.Status != kalcifer.HookDelivered || d.Attempts != 2 {
			t.Fatalf("after the late record: %+v", d)
		}
		if got := len(r.hits()); got != 3 {
			t.Fatalf("the receiver got %d requests, want 3", got)
		}
	})
}

// TestAlertEpisode: a stuck rule fires once while customers stay stuck,
// resolves when they move on, and fires again for a new episode; each
// change is delivered as a webhook once.
func TestAlertEpisode(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := newReceiver(t)
		e.subscribe(kalcifer.DefaultTenantID, r, "", kalcifer.HookAlertFired, kalcifer.HookAlertResolved)
		j := e.journey(kalcifer.DefaultTenantID, []string{`in:event_entry:{"event_type":"signed_up"}`, `w:wait:{"duration":"1d"}`, `x:journey_exit`},
			[]string{"in->w", "w->x"})
		rule := &kalcifer.AlertRule{TenantID: kalcifer.DefaultTenantID, Name: "stuck at the wait", Kind: kalcifer.AlertStuck,
			JourneyID: j, NodeID: "w", StuckFor: "2h", Active: true}
		if err := e.st.CreateAlertRule(e.ctx, "test", rule); err != nil {
			t.Fatal(err)
		}
		evaluate := func(want int) {
			t.Helper()
			if n, err := e.alerts.Evaluate(e.ctx); err != nil || n != want {
				t.Fatalf("evaluate: %d changes (%v), want %d", n, err, want)
			}
		}
		e.event(kalcifer.DefaultTenantID, "c1", "signed_up")
		e.drain()
		evaluate(0)
		e.clock.advance(3 * time.Hour)
		evaluate(1)
		e.clock.advance(time.Hour)
		evaluate(0) // still the same episode
		e.clock.advance(21 * time.Hour)
		e.drain() // the wait ends
		evaluate(1)
		evaluate(0)
		e.event(kalcifer.DefaultTenantID, "c2", "signed_up")
		e.drain()
		e.clock.advance(3 * time.Hour)
		evaluate(1)

		page, err := e.st.ListAlerts(e.ctx, kalcifer.DefaultTenantID, "", "", 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != 2 || page.Data[0].Status != kalcifer.AlertFiring || page.Data[1].Status != kalcifer.AlertResolved ||
			page.Data[1].Value != 1 || page.Data[1].ResolvedAt == nil {
			t.Fatalf("alerts: %+v", page.Data)
		}
		for e.deliver() > 0 {
		}
		hits := r.hits() // sent concurrently: in the order they happened
		slices.SortFunc(hits, func(a, b hit) int { return a.event.Timestamp.Compare(b.event.Timestamp) })
		var types []string
		for _, h := range hits {
			types = append(types, h.eventType)
		}
		if strings.Join(types, " ") != "alert.fired alert.resolved alert.fired" {
			t.Fatalf("webhooks: %v", types)
		}
	})
}

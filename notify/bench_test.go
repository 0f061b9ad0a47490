package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/notify"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

func benchStore(b *testing.B) *store.Store {
	ctx := context.Background()
	be, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := be.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	st := store.New(be, kalcifer.SystemClock{}, secrets.Generate())
	b.Cleanup(func() { st.Close() })
	if _, _, err := st.EnsureTenant(ctx, "test", kalcifer.DefaultTenantID); err != nil {
		b.Fatal(err)
	}
	if err := st.LoadHookSubscriptions(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

// written is what a transaction of 100 new instances, each with two
// steps, hands its observers.
func written() *store.Written {
	w := &store.Written{At: time.Now()}
	for i := range 100 {
		w.Instances = append(w.Instances, store.SavedInstance{ID: fmt.Sprint("ins_", i), TenantID: kalcifer.DefaultTenantID,
			JourneyID: "jrn_1", CustomerID: fmt.Sprint("c", i), Created: true, Status: kalcifer.InstanceActive,
			Steps: []kalcifer.Step{{NodeID: "in", Type: "event_entry"}, {NodeID: "w", Type: "wait"}}})
	}
	return w
}

// BenchmarkObserverNoSubscription is what the observer costs a 100-instance
// engine transaction of a tenant without subscriptions.
func BenchmarkObserverNoSubscription(b *testing.B) {
	o := notify.NewObserver(benchStore(b), nil)
	w := written()
	b.ReportAllocs()
	for b.Loop() {
		if len(o.Events(w)) != 0 {
			b.Fatal("events without a subscription")
		}
	}
}

// BenchmarkDeliver is deliveries per second to a local receiver that
// answers 204, on SQLite: each op enqueues and delivers 100.
func BenchmarkDeliver(b *testing.B) {
	st := benchStore(b)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(rcv.Close)
	ctx := context.Background()
	if _, err := st.CreateHookSubscription(ctx, "test", &kalcifer.WebhookSubscription{TenantID: kalcifer.DefaultTenantID,
		URL: rcv.URL, Events: []string{kalcifer.HookCustomerEntered}, Active: true}); err != nil {
		b.Fatal(err)
	}
	d := notify.NewDeliverer(notify.Config{Store: st, Client: client})
	events := make([]kalcifer.HookEvent, 100)
	for b.Loop() {
		for i := range events {
			events[i] = kalcifer.HookEvent{Type: kalcifer.HookCustomerEntered, TenantID: kalcifer.DefaultTenantID, JourneyID: "jrn_1", CustomerID: "c"}
		}
		if err := st.WithEngineTx(ctx, func(tx *store.EngineTx) error { return tx.EnqueueHooks(events) }); err != nil {
			b.Fatal(err)
		}
		for done := 0; done < len(events); {
			n, err := d.DeliverDue(ctx)
			if err != nil {
				b.Fatal(err)
			}
			done += n
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "deliveries/s")
}

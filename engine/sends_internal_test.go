package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// countingProvider counts its calls.
type countingProvider struct{ calls atomic.Int32 }

func (p *countingProvider) Name() string { return "counting" }

func (p *countingProvider) Send(context.Context, channel.Message) (channel.Result, error) {
	p.calls.Add(1)
	return channel.Result{Detail: "ok"}, nil
}

// A call begins only once its in-flight mark has committed: when that
// transaction fails, nothing is called, no slot stays taken, and the send
// stays pending, to be delivered once by a later cycle.
func TestNoCallWhenItsMarkFails(t *testing.T) {
	ctx := context.Background()
	st, b := openStore(t)
	p := &countingProvider{}
	rt := New(Config{Store: st, Providers: channel.NewRegistry(map[string]channel.Provider{"email": p})})
	defer rt.Stop()
	activate(t, st, `{"nodes":[{"id":"in","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"go"}},
		{"id":"mail","type":"send_email","position":{"x":0,"y":0},"config":{"subject":"Hi","text":"Hi","to":"a@example.com"}}],
		"edges":[{"id":"e1","source":"in","target":"mail"}]}`)
	if _, err := rt.Ingest(ctx, []*kalcifer.Event{{TenantID: kalcifer.DefaultTenantID, CustomerID: "c", Type: "go"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ProcessEvents(ctx); err != nil {
		t.Fatal(err)
	}
	// The in-flight mark fails (a real database error, from a trigger).
	if _, err := b.Q().Exec(ctx, `CREATE TRIGGER no_marks BEFORE UPDATE ON sends WHEN NEW.status = 'sending'
		BEGIN SELECT RAISE(ABORT, 'mark refused'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.DeliverSends(ctx); err == nil {
		t.Fatal("the cycle whose mark failed reported no error")
	}
	if n := p.calls.Load(); n != 0 || rt.send.inFlight != 0 {
		t.Fatalf("%d calls and %d slots taken after the mark failed; want none", n, rt.send.inFlight)
	}
	if _, err := b.Q().Exec(ctx, `DROP TRIGGER no_marks`); err != nil {
		t.Fatal(err)
	}
	if n, err := rt.DeliverSends(ctx); err != nil || n != 1 {
		t.Fatalf("second cycle: %d, %v", n, err)
	}
	if n := p.calls.Load(); n != 1 {
		t.Fatalf("called %d times, want once", n)
	}
}

package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// stagedProvider takes effect only when its call is let through.
type stagedProvider struct {
	delivered, abandoned atomic.Int32
	started              chan struct{}
}

func (p *stagedProvider) Name() string { return "staged" }

func (p *stagedProvider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	p.delivered.Add(1)
	return channel.Result{Detail: "ok"}, nil
}

func (p *stagedProvider) SendWhen(ctx context.Context, m channel.Message, ready <-chan struct{}) (channel.Result, error) {
	p.started <- struct{}{}
	select {
	case <-ready:
		return p.Send(ctx, m)
	case <-ctx.Done():
		p.abandoned.Add(1)
		return channel.Result{}, channel.Retry(ctx.Err(), 0)
	}
}

// A staged call starts before its in-flight mark commits; when that
// transaction fails, the call is abandoned before taking effect and the
// send stays pending, to be delivered once by a later cycle.
func TestStagedCallAbandonedWhenItsMarkFails(t *testing.T) {
	ctx := context.Background()
	st, b := openStore(t)
	p := &stagedProvider{started: make(chan struct{}, 8)}
	rt := New(Config{Store: st, Providers: channel.NewRegistry(map[string]channel.Provider{"email": p})})
	defer rt.Stop()
	activate(t, st, `{"nodes":[{"id":"in","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"go"}},
		{"id":"mail","type":"send_email","position":{"x":0,"y":0},"config":{"template_id":"hi"}}],
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
	if p.delivered.Load() != 0 || p.abandoned.Load() != 1 || len(p.started) != 1 {
		t.Fatalf("delivered %d, abandoned %d, started %d; want the started call abandoned", p.delivered.Load(), p.abandoned.Load(), len(p.started))
	}
	if rt.send.inFlight != 0 {
		t.Fatalf("%d call slots still held", rt.send.inFlight)
	}
	if _, err := b.Q().Exec(ctx, `DROP TRIGGER no_marks`); err != nil {
		t.Fatal(err)
	}
	if n, err := rt.DeliverSends(ctx); err != nil || n != 1 {
		t.Fatalf("second cycle: %d, %v", n, err)
	}
	if p.delivered.Load() != 1 {
		t.Fatalf("delivered %d, want once", p.delivered.Load())
	}
}

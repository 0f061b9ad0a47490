package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/store"
)

// deadReplica is a replica id no running process holds.
const deadReplica = 987654

// markCalledByDeadReplica marks n due sends as being called by a replica
// that then died.
func markCalledByDeadReplica(t *testing.T, e *env, n int) {
	t.Helper()
	err := e.st.WithEngineTx(e.ctx, func(tx *store.EngineTx) error {
		due, err := tx.DueSends(store.DueParams{Limit: n})
		if err != nil {
			return err
		}
		if len(due) != n {
			t.Fatalf("%d sends due, want %d", len(due), n)
		}
		var sends []*kalcifer.Send
		for _, d := range due {
			sends = append(sends, d.Send)
		}
		return tx.MarkSending(sends, deadReplica)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startRuntime starts a runtime with its loops, calling webhooks with the
// given concurrency limits.
func (e *env) startRuntime(cfg engine.Config) *engine.Runtime {
	e.t.Helper()
	hooks := webhook.New(e.st.WebhookSecret, webhook.WithClock(e.clock), webhook.WithTimeout(30*time.Second),
		webhook.WithPolicy(netguard.Policy{AllowPrivate: true})) // receivers on 127.0.0.1
	log := logprovider.New(nil)
	cfg.Store, cfg.Clock, cfg.PollInterval = e.st, e.clock, 20*time.Millisecond
	cfg.Providers = channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "webhook": hooks})
	rt := engine.New(cfg)
	if err := rt.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(rt.Stop)
	return rt
}

// countSends counts the ledger's sends by status.
func (e *env) countSends(status kalcifer.SendStatus) int {
	e.t.Helper()
	var n int
	if err := e.st.Backend().Q().QueryRow(e.ctx, `SELECT COUNT(*) FROM sends WHERE status = $1`, string(status)).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// eventually polls cond for up to 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// blockingReceiver holds every call until released.
type blockingReceiver struct {
	*httptest.Server
	calls   atomic.Int32
	release chan struct{}
}

func newBlockingReceiver(t *testing.T) *blockingReceiver {
	b := &blockingReceiver{release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		b.open()
		b.Close()
	})
	return b
}

func (b *blockingReceiver) open() {
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

// Only sends whose call begins are marked in flight: with two call slots
// and five sends, two are "sending" and three stay pending, so a crash now
// could leave at most two ambiguous. (The sender used to mark a whole batch
// of 200 sending and call 64 at a time.)
func TestOnlySendsBeingCalledAreInFlight(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		slow := newBlockingReceiver(t)
		e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + slow.URL + `"}`},
			[]string{"in->hook"}, ""))
		for i := range 5 {
			e.event(fmt.Sprintf("c%d", i), "go", "")
		}
		e.startRuntime(engine.Config{SendConcurrency: 2, SendTenantConcurrency: 2, SendTargetConcurrency: 2})
		eventually(t, "two calls are held", func() bool { return slow.calls.Load() == 2 })
		eventually(t, "every event is routed", func() bool {
			return e.countSends(kalcifer.SendSending)+e.countSends(kalcifer.SendPending) == 5
		})
		time.Sleep(100 * time.Millisecond) // room for a wrong claim to show
		if sending, pending := e.countSends(kalcifer.SendSending), e.countSends(kalcifer.SendPending); sending != 2 || pending != 3 {
			t.Fatalf("in flight %d, pending %d; want 2 and 3", sending, pending)
		}
		slow.open()
		eventually(t, "every send is sent", func() bool { return e.countSends(kalcifer.SendSent) == 5 })
		if n := slow.calls.Load(); n != 5 {
			t.Fatalf("the receiver got %d calls, want 5", n)
		}
	})
}

// A receiver that never answers holds only its target's slots: another
// journey's send to another host goes out at once. (One slow endpoint used
// to stall every tenant's delivery until the batch's calls timed out.)
func TestSlowTargetDoesNotStallOthers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		slow := newBlockingReceiver(t)
		e.journey(false, g([]string{`in:event_entry:{"event_type":"slow"}`, `hook:call_webhook:{"url":"` + slow.URL + `"}`},
			[]string{"in->hook"}, ""))
		e.journey(false, g([]string{`in:event_entry:{"event_type":"fast"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`},
			[]string{"in->hook"}, ""))
		for i := range 20 {
			e.event(fmt.Sprintf("s%d", i), "slow", "")
		}
		e.startRuntime(engine.Config{SendConcurrency: 8, SendTargetConcurrency: 4})
		eventually(t, "the slow host holds its share of slots", func() bool { return slow.calls.Load() == 4 })
		e.event("f", "fast", "")
		eventually(t, "the other host's send arrives while the slow one hangs", func() bool { return len(e.hook.calls()) == 1 })
		if n := slow.calls.Load(); n != 4 {
			t.Fatalf("the slow host got %d calls at once, want its limit of 4", n)
		}
		slow.open()
		eventually(t, "the slow host's backlog drains", func() bool { return e.countSends(kalcifer.SendSent) == 21 })
	})
}

// The per-tenant limit keeps one tenant's slow targets from taking every
// slot: another tenant still sends.
func TestSlowTenantDoesNotStallOthers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		slowA, slowB := newBlockingReceiver(t), newBlockingReceiver(t)
		e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `a:call_webhook:{"url":"` + slowA.URL + `"}`,
			`b:call_webhook:{"url":"` + slowB.URL + `"}`}, []string{"in->a", "in->b"}, ""))
		other, err := e.st.CreateTenant(e.ctx, "test", "other")
		if err != nil {
			t.Fatal(err)
		}
		gr := mustGraph(t, g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`},
			[]string{"in->hook"}, ""))
		j := &kalcifer.Journey{TenantID: other.ID, Name: "other", Graph: gr}
		if err := e.st.CreateJourney(e.ctx, "test", j); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.TransitionJourney(e.ctx, store.TransitionJourneyParams{Actor: "test", TenantID: other.ID, JourneyID: j.ID, Action: kalcifer.ActionActivate}); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			e.event(fmt.Sprintf("c%d", i), "go", "")
		}
		e.startRuntime(engine.Config{SendConcurrency: 8, SendTenantConcurrency: 6, SendTargetConcurrency: 4})
		eventually(t, "the default tenant holds its share of slots", func() bool { return slowA.calls.Load()+slowB.calls.Load() == 6 })
		ev := &kalcifer.Event{TenantID: other.ID, CustomerID: "x", Type: "go", Data: []byte(`{}`), OccurredAt: e.clock.Now()}
		if _, err := e.rt.Ingest(e.ctx, []*kalcifer.Event{ev}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the other tenant's send arrives", func() bool { return len(e.hook.calls()) == 1 })
		slowA.open()
		slowB.open()
		eventually(t, "every send is sent", func() bool { return e.countSends(kalcifer.SendSent) == 21 })
	})
}

// A node that declares its receiver drops repeats of the Idempotency-Key
// gets a send interrupted mid-call again, with the same key, instead of an
// ambiguous one.
func TestInterruptedSendToIdempotentReceiverIsSentAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `","idempotent":true}`, `ok:add_tag:{"tag":"delivered"}`},
			[]string{"in->hook", "hook->ok"}, ""))
		e.event("c", "go", "")
		e.drainEvents()
		markCalledByDeadReplica(t, e, 1)
		e.rt = e.newRuntime()
		if n, err := e.rt.RecoverSends(e.ctx); err != nil || n != 1 {
			t.Fatalf("recovered %d, %v", n, err)
		}
		e.drain()
		in := e.only(j, "c")
		s := e.sends(in)
		if s[0].Status != kalcifer.SendSent || s[0].Attempts != 2 {
			t.Fatalf("send = %+v, want sent on the second attempt", s[0])
		}
		if calls := e.hook.calls(); len(calls) != 1 || calls[0].key != s[0].Key {
			t.Fatalf("the receiver got %d calls, want one with key %s", len(calls), s[0].Key)
		}
		wantStatus(t, in, kalcifer.InstanceCompleted)
	})
}

// An answer that leaves the outcome unknown (a 500) is resent to a receiver
// that drops repeats, and given up as ambiguous to one that does not.
func TestAmbiguousAnswerResentOnlyToIdempotentReceiver(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, idempotent := range []bool{true, false} {
			name := fmt.Sprintf("idem-%v", idempotent)
			j := e.journey(false, g([]string{`in:event_entry:{"event_type":"` + name + `"}`,
				fmt.Sprintf(`hook:call_webhook:{"url":"%s","idempotent":%v}`, e.hook.URL, idempotent)}, []string{"in->hook"}, ""))
			before := len(e.hook.calls())
			e.hook.answer(http.StatusInternalServerError)
			e.event("c", name, "")
			e.drain()
			e.clock.advance(time.Minute) // past the resend's backoff
			e.drain()
			s := e.sends(e.only(j, "c"))[0]
			calls := len(e.hook.calls()) - before
			switch {
			case idempotent && (s.Status != kalcifer.SendSent || calls != 2):
				t.Fatalf("idempotent receiver: send %s after %d calls, want sent after 2", s.Status, calls)
			case !idempotent && (s.Status != kalcifer.SendAmbiguous || calls != 1):
				t.Fatalf("plain receiver: send %s after %d calls, want ambiguous after 1", s.Status, calls)
			}
		}
	})
}

// The log provider is a dry run: its sends are "logged", never "sent", and
// the path goes on as designed.
func TestLogProviderSendsAreLoggedNotSent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `mail:send_email:{"subject":"Hi","text":"Hi","to":"a@example.com"}`,
			`ok:add_tag:{"tag":"mailed"}`, `bad:add_tag:{"tag":"failed"}`}, []string{"in->mail", "mail->ok", "mail-failed->bad"}, ""))
		e.event("c", "go", "")
		e.drain()
		in := e.only(j, "c")
		if s := e.sends(in); s[0].Status != kalcifer.SendLogged {
			t.Fatalf("send = %s, want logged", s[0].Status)
		}
		if trail := e.trail(in); trail != "in=default mail=waiting mail=default ok=default" {
			t.Fatalf("trail = %s", trail)
		}
	})
}

// A send that failed on a node without a failed branch lets the path go
// on, but the step and the instance say so. (It used to complete with no
// word of the failure.)
func TestFailedSendWithoutFailedBranchIsVisible(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`after:add_tag:{"tag":"went_on"}`}, []string{"in->hook", "hook->after"}, ""))
		e.hook.answer(http.StatusBadRequest)
		e.event("c", "go", "")
		e.drain()
		in := e.only(j, "c")
		wantStatus(t, in, kalcifer.InstanceCompleted)
		if !strings.Contains(in.Reason, "1 send(s) failed") || !strings.Contains(in.Reason, "HTTP 400") {
			t.Fatalf("reason = %q, want the failed send", in.Reason)
		}
		steps, err := e.st.InstanceSteps(e.ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		var detail string
		for _, s := range steps {
			if s.NodeID == "hook" && s.Result != "waiting" {
				detail = s.Detail
			}
		}
		if !strings.Contains(detail, "send failed") || !strings.Contains(detail, "no failed branch") {
			t.Fatalf("step detail = %q", detail)
		}
	})
}

func mustGraph(t *testing.T, raw string) *graph.Graph {
	t.Helper()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(raw), &gr); err != nil {
		t.Fatalf("graph: %v", err)
	}
	return &gr
}

// On PostgreSQL a replica's sends in flight are left alone while it lives
// (it holds its liveness lock) and settled as soon as it dies, without
// waiting for the lease.
func TestDeadReplicaNoticedWithoutLease(t *testing.T) {
	e := newEnv(t, backends["postgres"](t))
	j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`},
		[]string{"in->hook"}, ""))
	e.event("c", "go", "")
	e.drainEvents()
	alive, die := context.WithCancel(context.Background())
	defer die()
	if err := e.st.Backend().Live(alive, deadReplica); err != nil {
		t.Fatal(err)
	}
	markCalledByDeadReplica(t, e, 1) // "dead" in name only: it holds its lock
	if n, err := e.rt.RecoverSends(e.ctx); err != nil || n != 0 {
		t.Fatalf("settled %d, %v: a live replica's send was taken", n, err)
	}
	die() // the replica's process ends
	eventually(t, "the dead replica's send is settled", func() bool {
		n, err := e.rt.RecoverSends(e.ctx)
		return err == nil && n == 1
	})
	e.drain()
	if s := e.sends(e.only(j, "c")); s[0].Status != kalcifer.SendAmbiguous {
		t.Fatalf("send = %s, want ambiguous", s[0].Status)
	}
}

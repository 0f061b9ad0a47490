package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/notify"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Every test runs on both backends.
var backends = map[string]func(t *testing.T) store.Backend{
	"sqlite": func(t *testing.T) store.Backend {
		b, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	},
	"postgres": func(t *testing.T) store.Backend {
		b, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.WithReplicaGrace(0))
		if err != nil {
			t.Fatal(err)
		}
		return b
	},
}

func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, open(t)))
		})
	}
}

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// receiver is a webhook endpoint that checks each request's signature
// against secret, records what arrives and answers with the next queued
// answer (200 when none is queued).
type receiver struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	secret   string
	got      []hit
	answers  []answer
	arrived  chan struct{} // told of each request, when not nil
	hangOnce chan struct{} // the first request waits for it, when not nil
}

type answer struct {
	status     int
	retryAfter string
}

type hit struct {
	event kalcifer.HookEvent
	raw   map[string]any
	// header values
	eventType, eventID, delivery string
	validSig                     bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		var h hit
		if err := json.Unmarshal(body, &h.event); err != nil {
			t.Errorf("receiver: body %s: %v", body, err)
		}
		json.Unmarshal(body, &h.raw)
		h.eventType, h.eventID, h.delivery = req.Header.Get(notify.HeaderEvent), req.Header.Get(notify.HeaderEventID), req.Header.Get(notify.HeaderDelivery)
		r.mu.Lock()
		h.validSig = webhook.Verify([]byte(r.secret), req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body)
		r.got = append(r.got, h)
		a := answer{status: http.StatusOK}
		if len(r.answers) > 0 {
			a, r.answers = r.answers[0], r.answers[1:]
		}
		hang := r.hangOnce
		r.hangOnce = nil
		arrived := r.arrived
		r.mu.Unlock()
		if arrived != nil {
			arrived <- struct{}{}
		}
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
			return
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hits() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) answer(a ...answer) {
	r.mu.Lock()
	r.answers = append(r.answers, a...)
	r.mu.Unlock()
}

// env is a runtime, a delivery loop and an alert loop over a fresh store,
// driven step by step.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	rt     *engine.Runtime
	clock  *clock
	d      *notify.Deliverer
	alerts *notify.Alerts
}

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// client reaches receivers on 127.0.0.1.
var client = netguard.Policy{AllowPrivate: true}.Client()

func newEnv(t *testing.T, b store.Backend) *env {
	ctx := context.Background()
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: start}
	st := store.New(b, c, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	for _, tenant := range []string{kalcifer.DefaultTenantID, "other"} {
		if _, _, err := st.EnsureTenant(ctx, "test", tenant); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, ctx: ctx, st: st, clock: c}
	e.d = e.deliverer(notify.Config{})
	st.Observe(notify.NewObserver(st, e.d))
	if err := st.LoadHookSubscriptions(ctx); err != nil {
		t.Fatal(err)
	}
	log := logprovider.New(nil)
	hooks := webhook.New(st.WebhookSecret, webhook.WithClock(c), webhook.WithTimeout(2*time.Second),
		webhook.WithPolicy(netguard.Policy{AllowPrivate: true}))
	reg := channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "push": log, "whatsapp": log, "webhook": hooks})
	e.rt = engine.New(engine.Config{Store: st, Clock: c, Providers: reg})
	t.Cleanup(e.rt.Stop)
	e.alerts = notify.NewAlerts(st, c, nil, time.Minute)
	return e
}

// deliverer is a delivery loop over the env's store and clock.
func (e *env) deliverer(cfg notify.Config) *notify.Deliverer {
	cfg.Store, cfg.Clock, cfg.Client = e.st, e.clock, client
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return notify.NewDeliverer(cfg)
}

// subscribe makes a subscription of tenant to events at r's URL, and gives
// r its secret.
func (e *env) subscribe(tenant string, r *receiver, journeyID string, events ...string) *kalcifer.WebhookSubscription {
	e.t.Helper()
	sub := &kalcifer.WebhookSubscription{TenantID: tenant, URL: r.URL, Events: events, JourneyID: journeyID, Active: true}
	secret, err := e.st.CreateHookSubscription(e.ctx, "test", sub)
	if err != nil {
		e.t.Fatalf("subscribe: %v", err)
	}
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
	return sub
}

// drain runs the engine until it has nothing left to do.
func (e *env) drain() {
	e.t.Helper()
	for range 100 {
		n1, err := e.rt.ProcessEvents(e.ctx)
		if err != nil {
			e.t.Fatalf("process events: %v", err)
		}
		n2, err := e.rt.FireTimers(e.ctx)
		if err != nil {
			e.t.Fatalf("fire timers: %v", err)
		}
		n3, err := e.rt.DeliverSends(e.ctx)
		if err != nil {
			e.t.Fatalf("deliver sends: %v", err)
		}
		n4, err := e.rt.MigrateBatch(e.ctx)
		if err != nil {
			e.t.Fatalf("migrate: %v", err)
		}
		if n1+n2+n3+n4 == 0 {
			return
		}
	}
	e.t.Fatal("work did not settle after 100 rounds")
}

// deliver runs one delivery pass and returns how many it claimed.
func (e *env) deliver() int {
	e.t.Helper()
	n, err := e.d.DeliverDue(e.ctx)
	if err != nil {
		e.t.Fatalf("deliver: %v", err)
	}
	return n
}

// journey creates and activates a journey of tenant; nodes are
// "id:type:config", edges "a->b" or "a-branch->b".
func (e *env) journey(tenant string, nodes, edges []string) string {
	e.t.Helper()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(g(nodes, edges)), &gr); err != nil {
		e.t.Fatalf("graph: %v", err)
	}
	j := &kalcifer.Journey{TenantID: tenant, Name: "j", Graph: &gr}
	if err := e.st.CreateJourney(e.ctx, "test", j); err != nil {
		e.t.Fatalf("create journey: %v", err)
	}
	if _, err := e.st.TransitionJourney(e.ctx, store.TransitionJourneyParams{Actor: "test", TenantID: tenant,
		JourneyID: j.ID, Action: kalcifer.ActionActivate, On: e.rt.On()}); err != nil {
		e.t.Fatalf("activate: %v", err)
	}
	return j.ID
}

func g(nodes []string, edges []string) string {
	var ns, es []string
	for _, n := range nodes {
		parts := strings.SplitN(n, ":", 3)
		cfg := "{}"
		if len(parts) == 3 {
			cfg = parts[2]
		}
		ns = append(ns, `{"id":"`+parts[0]+`","type":"`+parts[1]+`","position":{"x":0,"y":0},"config":`+cfg+`}`)
	}
	for i, e := range edges {
		src, dst, _ := strings.Cut(e, "->")
		branch := ""
		if s, b, ok := strings.Cut(src, "-"); ok {
			src, branch = s, b
		}
		es = append(es, `{"id":"e`+string(rune('a'+i))+`","source":"`+src+`","target":"`+dst+`","branch":"`+branch+`"}`)
	}
	return `{"nodes":[` + strings.Join(ns, ",") + `],"edges":[` + strings.Join(es, ",") + `]}`
}

func (e *env) event(tenant, customer, typ string) {
	e.t.Helper()
	ev := &kalcifer.Event{TenantID: tenant, CustomerID: customer, Type: typ, Data: json.RawMessage(`{}`), OccurredAt: e.clock.Now()}
	if _, err := e.rt.Ingest(e.ctx, []*kalcifer.Event{ev}); err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
}

// deliveries is a subscription's delivery log, newest first.
func (e *env) deliveries(tenant, subID string) []kalcifer.HookDelivery {
	e.t.Helper()
	page, err := e.st.ListHookDeliveries(e.ctx, tenant, subID, "", 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Data
}

// outbox counts every delivery row of every tenant.
func (e *env) outbox() int {
	e.t.Helper()
	var n int
	if err := e.st.Backend().Q().QueryRow(e.ctx, `SELECT COUNT(*) FROM hook_deliveries`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func mustGraph(t *testing.T, s string) *graph.Graph {
	t.Helper()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(s), &gr); err != nil {
		t.Fatalf("graph: %v", err)
	}
	return &gr
}

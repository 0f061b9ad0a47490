package engine_test

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
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// TestMain also lets the test binary stand in for "kalcifer lua-worker".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.WorkerCommand {
		os.Exit(sandbox.ServeWorker(os.Args[2:]))
	}
	os.Exit(pgtest.Main(m))
}

// The runtime suite runs every test on both backends.
var backends = map[string]func(t *testing.T) store.Backend{
	"sqlite": func(t *testing.T) store.Backend {
		b, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	},
	"postgres": func(t *testing.T) store.Backend {
		// No grace: a replica without its liveness lock is dead at once
		// (store/postgres TestReplicaGrace checks the grace).
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

// receiver is a webhook endpoint that records what arrives and answers with
// the next queued status (200 when none is queued).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
}

type received struct {
	key, signature, timestamp string
	body                      []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return // never arrived whole: nothing to act on
		}
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get("Idempotency-Key"), req.Header.Get("X-Kalcifer-Signature"),
			req.Header.Get("X-Kalcifer-Timestamp"), body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) calls() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) answer(statuses ...int) {
	r.mu.Lock()
	r.statuses = append(r.statuses, statuses...)
	r.mu.Unlock()
}

// env is a runtime over a fresh store, driven step by step: the test calls
// drain instead of starting the background loops.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	rt    *engine.Runtime
	clock *clock
	hook  *receiver
	lua   *sandbox.Pool // runs custom_code when set (withLua)
	// enrolBatch is the runtimes' Config.EnrolBatch (0: the default).
	enrolBatch int
}

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, b store.Backend) *env {
	ctx := context.Background()
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: start}
	st := store.New(b, c, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.EnsureTenant(ctx, "test", kalcifer.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, clock: c, hook: newReceiver(t)}
	e.rt = e.newRuntime()
	return e
}

func (e *env) newRuntime() *engine.Runtime {
	log := logprovider.New(nil)
	hooks := webhook.New(e.st.WebhookSecret, webhook.WithClock(e.clock), webhook.WithTimeout(2*time.Second),
		webhook.WithPolicy(netguard.Policy{AllowPrivate: true})) // receivers on 127.0.0.1
	reg := channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "push": log, "whatsapp": log, "webhook": hooks})
	rt := engine.New(engine.Config{Store: e.st, Clock: e.clock, Providers: reg, Sandbox: e.lua, EnrolBatch: e.enrolBatch})
	e.t.Cleanup(rt.Stop)
	return rt
}

// drain runs events, timers and sends until none is left to do.
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
		n4, err := e.rt.Enrol(e.ctx)
		if err != nil {
			e.t.Fatalf("enrol: %v", err)
		}
		if n1+n2+n3+n4 == 0 {
			return
		}
	}
	e.t.Fatal("work did not settle after 100 rounds")
}

// journey creates and activates a journey; nodes are "id:type:config".
func (e *env) journey(allowReentry bool, g string) string {
	e.t.Helper()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(g), &gr); err != nil {
		e.t.Fatalf("graph: %v", err)
	}
	j := &kalcifer.Journey{TenantID: kalcifer.DefaultTenantID, Name: "j", Graph: &gr,
		Settings: kalcifer.JourneySettings{AllowReentry: allowReentry}}
	if err := e.st.CreateJourney(e.ctx, "test", j); err != nil {
		e.t.Fatalf("create journey: %v", err)
	}
	if _, err := e.st.TransitionJourney(e.ctx, store.TransitionJourneyParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
		JourneyID: j.ID, Action: kalcifer.ActionActivate, On: e.rt.On()}); err != nil {
		e.t.Fatalf("activate: %v", err)
	}
	return j.ID
}

func (e *env) event(customer, typ, data string) {
	e.t.Helper()
	e.eventWithID("", customer, typ, data)
}

func (e *env) eventWithID(clientID, customer, typ, data string) {
	e.t.Helper()
	if data == "" {
		data = "{}"
	}
	ev := &kalcifer.Event{ClientID: clientID, TenantID: kalcifer.DefaultTenantID, CustomerID: customer, Type: typ,
		Data: json.RawMessage(data), OccurredAt: e.clock.Now()}
	if _, err := e.rt.Ingest(e.ctx, []*kalcifer.Event{ev}); err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
}

func (e *env) instances(journeyID string) []*kalcifer.Instance {
	e.t.Helper()
	page, err := e.st.ListInstances(e.ctx, store.InstanceFilter{TenantID: kalcifer.DefaultTenantID, JourneyID: journeyID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Data
}

// only returns the customer's one instance of the journey.
func (e *env) only(journeyID, customer string) *kalcifer.Instance {
	e.t.Helper()
	var found []*kalcifer.Instance
	for _, in := range e.instances(journeyID) {
		if in.CustomerID == customer {
			found = append(found, in)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("customer %s has %d instances of %s, want 1", customer, len(found), journeyID)
	}
	return found[0]
}

func (e *env) trail(in *kalcifer.Instance) string {
	e.t.Helper()
	steps, err := e.st.InstanceSteps(e.ctx, in.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var s []string
	for _, st := range steps {
		if st.NodeID != "" {
			s = append(s, st.NodeID+"="+st.Result)
		}
	}
	return strings.Join(s, " ")
}

func (e *env) sends(in *kalcifer.Instance) []kalcifer.Send {
	e.t.Helper()
	s, err := e.st.ListSends(e.ctx, kalcifer.DefaultTenantID, in.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) customer(id string) *kalcifer.Customer {
	e.t.Helper()
	c, err := e.st.GetCustomer(e.ctx, kalcifer.DefaultTenantID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func wantStatus(t *testing.T, in *kalcifer.Instance, want kalcifer.InstanceStatus) {
	t.Helper()
	if in.Status != want {
		t.Fatalf("instance %s is %s (%s), want %s", in.ID, in.Status, in.Reason, want)
	}
}

// g builds a graph JSON: nodes "id:type:config", edges "a->b" or "a-branch->b".
func g(nodes []string, edges []string, extra string) string {
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
	out := `{"nodes":[` + strings.Join(ns, ",") + `],"edges":[` + strings.Join(es, ",") + `]`
	if extra != "" {
		out += "," + extra
	}
	return out + "}"
}

// A welcome journey: email, a day's wait, a signed webhook, the end.
func TestWelcomeJourney(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"signed_up"}`,
			`mail:send_email:{"subject":"Hi","text":"Hi","to":"a@example.com"}`,
			`w:wait:{"duration":"1d"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`x:journey_exit`,
		}, []string{"in->mail", "mail->w", "w->hook", "hook->x"}, ""))

		e.event("c1", "signed_up", `{"plan":"pro"}`)
		e.event("c1", "signed_up", `{}`) // no re-entry while active
		e.event("c2", "page_viewed", `{}`)
		e.drain()
		in := e.only(j, "c1")
		wantStatus(t, in, kalcifer.InstanceActive)
		if got := e.trail(in); got != "in=default mail=waiting mail=default w=waiting" {
			t.Fatalf("trail = %q", got)
		}
		if len(e.instances(j)) != 1 {
			t.Fatalf("instances = %d, want 1 (no re-entry, c2 never entered)", len(e.instances(j)))
		}
		if s := e.sends(in); len(s) != 1 || s[0].Status != kalcifer.SendLogged || s[0].Channel != "email" {
			t.Fatalf("sends = %+v", s)
		}

		e.clock.advance(23 * time.Hour)
		e.drain()
		if len(e.hook.calls()) != 0 {
			t.Fatal("webhook called before the wait was over")
		}
		e.clock.advance(time.Hour)
		e.drain()
		calls := e.hook.calls()
		if len(calls) != 1 {
			t.Fatalf("webhook calls = %d, want 1", len(calls))
		}
		secret, _ := e.st.WebhookSecret(e.ctx, kalcifer.DefaultTenantID)
		c := calls[0]
		if c.key != engine.SendKey(in.ID, "hook", 1) || !webhook.Verify(secret, c.timestamp, c.signature, c.body) {
			t.Fatalf("call = key %q signature ok %v", c.key, webhook.Verify(secret, c.timestamp, c.signature, c.body))
		}
		var body map[string]any
		if err := json.Unmarshal(c.body, &body); err != nil {
			t.Fatal(err)
		}
		if cust, _ := body["customer"].(map[string]any); cust["id"] != "c1" {
			t.Fatalf("webhook body = %s", c.body)
		}
		in = e.only(j, "c1")
		wantStatus(t, in, kalcifer.InstanceExited)

		// Ended, the customer may enter again.
		e.event("c1", "signed_up", `{}`)
		e.drain()
		if n := len(e.instances(j)); n != 2 {
			t.Fatalf("instances after re-entry = %d, want 2", n)
		}
	})
}

// wait_for_event resolves exactly one way: the event or the timeout,
// whichever commits first; the loser does nothing.
func TestWaitForEventRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"signed_up"}`,
			`w:wait_for_event:{"event_type":"opened","timeout":"3d","filter":{"campaign":"welcome"}}`,
			`hot:add_tag:{"tag":"engaged"}`,
			`cold:add_tag:{"tag":"cold"}`,
			`x:journey_exit`,
		}, []string{"in->w", "w-event_received->hot", "w-timed_out->cold", "hot->x", "cold->x"}, ""))
		e.event("a", "signed_up", "")
		e.event("b", "signed_up", "")
		e.drain()

		e.event("a", "opened", `{"campaign":"other"}`) // filtered out
		e.drain()
		wantStatus(t, e.only(j, "a"), kalcifer.InstanceActive)
		e.event("a", "opened", `{"campaign":"welcome"}`)
		e.drain()
		e.clock.advance(72 * time.Hour)
		e.drain()
		e.event("b", "opened", `{"campaign":"welcome"}`) // too late
		e.drain()

		a, b := e.only(j, "a"), e.only(j, "b")
		wantStatus(t, a, kalcifer.InstanceExited)
		wantStatus(t, b, kalcifer.InstanceExited)
		if got := e.trail(a); got != "in=default w=waiting w=event_received hot=default x=exited" {
			t.Fatalf("a: %q", got)
		}
		if got := e.trail(b); got != "in=default w=waiting w=timed_out cold=default x=exited" {
			t.Fatalf("b: %q", got)
		}
		if !slices.Equal(e.customer("a").Tags, []string{"engaged"}) || !slices.Equal(e.customer("b").Tags, []string{"cold"}) {
			t.Fatalf("tags a=%v b=%v", e.customer("a").Tags, e.customer("b").Tags)
		}
	})
}

// Conditions read the profile that earlier nodes changed; a node that
// errors fails only its own instance.
func TestConditionAndFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`set:update_profile:{"set":{"tier":"gold"}}`,
			`c:condition:{"expression":"customer.tier == \"gold\" && customer.score / event.data.divisor > 1"}`,
			`yes:add_tag:{"tag":"vip"}`,
			`no:add_tag:{"tag":"regular"}`,
		}, []string{"in->set", "set->c", "c-true->yes", "c-false->no"}, ""))
		if _, err := e.st.PatchCustomer(e.ctx, store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: "rich", Set: map[string]any{"score": 10}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.PatchCustomer(e.ctx, store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: "poor", Set: map[string]any{"score": 1}}); err != nil {
			t.Fatal(err)
		}
		e.event("rich", "go", `{"divisor":2}`)
		e.event("poor", "go", `{"divisor":1}`)
		e.event("broken", "go", `{}`) // no score, no divisor: the expression errors
		e.drain()
		wantStatus(t, e.only(j, "rich"), kalcifer.InstanceCompleted)
		wantStatus(t, e.only(j, "poor"), kalcifer.InstanceCompleted)
		if got := e.customer("rich"); !slices.Equal(got.Tags, []string{"vip"}) || got.Attributes["tier"] != "gold" {
			t.Fatalf("rich = %+v", got)
		}
		if got := e.customer("poor"); !slices.Equal(got.Tags, []string{"regular"}) {
			t.Fatalf("poor = %+v", got)
		}
		broken := e.only(j, "broken")
		wantStatus(t, broken, kalcifer.InstanceFailed)
		if !strings.Contains(broken.Reason, "c") || broken.Reason == "" {
			t.Fatalf("failure reason = %q", broken.Reason)
		}
	})
}

// Exit criteria end an instance on an event; its pending send never leaves.
func TestExitCriteria(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"signed_up"}`,
			`w:wait:{"duration":"1h"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
		}, []string{"in->w", "w->hook"}, `"exit_criteria":{"event_type":"unsubscribed"}`))
		e.event("a", "signed_up", "")
		e.event("b", "signed_up", "")
		e.drain()
		e.event("a", "unsubscribed", "")
		e.drain()
		wantStatus(t, e.only(j, "a"), kalcifer.InstanceExited)
		e.clock.advance(time.Hour)
		e.drain()
		wantStatus(t, e.only(j, "b"), kalcifer.InstanceCompleted)
		if calls := e.hook.calls(); len(calls) != 1 || !strings.HasPrefix(calls[0].key, e.only(j, "b").ID) {
			t.Fatalf("webhook calls = %+v, want b's only", calls)
		}
	})
}

// A send the receiver refuses takes the failed branch; one it cannot take
// yet (503) is retried later and sent once.
func TestSendOutcomes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(true, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`ok:add_tag:{"tag":"delivered"}`,
			`bad:add_tag:{"tag":"undelivered"}`,
		}, []string{"in->hook", "hook->ok", "hook-failed->bad"}, ""))
		e.hook.answer(http.StatusBadRequest)
		e.event("refused", "go", "")
		e.drain()
		if got := e.customer("refused").Tags; !slices.Equal(got, []string{"undelivered"}) {
			t.Fatalf("refused tags = %v", got)
		}

		e.hook.answer(http.StatusServiceUnavailable)
		e.event("later", "go", "")
		e.drain()
		in := e.only(j, "later")
		wantStatus(t, in, kalcifer.InstanceActive)
		if s := e.sends(in); len(s) != 1 || s[0].Status != kalcifer.SendPending || s[0].Attempts != 1 {
			t.Fatalf("send after 503 = %+v", s)
		}
		e.clock.advance(time.Minute)
		e.drain()
		wantStatus(t, e.only(j, "later"), kalcifer.InstanceCompleted)
		if got := e.customer("later").Tags; !slices.Equal(got, []string{"delivered"}) {
			t.Fatalf("later tags = %v", got)
		}
		if s := e.sends(in); s[0].Status != kalcifer.SendSent || s[0].Attempts != 2 {
			t.Fatalf("send after retry = %+v", s)
		}
		if n := len(e.hook.calls()); n != 3 {
			t.Fatalf("receiver saw %d calls, want 3", n)
		}
	})
}

// A send whose call began on a replica that died is marked ambiguous and
// never sent again; its path goes on.
func TestInterruptedSendIsAmbiguous(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`ok:add_tag:{"tag":"delivered"}`,
			`bad:add_tag:{"tag":"unknown"}`,
		}, []string{"in->hook", "hook->ok", "hook-failed->bad"}, ""))
		e.event("c", "go", "")
		if _, err := e.rt.ProcessEvents(e.ctx); err != nil {
			t.Fatal(err)
		}
		// A replica marks the send as being called, then dies.
		markCalledByDeadReplica(t, e, 1)
		// The dead replica is noticed at once: no lease to wait for.
		e.rt = e.newRuntime()
		if n, err := e.rt.RecoverSends(e.ctx); err != nil || n != 1 {
			t.Fatalf("recovered %d, %v", n, err)
		}
		e.drain()
		in := e.only(j, "c")
		if s := e.sends(in); s[0].Status != kalcifer.SendAmbiguous {
			t.Fatalf("send = %+v", s[0])
		}
		if len(e.hook.calls()) != 0 {
			t.Fatal("an ambiguous send was sent again")
		}
		wantStatus(t, in, kalcifer.InstanceCompleted)
		if got := e.customer("c").Tags; !slices.Equal(got, []string{"unknown"}) {
			t.Fatalf("tags = %v", got)
		}
	})
}

// Parallel paths: the instance ends when both have ended.
func TestParallelBranches(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`short:wait:{"duration":"1h"}`,
			`long:wait:{"duration":"2h"}`,
			`a:add_tag:{"tag":"a"}`,
			`b:add_tag:{"tag":"b"}`,
		}, []string{"in->short", "in->long", "short->a", "long->b"}, ""))
		e.event("c", "go", "")
		e.drain()
		e.clock.advance(time.Hour)
		e.drain()
		in := e.only(j, "c")
		wantStatus(t, in, kalcifer.InstanceActive)
		if !slices.Equal(in.Nodes, []string{"long"}) {
			t.Fatalf("nodes = %v", in.Nodes)
		}
		e.clock.advance(time.Hour)
		e.drain()
		wantStatus(t, e.only(j, "c"), kalcifer.InstanceCompleted)
		if got := e.customer("c").Tags; !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("tags = %v", got)
		}
	})
}

// A cross-journey frequency cap counts sends of every journey and caps the
// one over the limit: it never leaves, and its path goes on.
func TestFrequencyCapAcrossJourneys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		first := e.journey(false, g([]string{`in:event_entry:{"event_type":"a"}`, `m:send_email:{"subject":"Hi","text":"Hi","to":"a@example.com"}`}, []string{"in->m"}, ""))
		second := e.journey(false, g([]string{`in:event_entry:{"event_type":"b"}`, `m:send_email:{"subject":"Hi","text":"Hi","to":"a@example.com"}`}, []string{"in->m"},
			`"frequency_cap":{"email":{"max":1,"window":"1d"}}`))
		e.event("c", "a", "")
		e.drain()
		e.event("c", "b", "")
		e.drain()
		if s := e.sends(e.only(first, "c")); s[0].Status != kalcifer.SendLogged {
			t.Fatalf("first = %+v", s)
		}
		in := e.only(second, "c")
		wantStatus(t, in, kalcifer.InstanceCompleted)
		if s := e.sends(in); s[0].Status != kalcifer.SendCapped {
			t.Fatalf("second = %+v", s)
		}
	})
}

// Client event IDs make ingestion idempotent; a paused instance ignores
// events and timers until resumed; an exited one is done.
func TestIdempotentEventsAndInstanceControl(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(true, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`w:wait:{"duration":"1h"}`,
			`t:add_tag:{"tag":"done"}`,
		}, []string{"in->w", "w->t"}, ""))
		e.eventWithID("evt-1", "c", "go", "")
		e.eventWithID("evt-1", "c", "go", "") // a retry of the same event
		e.drain()
		in := e.only(j, "c")

		if _, err := e.rt.PauseInstance(e.ctx, kalcifer.DefaultTenantID, in.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.PauseInstance(e.ctx, kalcifer.DefaultTenantID, in.ID); kalcifer.ErrorCode(err) != kalcifer.ECONFLICT {
			t.Fatalf("pause twice: %v", err)
		}
		e.clock.advance(2 * time.Hour)
		e.drain()
		wantStatus(t, e.only(j, "c"), kalcifer.InstancePaused)
		if _, err := e.rt.ResumeInstance(e.ctx, kalcifer.DefaultTenantID, in.ID); err != nil {
			t.Fatal(err)
		}
		e.drain() // the timer fires late, not never
		wantStatus(t, e.only(j, "c"), kalcifer.InstanceCompleted)

		e.event("d", "go", "")
		e.drain()
		d := e.only(j, "d")
		if _, err := e.rt.ExitInstance(e.ctx, kalcifer.DefaultTenantID, d.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.advance(2 * time.Hour)
		e.drain()
		wantStatus(t, e.only(j, "d"), kalcifer.InstanceExited)
		if slices.Contains(e.customer("d").Tags, "done") {
			t.Fatal("an exited instance went on")
		}
		if _, err := e.rt.ExitInstance(e.ctx, "other-tenant", d.ID); kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
			t.Fatalf("another tenant's instance: %v", err)
		}
	})
}

// Manual and webhook enrolment go through the same durable path.
func TestTriggerAndWebhookEntry(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		manual := e.journey(false, g([]string{`in:event_entry:{"event_type":"never"}`, `t:add_tag:{"tag":"manual"}`}, []string{"in->t"}, ""))
		hooked := e.journey(false, g([]string{`in:webhook_entry`, `t:add_tag:{"tag":"hooked"}`}, []string{"in->t"}, ""))
		if _, err := e.rt.Trigger(e.ctx, kalcifer.DefaultTenantID, manual, []string{"x", "y"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.Webhook(e.ctx, kalcifer.DefaultTenantID, hooked, "z", json.RawMessage(`{"source":"crm"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.Webhook(e.ctx, kalcifer.DefaultTenantID, manual, "z", nil); kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
			t.Fatalf("webhook to a journey without a webhook entry: %v", err)
		}
		e.drain()
		wantStatus(t, e.only(manual, "x"), kalcifer.InstanceCompleted)
		wantStatus(t, e.only(manual, "y"), kalcifer.InstanceCompleted)
		wantStatus(t, e.only(hooked, "z"), kalcifer.InstanceCompleted)
		if len(e.instances(hooked)) != 1 {
			t.Fatal("the webhook also entered another journey")
		}
	})
}

// A restarted runtime carries on from what is stored: timers set before
// the restart fire after it.
func TestRestartResumes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"1d"}`, `t:add_tag:{"tag":"done"}`},
			[]string{"in->w", "w->t"}, ""))
		for _, c := range []string{"a", "b", "c"} {
			e.event(c, "go", "")
		}
		e.drain()
		e.rt.Stop()
		e.rt = e.newRuntime()
		e.clock.advance(48 * time.Hour)
		e.drain()
		for _, c := range []string{"a", "b", "c"} {
			wantStatus(t, e.only(j, c), kalcifer.InstanceCompleted)
		}
	})
}

// Started, the runtime's own loops do the work: no drain needed.
func TestBackgroundLoops(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `hook:call_webhook:{"url":"` + e.hook.URL + `"}`},
			[]string{"in->hook"}, ""))
		if err := e.rt.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.event("c", "go", "")
		deadline := time.Now().Add(10 * time.Second)
		for {
			ins := e.instances(j)
			if len(ins) == 1 && ins[0].Status == kalcifer.InstanceCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance not completed by the loops: %+v", ins)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n := len(e.hook.calls()); n != 1 {
			t.Fatalf("webhook calls = %d", n)
		}
	})
}

// A send that finishes while its instance is paused moves the instance on
// when it resumes; the outcome is not lost.
func TestPausedSendResumes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
			`t:add_tag:{"tag":"after"}`,
		}, []string{"in->hook", "hook->t"}, ""))
		e.event("c", "go", "")
		if _, err := e.rt.ProcessEvents(e.ctx); err != nil {
			t.Fatal(err)
		}
		in := e.only(j, "c")
		if _, err := e.rt.PauseInstance(e.ctx, kalcifer.DefaultTenantID, in.ID); err != nil {
			t.Fatal(err)
		}
		e.drain() // the send goes out while the instance is paused
		if s := e.sends(in); s[0].Status != kalcifer.SendSent {
			t.Fatalf("send = %+v", s[0])
		}
		wantStatus(t, e.only(j, "c"), kalcifer.InstancePaused)
		resumed, err := e.rt.ResumeInstance(e.ctx, kalcifer.DefaultTenantID, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, resumed, kalcifer.InstanceCompleted) // the answer is the instance as it is now
		e.drain()
		wantStatus(t, e.only(j, "c"), kalcifer.InstanceCompleted)
		if got := e.customer("c").Tags; !slices.Equal(got, []string{"after"}) {
			t.Fatalf("tags = %v", got)
		}
	})
}

// Instances of a paused journey still run, so its exit criteria still
// apply to them.
func TestExitCriteriaOfPausedJourney(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`w:wait:{"duration":"1h"}`,
			`hook:call_webhook:{"url":"` + e.hook.URL + `"}`,
		}, []string{"in->w", "w->hook"}, `"exit_criteria":{"event_type":"unsubscribed"}`))
		e.event("c", "go", "")
		e.drain()
		if _, err := e.st.TransitionJourney(e.ctx, store.TransitionJourneyParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: j, Action: kalcifer.ActionPause}); err != nil {
			t.Fatal(err)
		}
		e.event("c", "unsubscribed", "")
		e.drain()
		wantStatus(t, e.only(j, "c"), kalcifer.InstanceExited)
		e.clock.advance(time.Hour)
		e.drain()
		if n := len(e.hook.calls()); n != 0 {
			t.Fatalf("an unsubscribed customer got %d webhooks", n)
		}
	})
}

// drainEvents routes stored events without delivering sends.
func (e *env) drainEvents() {
	e.t.Helper()
	for {
		n, err := e.rt.ProcessEvents(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

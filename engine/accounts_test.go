package engine_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/store"
)

// fakeSendGrid is a local server speaking SendGrid's Mail Send API: it
// records each request's key, recipient and credential, and answers 500
// while failing is set, else 202.
type fakeSendGrid struct {
	*httptest.Server
	mu      sync.Mutex
	failing bool
	calls   []sgCall
}

type sgCall struct {
	auth, key, to string
	status        int
}

func newFakeSendGrid(t *testing.T) *fakeSendGrid {
	f := &fakeSendGrid{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Personalizations []struct {
				To []struct{ Email string } `json:"to"`
			} `json:"personalizations"`
			CustomArgs map[string]string `json:"custom_args"`
		}
		if r.URL.Path != "/v3/mail/send" || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Personalizations) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		c := sgCall{auth: r.Header.Get("Authorization"), key: body.CustomArgs[sendgrid.KeyArg],
			to: body.Personalizations[0].To[0].Email, status: http.StatusAccepted}
		if f.failing {
			c.status = http.StatusInternalServerError
		}
		f.calls = append(f.calls, c)
		w.Header().Set("X-Message-Id", "sg-"+c.key)
		w.WriteHeader(c.status)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSendGrid) setFailing(v bool) { f.mu.Lock(); f.failing = v; f.mu.Unlock() }

func (f *fakeSendGrid) got() []sgCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sgCall(nil), f.calls...)
}

// accountsCatalog is the real sendgrid driver (config, secrets, base URL).
func accountsCatalog() *channel.Catalog {
	return channel.NewCatalog(netguard.Policy{AllowPrivate: true}.Client(),
		channel.NewDriver(sendgrid.Name, []string{"email"}, sendgrid.New))
}

// withAccounts gives e a runtime that sends through provider accounts.
func (e *env) withAccounts(cfg engine.Config) *channel.Catalog {
	catalog := accountsCatalog()
	log := logprovider.New(nil)
	cfg.Store, cfg.Clock, cfg.Accounts, cfg.PublicURL = e.st, e.clock, catalog, "https://kalcifer.example.com"
	cfg.Providers = channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "webhook": log})
	e.rt = engine.New(cfg)
	e.t.Cleanup(e.rt.Stop)
	return catalog
}

// account creates a provider account as the API does.
func (e *env) account(catalog *channel.Catalog, name, kind string, config string, isDefault bool) *kalcifer.ProviderAccount {
	e.t.Helper()
	public, secrets, err := catalog.Prepare(kind, "email", json.RawMessage(config), nil)
	if err != nil {
		e.t.Fatalf("prepare %s: %v", name, err)
	}
	a := &kalcifer.ProviderAccount{TenantID: kalcifer.DefaultTenantID, Name: name, Type: kind, Channel: kalcifer.ChannelEmail,
		Config: public, Secrets: secrets, IsDefault: isDefault}
	if err := e.st.CreateProviderAccount(e.ctx, "test", a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// A node naming an account (by name or id) sends through it, with its
// credential, and a changed account is rebuilt within the TTL; a node
// naming none uses the tenant's default; an unknown name fails the send,
// naming it.
func TestSendsGoThroughProviderAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sg := newFakeSendGrid(t)
		catalog := e.withAccounts(engine.Config{})
		named := e.account(catalog, "marketing", "sendgrid",
			`{"api_key":"SG.key-1","from":"news@example.com","base_url":"`+sg.URL+`"}`, false)
		j := e.journey(true, g([]string{`in:event_entry:{"event_type":"go"}`,
			`mail:send_email:{"text":"Hello","to":"{{ customer.id }}","provider":"marketing","subject":"Hi"}`}, []string{"in->mail"}, ""))
		e.event("ada@example.com", "go", "")
		e.drain()
		calls := sg.got()
		if len(calls) != 1 || calls[0].auth != "Bearer SG.key-1" || calls[0].to != "ada@example.com" {
			t.Fatalf("SendGrid got %+v", calls)
		}
		s := e.sends(e.only(j, "ada@example.com"))
		if len(s) != 1 || s[0].Status != kalcifer.SendSent || calls[0].key != s[0].Key {
			t.Fatalf("sends %+v, key sent %q", s, calls[0].key)
		}

		// A new key reaches the sends once the accounts are read again.
		public, secrets, err := catalog.Prepare("sendgrid", "email", json.RawMessage(`{"api_key":"SG.key-2","from":"news@example.com","base_url":"`+sg.URL+`"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.UpdateProviderAccount(e.ctx, store.UpdateProviderAccountParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
			ID: named.ID, Revision: named.Revision, Name: named.Name, Config: public, Secrets: secrets}); err != nil {
			t.Fatal(err)
		}
		e.clock.advance(engine.DefaultAccountsTTL + time.Second)
		e.event("bob@example.com", "go", "")
		e.drain()
		if calls := sg.got(); len(calls) != 2 || calls[1].auth != "Bearer SG.key-2" {
			t.Fatalf("after the key changed, SendGrid got %+v", calls)
		}

		// No provider named: the tenant's default account for email.
		e.account(catalog, "transactional", "sendgrid", `{"api_key":"SG.default","from":"hi@example.com","base_url":"`+sg.URL+`"}`, true)
		dj := e.journey(true, g([]string{`in:event_entry:{"event_type":"welcome"}`,
			`mail:send_email:{"text":"Hello","to":"{{ customer.id }}","subject":"Welcome"}`}, []string{"in->mail"}, ""))
		if w := e.rt.Warnings(kalcifer.DefaultTenantID, mustGraph(t, g([]string{`in:event_entry:{"event_type":"welcome"}`,
			`mail:send_email:{"subject":"Hi","text":"Hello","to":"{{ customer.id }}"}`}, []string{"in->mail"}, ""))); len(w) != 0 {
			t.Errorf("warnings with a default account: %+v", w)
		}
		e.event("cy@example.com", "welcome", "")
		e.drain()
		if calls := sg.got(); len(calls) != 3 || calls[2].auth != "Bearer SG.default" || calls[2].to != "cy@example.com" {
			t.Fatalf("the default account's send: %+v", calls)
		}
		if s := e.sends(e.only(dj, "cy@example.com")); s[0].Status != kalcifer.SendSent {
			t.Fatalf("default send %+v", s[0])
		}

		// A name no account has: the send fails for good, naming it, and
		// activation warns.
		unknown := g([]string{`in:event_entry:{"event_type":"lost"}`, `mail:send_email:{"subject":"Hi","text":"Hello","to":"{{ customer.id }}","provider":"nosuch"}`},
			[]string{"in->mail"}, "")
		if w := e.rt.Warnings(kalcifer.DefaultTenantID, mustGraph(t, unknown)); len(w) != 1 || !strings.Contains(w[0].Message, `"nosuch"`) {
			t.Errorf("warnings for an unknown account: %+v", w)
		}
		uj := e.journey(true, unknown)
		e.event("dee@example.com", "lost", "")
		e.drain()
		if s := e.sends(e.only(uj, "dee@example.com")); s[0].Status != kalcifer.SendFailed || !strings.Contains(s[0].Detail, `"nosuch"`) {
			t.Fatalf("send naming an unknown account: %+v", s[0])
		}
		if n := len(sg.got()); n != 3 {
			t.Fatalf("SendGrid got %d calls, want 3", n)
		}
	})
}

// A provider account answering 500 again and again opens its breaker: its
// sends stay pending and are not called; after the cool-down one probe
// goes through, its success closes the breaker, and every message is
// delivered exactly once.
func TestBreakerHoldsSendsAndProbes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sg := newFakeSendGrid(t)
		catalog := e.withAccounts(engine.Config{BreakerFailures: 3, BreakerCooldown: time.Minute})
		e.account(catalog, "main", "sendgrid", `{"api_key":"SG.k","from":"news@example.com","base_url":"`+sg.URL+`"}`, true)
		j := e.journey(true, g([]string{`in:event_entry:{"event_type":"go"}`,
			`mail:send_email:{"text":"Hello","to":"{{ customer.id }}","subject":"Hi"}`}, []string{"in->mail"}, ""))
		pending := func(want int) {
			t.Helper()
			if n := e.countSends(kalcifer.SendPending); n != want {
				t.Fatalf("%d sends pending, want %d", n, want)
			}
		}
		sg.setFailing(true)
		for _, c := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			e.event(c, "go", "")
		}
		e.drain()
		if n := len(sg.got()); n != 3 {
			t.Fatalf("SendGrid got %d calls, want 3", n)
		}
		pending(3)

		// Open: new sends and due retries wait, uncalled.
		e.event("d@example.com", "go", "")
		e.event("e@example.com", "go", "")
		e.drain()
		e.clock.advance(10 * time.Second) // the retries' backoff is over, the cool-down is not
		e.drain()
		if n := len(sg.got()); n != 3 {
			t.Fatalf("SendGrid got %d calls while the breaker is open, want 3", n)
		}
		pending(5)

		// After the cool-down: one probe, alone; it succeeds and the rest follow.
		sg.setFailing(false)
		e.clock.advance(time.Minute)
		if n, err := e.rt.DeliverSends(e.ctx); err != nil || n != 1 {
			t.Fatalf("probe round called %d, %v; want 1", n, err)
		}
		e.drain()
		delivered := map[string]int{}
		for _, c := range sg.got() {
			if c.status == http.StatusAccepted {
				delivered[c.key]++
			}
		}
		if len(delivered) != 5 {
			t.Fatalf("%d messages delivered, want 5: %+v", len(delivered), sg.got())
		}
		for key, n := range delivered {
			if n != 1 {
				t.Errorf("send %s delivered %d times", key, n)
			}
		}
		if n := e.countSends(kalcifer.SendSent); n != 5 {
			t.Fatalf("%d sends sent, want 5", n)
		}
		for _, in := range e.instances(j) {
			wantStatus(t, in, kalcifer.InstanceCompleted)
		}
	})
}

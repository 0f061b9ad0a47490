package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/api"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/drivers"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/jwtauth"
	"github.com/kalcifer/kalcifer/live"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// The runtime cmd/kalcifer wires in must be what the API asks for.
var _ api.Engine = (*engine.Runtime)(nil)

// testBundle is one API server over a fresh SQLite store, with keys of every
// role for the default tenant and an admin key of a second tenant.
type testBundle struct {
	t       *testing.T
	srv     *httptest.Server
	handler http.Handler
	store   *store.Store
	backend *sqlite.Backend
	logs    *syncBuffer
	rt      *engine.Runtime // nil unless set up withRuntime
	hub     *live.Hub

	admin, editor, viewer string // default tenant
	otherAdmin            string // tenant "acme"

	webhookTokens []string // made by fixtures, in order
}

// testPublicURL is the public URL of the servers setup makes: links in
// emails and providers' callback URLs start with it.
const testPublicURL = "https://kalcifer.example.com"

// setupOptions adjusts setup for a test.
type setupOptions struct {
	maxBodyBytes int64
	jwt          *jwtauth.Verifier
	engine       api.Engine     // a stand-in engine
	runtime      bool           // a real engine.Runtime, started, over the store
	lua          bool           // the runtime runs custom_code (withLua)
	postgres     bool           // PostgreSQL instead of SQLite (onPostgres)
	clock        kalcifer.Clock // the rate limiter's clock (withClock)
	databaseURL  string         // this PostgreSQL database rather than a new one (onDatabase)
	live         live.Config    // the live feed's settings (its Store is set by setup)
	smallWrites  bool           // the server's sockets have small send buffers (a slow reader backs up soon)
}

// withClock times the rate limits with c, so tests move time by hand.
func withClock(c kalcifer.Clock) func(*setupOptions) {
	return func(o *setupOptions) { o.clock = c }
}

// withRuntime runs a real engine over the bundle's store, every channel
// delivered by the log provider.
func withRuntime(o *setupOptions) { o.runtime = true }

// withLua runs a real engine whose custom_code nodes run on a pool of real
// Lua workers (this test binary, re-executed).
func withLua(o *setupOptions) { o.runtime, o.lua = true, true }

var (
	luaPool    *sandbox.Pool
	luaPoolErr error
	luaOnce    sync.Once
)

// withEngine serves the engine routes with e.
func withEngine(e api.Engine) func(*setupOptions) {
	return func(o *setupOptions) { o.engine = e }
}

func setup(t *testing.T, opts ...func(*setupOptions)) *testBundle {
	t.Helper()
	var o setupOptions
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	var lite *sqlite.Backend
	var b store.Backend
	var err error
	var pg *postgres.Backend
	if o.postgres {
		url := o.databaseURL
		if url == "" {
			url = pgtest.URL(t)
		}
		pg, err = postgres.Open(ctx, url)
		b = pg
	} else {
		lite, err = sqlite.Open(ctx, t.TempDir())
		b = lite
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	st := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	st.Observe(&analytics.Observer{})
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Logf("close store: %v", err)
		}
	})
	logs := &syncBuffer{}
	o.live.Store = st
	o.live.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	if pg != nil {
		o.live.Relay = pg
	}
	hub := live.New(o.live)
	st.Observe(hub) // before the engine starts
	liveCtx, stopLive := context.WithCancel(ctx)
	t.Cleanup(stopLive)
	if err := hub.Start(liveCtx); err != nil {
		t.Fatalf("start the live feed: %v", err)
	}
	// Provider accounts reach local test servers (127.0.0.1).
	catalog := drivers.Catalog(netguard.Policy{AllowPrivate: true}.Client(), slog.New(slog.NewJSONHandler(logs, nil)))
	var rt *engine.Runtime
	if o.runtime {
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		lp := logprovider.New(logger)
		var lua *sandbox.Pool
		if o.lua {
			luaOnce.Do(func() { luaPool, luaPoolErr = sandbox.New(sandbox.Options{Workers: 1}) })
			if luaPoolErr != nil {
				t.Fatalf("start the Lua pool: %v", luaPoolErr)
			}
			lua = luaPool
		}
		rt = engine.New(engine.Config{
			Store:     st,
			Sandbox:   lua,
			Logger:    logger,
			Accounts:  catalog,
			PublicURL: testPublicURL,
			Providers: channel.NewRegistry(map[string]channel.Provider{
				"email": lp, "sms": lp, "push": lp, "whatsapp": lp, "webhook": lp,
			}),
		})
		if err := rt.Start(ctx); err != nil {
			t.Fatalf("start engine: %v", err)
		}
		t.Cleanup(rt.Stop) // before the store closes
		o.engine = rt
	}
	h := api.NewHandler(api.Config{
		Store:        st,
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:      "test-1.2.3",
		StartedAt:    time.Now().Add(-90 * time.Second),
		MaxBodyBytes: o.maxBodyBytes,
		// Small enough for TestBodyLimits to send one byte over it.
		MaxImportBytes: 4 << 20,
		Engine:         o.engine,
		Designer:       offlineDesigner(st),
		JWT:            o.jwt,
		Clock:          o.clock,
		Providers:      catalog,
		PublicURL:      testPublicURL,
		Live:           hub,
	})
	srv := httptest.NewUnstartedServer(h)
	if o.smallWrites {
		srv.Listener = smallWrites{srv.Listener}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	tb := &testBundle{t: t, srv: srv, handler: h, store: st, backend: lite, logs: logs, rt: rt, hub: hub}
	tb.admin = tb.newKey("default", kalcifer.RoleAdmin)
	tb.editor = tb.newKey("default", kalcifer.RoleEditor)
	tb.viewer = tb.newKey("default", kalcifer.RoleViewer)
	tb.otherAdmin = tb.newKey("acme", kalcifer.RoleAdmin)
	return tb
}

// servedRoutes lists the router's routes as "METHOD /path/{param}".
func (tb *testBundle) servedRoutes() []string {
	tb.t.Helper()
	routes, ok := tb.handler.(chi.Routes)
	if !ok {
		tb.t.Fatalf("NewHandler returned %T, not a chi router", tb.handler)
	}
	var served []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		tb.t.Fatalf("walk routes: %v", err)
	}
	return served
}

func (tb *testBundle) newKey(tenant string, role kalcifer.Role) string {
	tb.t.Helper()
	ctx := context.Background()
	if _, _, err := tb.store.EnsureTenant(ctx, "system", tenant); err != nil {
		tb.t.Fatalf("ensure tenant %s: %v", tenant, err)
	}
	_, secret, err := tb.store.CreateAPIKey(ctx, "system", store.CreateAPIKeyParams{TenantID: tenant, Role: role})
	if err != nil {
		tb.t.Fatalf("create %s key: %v", role, err)
	}
	return secret
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. body may be nil, a string or []byte (sent as is), or
// any value (sent as JSON). JSON bodies are labelled application/json.
func (tb *testBundle) do(method, path, key string, body any) *response {
	tb.t.Helper()
	return tb.doWith(method, path, key, body, nil)
}

func (tb *testBundle) doWith(method, path, key string, body any, header http.Header) *response {
	tb.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, tb.srv.URL+path, rd)
	if err != nil {
		tb.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := tb.srv.Client().Do(req)
	if err != nil {
		tb.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: raw}
}

// want fails the test unless the response has the given status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// into decodes the JSON body into v.
func (r *response) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError is the decoded error body.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []kalcifer.Detail `json:"details"`
	State   map[string]any    `json:"state"`
}

// wantError checks the status and error code and returns the error.
func (r *response) wantError(t *testing.T, status int, code string) apiError {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q", ct)
	}
	var body struct {
		Error apiError `json:"error"`
	}
	r.into(t, &body)
	if body.Error.Code != code {
		t.Fatalf("error code = %q, want %q; body: %s", body.Error.Code, code, r.body)
	}
	if body.Error.Message == "" {
		t.Fatalf("error without message: %s", r.body)
	}
	return body.Error
}

// validGraph is the smallest valid journey: an entry and an exit.
const validGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":100}}],
	"edges":[{"id":"e1","source":"entry","target":"exit"}]}`

// createJourney creates a journey through the API and returns it.
func (tb *testBundle) createJourney(name string, withGraph bool) kalcifer.Journey {
	tb.t.Helper()
	body := map[string]any{"name": name}
	if withGraph {
		body["graph"] = json.RawMessage(validGraph)
	}
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, body).want(tb.t, http.StatusCreated).into(tb.t, &j)
	return j
}

// eventually polls cond until it holds, failing the test after a deadline:
// the engine routes events in the background, so its effects show up soon
// after a request is answered, not at once.
func (tb *testBundle) eventually(what string, cond func() bool) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

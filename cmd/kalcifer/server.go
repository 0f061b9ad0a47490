package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux, served only on KALCIFER_DEBUG_ADDR
	"net/url"
	"os"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/analytics/clickhouse"
	"github.com/kalcifer/kalcifer/api"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/drivers"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/jwtauth"
	"github.com/kalcifer/kalcifer/live"
	"github.com/kalcifer/kalcifer/metrics"
	"github.com/kalcifer/kalcifer/notify"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/sqlite"
	"github.com/kalcifer/kalcifer/web"
)

// Main is a running Kalcifer: the one place that picks concrete adapters.
// main() and the end-to-end test both build it.
type Main struct {
	Config Config
	Logger *slog.Logger
	Store  *store.Store
	Engine *engine.Runtime
	// Lua runs custom_code nodes when KALCIFER_ENABLE_CUSTOM_CODE is set.
	Lua *sandbox.Pool
	// Hooks delivers outgoing webhooks; Alerts evaluates alert rules.
	Hooks  *notify.Deliverer
	Alerts *notify.Alerts
	// ClickHouse copies events to ClickHouse when KALCIFER_CLICKHOUSE_URL
	// is set.
	ClickHouse *clickhouse.Sink
	// Out receives the one-time message with a generated admin key.
	Out io.Writer

	// Metrics are the server's Prometheus metrics; nil when KALCIFER_METRICS=off.
	Metrics *metrics.Metrics

	http            *http.Server
	debug           *http.Server // pprof, when KALCIFER_DEBUG_ADDR is set
	metrics         *http.Server // /metrics, when KALCIFER_METRICS_ADDR is set
	metricsListener net.Listener
	tracing         *sdktrace.TracerProvider
	listener        net.Listener
	done            chan error
	stopLive        func() // ends the live feed's counts and relay
	// stopSink ends the ClickHouse sink's loop; sinkDone closes when it has.
	stopSink context.CancelFunc
	sinkDone chan struct{}
	// stopRetention ends the history retention loop, when there is one.
	stopRetention context.CancelFunc
}

// openStore opens and migrates the configured backend, seals what an older
// version left in plaintext, and makes sure the default tenant exists.
// met, when not nil, times its transactions.
func openStore(ctx context.Context, c Config, logger *slog.Logger, met *metrics.Metrics) (*store.Store, string, error) {
	keyring, err := openKeyring(c, logger)
	if err != nil {
		return nil, "", err
	}
	var b store.Backend
	var where string
	if c.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, c.DatabaseURL, postgres.WithLogger(logger), postgres.WithPoolSize(c.PoolSize))
		if err != nil {
			return nil, "", err
		}
		b, where = pg, redact(c.DatabaseURL)
	} else {
		lite, err := sqlite.Open(ctx, c.DataDir)
		if err != nil {
			return nil, "", err
		}
		b, where = lite, lite.Path()
	}
	if err := b.Migrate(ctx); err != nil {
		b.Close()
		return nil, "", fmt.Errorf("migrate %s: %w", where, err)
	}
	st := store.New(met.Backend(b), kalcifer.SystemClock{}, keyring)
	st.SetDefaultLimits(c.Limits)
	// The analytics counters commit with the engine's steps. The hidden
	// KALCIFER_BENCH_ANALYTICS_OFF is for `kalcifer bench j1 --analytics
	// off` only: it measures what keeping them costs.
	if os.Getenv("KALCIFER_BENCH_ANALYTICS_OFF") != "true" {
		st.Observe(&analytics.Observer{})
	} else {
		logger.Warn("analytics counters are off (KALCIFER_BENCH_ANALYTICS_OFF, for benchmarks): the analytics routes answer without new counts")
	}
	r, err := st.SealAtRest(ctx)
	if err != nil {
		st.Close()
		return nil, "", err
	}
	if r.Sealed > 0 || r.UpgradedKeys > 0 {
		logger.Info("stored secrets brought up to date", "sealed", r.Sealed, "api_keys_rehashed", r.UpgradedKeys)
	}
	if _, _, err := st.EnsureTenant(ctx, "system", kalcifer.DefaultTenantID); err != nil {
		st.Close()
		return nil, "", fmt.Errorf("default tenant: %w", err)
	}
	return st, where, nil
}

// providers are the server's message providers: call_webhook nodes call
// signed webhooks, reaching internal addresses only as guard allows; the
// other channels log what they would send unless the tenant has a default
// provider account for the channel (drivers.Catalog builds those).
func providers(st *store.Store, logger *slog.Logger, guard netguard.Policy) *channel.Registry {
	logged := logprovider.New(logger)
	hooks := webhook.New(st.WebhookSecret, webhook.WithPolicy(guard))
	return channel.NewRegistry(map[string]channel.Provider{
		"email": logged, "sms": logged, "push": logged, "whatsapp": logged, "webhook": hooks,
	})
}

// redact drops the password from a database URL for logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres"
	}
	return u.Redacted()
}

// Run opens the store, prepares the default tenant and keys, and starts
// serving. It returns once the server listens; Wait or Close end it.
func (m *Main) Run(ctx context.Context) error {
	if m.Config.Metrics {
		m.Metrics = metrics.New(m.Logger)
	}
	var tracer trace.TracerProvider // nil: no spans
	if m.Config.OTLPTracesURL != "" {
		tp, err := newTracing(ctx, m.Config.OTLPTracesURL)
		if err != nil {
			return err
		}
		m.tracing, tracer = tp, tp
		m.Logger.Info("tracing on", "otlp_endpoint", m.Config.OTLPTracesURL)
		defer func() {
			if m.done == nil { // Run failed: nothing will Close
				m.stopTracing()
			}
		}()
	}
	st, where, err := openStore(ctx, m.Config, m.Logger, m.Metrics)
	if err != nil {
		return err
	}
	m.Store = st
	if m.Metrics != nil {
		m.Metrics.Watch(st)
	}
	if err := m.seed(ctx); err != nil {
		st.Close()
		return err
	}
	ai, err := designerService(st, m.Config.AI, m.Config.Outbound)
	if err != nil {
		st.Close()
		return err
	}
	if m.Config.CustomCode {
		if m.Lua, err = sandbox.New(sandbox.Options{Workers: m.Config.CustomCodeWorkers, Memory: m.Config.CustomCodeMemory}); err != nil {
			st.Close()
			return fmt.Errorf("KALCIFER_ENABLE_CUSTOM_CODE: %w", err)
		}
		m.Logger.Info("custom code on", "lua_workers", m.Config.CustomCodeWorkers, "memory_mb", m.Config.CustomCodeMemory>>20)
	}
	// The live feed watches the engine's transactions, so it is registered
	// before the engine starts; on PostgreSQL it hears the other replicas.
	feed := live.Config{Store: st, Logger: m.Logger}
	if pg, ok := st.Backend().(*postgres.Backend); ok {
		feed.Relay = pg
	}
	hub := live.New(feed)
	st.Observe(hub)
	liveCtx, stopLive := context.WithCancel(context.WithoutCancel(ctx))
	m.stopLive = stopLive
	if err := hub.Start(liveCtx); err != nil {
		m.stopLive()
		m.closeLua()
		st.Close()
		return err
	}
	if m.Config.ClickHouse.URL != "" {
		c := m.Config.ClickHouse
		c.Store, c.Logger = st, m.Logger
		if m.ClickHouse, err = clickhouse.New(c); err != nil {
			m.stopLive()
			m.closeLua()
			st.Close()
			return fmt.Errorf("ClickHouse sink: %w", err)
		}
		st.Observe(m.ClickHouse) // before the engine starts
	}
	catalog := drivers.Catalog(m.Config.Outbound.Client(), m.Logger)
	// Outgoing webhooks: the observer writes engine events to the outbox
	// in the engine's transactions, so it is registered before the engine
	// runs one; the subscriptions are loaded before too.
	m.Hooks = notify.NewDeliverer(notify.Config{Store: st, Client: m.Config.Outbound.Client(), Logger: m.Logger,
		Timeout: m.Config.WebhookTimeout, MaxAttempts: m.Config.WebhookMaxAttempts})
	st.Observe(notify.NewObserver(st, m.Hooks))
	if err := m.Hooks.Start(context.WithoutCancel(ctx)); err != nil {
		m.stopLive()
		m.closeLua()
		st.Close()
		return fmt.Errorf("start webhook deliveries: %w", err)
	}
	m.Alerts = notify.NewAlerts(st, nil, m.Logger, m.Config.AlertInterval)
	m.Alerts.Start(context.WithoutCancel(ctx))
	// The webhook signing secrets are read before the engine starts, so no
	// webhook call reads the database between its in-flight mark and its
	// request (store.Store.LoadWebhookSecrets).
	if _, err := st.LoadWebhookSecrets(ctx); err != nil {
		m.stopNotify()
		m.stopLive()
		m.closeLua()
		st.Close()
		return err
	}
	m.Engine = engine.New(engine.Config{Store: st, Logger: m.Logger, Providers: providers(st, m.Logger, m.Config.Outbound), Accounts: catalog,
		SendLease:       m.Config.SendLease,
		SegmentRefresh:  m.Config.SegmentRefresh,
		SendConcurrency: m.Config.SendConcurrency, SendTenantConcurrency: m.Config.SendTenantConcurrency,
		SendTargetConcurrency: m.Config.SendTargetConcurrency, Sandbox: m.Lua, PublicURL: m.Config.PublicURL,
		Metrics: m.Metrics, Tracer: tracer})
	if err := m.Engine.Start(context.WithoutCancel(ctx)); err != nil {
		m.stopNotify()
		m.stopLive()
		m.closeLua()
		st.Close()
		return fmt.Errorf("start engine: %w", err)
	}
	var tokens *jwtauth.Verifier
	if m.Config.JWT.Enabled() {
		if tokens, err = jwtauth.New(m.Config.JWT); err != nil {
			m.Engine.Stop()
			m.stopNotify()
			m.stopLive()
			st.Close()
			return fmt.Errorf("JWT sign-in: %w", err)
		}
	}
	m.listener, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		m.Engine.Stop()
		m.stopNotify()
		m.stopLive()
		m.closeLua()
		st.Close()
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	var metricsHere http.Handler // /metrics on the API's address
	if m.Metrics != nil && m.Config.MetricsAddr == "" {
		metricsHere = m.Metrics.Handler()
	}
	// Every connection is bounded in time: a client that trickles its
	// request, or never reads the answer, is cut off rather than held.
	m.http = &http.Server{
		Handler: api.NewHandler(api.Config{Store: st, Engine: m.Engine, Logger: m.Logger, Version: version,
			StartedAt: time.Now(), MaxBodyBytes: m.Config.MaxBodyBytes, MaxImportBytes: m.Config.MaxImportBytes,
			Designer: ai, DesignerTimeout: m.Config.StreamTimeout(), CORSOrigins: m.Config.CORSOrigins, JWT: tokens, Providers: catalog, PublicURL: m.Config.PublicURL,
			Outbound: m.Config.Outbound, App: web.Handler(), Metrics: m.Metrics, MetricsHandler: metricsHere, Tracer: tracer, Live: hub}),
		ReadHeaderTimeout: min(10*time.Second, m.Config.HTTPReadTimeout),
		ReadTimeout:       m.Config.HTTPReadTimeout,
		WriteTimeout:      m.Config.HTTPWriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	if m.Config.DebugAddr != "" {
		m.debug = &http.Server{Addr: m.Config.DebugAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := m.debug.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error("debug server", "err", err)
			}
		}()
	}
	if m.Config.MetricsAddr != "" {
		ml, err := net.Listen("tcp", m.Config.MetricsAddr)
		if err != nil {
			m.listener.Close()
			if m.debug != nil {
				m.debug.Close()
			}
			m.Engine.Stop()
			m.closeLua()
			st.Close()
			return fmt.Errorf("listen on KALCIFER_METRICS_ADDR %s: %w", m.Config.MetricsAddr, err)
		}
		m.metricsListener = ml
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Metrics.Handler())
		m.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := m.metrics.Serve(ml); !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error("metrics server", "err", err)
			}
		}()
		m.Logger.Info("metrics served", "addr", ml.Addr().String())
	}
	if m.ClickHouse != nil {
		var sinkCtx context.Context
		sinkCtx, m.stopSink = context.WithCancel(context.WithoutCancel(ctx))
		m.sinkDone = make(chan struct{})
		go func() { m.ClickHouse.Run(sinkCtx); close(m.sinkDone) }()
		m.Logger.Info("ClickHouse sink on", "url", m.Config.ClickHouse.URL, "database", m.Config.ClickHouse.Database)
	}
	if keep := m.Config.HistoryRetention; keep > 0 {
		var retainCtx context.Context
		retainCtx, m.stopRetention = context.WithCancel(context.WithoutCancel(ctx))
		go analytics.RetainHistory(retainCtx, st, kalcifer.SystemClock{}, keep, 10*time.Minute, m.Logger)
	}
	m.done = make(chan error, 1)
	go func() { m.done <- m.http.Serve(m.listener) }()
	m.Logger.Info("kalcifer serving", "addr", m.listener.Addr().String(), "store", st.Kind(), "database", where, "version", version)
	fmt.Fprintf(m.Out, "Kalcifer is running: open %s\n", appURL(m.listener.Addr()))
	return nil
}

// appURL is the web app's address for a person on this machine: the
// listener's, with localhost for an address that listens everywhere.
func appURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// seed makes sure the default tenant can be reached with a key.
func (m *Main) seed(ctx context.Context) error {
	if m.Config.AdminAPIKey != "" {
		_, err := m.Store.EnsureAPIKey(ctx, "system", store.CreateAPIKeyParams{TenantID: kalcifer.DefaultTenantID,
			Name: "KALCIFER_ADMIN_API_KEY", Role: kalcifer.RoleAdmin, Secret: m.Config.AdminAPIKey})
		if err != nil {
			return fmt.Errorf("seed admin key: %w", err)
		}
		return nil
	}
	keys, err := m.Store.ListAPIKeys(ctx, kalcifer.DefaultTenantID)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return nil
	}
	_, secret, err := m.Store.CreateAPIKey(ctx, "system", store.CreateAPIKeyParams{TenantID: kalcifer.DefaultTenantID,
		Name: "first admin key", Role: kalcifer.RoleAdmin})
	if err != nil {
		return fmt.Errorf("first admin key: %w", err)
	}
	fmt.Fprintf(m.Out, "\nNo API key existed, so one was made for the default tenant (admin). It is shown only now:\n\n    %s\n\nUse it as: Authorization: Bearer %s\n\n", secret, secret)
	return nil
}

// Addr is the address the server listens on (useful with ":0").
func (m *Main) Addr() net.Addr { return m.listener.Addr() }

// Wait blocks until the server stops.
func (m *Main) Wait() error {
	if err := <-m.done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops accepting requests, lets in-flight ones finish within the
// shutdown timeout, then closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.metrics != nil {
		m.metrics.Close()
	}
	if m.stopRetention != nil {
		m.stopRetention()
	}
	if m.Engine != nil {
		m.Engine.Stop()
	}
	m.stopNotify()
	if m.stopLive != nil {
		m.stopLive()
	}
	m.closeLua() // after the engine: its last runs may use the workers
	if m.stopSink != nil {
		// What it has not shipped stays in the outbox for the next start.
		m.stopSink()
		<-m.sinkDone
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	errs = append(errs, m.stopTracing())
	return errors.Join(errs...)
}

// stopTracing exports the spans still buffered and stops the exporter.
func (m *Main) stopTracing() error {
	if m.tracing == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.tracing.Shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// MetricsAddr is the address of the metrics server (KALCIFER_METRICS_ADDR),
// nil when metrics are served on the API's address or not at all.
func (m *Main) MetricsAddr() net.Addr {
	if m.metricsListener == nil {
		return nil
	}
	return m.metricsListener.Addr()
}

func (m *Main) closeLua() {
	if m.Lua != nil {
		m.Lua.Close()
	}
}

// stopNotify stops the alert loop and the webhook deliveries.
func (m *Main) stopNotify() {
	if m.Alerts != nil {
		m.Alerts.Stop()
	}
	if m.Hooks != nil {
		m.Hooks.Stop()
	}
}

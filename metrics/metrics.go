// Package metrics is Kalcifer's Prometheus metrics: what the engine and the
// API count as they work, and the gauges read from the store on scrape.
// Every metric is named kalcifer_*; labels take only bounded values (route
// patterns, node types, channels, provider drivers, outcomes), never an id
// a client chooses, except the migrations at work, which are few.
//
// A nil *Metrics measures nothing, so the engine and the API call it
// unconditionally. It imports kalcifer, store and client_golang.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kalcifer/kalcifer/store"
)

// ReadEvery is how long gauges read from the store are reused: scrapes
// closer together than this share one read, so scraping never loads the
// database more than once per interval.
const ReadEvery = 5 * time.Second

// Metrics holds every collector and the registry they are served from.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	eventsIngested *prometheus.CounterVec
	steps          *prometheus.CounterVec
	instances      *prometheus.CounterVec
	sends          *prometheus.CounterVec
	calls          *prometheus.CounterVec
	callSeconds    *prometheus.HistogramVec
	timerLag       prometheus.Histogram
	batches        *prometheus.HistogramVec
	requests       *prometheus.HistogramVec
	txSeconds      prometheus.Histogram
}

// New returns the metrics of one server; Watch connects them to its store.
// logger receives failed reads of the store's gauges.
func New(logger *slog.Logger) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), log: logger}
	m.eventsIngested = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalcifer_events_ingested_total",
		Help: "Events offered for ingestion, by outcome: stored, duplicate (a client id seen before), failed (not stored)."},
		[]string{"outcome"})
	m.steps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalcifer_steps_total",
		Help: "Steps the engine recorded in instances' histories, by node type and result class (ok, waiting, failed, exited)."},
		[]string{"node_type", "result"})
	m.instances = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalcifer_instances_total",
		Help: "Instance transitions: started, and each status an instance reached (completed, exited, failed, paused, active)."},
		[]string{"event"})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalcifer_sends_total",
		Help: "Sends settled in the ledger, by channel and final status (sent, logged, failed, ambiguous, skipped)."},
		[]string{"channel", "status"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalcifer_provider_calls_total",
		Help: "Provider calls, by channel, provider (driver) and outcome (sent, logged, retry, failed, ambiguous)."},
		[]string{"channel", "provider", "outcome"})
	m.callSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kalcifer_provider_call_duration_seconds",
		Help: "How long provider calls took, by channel and provider.", Buckets: prometheus.DefBuckets},
		[]string{"channel", "provider"})
	m.timerLag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kalcifer_timer_lag_seconds",
		Help:    "How late due waits fired: the time between a wait's due time and the transaction that woke it.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}})
	m.batches = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kalcifer_engine_batch_duration_seconds",
		Help: "How long the engine's batches that found work took, by loop (events, timers, sends, migrations, entries).", Buckets: prometheus.DefBuckets},
		[]string{"loop"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kalcifer_http_request_duration_seconds",
		Help: "HTTP requests, by method, route pattern (\"unmatched\" for paths no route takes) and status code.", Buckets: prometheus.DefBuckets},
		[]string{"method", "route", "code"})
	m.txSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kalcifer_store_transaction_duration_seconds",
		Help: "How long store transactions took, from begin to commit or rollback.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}})
	m.reg.MustRegister(m.eventsIngested, m.steps, m.instances, m.sends, m.calls, m.callSeconds, m.timerLag, m.batches, m.requests, m.txSeconds,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "kalcifer"}))
	// The Go runtime's metrics, named kalcifer_go_* like every other.
	prometheus.WrapRegistererWithPrefix("kalcifer_", m.reg).MustRegister(collectors.NewGoCollector())
	return m
}

// Watch registers m as an observer of st's engine transactions (steps,
// instances, sends) and reads the backlogs and migrations at work from st
// when scraped. Call it once, before the engine starts.
func (m *Metrics) Watch(st *store.Store) {
	st.Observe(m)
	m.reg.MustRegister(&gauges{st: st, log: m.log})
}

// Handler serves the metrics in Prometheus' text format. (No Registry in
// its options: promhttp would register its own promhttp_* counter, which is
// not named kalcifer_*.)
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is where the collectors are registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// EventsIngested counts n events offered for ingestion that came to outcome.
func (m *Metrics) EventsIngested(outcome string, n int) {
	if m != nil && n > 0 {
		m.eventsIngested.WithLabelValues(outcome).Add(float64(n))
	}
}

// TimerFired observes how late a due wait fired.
func (m *Metrics) TimerFired(lag time.Duration) {
	if m != nil {
		m.timerLag.Observe(max(lag, 0).Seconds())
	}
}

// ProviderCalled counts a provider call and its duration.
func (m *Metrics) ProviderCalled(channel, provider, outcome string, d time.Duration) {
	if m != nil {
		m.calls.WithLabelValues(channel, provider, outcome).Inc()
		m.callSeconds.WithLabelValues(channel, provider).Observe(d.Seconds())
	}
}

// Batch observes one engine batch that found work.
func (m *Metrics) Batch(loop string, d time.Duration) {
	if m != nil {
		m.batches.WithLabelValues(loop).Observe(d.Seconds())
	}
}

// Request observes one answered HTTP request; route is the router's
// pattern, or "" when no route took the path.
func (m *Metrics) Request(method, route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // a client may send any token as a method
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Observe(d.Seconds())
}

// Transaction observes one store transaction.
func (m *Metrics) Transaction(d time.Duration) {
	if m != nil {
		m.txSeconds.Observe(d.Seconds())
	}
}

// gauges reads the backlogs and migration progress from the store on
// scrape, at most once per ReadEvery.
type gauges struct {
	st  *store.Store
	log *slog.Logger

	mu     sync.Mutex
	at     time.Time
	last   store.Gauges
	errors int
}

var (
	inboxDesc = prometheus.NewDesc("kalcifer_inbox_backlog",
		"Stored events not yet routed by the engine.", nil, nil)
	sendsDesc = prometheus.NewDesc("kalcifer_send_backlog",
		"Pending sends whose time has come, not yet called.", nil, nil)
	migTotalDesc = prometheus.NewDesc("kalcifer_migration_instances",
		"Instances on the old version when a running (or aborting) migration started.", []string{"migration_id", "journey_id"}, nil)
	migMovedDesc = prometheus.NewDesc("kalcifer_migration_moved_instances",
		"Instances a running (or aborting) migration has moved to the new version so far.", []string{"migration_id", "journey_id"}, nil)
	readErrDesc = prometheus.NewDesc("kalcifer_gauge_read_errors_total",
		"Failed reads of the backlogs and migrations from the store (the last good figures are served meanwhile).", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inboxDesc, sendsDesc, migTotalDesc, migMovedDesc, readErrDesc} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.at) >= ReadEvery {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		read, err := g.st.ReadGauges(ctx)
		cancel()
		if err != nil {
			g.errors++
			g.log.Error("metrics: reading the backlogs failed", "err", err)
		} else {
			g.last = read
		}
		g.at = time.Now() // a failing database is not asked again at every scrape either
	}
	ch <- prometheus.MustNewConstMetric(inboxDesc, prometheus.GaugeValue, float64(g.last.Inbox))
	ch <- prometheus.MustNewConstMetric(sendsDesc, prometheus.GaugeValue, float64(g.last.SendsDue))
	for _, mg := range g.last.Migrations {
		ch <- prometheus.MustNewConstMetric(migTotalDesc, prometheus.GaugeValue, float64(mg.Progress.Total), mg.ID, mg.JourneyID)
		ch <- prometheus.MustNewConstMetric(migMovedDesc, prometheus.GaugeValue, float64(mg.Progress.Migrated), mg.ID, mg.JourneyID)
	}
	ch <- prometheus.MustNewConstMetric(readErrDesc, prometheus.CounterValue, float64(g.errors))
}

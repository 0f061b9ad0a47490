package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/logctx"
	"github.com/kalcifer/kalcifer/liquid"
	"github.com/kalcifer/kalcifer/metrics"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/tracking"
)

// Config configures a Runtime.
type Config struct {
	Store  *store.Store
	Clock  kalcifer.Clock
	Logger *slog.Logger
	// Providers are the server's providers: the default of each channel
	// when a tenant has no default account for it, and those nodes may
	// name (log, webhook).
	Providers *channel.Registry
	// Accounts builds the providers of tenants' provider accounts; nil
	// leaves accounts unused (every send goes to a server provider).
	Accounts *channel.Catalog
	// AccountsTTL is how long a tenant's accounts are used as read before
	// being read again (default DefaultAccountsTTL).
	AccountsTTL time.Duration
	// BreakerFailures, BreakerWindow and BreakerCooldown tune the circuit
	// breaker of each provider account (defaults DefaultBreaker…).
	BreakerFailures int
	BreakerWindow   time.Duration
	BreakerCooldown time.Duration
	// EventBatch, TimerBatch and SendBatch bound the work of one
	// transaction.
	EventBatch int
	TimerBatch int
	SendBatch  int
	// EnrolBatch bounds the customers one transaction of a segment or
	// scheduled entry's pass walks (default DefaultEnrolBatch, or
	// DefaultEnrolBatchSingleWriter on SQLite, where after each batch the
	// pass waits as long as the batch took, and batches shrink to hold the
	// writer about 25 ms: batchSizer).
	// ChangeBatch the changed customers one transaction checks against
	// segment entries (default DefaultChangeBatch).
	EnrolBatch  int
	ChangeBatch int
	// SegmentBatch bounds the customers one transaction of a segment's
	// full pass (its stored members' build or refresh) walks (default
	// DefaultSegmentBatch, or DefaultSegmentBatchSingleWriter on SQLite,
	// sized down as EnrolBatch is);
	// SegmentRefresh is how often a time-relative segment's members are
	// refreshed by a full pass (default store.DefaultSegmentRefresh).
	SegmentBatch   int
	SegmentRefresh time.Duration
	// SendConcurrency bounds provider calls in flight (default 128);
	// SendTenantConcurrency and SendTargetConcurrency bound those of one
	// tenant (default 96) and of one target — a webhook host or a provider
	// (default 64) — so that one slow receiver cannot take every slot.
	SendConcurrency       int
	SendTenantConcurrency int
	SendTargetConcurrency int
	// EventWorkers and TimerWorkers run that many event and timer loops
	// in parallel on PostgreSQL (defaults 4 and 2); SQLite, with one
	// writer, always runs one of each.
	EventWorkers int
	TimerWorkers int
	// PollInterval is how often the loops look for work when nobody pokes
	// them, should a wake-up have been lost (default 1 s); while they find
	// nothing, the wait doubles up to MaxPollInterval (default 60 polls).
	// Work made by this process, or on PostgreSQL by another replica,
	// wakes them at once (idle.go).
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// Sandbox runs custom_code nodes; nil turns custom code off (On does
	// not list it, activation and publishing refuse it).
	Sandbox *sandbox.Pool
	// SendLease is how long a send may be in flight before any replica
	// settles it, even if its own replica looks alive (default
	// DefaultSendLease). It must exceed the longest provider call. A
	// replica that dies is noticed at once, without waiting for the lease.
	SendLease time.Duration
	// PublicURL is the server's public base URL (KALCIFER_PUBLIC_URL),
	// which unsubscribe links, the open pixel and tracked links of emails
	// sent through SMTP accounts, and providers' callback URLs start with;
	// empty sends emails without them.
	PublicURL string
	// RenderLimits bound each render of a message field (zero: the
	// liquid.DefaultLimits).
	RenderLimits liquid.Limits
	// Metrics counts ingested events, timer lag, provider calls and batch
	// durations; nil counts nothing. (Steps and sends are counted from the
	// store's observer, metrics.Metrics.Committed.)
	Metrics *metrics.Metrics
	// Tracer makes a span of every batch that found work; nil makes none.
	Tracer trace.TracerProvider
}

// Runtime runs journeys durably: it routes stored events, fires due timers
// and delivers sends, writing each instance's progress in one transaction
// with its waits and sends. Restarting it resumes everything from the store.
type Runtime struct {
	cfg Config
	// enrolSizer and segmentSizer size the batches of entries' passes and
	// of segments' full passes on a single-writer database (enrol.go).
	enrolSizer, segmentSizer batchSizer
	st                       *store.Store
	clock                    kalcifer.Clock
	log                      *slog.Logger
	// metrics and tracer measure the loops' work (telemetry.go).
	metrics *metrics.Metrics
	tracer  trace.Tracer

	// replica names this process among those sharing the database; its
	// sends in flight carry it, so that its death is noticed at once.
	replica int64
	send    *sender
	// accounts resolves sends' providers among tenants' accounts;
	// breakers stop calling accounts that keep failing.
	accounts *accounts
	breakers *breakers
	// renderer renders sends' content (render.go).
	renderer *renderer
	// tracker signs the open pixel and click links of emails Kalcifer
	// tracks itself (sends.go, track); nil without a public URL.
	tracker *tracking.Signer

	programs sync.Map // programKey → *Program
	plans    sync.Map // migration id → *Plan

	entriesMu  sync.Mutex
	entries    *entryIndex
	entriesTag string
	// entriesRead is when the journeys' tag was last read; entriesDirty
	// says journeys changed since (idle.go).
	entriesRead  time.Time
	entriesDirty atomic.Bool
	// enrolDue is the earliest next run of a scheduled or segment entry the
	// entry loop's last round saw, in Unix nanoseconds (0: none).
	enrolDue atomic.Int64

	ingest *batcher
	pokeEv []chan struct{} // one per event loop
	pokeTm []chan struct{} // one per timer loop
	pokeSd chan struct{}
	pokeMg chan struct{} // the migration loop
	pokeEn chan struct{} // the entry loop (enrol.go)
	// relay carries wake-ups to and from the other replicas (nil on
	// SQLite); told holds the wake kinds waiting to be sent, origin names
	// this replica in them (idle.go).
	relay   Relay
	origin  string
	told    atomic.Uint32
	tellNow chan struct{}
	stop    context.CancelFunc
	stopped sync.WaitGroup
	unlive  context.CancelFunc // ends the replica's liveness
}

// New returns a Runtime; Start begins its background work.
func New(cfg Config) *Runtime {
	if cfg.Clock == nil {
		cfg.Clock = kalcifer.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = logctx.Wrap(cfg.Logger)
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider()
	}
	if cfg.EventBatch <= 0 {
		cfg.EventBatch = 32
	}
	if cfg.TimerBatch <= 0 {
		cfg.TimerBatch = 500
	}
	if cfg.SendBatch <= 0 {
		cfg.SendBatch = 200
	}
	if cfg.SendConcurrency <= 0 {
		cfg.SendConcurrency = 128
	}
	if cfg.SendTenantConcurrency <= 0 {
		cfg.SendTenantConcurrency = max(cfg.SendConcurrency*3/4, 1)
	}
	if cfg.SendTargetConcurrency <= 0 {
		cfg.SendTargetConcurrency = max(cfg.SendConcurrency/2, 1)
	}
	if cfg.EnrolBatch <= 0 {
		cfg.EnrolBatch = DefaultEnrolBatch
		if cfg.Store.Dialect().SingleWriter {
			cfg.EnrolBatch = DefaultEnrolBatchSingleWriter
		}
	}
	if cfg.ChangeBatch <= 0 {
		cfg.ChangeBatch = DefaultChangeBatch
	}
	if cfg.SegmentBatch <= 0 {
		cfg.SegmentBatch = DefaultSegmentBatch
		if cfg.Store.Dialect().SingleWriter {
			cfg.SegmentBatch = DefaultSegmentBatchSingleWriter
		}
	}
	if cfg.SegmentRefresh <= 0 {
		cfg.SegmentRefresh = store.DefaultSegmentRefresh
	}
	if cfg.EventWorkers <= 0 {
		cfg.EventWorkers = 4
	}
	if cfg.TimerWorkers <= 0 {
		cfg.TimerWorkers = 2
	}
	if cfg.Store.Dialect().SingleWriter {
		cfg.EventWorkers, cfg.TimerWorkers = 1, 1
	}
	if cfg.SendLease <= 0 {
		cfg.SendLease = DefaultSendLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxPollInterval <= 0 {
		cfg.MaxPollInterval = 60 * cfg.PollInterval
	}
	cfg.MaxPollInterval = max(cfg.MaxPollInterval, cfg.PollInterval)
	if cfg.AccountsTTL <= 0 {
		cfg.AccountsTTL = DefaultAccountsTTL
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = DefaultBreakerFailures
	}
	if cfg.BreakerWindow <= 0 {
		cfg.BreakerWindow = DefaultBreakerWindow
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = DefaultBreakerCooldown
	}
	rt := &Runtime{cfg: cfg, st: cfg.Store, clock: cfg.Clock, log: cfg.Logger, metrics: cfg.Metrics, tracer: cfg.Tracer.Tracer(tracerName),
		replica: newReplicaID(), send: newSender(cfg.SendConcurrency),
		pokeEv: pokes(cfg.EventWorkers), pokeTm: pokes(cfg.TimerWorkers), pokeSd: make(chan struct{}, 1), pokeMg: make(chan struct{}, 1),
		pokeEn: make(chan struct{}, 1), tellNow: make(chan struct{}, 1)}
	rt.entriesDirty.Store(true)
	rt.ingest = newBatcher(rt.st, rt.pokeEvents)
	rt.accounts = newAccounts(rt)
	rt.breakers = newBreakers(cfg.BreakerFailures, cfg.BreakerWindow, cfg.BreakerCooldown, rt.log.Warn)
	limits := cfg.RenderLimits
	if limits == (liquid.Limits{}) {
		limits = liquid.DefaultLimits
	}
	rt.renderer = newRenderer(limits, cfg.PublicURL, rt.st.UnsubscribeKey())
	if cfg.PublicURL != "" {
		rt.tracker = tracking.NewSigner(tracking.Key(rt.st.Keyring()))
	}
	return rt
}

// On names the node types that are off unless turned on (graph.Kind.Off)
// and that this runtime runs: custom_code when it has a sandbox.
func (rt *Runtime) On() []string {
	if rt.cfg.Sandbox != nil {
		return []string{graph.TypeCustomCode}
	}
	return nil
}

// Start marks this replica alive, settles the sends of replicas that died
// in flight, then runs the event, timer, send and migration loops until
// Stop.
func (rt *Runtime) Start(ctx context.Context) error {
	live, unlive := context.WithCancel(context.WithoutCancel(ctx))
	if err := rt.st.Backend().Live(live, rt.replica); err != nil {
		unlive()
		return fmt.Errorf("mark replica alive: %w", err)
	}
	rt.unlive = unlive
	if n, err := rt.RecoverSends(ctx); err != nil {
		unlive()
		return fmt.Errorf("recover sends: %w", err)
	} else if n > 0 {
		rt.log.Warn("sends interrupted in flight were settled (ambiguous, or sent again where the receiver drops repeats)", "count", n)
	}
	ctx, rt.stop = context.WithCancel(ctx)
	if err := rt.startRelay(ctx); err != nil {
		rt.stop()
		unlive()
		return fmt.Errorf("listen for other replicas' work: %w", err)
	}
	lanes := rt.cfg.EventWorkers
	rt.stopped.Add(lanes + rt.cfg.TimerWorkers + 3)
	for lane := range lanes {
		go rt.loop(ctx, rt.pokeEv[lane], rt.measured("events", func(ctx context.Context) (int, error) { return rt.processLane(ctx, lane, lanes) }),
			nil, rt.untilInbox, rt.pokeAll)
	}
	for i := range rt.cfg.TimerWorkers {
		go rt.loop(ctx, rt.pokeTm[i], rt.measured("timers", rt.FireTimers), rt.untilNextTimer, rt.untilNextTimer, rt.pokeAll)
	}
	go rt.sendLoop(ctx)
	// A migration batch makes work only for timers (paths skipped to
	// their next node enter it when their timer, due now, fires).
	go rt.loop(ctx, rt.pokeMg, rt.measured("migrations", rt.MigrateBatch), nil, nil, rt.pokeTimers)
	// Segment and scheduled entries; profile changes committed by the
	// store (PATCH, identify, update_profile) poke it, and so do changes
	// of journeys.
	rt.st.OnCustomersChanged(func() { rt.nudge(nudgeEntries) })
	rt.st.OnJourneysChanged(func() { rt.nudge(nudgeJourneys) })
	go rt.loop(ctx, rt.pokeEn, rt.measured("entries", rt.Enrol), rt.untilNextEnrol, nil, rt.pokeAll)
	rt.nudgeLocal(nudgeEverything)
	return nil
}

// Stop ends the loops and waits for them; calls in flight get a few
// seconds to finish.
func (rt *Runtime) Stop() {
	if rt.stop != nil {
		rt.stop()
		rt.stopped.Wait()
	}
	if rt.unlive != nil {
		rt.unlive()
	}
	rt.ingest.close()
}

// loop runs work whenever poked, on its safety poll (idlePoll), or when
// next says work falls due, and at once again while work was found; after
// work it calls after, for the loops its work may have made work for. On
// a safety poll, look (when not nil) is asked first how long until work
// falls due: a cheap read, so that an idle loop does not run its batch
// transaction only to find nothing. next and look may answer zero or less
// for "due now".
func (rt *Runtime) loop(ctx context.Context, poke chan struct{}, work func(context.Context) (int, error),
	next, look func(context.Context) time.Duration, after func()) {
	defer rt.stopped.Done()
	poll := rt.newIdlePoll()
	t := time.NewTimer(poll.base)
	defer t.Stop()
	for {
		busy := false
		select {
		case <-ctx.Done():
			return
		case <-poke:
			busy = true
		case <-t.C:
		}
		if !busy && look != nil {
			if due := look(ctx); due > 0 {
				t.Reset(min(poll.next(false), due))
				continue
			}
		}
		for {
			n, err := work(ctx)
			if n > 0 {
				busy = true
				after() // work here may have made work there
			}
			if err != nil && ctx.Err() == nil {
				rt.log.Error("engine work failed", "err", err)
				break
			}
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
		wait := poll.next(busy)
		if next != nil {
			wait = min(wait, next(ctx))
		}
		t.Reset(max(wait, time.Millisecond))
	}
}

func (rt *Runtime) pokeEvents() { rt.nudge(nudgeEvents) }
func (rt *Runtime) pokeTimers() { rt.nudge(nudgeTimers) }
func (rt *Runtime) pokeSends()  { rt.nudge(nudgeSends) }

func (rt *Runtime) pokeAll() { rt.nudge(nudgeEvents | nudgeTimers | nudgeSends) }

func pokes(n int) []chan struct{} {
	chs := make([]chan struct{}, n)
	for i := range chs {
		chs[i] = make(chan struct{}, 1)
	}
	return chs
}

func pokeAll(chs []chan struct{}) {
	for _, ch := range chs {
		poke(ch)
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// program returns the compiled version, compiling it once. Inside an
// engine transaction, pass it as t: the version is then read through it.
func (rt *Runtime) program(ctx context.Context, t *store.EngineTx, tenantID, journeyID string, version int) (*Program, error) {
	key := programKey{journeyID, version}
	if p, ok := rt.programs.Load(key); ok {
		return p.(*Program), nil
	}
	var v *kalcifer.Version
	var err error
	if t != nil {
		v, err = t.Version(tenantID, journeyID, version)
	} else {
		v, err = rt.st.GetVersion(ctx, tenantID, journeyID, version)
	}
	if err != nil {
		return nil, err
	}
	p, err := Compile(journeyID, version, &v.Graph)
	if err != nil {
		return nil, err
	}
	rt.programs.Store(key, p)
	return p, nil
}

// programKey names a compiled journey version.
type programKey struct {
	journeyID string
	version   int
}

// decodeState reads an instance's engine state.
func decodeState(in *kalcifer.Instance) (State, error) {
	s, err := parseState(in.State)
	if err != nil {
		return s, fmt.Errorf("instance %s: %w", in.ID, err)
	}
	return s, nil
}

// errStale means the woken path no longer waits; the wake is dropped.
var errStale = errors.New("stale wake")

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

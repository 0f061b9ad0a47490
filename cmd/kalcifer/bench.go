package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/kalcifer/kalcifer/bench"
)

const benchUsage = `Usage: kalcifer bench SCENARIO [flags]

Runs a standard scenario of docs/BENCHMARKS.md against a real
"kalcifer serve" child (this binary) and prints a table.

Scenarios:
  j1      the peer journey: S1 starts, S2 events, S3 timers (--replicas N:
          N servers on one PostgreSQL, the requests spread over them;
          --kill-one: instead, each customer's events through two replicas,
          one SIGKILLed half way, then an audit; exits 1 on a loss,
          a duplicate or webhooks out of order)
  ingest  durable ingestion: single events per request, then E-batch
  w1m     N customers waiting (default 1,000,000): memory, store size, kill -9 → ready
  t100k   N waits due at one instant after downtime (default 100,000): drain rate, API p99
  migrate M: N customers (default 50,000) resting at five wait nodes move to an
          edited version with migrate_all while single events arrive
          (exits 1 unless every instance ends on the new version)
  crash   J1 under load with SIGKILLs and restarts, then a ledger audit
          (exits 1 if anything was lost or doubled; --idempotent: the
          webhooks drop repeats, so sends in doubt are sent again)
  sends   N customers (default 20,000) each sent one email through a
          provider account pointed at a local fake SendGrid: sends/s with
          the ledger kept (exits 1 unless each arrived once, recorded sent)
  profiles  N generated profiles (default 1,000,000) imported in one
          streamed POST /customers/import: profiles/s (--format csv|ndjson)
  crash-slow  a receiver taking 3s per call, N (default 300) events in one
          batch, SIGKILL 4s later, a restart, then the same audit
  segments  N generated profiles (default 1,000,000) with their events,
          bulk-loaded into the database itself (not a child server), then
          count latency p50/p99 of an attribute and an event-count segment
  entries  N profiles imported (default 100,000); --updates profile updates
          (default 1,000) timed to the first step of a segment_entry
          journey; then a journey enrolling the N members of a segment at
          activation, timed, with POST /events p99 meanwhile at --rate
  socket  --clients WebSocket clients (default 1,000) joined to one journey
          while N events (default 1,000) arrive at --rate (default 100/s):
          server RSS, push latency p50/p99 (event accepted → instance_event)
  idle    a server sitting idle for --seconds (default 60, after --settle,
          default 2m; --timer: with one wait pending): its CPU share of a core, the database's
          transactions and statements per second (PostgreSQL), then the
          first reaction to an event (POST /events → first step)
  analytics  N history steps (default 1,000,000) of one journey recorded
          in bulk through the store and the analytics counters, then
          p50/p99 of each analytics query

Flags:
`

// benchCmd runs one benchmark scenario.
func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, benchUsage)
		benchFlags("").PrintDefaults()
		if len(args) == 0 {
			return usageError{errors.New("bench needs a scenario: j1, ingest, w1m, t100k, migrate, crash, crash-slow, sends, segments, profiles, entries, socket, idle or analytics")}
		}
		return flag.ErrHelp
	}
	scenario := args[0]
	fs := benchFlags(scenario)
	fs.SetOutput(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	get := func(name string) any { return fs.Lookup(name).Value.(flag.Getter).Get() }
	if scenario != "j1" && (isSet(fs, "replicas") || isSet(fs, "kill-one")) {
		return usageError{fmt.Errorf("--replicas and --kill-one are for j1 only, not %s", scenario)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch scenario {
	case "j1":
		switch get("analytics").(string) {
		case "on":
		case "off": // the child servers inherit it: they keep no analytics counters
			if err := os.Setenv("KALCIFER_BENCH_ANALYTICS_OFF", "true"); err != nil {
				return err
			}
		default:
			return usageError{fmt.Errorf("--analytics must be on or off, not %q", get("analytics"))}
		}
		replicas := get("replicas").(int)
		if replicas < 1 {
			return usageError{fmt.Errorf("--replicas must be 1 or more, not %d", replicas)}
		}
		if get("kill-one").(bool) {
			return benchReplicaKill(ctx, get("database-url").(string), replicas, get("n").(int), get("clients").(int), stdout)
		}
		res, err := bench.RunJ1(ctx, bench.Options{DatabaseURL: get("database-url").(string), N: get("n").(int),
			Clients: get("clients").(int), Timeout: get("timeout").(time.Duration), Replicas: replicas, Out: stdout})
		if err != nil {
			return err
		}
		res.Print(stdout)
		if res.Duplicates > 0 {
			return fmt.Errorf("%d webhook deliveries were duplicated", res.Duplicates)
		}
	case "ingest":
		res, err := bench.RunIngest(ctx, bench.IngestOptions{DatabaseURL: get("database-url").(string), N: get("n").(int),
			Clients: get("clients").(int), BatchSize: get("batch").(int), Out: stdout})
		if err != nil {
			return err
		}
		res.Print(stdout)
	case "w1m", "t100k":
		o := bench.ScaleOptions{DatabaseURL: get("database-url").(string), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		if scenario == "w1m" {
			res, err := bench.RunW1M(ctx, o)
			if err != nil {
				return err
			}
			res.Print(stdout)
		} else {
			res, err := bench.RunT100K(ctx, o)
			if err != nil {
				return err
			}
			res.Print(stdout)
		}
	case "migrate":
		o := bench.MigrateOptions{DatabaseURL: get("database-url").(string), BatchSize: get("migration-batch").(int),
			Rate: get("rate").(int), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		res, err := bench.RunMigrate(ctx, o)
		if err != nil {
			return err
		}
		res.Print(stdout)
		if !res.OK() {
			return errors.New("the migration did not move every instance to the new version")
		}
	case "crash":
		res, err := bench.RunCrash(ctx, bench.CrashOptions{DatabaseURL: get("database-url").(string), N: get("n").(int),
			Clients: get("clients").(int), Kills: get("kills").(int), Timeout: get("timeout").(time.Duration),
			Idempotent: get("idempotent").(bool), Out: stdout})
		if err != nil {
			return err
		}
		res.Print(stdout)
		if !res.OK() {
			return errors.New("the crash audit found lost or duplicated work")
		}
	case "crash-slow":
		o := bench.SlowCrashOptions{DatabaseURL: get("database-url").(string), Idempotent: get("idempotent").(bool), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		res, err := bench.RunSlowCrash(ctx, o)
		if err != nil {
			return err
		}
		res.Print(stdout)
		if !res.OK() {
			return errors.New("the crash audit found lost or duplicated work")
		}
	case "profiles":
		o := bench.ProfilesOptions{DatabaseURL: get("database-url").(string), Format: get("format").(string), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		res, err := bench.RunProfiles(ctx, o)
		if err != nil {
			return err
		}
		res.Print(stdout)
		if res.Failed > 0 || res.Imported != res.N {
			return fmt.Errorf("%d of %d generated profiles were not imported", res.N-res.Imported, res.N)
		}
	case "sends":
		o := bench.SendsOptions{DatabaseURL: get("database-url").(string), BatchSize: get("batch").(int), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		res, err := bench.RunSends(ctx, o)
		if err != nil {
			return err
		}
		res.Print(stdout)
		if !res.OK() {
			return errors.New("not every customer got exactly one email recorded sent in the ledger")
		}
	case "segments":
		o := bench.SegmentsOptions{Runs: get("runs").(int), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		res, err := benchSegments(ctx, get("database-url").(string), get("data-dir").(string), o)
		if err != nil {
			return err
		}
		res.Print(stdout)
	case "analytics":
		o := bench.AnalyticsOptions{Runs: get("runs").(int), Out: stdout}
		if isSet(fs, "n") {
			o.Steps = get("n").(int)
		}
		res, err := benchAnalytics(ctx, get("database-url").(string), o)
		if err != nil {
			return err
		}
		res.Print(stdout)
	case "entries":
		o := bench.EntriesOptions{DatabaseURL: get("database-url").(string), Updates: get("updates").(int), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		o.Profiles = get("profiles").(int)
		if isSet(fs, "rate") {
			o.Rate = get("rate").(int)
		}
		res, err := bench.RunEntries(ctx, o)
		if res != nil {
			res.Print(stdout)
		}
		if err != nil {
			return err
		}
	case "socket":
		o := bench.SocketOptions{DatabaseURL: get("database-url").(string), Out: stdout}
		if isSet(fs, "n") {
			o.N = get("n").(int)
		}
		if isSet(fs, "clients") {
			o.Clients = get("clients").(int)
		}
		if isSet(fs, "rate") {
			o.Rate = get("rate").(int)
		}
		res, err := bench.RunSocket(ctx, o)
		if err != nil {
			return err
		}
		res.Print(stdout)
		if res.Received < res.Expected {
			return fmt.Errorf("%d of %d instance_event frames never arrived", res.Expected-res.Received, res.Expected)
		}
	case "idle":
		res, err := bench.RunIdle(ctx, bench.IdleOptions{DatabaseURL: get("database-url").(string), Seconds: get("seconds").(int),
			Settle: get("settle").(time.Duration), Timer: get("timer").(bool), Binary: get("binary").(string), Out: stdout})
		if err != nil {
			return err
		}
		res.Print(stdout)
	default:
		return usageError{fmt.Errorf("unknown scenario %q: use j1, ingest, w1m, t100k, migrate, crash, crash-slow, sends, segments, profiles, entries, socket, idle or analytics", scenario)}
	}
	return nil
}

func benchFlags(scenario string) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+scenario, flag.ContinueOnError)
	fs.String("database-url", os.Getenv("KALCIFER_DATABASE_URL"), "postgres://… to benchmark PostgreSQL (default: SQLite in a temporary directory)")
	fs.Int("n", 2000, "customers (w1m, t100k, migrate, sends, segments and entries: default 1,000,000, 100,000, 50,000, 20,000, 1,000,000 and 100,000; analytics: history steps, default 1,000,000)")
	fs.Int("clients", 32, "concurrent HTTP clients (socket: WebSocket clients, default 1,000)")
	fs.Duration("timeout", 5*time.Second, "J1's wait_for_event timeout (S3's timer; the crash run's journeys end by it)")
	fs.Int("batch", 500, "ingest, sends: events per /events/batch request")
	fs.Int("migration-batch", 0, "migrate: the migration's batch_size (default: the server's, 1,000)")
	fs.Int("rate", 200, "migrate, entries, socket: single events per second posted during the migration or enrolment, or to the watched journey (entries, socket: default 100)")
	fs.Int("updates", 1000, "entries: profile updates timed to the first journey step")
	fs.Int("kills", 3, "crash: SIGKILLs spread over the load")
	fs.Int("profiles", 0, "entries: profiles imported, N of them members of the enrolled segment (default N)")
	fs.Int("runs", 30, "segments, analytics: runs timed per query")
	fs.String("data-dir", "", "segments: SQLite in this directory, kept (a second run on it measures again without loading; default: a temporary directory)")
	fs.String("analytics", "on", "j1: off runs the server without its analytics counters, to measure what they cost")
	fs.Int("seconds", 60, "idle: how long the server sits idle while measured")
	fs.Duration("settle", 2*time.Minute, "idle: how long the server idles before it is measured (its loops' polls back off from 1 s to 60 s meanwhile)")
	fs.String("binary", "", "idle: the kalcifer binary to run as the server (default: this one), to compare two builds")
	fs.Bool("timer", false, "idle: start one customer on a journey waiting an hour first, so a timer is pending")
	fs.Bool("idempotent", false, "crash, crash-slow: the webhooks declare that their receiver drops repeated Idempotency-Keys")
	fs.Int("replicas", 1, "j1: servers on one PostgreSQL database, the clients' requests spread over them")
	fs.Bool("kill-one", false, "j1 with --replicas 2 or more: SIGKILL one replica half way through the customers, then audit the ledger")
	return fs
}

// benchReplicaKill runs J1 on replicas servers of one PostgreSQL database,
// SIGKILLs one half way and audits what the others made of it.
func benchReplicaKill(ctx context.Context, databaseURL string, replicas, n, clients int, stdout io.Writer) error {
	if replicas < 2 {
		return usageError{errors.New("--kill-one needs --replicas 2 or more: the others take the killed one's work over")}
	}
	res, err := bench.RunReplicaKill(ctx, bench.ReplicaKillOptions{DatabaseURL: databaseURL, Replicas: replicas, N: n,
		Clients: clients, Out: stdout})
	if err != nil {
		return err
	}
	res.Print(stdout)
	if !res.OK() || res.OutOfOrder > 0 {
		return errors.New("the replica kill audit found lost, duplicated or reordered work")
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// benchAnalytics runs the analytics scenario on the database at
// databaseURL, or on SQLite in a temporary directory, opened as the server
// opens it (so with the analytics observer).
func benchAnalytics(ctx context.Context, databaseURL string, o bench.AnalyticsOptions) (*bench.AnalyticsResult, error) {
	dir, err := os.MkdirTemp("", "kalcifer-bench-analytics-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, _, err := openStore(ctx, Config{DatabaseURL: databaseURL, DataDir: dir}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	o.Store = st
	return bench.RunAnalytics(ctx, o)
}

// benchSegments runs the segments scenario on the database at databaseURL,
// or on SQLite in dataDir (kept), or in a temporary directory, opened as
// the server opens it.
func benchSegments(ctx context.Context, databaseURL, dataDir string, o bench.SegmentsOptions) (*bench.SegmentsResult, error) {
	dir := dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kalcifer-bench-segments-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	defer os.RemoveAll(dir)
	st, _, err := openStore(ctx, Config{DatabaseURL: databaseURL, DataDir: dir}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	o.Store = st
	return bench.RunSegments(ctx, o)
}

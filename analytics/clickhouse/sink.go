// Package clickhouse is the optional ClickHouse sink: execution events
// (every step of every instance) and delivery events (sends finished,
// delivery statuses) copied to ClickHouse for analysis at scale.
//
// The sink is a store.Observer: inside each engine transaction it writes
// the transaction's events to an outbox table in the primary store, so
// they commit with the steps and sends they describe. Run ships them in
// batches over ClickHouse's HTTP interface (INSERT … FORMAT JSONEachRow)
// and deletes them only once ClickHouse answered 200; when ClickHouse is
// down it retries with backoff. Delivery is at least once; schema.sql says
// how repeats are dropped. docs/CLICKHOUSE.md is the operator's guide.
//
// It imports kalcifer and store.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer/store"
)

// Defaults of Config.
const (
	DefaultBatchSize  = 10_000
	DefaultInterval   = time.Second
	DefaultMaxBacklog = 1_000_000
	// maxBackoff bounds the wait between attempts while ClickHouse fails.
	maxBackoff = 15 * time.Second
	// lease is how long a claimed batch is held from other replicas: longer
	// than an insert may take (the HTTP timeout).
	lease = 2 * time.Minute
)

// Config configures a Sink.
type Config struct {
	// URL is ClickHouse's HTTP interface, such as http://localhost:8123.
	URL string
	// User and Password authenticate (HTTP basic auth); no user means
	// ClickHouse's default user.
	User, Password string
	// Database holds Kalcifer's tables; it is created when missing.
	Database string
	// BatchSize is the most rows one insert carries; Interval is how
	// often the outbox is looked at when it was last found drained.
	BatchSize int
	Interval  time.Duration
	// MaxBacklog is the most rows the outbox holds: beyond it, events are
	// dropped (counted and logged) rather than stored, until it drains.
	MaxBacklog int
	Store      *store.Store
	Logger     *slog.Logger
	// HTTP is the client requests go through (default: one with a 30 s
	// timeout).
	HTTP *http.Client
}

// Check validates the settings a user gives (URL, user, database).
func (c Config) Check() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("the ClickHouse URL must be its HTTP interface, such as http://localhost:8123 (http or https, a host, no query), not %q", c.URL)
	}
	if u.User != nil {
		return errors.New("the ClickHouse URL must not carry credentials: set the user and password settings")
	}
	if !databaseName.MatchString(c.Database) {
		return fmt.Errorf("the ClickHouse database must be a plain name (letters, digits, _; not starting with a digit), not %q", c.Database)
	}
	if c.Password != "" && c.User == "" {
		return errors.New("a ClickHouse password is set without a user")
	}
	return nil
}

// Stats are what a sink did since it started.
type Stats struct {
	// Shipped counts rows ClickHouse accepted.
	Shipped int64
	// Dropped counts events not stored because the outbox was full.
	Dropped int64
	// Failures counts attempts that failed (ClickHouse down or refusing).
	Failures int64
	// Backlog is the outbox's size when last counted (0 after a batch
	// that drained it).
	Backlog int64
}

// Sink copies execution and delivery events to ClickHouse.
type Sink struct {
	c      Config
	ch     *client
	full   atomic.Bool // the outbox reached MaxBacklog: new events are dropped
	ready  bool        // the schema was created (Run's goroutine only)
	failed bool        // the last attempt failed (Run's goroutine only)
	stats  struct{ shipped, dropped, failures, backlog atomic.Int64 }
}

// New checks c and makes a sink. Register it with Store.Observe before the
// engine starts, then Run it.
func New(c Config) (*Sink, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.Store == nil {
		return nil, errors.New("clickhouse: a store is required")
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.MaxBacklog <= 0 {
		c.MaxBacklog = DefaultMaxBacklog
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	u, _ := url.Parse(c.URL)
	return &Sink{c: c, ch: &client{base: u, user: c.User, password: c.Password, db: c.Database, http: c.HTTP}}, nil
}

// Stats reports what the sink did so far.
func (s *Sink) Stats() Stats {
	return Stats{Shipped: s.stats.shipped.Load(), Dropped: s.stats.dropped.Load(), Failures: s.stats.failures.Load(),
		Backlog: s.stats.backlog.Load()}
}

// InTx writes the transaction's events to the outbox, in the transaction
// (store.Observer). While the outbox is full they are counted as dropped.
func (s *Sink) InTx(t *store.EngineTx, w *store.Written) error {
	rs, err := rows(w)
	if err != nil {
		return fmt.Errorf("ClickHouse rows: %w", err)
	}
	if len(rs) == 0 {
		return nil
	}
	if s.full.Load() {
		s.stats.dropped.Add(int64(len(rs)))
		return nil
	}
	return t.QueueClickHouse(rs)
}

// Committed does nothing: Run ships on its own clock (store.Observer).
func (s *Sink) Committed(*store.Written) {}

// Run ships the outbox until ctx ends: it creates the schema, then
// repeatedly claims a batch, inserts it and deletes it, waiting Interval
// whenever the outbox is drained, and backing off (up to 15 s) while
// ClickHouse fails.
func (s *Sink) Run(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		more, err := s.round(ctx)
		wait := s.c.Interval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.stats.failures.Add(1)
			backoff = min(max(2*backoff, 250*time.Millisecond), maxBackoff)
			wait = backoff/2 + rand.N(backoff/2+1)
			if !s.failed {
				s.c.Logger.Warn("ClickHouse sink: shipping failed; events stay in the outbox and are retried", "err", err)
			} else {
				s.c.Logger.Debug("ClickHouse sink: shipping failed again", "err", err, "retry_in", wait)
			}
			s.failed = true
		default:
			if s.failed {
				s.c.Logger.Info("ClickHouse sink: shipping again")
			}
			s.failed, backoff = false, 0
			if more {
				wait = 0
			}
		}
		if err := s.checkBacklog(ctx, err == nil && !more); err != nil && ctx.Err() == nil {
			s.c.Logger.Warn("ClickHouse sink: cannot count the outbox", "err", err)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// round creates the schema if that is still to do, then ships one batch.
// It reports whether the batch was full (more may be waiting).
func (s *Sink) round(ctx context.Context) (more bool, err error) {
	if !s.ready {
		if err := s.ch.createSchema(ctx); err != nil {
			return false, fmt.Errorf("create the schema: %w", err)
		}
		s.ready = true
	}
	n, err := s.ship(ctx)
	return n == s.c.BatchSize, err
}

// ship claims one batch, inserts it table by table and deletes what
// ClickHouse accepted; what it refused is released for the next attempt.
// It returns how many rows it claimed.
func (s *Sink) ship(ctx context.Context) (int, error) {
	batch, err := s.c.Store.ClaimClickHouse(ctx, s.c.BatchSize, lease)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	byTable := map[string][][]byte{}
	ids := map[string][]int64{}
	var tables []string
	for _, r := range batch {
		if _, ok := byTable[r.Table]; !ok {
			tables = append(tables, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], r.JSON)
		ids[r.Table] = append(ids[r.Table], r.ID)
	}
	var failed error
	var retry []int64
	for _, table := range tables {
		if failed != nil {
			retry = append(retry, ids[table]...)
			continue
		}
		if err := s.ch.insert(ctx, table, byTable[table]); err != nil {
			failed = fmt.Errorf("insert %d rows into %s: %w", len(byTable[table]), table, err)
			retry = append(retry, ids[table]...)
			continue
		}
		if err := s.c.Store.DeleteClickHouse(ctx, ids[table]); err != nil {
			// Shipped but still in the outbox: shipped again once the
			// lease ends, and dropped as repeats by ClickHouse.
			return len(batch), err
		}
		s.stats.shipped.Add(int64(len(ids[table])))
	}
	if failed != nil {
		if err := s.c.Store.ReleaseClickHouse(context.WithoutCancel(ctx), retry); err != nil {
			return len(batch), errors.Join(failed, err)
		}
	}
	return len(batch), failed
}

// checkBacklog keeps the outbox under MaxBacklog. A drained outbox (the last
// batch was not full) is well under it; otherwise the rows are counted, and
// at the cap new events are dropped until shipping brings it back down.
func (s *Sink) checkBacklog(ctx context.Context, drained bool) error {
	var n int
	if !drained {
		var err error
		if n, err = s.c.Store.ClickHouseBacklog(ctx); err != nil {
			return err
		}
	}
	s.stats.backlog.Store(int64(n))
	full := n >= s.c.MaxBacklog
	if was := s.full.Swap(full); full && !was {
		s.c.Logger.Error("ClickHouse sink: the outbox is full; new execution and delivery events are dropped, not stored, until ClickHouse takes the backlog",
			"backlog", n, "max_backlog", s.c.MaxBacklog)
	} else if was && !full {
		s.c.Logger.Warn("ClickHouse sink: the outbox has room again; events are stored again",
			"backlog", n, "dropped_so_far", s.stats.dropped.Load())
	}
	return nil
}

// Package postgres is the production store backend: PostgreSQL through
// pgx/v5. Several kalcifer replicas may share one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/kalcifer/kalcifer/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the folder of SQL files goose applies in order.
var migrations, _ = fs.Sub(migrationFiles, "migrations")

// Backend is a store.Backend over a PostgreSQL connection pool.
type Backend struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	// Replica liveness (replica.go): when each replica's lock was first
	// seen free, and how long it must stay free before the replica counts
	// as dead.
	replicasMu   sync.Mutex
	lockFree     map[int64]time.Time
	replicaGrace time.Duration
}

var _ store.Backend = (*Backend)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	logger       *slog.Logger
	poolSize     int32
	replicaGrace time.Duration
}

// WithLogger sends the backend's warnings (a lost liveness connection) to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithReplicaGrace sets how long a replica's liveness lock must be seen
// free before it counts as dead (default DefaultReplicaGrace).
func WithReplicaGrace(d time.Duration) Option { return func(o *options) { o.replicaGrace = d } }

// WithPoolSize sets the maximum number of connections (default: pgx's).
func WithPoolSize(n int) Option { return func(o *options) { o.poolSize = int32(n) } }

// Open connects to the database at url (postgres://…). It does not migrate.
func Open(ctx context.Context, url string, opts ...Option) (*Backend, error) {
	o := options{logger: slog.New(slog.DiscardHandler), replicaGrace: DefaultReplicaGrace}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if o.poolSize > 0 {
		cfg.MaxConns = o.poolSize
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	b := &Backend{pool: pool, logger: o.logger, lockFree: map[int64]time.Time{}, replicaGrace: o.replicaGrace}
	if err := b.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return b, nil
}

// Pool is the connection pool, for the engine's batched hot paths.
func (b *Backend) Pool() *pgxpool.Pool { return b.pool }

// Kind returns "postgres".
func (b *Backend) Kind() string { return "postgres" }

// laneLockKey is the first key of the event lanes' advisory locks (the
// second is the lane), kept apart from the replica liveness locks.
const laneLockKey = 19790

// tenantLockKey is the first key of the tenants' quota locks
// (Dialect.TenantLock).
const tenantLockKey = 19793

// Dialect is PostgreSQL's: concurrent writers divide rows with FOR UPDATE
// SKIP LOCKED, event lanes are transaction-scoped advisory locks, and
// batches bind arrays (100 rows share an INSERT's round trip).
func (b *Backend) Dialect() store.Dialect {
	return store.Dialect{
		SkipLocked:   " FOR UPDATE SKIP LOCKED",
		SkipLockedOf: " FOR UPDATE OF %s SKIP LOCKED",
		ForUpdate:    " FOR UPDATE",
		ForUpdateOf:  " FOR UPDATE OF %s",
		LaneLock:     fmt.Sprintf("SELECT pg_try_advisory_xact_lock(%d, $1)", laneLockKey),
		TenantLock:   fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext($1))", tenantLockKey),
		CustomerHash: "(hashtext(customer_id) & 2147483647)",
		CustomerLane: "SELECT (hashtext($1) & 2147483647) % $2::int",
		LaneWait:     fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, $1)", laneLockKey),
		BindsArrays:  true,
		InsertRows:   100,
		JSON:         jsonDialect,
	}
}

// jsonDialect reads jsonb with its operators over a text[] path; equality
// and tags are containment (@>), which the GIN indexes of migration 16
// answer. jsonb_typeof is checked first, so a comparison sees only values
// of its JSON type and no cast can fail; kalcifer_epoch (migration 16)
// reads dates as SQLite's unixepoch does.
var jsonDialect = store.JSONDialect{
	Arrays:   true,
	Text:     `CASE jsonb_typeof(%[1]s #> %[2]s) WHEN 'string' THEN %[1]s #>> %[2]s END`,
	Number:   `CASE jsonb_typeof(%[1]s #> %[2]s) WHEN 'number' THEN (%[1]s #>> %[2]s)::numeric END`,
	Bool:     `CASE jsonb_typeof(%[1]s #> %[2]s) WHEN 'boolean' THEN (%[1]s #> %[2]s)::boolean END`,
	Date:     `kalcifer_epoch(CASE jsonb_typeof(%[1]s #> %[2]s) WHEN 'string' THEN %[1]s #>> %[2]s END)`,
	Exists:   `(%[1]s #> %[2]s) IS NOT NULL`,
	Contains: `%[1]s @> %[2]s::jsonb`,
	Strpos:   `strpos(%[1]s, %[2]s)`,
	InList:   `%[1]s = ANY(%[2]s::text[])`,
	// The planner picks events_customer by itself.
	CustomerEvents: `events e`,
}

// Q runs statements on the pool.
func (b *Backend) Q() store.Querier { return q{b.pool} }

// WithTx runs fn in a transaction.
func (b *Backend) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error { return fn(q{tx}) })
}

// Ping checks that the database answers.
func (b *Backend) Ping(ctx context.Context) error { return b.pool.Ping(ctx) }

// IsUniqueViolation reports SQLSTATE 23505.
func (b *Backend) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// withGoose runs fn with a goose provider over a database/sql view of the
// pool, holding a session lock so that replicas starting together migrate
// one at a time.
func (b *Backend) withGoose(fn func(*goose.Provider) error) error {
	db := stdlib.OpenDBFromPool(b.pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return fn(p)
}

// Migrate applies Kalcifer's migrations.
func (b *Backend) Migrate(ctx context.Context) error {
	err := b.withGoose(func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// PendingMigrations counts Kalcifer's unapplied migrations.
func (b *Backend) PendingMigrations(ctx context.Context) (int, error) {
	n := 0
	err := b.withGoose(func(p *goose.Provider) error {
		statuses, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range statuses {
			if s.State == goose.StatePending {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	return n, nil
}

// Close closes the pool.
func (b *Backend) Close() error {
	b.pool.Close()
	return nil
}

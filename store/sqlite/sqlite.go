// Package sqlite is the embedded store backend: one SQLite file through the
// pure-Go modernc.org/sqlite driver (no cgo), in WAL mode with
// synchronous=FULL and foreign keys on.
//
// SQLite has one writer. All writes and transactions go through a
// single-connection pool (which River shares); reads go through a separate
// read-only pool, so readers never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kalcifer/kalcifer/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the folder of SQL files goose applies in order.
var migrations, _ = fs.Sub(migrationFiles, "migrations")

// FileName is the database file inside the data directory.
const FileName = "kalcifer.db"

// Backend is a store.Backend over one SQLite file.
type Backend struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	// Prepared statements of each pool, by query text.
	writes, reads *stmtCache
	logger        *slog.Logger

	mu     sync.Mutex
	client *river.Client[*sql.Tx]
	jobs   bool // client runs workers

	replica atomic.Int64 // this process's replica id (Live)
}

var _ store.Backend = (*Backend)(nil)

// Option configures Open.
type Option func(*Backend)

// WithLogger sends River's logs to l.
func WithLogger(l *slog.Logger) Option { return func(b *Backend) { b.logger = l } }

// Open opens (creating if needed) dir/kalcifer.db. It does not migrate.
func Open(ctx context.Context, dir string, opts ...Option) (*Backend, error) {
	cfg := &Backend{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(cfg)
	}
	logger := cfg.logger
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "busy_timeout(10000)"} {
		pragmas.Add("_pragma", p)
	}
	writer, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1) // SQLite has one writer; River requires it too.
	pragmas.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Keep every reader open: opening one runs the pragmas and reads the
	// schema, which under load cost a tenth of the CPU when database/sql's
	// default of two idle connections closed the rest after each use.
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	b := &Backend{path: path, writer: writer, reader: reader, logger: logger,
		writes: newStmtCache(writer), reads: newStmtCache(reader)}
	if err := b.Ping(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if b.client, err = river.NewClient(riversqlite.New(writer), &river.Config{Logger: logger}); err != nil {
		b.Close()
		return nil, fmt.Errorf("river client: %w", err)
	}
	return b, nil
}

// Path is the database file.
func (b *Backend) Path() string { return b.path }

// Kind returns "sqlite".
func (b *Backend) Kind() string { return "sqlite" }

// Q runs reads on the read pool and writes on the writer.
func (b *Backend) Q() store.Querier { return splitQ{read: b.reads, write: b.writes} }

// WithTx runs fn in an immediate (write-locking) transaction.
func (b *Backend) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := b.writes.preparePending(ctx); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	tx, err := b.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(txQ{tx: tx, cache: b.writes}); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Ping checks that both pools answer.
//
// Only the read pool is pinged: the writer's one connection may be busy
// with a long engine transaction, and readiness must not wait for it.
func (b *Backend) Ping(ctx context.Context) error {
	return b.reader.PingContext(ctx)
}

// IsUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure.
func (b *Backend) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func (b *Backend) goose() (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectSQLite3, b.writer, migrations, goose.WithDisableGlobalRegistry(true))
}

// Migrate applies Kalcifer's migrations, then River's.
func (b *Backend) Migrate(ctx context.Context) error {
	p, err := b.goose()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	m, err := rivermigrate.New(riversqlite.New(b.writer), &rivermigrate.Config{Logger: b.logger})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	return nil
}

// PendingMigrations counts Kalcifer's unapplied migrations, plus one when
// River's schema is not current.
func (b *Backend) PendingMigrations(ctx context.Context) (int, error) {
	p, err := b.goose()
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	n, err := pendingGoose(ctx, p)
	if err != nil {
		return 0, err
	}
	m, err := rivermigrate.New(riversqlite.New(b.writer), &rivermigrate.Config{Logger: b.logger})
	if err != nil {
		return 0, fmt.Errorf("river migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("validate river migrations: %w", err)
	}
	if !res.OK {
		n++
	}
	return n, nil
}

func pendingGoose(ctx context.Context, p *goose.Provider) (int, error) {
	statuses, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	n := 0
	for _, s := range statuses {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}

// InsertJobTx enqueues a River job inside tx.
func (b *Backend) InsertJobTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	t, ok := tx.(txQ)
	if !ok {
		return fmt.Errorf("insert job: transaction is not from this backend")
	}
	b.mu.Lock()
	client := b.client
	b.mu.Unlock()
	if _, err := client.InsertTx(ctx, t.tx, args, opts); err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// StartJobs starts River's workers on the writer connection.
func (b *Backend) StartJobs(ctx context.Context, workers *river.Workers, queues map[string]river.QueueConfig) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.jobs {
		return errors.New("start jobs: already started")
	}
	client, err := river.NewClient(riversqlite.New(b.writer), &river.Config{Logger: b.logger, Workers: workers, Queues: queues})
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	if len(queues) > 0 {
		if err := client.Start(ctx); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
	}
	b.client, b.jobs = client, len(queues) > 0
	return nil
}

// Close stops River and closes both pools.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	if b.jobs {
		if err := b.client.Stop(context.Background()); err != nil {
			errs = append(errs, fmt.Errorf("stop river: %w", err))
		}
		b.jobs = false
	}
	b.reads.close()
	b.writes.close()
	errs = append(errs, b.reader.Close(), b.writer.Close())
	return errors.Join(errs...)
}

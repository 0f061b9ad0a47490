// Package sqlite is the embedded store backend: one SQLite file through the
// pure-Go modernc.org/sqlite driver (no cgo), in WAL mode with
// synchronous=FULL and foreign keys on.
//
// SQLite has one writer. All writes and transactions go through a
// single-connection pool; reads go through a separate
// read-only pool, so readers never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/pressly/goose/v3"
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

	replica atomic.Int64 // this process's replica id (Live)
}

var _ store.Backend = (*Backend)(nil)

// Open opens (creating if needed) dir/kalcifer.db. It does not migrate.
func Open(ctx context.Context, dir string) (*Backend, error) {
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
	writer.SetMaxOpenConns(1) // SQLite has one writer.
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
	b := &Backend{path: path, writer: writer, reader: reader,
		writes: newStmtCache(writer), reads: newStmtCache(reader)}
	if err := b.Ping(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return b, nil
}

// Path is the database file.
func (b *Backend) Path() string { return b.path }

// Kind returns "sqlite".
func (b *Backend) Kind() string { return "sqlite" }

// Dialect is SQLite's: one writer, so no row locks, lanes or SKIP
// LOCKED; no array binds, so batches go a row at a time through cached
// statements; JSON read with json_type and json_extract.
func (b *Backend) Dialect() store.Dialect {
	return store.Dialect{SingleWriter: true, InsertRows: 1, JSON: jsonDialect}
}

// jsonDialect reads JSON columns with JSON1's functions over a path such as
// '$."address"."city"' (segment.Rule refuses quotes in attribute paths).
// json_type is checked first, so a comparison sees only values of its JSON
// type; unixepoch reads only strings that start as an ISO 8601 date, since
// it would also read "now" and Julian day numbers.
var jsonDialect = store.JSONDialect{
	Text:   `CASE json_type(%[1]s, %[2]s) WHEN 'text' THEN json_extract(%[1]s, %[2]s) END`,
	Number: `CASE WHEN json_type(%[1]s, %[2]s) IN ('integer', 'real') THEN json_extract(%[1]s, %[2]s) END`,
	Bool:   `CASE json_type(%[1]s, %[2]s) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END`,
	Date: `unixepoch(CASE WHEN json_type(%[1]s, %[2]s) = 'text' AND json_extract(%[1]s, %[2]s) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
		THEN json_extract(%[1]s, %[2]s) END, 'subsec')`,
	Exists: `json_type(%[1]s, %[2]s) IS NOT NULL`,
	HasTag: `EXISTS (SELECT 1 FROM json_each(%[1]s) WHERE json_each.value = %[2]s)`,
	Strpos: `instr(%[1]s, %[2]s)`,
	InList: `%[1]s IN (SELECT value FROM json_each(%[2]s))`,
	// Without it, SQLite reads a customer's events of one type through
	// events_type_time: every event of the type, for each customer.
	CustomerEvents: `events e INDEXED BY events_customer`,
}

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

// Migrate applies Kalcifer's migrations.
func (b *Backend) Migrate(ctx context.Context) error {
	p, err := b.goose()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// PendingMigrations counts Kalcifer's unapplied migrations.
func (b *Backend) PendingMigrations(ctx context.Context) (int, error) {
	p, err := b.goose()
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	return pendingGoose(ctx, p)
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

// Close closes both pools.
func (b *Backend) Close() error {
	b.reads.close()
	b.writes.close()
	return errors.Join(b.reader.Close(), b.writer.Close())
}

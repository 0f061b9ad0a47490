package store

import (
	"context"
	"errors"
)

// ErrNoRows is returned by Row.Scan when a query matched nothing, whatever
// the backend.
var ErrNoRows = errors.New("store: no rows")

// Querier runs SQL with $1, $2… placeholders. Both backends accept the same
// statements; times are stored as Unix microseconds (BIGINT) and JSON as text
// (jsonb on PostgreSQL), so values scan the same way on both.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set; callers must Close it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result. Scan returns ErrNoRows when there was none.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a transaction. Work done through it commits or rolls back as one.
type Tx interface {
	Querier
}

// Backend is one database: the seam between Kalcifer and SQLite or
// PostgreSQL.
type Backend interface {
	// Kind names the database: "sqlite" or "postgres".
	Kind() string
	// Q runs statements outside a transaction.
	Q() Querier
	// WithTx runs fn in a transaction, committing when it returns nil and
	// rolling back otherwise. Inside fn, use only tx: on SQLite the one
	// writer connection is held by the transaction.
	WithTx(ctx context.Context, fn func(tx Tx) error) error
	// Migrate applies Kalcifer's pending migrations.
	Migrate(ctx context.Context) error
	// PendingMigrations counts migrations not yet applied.
	PendingMigrations(ctx context.Context) (int, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Live marks this process as replica id until ctx ends; ReplicaAlive
	// answers for it in every process. A replica that dies stops being
	// alive at once (PostgreSQL: a session advisory lock on a connection of
	// its own; SQLite, one process at a time: only the latest id lives).
	Live(ctx context.Context, id int64) error
	// ReplicaAlive reports, inside tx, whether replica id is running.
	ReplicaAlive(ctx context.Context, tx Tx, id int64) (bool, error)
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation(err error) bool
	// Close closes the database.
	Close() error
}

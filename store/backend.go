package store

import (
	"context"
	"errors"
	"fmt"
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
	// Kind names the database, "sqlite" or "postgres", for display (/info,
	// logs); what the store and engine do differently comes from Dialect.
	Kind() string
	// Dialect is what differs between the databases, as the SQL fragments
	// the store splices into its shared statements and the facts the
	// engine sizes its workers by.
	Dialect() Dialect
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

// Dialect is what one database does differently from the other. The
// differences are SQL (fragments and statements the store splices into the
// statements both databases share) and a few facts about the database,
// so that no Go outside the backends asks which database it is.
type Dialect struct {
	// SkipLocked ends a SELECT whose rows concurrent claimers divide among
	// themselves: " FOR UPDATE SKIP LOCKED" on PostgreSQL; empty where a
	// single writer already excludes every other.
	SkipLocked string
	// SkipLockedOf is SkipLocked for a join, with %s for the alias of the
	// one table whose rows are locked.
	SkipLockedOf string
	// ForUpdate ends a SELECT whose rows the transaction goes on to change.
	ForUpdate string
	// ForUpdateOf is ForUpdate for a join, with %s for the alias of the one
	// table whose rows are locked.
	ForUpdateOf string
	// LaneLock tries to take an event lane's lock for the rest of the
	// transaction, $1 being the lane, and answers one boolean: false when
	// another transaction (of any replica) holds it. Empty where a single
	// writer owns every lane.
	LaneLock string
	// TenantLock takes one tenant's lock for the rest of the transaction,
	// $1 being the tenant's id, waiting for it if need be: workers that
	// count a tenant's instances against its quota take it, so two of them
	// cannot both start the last place. Empty where a single writer runs
	// one transaction at a time anyway.
	TenantLock string
	// CustomerLane answers the lane (an integer) of customer $1 among $2
	// lanes, as CustomerHash splits them; LaneWait takes lane $1's lock
	// for the rest of the transaction, waiting for its holder (a merge of
	// two customers holds both their lanes). Empty where a single writer
	// owns every lane.
	CustomerLane, LaneWait string
	// CustomerHash is an expression giving a non-negative integer hash of
	// customer_id, to split the event inbox into lanes; empty where lanes
	// are not needed (a single writer).
	CustomerHash string
	// SingleWriter reports that the database runs one write transaction at
	// a time (SQLite): the engine runs one worker per loop there and keeps
	// migration batches small.
	SingleWriter bool
	// BindsArrays reports that statements bind Go slices as SQL arrays, so
	// that a batch is written by one unnest statement whose text never
	// changes; otherwise the store writes it a row at a time with a cached
	// one-row statement.
	BindsArrays bool
	// InsertRows is how many rows one multi-row INSERT carries: where a
	// statement is a round trip, many share one; SQLite has no round trips,
	// and a cached one-row statement measured faster there than binding
	// hundreds of parameters (51K against 31K events/s in E-batch).
	InsertRows int
	// JSON spells the reads of JSON columns that segment queries are made
	// of (segmentsql.go).
	JSON JSONDialect
}

// skipLockedOf is d.SkipLockedOf for the table named alias.
func (d Dialect) skipLockedOf(alias string) string { return lockOf(d.SkipLockedOf, alias) }

// forUpdateOf is d.ForUpdateOf for the table named alias.
func (d Dialect) forUpdateOf(alias string) string { return lockOf(d.ForUpdateOf, alias) }

func lockOf(clause, alias string) string {
	if clause == "" {
		return ""
	}
	return fmt.Sprintf(clause, alias)
}

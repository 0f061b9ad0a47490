package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/kalcifer/kalcifer/store"
)

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmtCache keeps one prepared statement per query text. Without it every
// call parses its SQL again, which took a third of the CPU under load.
// database/sql prepares a cached statement once per connection and reuses
// it inside transactions on that connection (Tx.StmtContext).
//
// A transaction holds the writer's only connection, so a statement first
// seen inside one cannot be prepared then (preparing needs a connection):
// it runs unprepared and is prepared before the next transaction begins.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // seen in a transaction, not prepared yet
}

// maxCachedStmts bounds the cache; queries built at run time (filters,
// IN lists) could otherwise grow it without end.
const maxCachedStmts = 1000

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement for query, or nil after noting
// that query is wanted.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	if !ok && len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[query] = true
	}
	return st
}

// preparePending prepares the statements transactions asked for. The
// caller must not hold a connection of the pool. It fails only when ctx
// is done.
func (c *stmtCache) preparePending(ctx context.Context) error {
	c.mu.Lock()
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	c.mu.Unlock()
	for _, q := range queries {
		// A query that does not prepare (it failed in its transaction
		// too) is dropped and keeps running unprepared: its error must
		// not block every later transaction.
		_, err := c.get(ctx, q)
		c.mu.Lock()
		delete(c.pending, q)
		c.mu.Unlock()
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// get returns the statement for query, preparing it if need be, or nil
// when the cache is full. The caller must not hold a connection of the pool.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query) // unlocked: it may wait for a connection
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return prev, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// splitQ sends reads to the read pool and writes to the writer.
type splitQ struct{ read, write *stmtCache }

func (q splitQ) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := q.write.get(ctx, query)
	if err != nil {
		return 0, err
	}
	if st == nil {
		return exec(ctx, q.write.db, query, args)
	}
	return result(st.ExecContext(ctx, args...))
}

func (q splitQ) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	st, err := q.read.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return queryRows(ctx, q.read.db, query, args)
	}
	return wrapRows(st.QueryContext(ctx, args...))
}

func (q splitQ) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	st, err := q.read.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return row{q.read.db.QueryRowContext(ctx, query, args...)}
	}
	return row{st.QueryRowContext(ctx, args...)}
}

// txQ runs everything in one transaction on the writer.
type txQ struct {
	tx    *sql.Tx
	cache *stmtCache
}

// stmt returns the cached statement bound to the transaction, or nil.
func (q txQ) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st := q.cache.lookup(query)
	if st == nil {
		return nil, nil
	}
	return q.tx.StmtContext(ctx, st), nil
}

func (q txQ) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	if st == nil {
		return exec(ctx, q.tx, query, args)
	}
	return result(st.ExecContext(ctx, args...))
}

func (q txQ) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return queryRows(ctx, q.tx, query, args)
	}
	return wrapRows(st.QueryContext(ctx, args...))
}

func (q txQ) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	st, err := q.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return row{q.tx.QueryRowContext(ctx, query, args...)}
	}
	return row{st.QueryRowContext(ctx, args...)}
}

func result(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func wrapRows(r *sql.Rows, err error) (store.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// errRow is a row whose query could not even be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func exec(ctx context.Context, e execer, query string, args []any) (int64, error) {
	res, err := e.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func queryRows(ctx context.Context, e execer, query string, args []any) (store.Rows, error) {
	r, err := e.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() } // the error, if any, is reported by Err

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNoRows
	}
	return err
}

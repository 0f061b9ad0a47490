package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/kalcifer/kalcifer/store"
)

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// splitQ sends reads to the read pool and writes to the writer.
type splitQ struct{ read, write *sql.DB }

func (q splitQ) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return exec(ctx, q.write, query, args)
}

func (q splitQ) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	return queryRows(ctx, q.read, query, args)
}

func (q splitQ) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return row{q.read.QueryRowContext(ctx, query, args...)}
}

// txQ runs everything in one transaction.
type txQ struct{ tx *sql.Tx }

func (q txQ) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return exec(ctx, q.tx, query, args)
}

func (q txQ) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	return queryRows(ctx, q.tx, query, args)
}

func (q txQ) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return row{q.tx.QueryRowContext(ctx, query, args...)}
}

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

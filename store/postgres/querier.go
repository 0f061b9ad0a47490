package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kalcifer/kalcifer/store"
)

// pgxQuerier is what *pgxpool.Pool and pgx.Tx share.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type q struct{ p pgxQuerier }

func (q q) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.p.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q q) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	r, err := q.p.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (q q) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return row{q.p.QueryRow(ctx, query, args...)}
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNoRows
	}
	return err
}

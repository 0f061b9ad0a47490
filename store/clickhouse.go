package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// The ClickHouse sink's outbox (migration 20): rows the sink's observer
// writes inside engine transactions, and the shipper claims, inserts into
// ClickHouse and deletes. The store knows nothing of ClickHouse: a row is
// an opaque JSONEachRow line and the name of the table it goes to.

// ClickHouseRow is one row waiting in the outbox.
type ClickHouseRow struct {
	// ID orders the rows (set by the store).
	ID int64
	// Table is the ClickHouse table the row goes to.
	Table string
	// JSON is the row as one JSONEachRow line, without a newline.
	JSON []byte
}

// QueueClickHouse writes rows to the outbox in the transaction, so they
// commit with what they describe: in one unnest statement where the
// database binds arrays, a cached one-row statement a row otherwise (as
// history steps are written).
func (t *EngineTx) QueueClickHouse(rows []ClickHouseRow) error {
	if t.s.d.BindsArrays {
		tables, lines := make([]string, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			tables[i], lines[i] = r.Table, string(r.JSON)
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO clickhouse_outbox (tbl, row) SELECT * FROM unnest($1::text[], $2::text[])`,
			tables, lines); err != nil {
			return fmt.Errorf("queue %d rows for ClickHouse: %w", len(rows), err)
		}
		return nil
	}
	for _, r := range rows {
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO clickhouse_outbox (tbl, row) VALUES ($1, $2)`, r.Table, string(r.JSON)); err != nil {
			return fmt.Errorf("queue a row for ClickHouse: %w", err)
		}
	}
	return nil
}

// ClaimClickHouse claims up to limit of the oldest rows nobody holds, for
// lease: until it ends, other shippers (other replicas) skip them. A
// shipper that dies leaves them to be claimed again when the lease ends.
// A database with a single writer serves one process, whose one shipper
// has nobody to hold rows from: there the rows are only read, so that
// shipping does not rewrite each row while the engine waits for the
// writer. The rows come in ID order.
func (s *Store) ClaimClickHouse(ctx context.Context, limit int, lease time.Duration) ([]ClickHouseRow, error) {
	var out []ClickHouseRow
	scan := func(rows Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		out = out[:0]
		for rows.Next() {
			var r ClickHouseRow
			var js string
			if err := rows.Scan(&r.ID, &r.Table, &js); err != nil {
				return err
			}
			r.JSON = []byte(js)
			out = append(out, r)
		}
		return rows.Err()
	}
	var err error
	if s.d.SingleWriter {
		err = scan(s.b.Q().Query(ctx, `SELECT id, tbl, row FROM clickhouse_outbox ORDER BY id LIMIT $1`, limit))
	} else {
		now := s.now()
		err = s.b.WithTx(ctx, func(tx Tx) error {
			return scan(tx.Query(ctx, `UPDATE clickhouse_outbox SET claimed_until = $1
				WHERE id IN (SELECT id FROM clickhouse_outbox WHERE claimed_until <= $2 ORDER BY id LIMIT $3`+s.skipLocked()+`)
				RETURNING id, tbl, row`, micros(now.Add(lease)), micros(now), limit))
		})
	}
	if err != nil {
		return nil, fmt.Errorf("claim ClickHouse outbox rows: %w", err)
	}
	slices.SortFunc(out, func(a, b ClickHouseRow) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteClickHouse deletes shipped rows from the outbox, in one
// transaction.
func (s *Store) DeleteClickHouse(ctx context.Context, ids []int64) error {
	if err := s.byIDs(ctx, `DELETE FROM clickhouse_outbox WHERE id %s`, ids); err != nil {
		return fmt.Errorf("delete shipped ClickHouse outbox rows: %w", err)
	}
	return nil
}

// ReleaseClickHouse ends the claim on rows that could not be shipped, so
// that the next claim takes them again at once (where rows are claimed).
func (s *Store) ReleaseClickHouse(ctx context.Context, ids []int64) error {
	if s.d.SingleWriter {
		return nil
	}
	if err := s.byIDs(ctx, `UPDATE clickhouse_outbox SET claimed_until = 0 WHERE id %s`, ids); err != nil {
		return fmt.Errorf("release ClickHouse outbox rows: %w", err)
	}
	return nil
}

// byIDs runs stmt, whose %s becomes "IN (ids)" or "= ANY(ids)", in one
// transaction: one statement with an array where the database binds
// arrays, a thousand ids a statement otherwise.
func (s *Store) byIDs(ctx context.Context, stmt string, ids []int64) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		if s.d.BindsArrays {
			_, err := tx.Exec(ctx, fmt.Sprintf(stmt, "= ANY($1)"), ids)
			return err
		}
		const chunk = 1000
		for start := 0; start < len(ids); start += chunk {
			var args []any
			in := "IN (" + bind(&args, ids[start:min(start+chunk, len(ids))]) + ")"
			if _, err := tx.Exec(ctx, fmt.Sprintf(stmt, in), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClickHouseBacklog counts the rows waiting in the outbox.
func (s *Store) ClickHouseBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.b.Q().QueryRow(ctx, `SELECT COUNT(*) FROM clickhouse_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the ClickHouse outbox: %w", err)
	}
	return n, nil
}

package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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
// commit with what they describe.
func (t *EngineTx) QueueClickHouse(rows []ClickHouseRow) error {
	chunk := max(t.s.d.InsertRows, 1)
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var q strings.Builder
		q.WriteString(`INSERT INTO clickhouse_outbox (tbl, row) VALUES `)
		args := make([]any, 0, 2*len(part))
		for i, r := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(placeholders(len(args), 2))
			args = append(args, r.Table, string(r.JSON))
		}
		if _, err := t.tx.Exec(t.ctx, q.String(), args...); err != nil {
			return fmt.Errorf("queue %d rows for ClickHouse: %w", len(part), err)
		}
	}
	return nil
}

// ClaimClickHouse claims up to limit of the oldest rows nobody holds, for
// lease: until it ends, other shippers (other replicas) skip them. A
// shipper that dies leaves them to be claimed again when the lease ends.
// The rows come in ID order.
func (s *Store) ClaimClickHouse(ctx context.Context, limit int, lease time.Duration) ([]ClickHouseRow, error) {
	now := s.now()
	var out []ClickHouseRow
	err := s.b.WithTx(ctx, func(tx Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE clickhouse_outbox SET claimed_until = $1
			WHERE id IN (SELECT id FROM clickhouse_outbox WHERE claimed_until <= $2 ORDER BY id LIMIT $3`+s.skipLocked()+`)
			RETURNING id, tbl, row`, micros(now.Add(lease)), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
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
	})
	if err != nil {
		return nil, fmt.Errorf("claim ClickHouse outbox rows: %w", err)
	}
	slices.SortFunc(out, func(a, b ClickHouseRow) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteClickHouse deletes shipped rows from the outbox.
func (s *Store) DeleteClickHouse(ctx context.Context, ids []int64) error {
	if err := s.byIDs(ctx, `DELETE FROM clickhouse_outbox WHERE id IN (%s)`, ids); err != nil {
		return fmt.Errorf("delete shipped ClickHouse outbox rows: %w", err)
	}
	return nil
}

// ReleaseClickHouse ends the claim on rows that could not be shipped, so
// that the next claim takes them again at once.
func (s *Store) ReleaseClickHouse(ctx context.Context, ids []int64) error {
	if err := s.byIDs(ctx, `UPDATE clickhouse_outbox SET claimed_until = 0 WHERE id IN (%s)`, ids); err != nil {
		return fmt.Errorf("release ClickHouse outbox rows: %w", err)
	}
	return nil
}

// byIDs runs stmt, whose %s is an IN list, for ids, a thousand at a time.
func (s *Store) byIDs(ctx context.Context, stmt string, ids []int64) error {
	const chunk = 1000
	for start := 0; start < len(ids); start += chunk {
		var args []any
		in := bind(&args, ids[start:min(start+chunk, len(ids))])
		if _, err := s.b.Q().Exec(ctx, fmt.Sprintf(stmt, in), args...); err != nil {
			return err
		}
	}
	return nil
}

// ClickHouseBacklog counts the rows waiting in the outbox.
func (s *Store) ClickHouseBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.b.Q().QueryRow(ctx, `SELECT COUNT(*) FROM clickhouse_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the ClickHouse outbox: %w", err)
	}
	return n, nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// EngineTx is one engine transaction: the engine reads an instance, steps
// it, and writes its state, history, waits and sends through one EngineTx,
// so they commit together or not at all.
type EngineTx struct {
	s *Store
	// tx runs statements after the pending writes (workset.go); raw runs
	// them as they come, for the writes themselves and for statements
	// that touch no table with pending writes.
	tx, raw Tx
	ws      *workset
	ctx     context.Context
	now     time.Time
	// changed is set when the transaction queued customer changes.
	changed bool
	// written records what the transaction wrote, for the store's
	// observers; nil when there are none (observe.go). loaded holds the
	// statuses of the instances it read, for SavedInstance.From.
	written *Written
	loaded  map[string]kalcifer.InstanceStatus
}

// WithEngineTx runs fn in a transaction. The time is fixed once per
// transaction (EngineTx.Now).
func (s *Store) WithEngineTx(ctx context.Context, fn func(t *EngineTx) error) error {
	changed := false
	var written *Written
	err := s.b.WithTx(ctx, func(tx Tx) error {
		t := &EngineTx{s: s, raw: tx, ctx: ctx, now: s.now(), ws: newWorkset()}
		t.tx = flushingTx{t}
		if len(s.observers) > 0 {
			t.written, t.loaded = &Written{}, map[string]kalcifer.InstanceStatus{}
		}
		err := fn(t)
		if err == nil {
			err = t.flush()
		}
		if err == nil {
			err = t.observeInTx()
		}
		changed, written = t.changed, t.written
		return err
	})
	if err == nil && changed {
		s.customersChanged()
	}
	if err == nil {
		s.observeCommitted(written)
	}
	return err
}

// Now is the transaction's time.
func (t *EngineTx) Now() time.Time { return t.now }

// Tx is the underlying transaction, for statements the store has no method
// for (the conformance suite sets up rows with it).
func (t *EngineTx) Tx() Tx { return t.tx }

// skipLocked makes concurrent claimers take different rows (Dialect).
func (s *Store) skipLocked() string { return s.d.SkipLocked }

// skipLockedOf is skipLocked for a join: only the rows of the table named
// alias are locked.
func (s *Store) skipLockedOf(alias string) string { return s.d.skipLockedOf(alias) }

// forUpdate locks the rows read where writers run concurrently.
func (s *Store) forUpdate() string { return s.d.ForUpdate }

// TryLockLane takes lane's lock for the rest of the transaction, unless
// another transaction (of any replica) holds it: then it reports false.
// Only the lane's holder routes its events, so a customer's events are
// never routed by two workers at once, nor out of order. A database with a
// single writer has no lane locks (Dialect.LaneLock): the answer is true.
func (t *EngineTx) TryLockLane(lane int) (bool, error) {
	if t.s.d.LaneLock == "" {
		return true, nil
	}
	var ok bool
	if err := t.tx.QueryRow(t.ctx, t.s.d.LaneLock, lane).Scan(&ok); err != nil {
		return false, fmt.Errorf("lock event lane %d: %w", lane, err)
	}
	return ok, nil
}

// ErrConflict is returned when an instance changed since it was read; the
// engine retries the work.
var ErrConflict = errors.New("store: instance changed concurrently")

// --- events ---

// InsertEvents stores events durably in one transaction. An event whose
// ClientID the tenant sent before is not stored again: its ID is set to the
// stored event's and dup[i] is true.
func (s *Store) InsertEvents(ctx context.Context, events []*kalcifer.Event) (dup []bool, err error) {
	now := s.now()
	for _, e := range events {
		if e.ID == "" {
			e.ID = kalcifer.NewID("evt")
		}
		e.ReceivedAt = now
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
	}
	// stored[i] is the ID already stored for a repeated client ID; the
	// events keep their own IDs until the commit, so that a failed
	// transaction can be tried again as it was.
	stored := make([]string, len(events))
	err = s.b.WithTx(ctx, func(tx Tx) error {
		clear(stored)
		// Events sent for a customer merged into another are the
		// survivor's (aliases.go).
		if err := s.resolveAliases(ctx, tx, events); err != nil {
			return err
		}
		chunkSize := max(s.d.InsertRows, 1)
		for start := 0; start < len(events); start += chunkSize {
			chunk := events[start:min(start+chunkSize, len(events))]
			if err := insertEventChunk(ctx, tx, chunk, stored[start:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	dup = make([]bool, len(events))
	for i, id := range stored {
		if id != "" {
			dup[i], events[i].ID = true, id
		}
	}
	return dup, nil
}

// insertEventChunk stores events with one multi-row INSERT. Rows whose
// client ID was seen before are skipped by the database; stored gets the
// ID of the event stored under that client ID.
func insertEventChunk(ctx context.Context, tx Tx, events []*kalcifer.Event, stored []string) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO events (id, tenant_id, client_id, customer_id, event_type, data, occurred_at, received_at, journey_id) VALUES `)
	args := make([]any, 0, 9*len(events))
	for i, e := range events {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(placeholders(len(args), 9))
		data := string(e.Data)
		if data == "" {
			data = "{}"
		}
		args = append(args, e.ID, e.TenantID, nullString(e.ClientID), e.CustomerID, e.Type, data,
			micros(e.OccurredAt), micros(e.ReceivedAt), nullString(e.JourneyID))
	}
	q.WriteString(` ON CONFLICT (tenant_id, client_id) WHERE client_id IS NOT NULL DO NOTHING`)
	n, err := tx.Exec(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if int(n) == len(events) {
		return nil
	}
	// Some repeated a client ID: find which, and the IDs stored for them.
	// (An event repeated within the chunk is stored once, as its first.)
	for i, e := range events {
		if e.ClientID == "" {
			continue
		}
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM events WHERE tenant_id = $1 AND client_id = $2`,
			e.TenantID, e.ClientID).Scan(&id); err != nil {
			return fmt.Errorf("find duplicate event: %w", err)
		}
		if id != e.ID {
			stored[i] = id
		}
	}
	return nil
}

// UnprocessedEvents returns up to limit events not yet routed, oldest first.
func (t *EngineTx) UnprocessedEvents(limit int) ([]kalcifer.Event, error) {
	return t.UnprocessedEventsOfLane(limit, 0, 1)
}

// UnprocessedEventsOfLane is UnprocessedEvents for one lane of lanes:
// customers are split into lanes by a hash of their ID, so that workers
// route different customers' events in parallel and each customer's in
// order. Lanes above 1 need a database with lanes (Dialect.CustomerHash:
// PostgreSQL); one with a single writer has no use for them.
func (t *EngineTx) UnprocessedEventsOfLane(limit, lane, lanes int) ([]kalcifer.Event, error) {
	laneFilter := ""
	if lanes > 1 {
		if t.s.d.CustomerHash == "" {
			return nil, fmt.Errorf("event lanes need PostgreSQL, not %s", t.s.b.Kind())
		}
		laneFilter = fmt.Sprintf(" AND %s %% %d = %d", t.s.d.CustomerHash, lanes, lane)
	}
	rows, err := t.tx.Query(t.ctx, `SELECT id, tenant_id, COALESCE(client_id, ''), customer_id, event_type, data,
		occurred_at, received_at, COALESCE(journey_id, ''), `+aliasedColumn+`
		FROM events WHERE processed_at IS NULL`+laneFilter+` ORDER BY id LIMIT $1`+t.s.skipLocked(), limit)
	if err != nil {
		return nil, fmt.Errorf("read event inbox: %w", err)
	}
	var out []kalcifer.Event
	var moved []kalcifer.Event
	for rows.Next() {
		var e kalcifer.Event
		var data, into string
		var occurred, received int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.ClientID, &e.CustomerID, &e.Type, &data, &occurred, &received, &e.JourneyID, &into); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read event inbox: %w", err)
		}
		e.Data = json.RawMessage(data)
		e.OccurredAt, e.ReceivedAt = fromMicros(occurred), fromMicros(received)
		if into != "" {
			e.CustomerID = into
			moved = append(moved, e)
			if lanes > 1 {
				continue // the survivor's lane routes it
			}
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read event inbox: %w", err)
	}
	// Stored for an id while it was merged away: the survivor's now.
	for _, e := range moved {
		if err := t.rehome(e.ID, e.CustomerID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarkEventProcessed records that an event was routed (written with the
// transaction's other pending writes).
func (t *EngineTx) MarkEventProcessed(id string) error {
	t.ws.processed = append(t.ws.processed, id)
	return nil
}

// PendingEvents counts events not yet routed.
func (s *Store) PendingEvents(ctx context.Context) (int, error) {
	var n int
	err := s.b.Q().QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE processed_at IS NULL`).Scan(&n)
	return n, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

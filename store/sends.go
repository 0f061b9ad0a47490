package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

const sendColumns = `key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel, config, status, attempts, detail, created_at, completed_at`

// InsertSend writes a send to the ledger before any attempt. A send whose
// key exists already (the same instance, node and visit) is not written
// again, and inserted is false.
func (t *EngineTx) InsertSend(s *kalcifer.Send) (inserted bool, err error) {
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return false, fmt.Errorf("encode send config: %w", err)
	}
	s.CreatedAt = t.now
	var next any
	if s.Status == kalcifer.SendPending {
		next = micros(t.now)
	}
	n, err := t.tx.Exec(t.ctx, `INSERT INTO sends (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type,
		customer_id, channel, config, status, created_at, updated_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)
		ON CONFLICT (key) DO NOTHING`,
		s.Key, s.TenantID, s.JourneyID, s.Version, s.InstanceID, s.PathID, s.NodeID, s.NodeType,
		s.CustomerID, s.Channel, string(cfg), string(s.Status), micros(t.now), next)
	if err != nil {
		return false, fmt.Errorf("insert send %s: %w", s.Key, err)
	}
	return n == 1, nil
}

// CountSends counts a customer's sends on channel ("any": every channel)
// created since a time, across the tenant's journeys. Pending and in-flight
// sends count: they are reserved.
func (t *EngineTx) CountSends(tenantID, customerID, channel string, since time.Time) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM sends
		WHERE tenant_id = $1 AND customer_id = $2 AND ($3 = 'any' OR channel = $3) AND created_at >= $4
		  AND status IN ('pending', 'sending', 'sent', 'ambiguous')`,
		tenantID, customerID, channel, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sends: %w", err)
	}
	return n, nil
}

// Send reads a send by key inside the transaction.
func (t *EngineTx) Send(key string) (*kalcifer.Send, error) {
	s, err := scanSend(t.tx.QueryRow(t.ctx, `SELECT `+sendColumns+` FROM sends WHERE key = $1`, key))
	if err != nil {
		return nil, notFound(err, "send %q not found", key)
	}
	return s, nil
}

// ClaimSends takes up to limit pending sends that are due, oldest first,
// and marks them sending: from this commit on, an interrupted attempt is
// recorded as possibly delivered and never repeated.
func (t *EngineTx) ClaimSends(limit int) ([]*kalcifer.Send, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT `+sendColumns+` FROM sends
		WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2`+t.s.skipLocked(),
		micros(t.now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim sends: %w", err)
	}
	out, err := collectSends(rows)
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		if _, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = 'sending', attempts = attempts + 1, claimed_at = $1, updated_at = $1,
			next_attempt_at = NULL WHERE key = $2`, micros(t.now), s.Key); err != nil {
			return nil, fmt.Errorf("claim send %s: %w", s.Key, err)
		}
		s.Status = kalcifer.SendSending
		s.Attempts++
	}
	return out, nil
}

// ClaimedBefore returns up to limit sends claimed before a time and still
// in flight: their worker is gone (a crash), so their outcome is unknown.
func (t *EngineTx) ClaimedBefore(before time.Time, limit int) ([]*kalcifer.Send, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT `+sendColumns+` FROM sends
		WHERE status = 'sending' AND claimed_at < $1 ORDER BY claimed_at LIMIT $2`+t.s.skipLocked(), micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("stale claimed sends: %w", err)
	}
	return collectSends(rows)
}

// RetrySend returns a send that certainly did not arrive to pending, to be
// claimed again after a time.
func (t *EngineTx) RetrySend(key, detail string, at time.Time) error {
	_, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = 'pending', detail = $1, next_attempt_at = $2, claimed_at = NULL, updated_at = $3
		WHERE key = $4 AND status = 'sending'`, detail, micros(at), micros(t.now), key)
	if err != nil {
		return fmt.Errorf("retry send %s: %w", key, err)
	}
	return nil
}

// FinishSend records a send's final status. It returns false when the send
// was no longer in flight (another worker or the recovery finished it).
func (t *EngineTx) FinishSend(key string, status kalcifer.SendStatus, detail string) (bool, error) {
	n, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = $1, detail = $2, updated_at = $3, completed_at = $3,
		next_attempt_at = NULL WHERE key = $4 AND status IN ('sending', 'capped', 'pending')`,
		string(status), detail, micros(t.now), key)
	if err != nil {
		return false, fmt.Errorf("finish send %s as %s: %w", key, status, err)
	}
	return n == 1, nil
}

// StampSend marks a claimed send as being called now and reports whether
// it is still claimed: a send that waited past its lease may have been
// settled as ambiguous meanwhile, and must then not be called.
func (s *Store) StampSend(ctx context.Context, key string) (bool, error) {
	n, err := s.b.Q().Exec(ctx, `UPDATE sends SET claimed_at = $1 WHERE key = $2 AND status = 'sending'`, micros(s.now()), key)
	if err != nil {
		return false, fmt.Errorf("stamp send %s: %w", key, err)
	}
	return n == 1, nil
}

// SendStatus returns a send's status in the ledger.
func (t *EngineTx) SendStatus(key string) (kalcifer.SendStatus, error) {
	var status string
	if err := t.tx.QueryRow(t.ctx, `SELECT status FROM sends WHERE key = $1`, key).Scan(&status); err != nil {
		return "", notFound(err, "send %q not found", key)
	}
	return kalcifer.SendStatus(status), nil
}

// ListSends returns an instance's sends, oldest first.
func (s *Store) ListSends(ctx context.Context, tenantID, instanceID string) ([]kalcifer.Send, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+sendColumns+` FROM sends WHERE tenant_id = $1 AND instance_id = $2 ORDER BY created_at, key`,
		tenantID, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list sends: %w", err)
	}
	list, err := collectSends(rows)
	if err != nil {
		return nil, err
	}
	out := make([]kalcifer.Send, len(list))
	for i, sd := range list {
		out[i] = *sd
	}
	return out, nil
}

func collectSends(rows Rows) ([]*kalcifer.Send, error) {
	defer rows.Close()
	var out []*kalcifer.Send
	for rows.Next() {
		sd, err := scanSend(rows)
		if err != nil {
			return nil, fmt.Errorf("read sends: %w", err)
		}
		out = append(out, sd)
	}
	return out, rows.Err()
}

func scanSend(r Row) (*kalcifer.Send, error) {
	var s kalcifer.Send
	var cfg, status string
	var created int64
	var completed *int64
	if err := r.Scan(&s.Key, &s.TenantID, &s.JourneyID, &s.Version, &s.InstanceID, &s.PathID, &s.NodeID, &s.NodeType,
		&s.CustomerID, &s.Channel, &cfg, &status, &s.Attempts, &s.Detail, &created, &completed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &s.Config); err != nil {
		return nil, fmt.Errorf("decode send config: %w", err)
	}
	s.Status = kalcifer.SendStatus(status)
	s.CreatedAt, s.CompletedAt = fromMicros(created), fromNullMicros(completed)
	return &s, nil
}

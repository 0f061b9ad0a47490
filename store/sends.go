package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

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
	n, err := t.tx.Exec(t.ctx, `INSERT INTO sends (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type,
		customer_id, channel, config, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
		ON CONFLICT (key) DO NOTHING`,
		s.Key, s.TenantID, s.JourneyID, s.Version, s.InstanceID, s.PathID, s.NodeID, s.NodeType,
		s.CustomerID, s.Channel, string(cfg), string(s.Status), micros(t.now))
	if err != nil {
		return false, fmt.Errorf("insert send %s: %w", s.Key, err)
	}
	return n == 1, nil
}

// InsertJob enqueues a River job in this transaction.
func (t *EngineTx) InsertJob(args river.JobArgs, opts *river.InsertOpts) error {
	return t.s.b.InsertJobTx(t.ctx, t.tx, args, opts)
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

// SetSendStatus moves a send on in the ledger; a final status records when.
func (t *EngineTx) SetSendStatus(key string, status kalcifer.SendStatus, detail string, attempt bool) error {
	var completed any
	switch status {
	case kalcifer.SendSent, kalcifer.SendFailed, kalcifer.SendAmbiguous, kalcifer.SendCapped:
		completed = micros(t.now)
	}
	inc := 0
	if attempt {
		inc = 1
	}
	_, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = $1, detail = $2, attempts = attempts + $3, updated_at = $4, completed_at = $5
		WHERE key = $6`, string(status), detail, inc, micros(t.now), completed, key)
	if err != nil {
		return fmt.Errorf("set send %s %s: %w", key, status, err)
	}
	return nil
}

// ListSends returns an instance's sends, oldest first.
func (s *Store) ListSends(ctx context.Context, tenantID, instanceID string) ([]kalcifer.Send, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+sendColumns+` FROM sends WHERE tenant_id = $1 AND instance_id = $2 ORDER BY created_at, key`,
		tenantID, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list sends: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.Send{}
	for rows.Next() {
		sd, err := scanSend(rows)
		if err != nil {
			return nil, fmt.Errorf("list sends: %w", err)
		}
		out = append(out, *sd)
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

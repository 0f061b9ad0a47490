package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

// The outbox of outgoing webhooks: deliveries are claimed with a lease,
// called outside any transaction, and recorded. A worker that dies between
// its claim and its record leaves the delivery claimed until the lease
// ends; it is then claimed again (at least once: receivers drop repeats by
// the payload's id).

// ClaimedHookDelivery is a delivery a worker took, with where it goes.
type ClaimedHookDelivery struct {
	kalcifer.HookDelivery
	TenantID string
	URL      string
	// Secret signs the request (opened).
	Secret string
	// Active is false when the subscription was switched off after the
	// delivery was written: it is then not sent.
	Active bool
}

// ClaimHookDeliveries takes up to limit due deliveries — pending ones whose
// time has come, and claimed ones whose lease ran out — counts an attempt
// on each and leases them until now+lease.
func (s *Store) ClaimHookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]ClaimedHookDelivery, error) {
	var out []ClaimedHookDelivery
	err := s.b.WithTx(ctx, func(tx Tx) error {
		out = out[:0]
		now := s.now()
		for _, due := range []string{`d.status = 'delivering' AND d.lease_until <= $1`, `d.status = 'pending' AND d.next_at <= $1`} {
			if len(out) >= limit {
				break
			}
			rows, err := tx.Query(ctx, `SELECT `+hookDeliveryColumns+`, d.tenant_id, w.url, w.secret, w.active
				FROM hook_deliveries d JOIN webhook_subscriptions w ON w.id = d.subscription_id
				WHERE `+due+` ORDER BY d.id LIMIT $2`+s.skipLockedOf("d"), micros(now), limit-len(out))
			if err != nil {
				return fmt.Errorf("claim webhook deliveries: %w", err)
			}
			for rows.Next() {
				var c ClaimedHookDelivery
				var active int
				if err := scanHookDelivery(rows, &c.HookDelivery, &c.TenantID, &c.URL, &c.Secret, &active); err != nil {
					rows.Close()
					return fmt.Errorf("claim webhook deliveries: %w", err)
				}
				c.Active = active == 1
				out = append(out, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("claim webhook deliveries: %w", err)
			}
		}
		for i := range out {
			c := &out[i]
			secret, err := s.open(colHookSecret, c.SubscriptionID, c.Secret)
			if err != nil {
				return err
			}
			c.Secret = secret
			c.Attempts++
			c.Status = kalcifer.HookDelivering
			if _, err := tx.Exec(ctx, `UPDATE hook_deliveries SET status = 'delivering', attempts = $1, lease_until = $2,
				updated_at = $3 WHERE id = $4`, c.Attempts, micros(now.Add(lease)), micros(now), c.ID); err != nil {
				return fmt.Errorf("claim webhook delivery %s: %w", c.ID, err)
			}
		}
		return nil
	})
	return out, err
}

// HookResult is how one attempt of a delivery ended.
type HookResult struct {
	// Status is HookDelivered, HookFailed (given up) or HookPending (tried
	// again at RetryAt).
	Status       kalcifer.HookDeliveryStatus
	RetryAt      time.Time
	ResponseCode int
	Error        string
}

// RecordHookDelivery records the attempt of a claimed delivery. An attempt
// whose lease ran out and was claimed again meanwhile is not recorded: the
// newer claim owns the row (attempts differ).
func (s *Store) RecordHookDelivery(ctx context.Context, d *ClaimedHookDelivery, r HookResult) error {
	now := s.now()
	var next, delivered any
	switch r.Status {
	case kalcifer.HookPending:
		next = micros(r.RetryAt)
	case kalcifer.HookDelivered:
		delivered = micros(now)
	case kalcifer.HookFailed:
	default:
		return fmt.Errorf("record webhook delivery %s: status %q", d.ID, r.Status)
	}
	err := s.b.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `UPDATE hook_deliveries SET status = $1, next_at = $2, delivered_at = $3, lease_until = NULL,
			response_code = $4, last_error = $5, updated_at = $6 WHERE id = $7 AND status = 'delivering' AND attempts = $8`,
			string(r.Status), next, delivered, r.ResponseCode, truncate(r.Error, 1000), micros(now), d.ID, d.Attempts)
		return err
	})
	if err != nil {
		return fmt.Errorf("record webhook delivery %s: %w", d.ID, err)
	}
	return nil
}

// ListHookDeliveries returns a page of a subscription's delivery log,
// newest first; status filters it when not empty.
func (s *Store) ListHookDeliveries(ctx context.Context, tenantID, subscriptionID, status string, limit int, cursor string) (kalcifer.Page[kalcifer.HookDelivery], error) {
	limit = kalcifer.ClampLimit(limit)
	if _, err := s.GetHookSubscription(ctx, tenantID, subscriptionID); err != nil {
		return kalcifer.Page[kalcifer.HookDelivery]{}, err
	}
	q := `SELECT ` + hookDeliveryColumns + ` FROM hook_deliveries d WHERE d.tenant_id = $1 AND d.subscription_id = $2`
	args := []any{tenantID, subscriptionID}
	if cursor != "" {
		args = append(args, cursor)
		q += fmt.Sprintf(" AND d.id < $%d", len(args))
	}
	if status != "" {
		args = append(args, status)
		q += fmt.Sprintf(" AND d.status = $%d", len(args))
	}
	args = append(args, limit+1)
	rows, err := s.b.Q().Query(ctx, q+fmt.Sprintf(" ORDER BY d.id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return kalcifer.Page[kalcifer.HookDelivery]{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.HookDelivery{}
	for rows.Next() {
		var d kalcifer.HookDelivery
		if err := scanHookDelivery(rows, &d); err != nil {
			return kalcifer.Page[kalcifer.HookDelivery]{}, fmt.Errorf("list webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return kalcifer.Page[kalcifer.HookDelivery]{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return pageOf(out, limit, func(d kalcifer.HookDelivery) string { return d.ID }), nil
}

// RedeliverHook queues the event of a delivery again, as a new delivery of
// the same payload (same event id) to the same subscription, due now.
func (s *Store) RedeliverHook(ctx context.Context, actor, tenantID, subscriptionID, deliveryID string) (*kalcifer.HookDelivery, error) {
	var out kalcifer.HookDelivery
	err := s.b.WithTx(ctx, func(tx Tx) error {
		var d kalcifer.HookDelivery
		err := scanHookDelivery(tx.QueryRow(ctx, `SELECT `+hookDeliveryColumns+` FROM hook_deliveries d
			WHERE d.tenant_id = $1 AND d.subscription_id = $2 AND d.id = $3`, tenantID, subscriptionID, deliveryID), &d)
		if err != nil {
			return notFound(err, "webhook subscription %q has no delivery %q", subscriptionID, deliveryID)
		}
		now := s.now()
		out = kalcifer.HookDelivery{ID: kalcifer.NewID("hdl"), SubscriptionID: subscriptionID, EventID: d.EventID,
			EventType: d.EventType, Status: kalcifer.HookPending, RedeliveryOf: d.ID, Payload: d.Payload,
			CreatedAt: now, UpdatedAt: now, NextAttemptAt: &now}
		if _, err := tx.Exec(ctx, `INSERT INTO hook_deliveries (id, tenant_id, subscription_id, event_id, event_type, payload,
			status, redelivery_of, next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $8)`,
			out.ID, tenantID, subscriptionID, d.EventID, d.EventType, string(d.Payload), d.ID, micros(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantID, actor, "webhook_delivery.redeliver", "webhook_subscription", subscriptionID,
			map[string]any{"delivery_id": d.ID, "new_delivery_id": out.ID, "event_id": d.EventID})
	})
	if err != nil {
		return nil, fmt.Errorf("redeliver: %w", err)
	}
	return &out, nil
}

const hookDeliveryColumns = `d.id, d.subscription_id, d.event_id, d.event_type, d.status, d.attempts, d.response_code,
	d.last_error, d.redelivery_of, d.payload, d.created_at, d.updated_at, d.next_at, d.delivered_at`

// scanHookDelivery scans hookDeliveryColumns into d, then extra.
func scanHookDelivery(r Row, d *kalcifer.HookDelivery, extra ...any) error {
	var status, payload string
	var created, updated int64
	var next, delivered *int64
	dest := append([]any{&d.ID, &d.SubscriptionID, &d.EventID, &d.EventType, &status, &d.Attempts, &d.ResponseCode,
		&d.LastError, &d.RedeliveryOf, &payload, &created, &updated, &next, &delivered}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	d.Status, d.Payload = kalcifer.HookDeliveryStatus(status), []byte(payload)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	if d.Status == kalcifer.HookPending {
		d.NextAttemptAt = fromNullMicros(next)
	}
	d.DeliveredAt = fromNullMicros(delivered)
	return nil
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Outgoing webhook subscriptions, and the index of the active ones that
// engine transactions consult before they write a delivery to the outbox:
// a tenant without a subscription costs one map lookup.

// hookIndex is the active subscriptions by tenant, as last loaded.
type hookIndex map[string][]kalcifer.WebhookSubscription

// LoadHookSubscriptions reads every active subscription into the index
// that engine transactions consult. The store reloads it after each change
// it makes; the delivery loop reloads it periodically, so that changes
// made by other replicas are seen.
func (s *Store) LoadHookSubscriptions(ctx context.Context) error {
	rows, err := s.b.Q().Query(ctx, `SELECT `+hookSubColumns+` FROM webhook_subscriptions WHERE active = 1`)
	if err != nil {
		return fmt.Errorf("load webhook subscriptions: %w", err)
	}
	defer rows.Close()
	idx := hookIndex{}
	for rows.Next() {
		sub, err := scanHookSub(rows)
		if err != nil {
			return fmt.Errorf("load webhook subscriptions: %w", err)
		}
		idx[sub.TenantID] = append(idx[sub.TenantID], sub)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load webhook subscriptions: %w", err)
	}
	s.hooks.Store(&idx)
	return nil
}

// HasHooks reports whether the tenant has an active subscription, as the
// index last loaded says: the one lookup a tenant without any pays.
func (s *Store) HasHooks(tenantID string) bool {
	idx := s.hooks.Load()
	return idx != nil && len((*idx)[tenantID]) > 0
}

// HookWanted reports whether an active subscription of the tenant takes
// events of type typ about journeyID, as the index last loaded says.
func (s *Store) HookWanted(tenantID, typ, journeyID string) bool {
	idx := s.hooks.Load()
	if idx == nil {
		return false
	}
	for i := range (*idx)[tenantID] {
		if (*idx)[tenantID][i].Wants(typ, journeyID) {
			return true
		}
	}
	return false
}

// EnqueueHooks writes a delivery of each event to each active subscription
// that wants it, in the engine's transaction: the events commit with what
// caused them, or not at all.
func (t *EngineTx) EnqueueHooks(events []kalcifer.HookEvent) error {
	return t.s.enqueueHooks(t.ctx, t.tx, t.now, events)
}

// enqueueHooks writes the deliveries of events through q.
func (s *Store) enqueueHooks(ctx context.Context, q Querier, now time.Time, events []kalcifer.HookEvent) error {
	idx := s.hooks.Load()
	if idx == nil || len(events) == 0 {
		return nil
	}
	const cols = 9
	var sql strings.Builder
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := q.Exec(ctx, `INSERT INTO hook_deliveries (id, tenant_id, subscription_id, event_id, event_type, payload,
			status, next_at, created_at, updated_at) VALUES `+sql.String(), args...)
		sql.Reset()
		args = args[:0]
		if err != nil {
			return fmt.Errorf("write webhook deliveries: %w", err)
		}
		return nil
	}
	for i := range events {
		e := &events[i]
		var payload []byte
		for _, sub := range (*idx)[e.TenantID] {
			if !sub.Wants(e.Type, e.JourneyID) {
				continue
			}
			if payload == nil {
				if e.ID == "" {
					e.ID = kalcifer.NewID("hev")
				}
				if e.Timestamp.IsZero() {
					e.Timestamp = now
				}
				var err error
				if payload, err = e.Payload(); err != nil {
					return fmt.Errorf("encode webhook event %s: %w", e.Type, err)
				}
			}
			if len(args) > 0 {
				sql.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&sql, "($%d, $%d, $%d, $%d, $%d, $%d, 'pending', $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9)
			args = append(args, kalcifer.NewID("hdl"), e.TenantID, sub.ID, e.ID, e.Type, string(payload), micros(now), micros(now), micros(now))
			if len(args) >= 100*cols {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// CreateHookSubscription stores a subscription and returns its signing
// secret, shown this once; it is kept sealed. A journey_id the tenant does
// not have is ENOTFOUND.
func (s *Store) CreateHookSubscription(ctx context.Context, actor string, sub *kalcifer.WebhookSubscription) (string, error) {
	if err := sub.Validate(); err != nil {
		return "", err
	}
	now := s.now()
	sub.ID, sub.CreatedAt, sub.UpdatedAt = kalcifer.NewID("whs"), now, now
	secret := kalcifer.NewHookSecret()
	events, err := json.Marshal(sub.Events)
	if err != nil {
		return "", err
	}
	err = s.b.WithTx(ctx, func(tx Tx) error {
		if sub.JourneyID != "" {
			if _, err := getJourney(ctx, tx, sub.TenantID, sub.JourneyID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_subscriptions (id, tenant_id, url, events, journey_id, description, active,
			secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			sub.ID, sub.TenantID, sub.URL, string(events), nullString(sub.JourneyID), sub.Description, flag(sub.Active),
			s.seal(colHookSecret, sub.ID, secret), micros(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, sub.TenantID, actor, "webhook_subscription.create", "webhook_subscription", sub.ID,
			map[string]any{"url": sub.URL, "events": sub.Events, "journey_id": sub.JourneyID, "active": sub.Active})
	})
	if err != nil {
		return "", fmt.Errorf("create webhook subscription: %w", err)
	}
	return secret, s.LoadHookSubscriptions(ctx)
}

// HookSubscriptionPatch changes the fields that are set.
type HookSubscriptionPatch struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	JourneyID   *string   `json:"journey_id"`
	Description *string   `json:"description"`
	Active      *bool     `json:"active"`
}

// UpdateHookSubscription applies patch to a subscription and returns it.
func (s *Store) UpdateHookSubscription(ctx context.Context, actor, tenantID, id string, patch HookSubscriptionPatch) (*kalcifer.WebhookSubscription, error) {
	var out kalcifer.WebhookSubscription
	err := s.b.WithTx(ctx, func(tx Tx) error {
		sub, err := scanHookSub(tx.QueryRow(ctx, `SELECT `+hookSubColumns+` FROM webhook_subscriptions
			WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenantID, id))
		if err != nil {
			return notFound(err, "webhook subscription %q not found", id)
		}
		if patch.URL != nil {
			sub.URL = *patch.URL
		}
		if patch.Events != nil {
			sub.Events = *patch.Events
		}
		if patch.JourneyID != nil {
			sub.JourneyID = *patch.JourneyID
		}
		if patch.Description != nil {
			sub.Description = *patch.Description
		}
		if patch.Active != nil {
			sub.Active = *patch.Active
		}
		if err := sub.Validate(); err != nil {
			return err
		}
		if patch.JourneyID != nil && sub.JourneyID != "" {
			if _, err := getJourney(ctx, tx, tenantID, sub.JourneyID); err != nil {
				return err
			}
		}
		events, err := json.Marshal(sub.Events)
		if err != nil {
			return err
		}
		sub.UpdatedAt = s.now()
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET url = $1, events = $2, journey_id = $3, description = $4,
			active = $5, updated_at = $6 WHERE id = $7`, sub.URL, string(events), nullString(sub.JourneyID), sub.Description,
			flag(sub.Active), micros(sub.UpdatedAt), sub.ID); err != nil {
			return err
		}
		out = sub
		return s.audit(ctx, tx, tenantID, actor, "webhook_subscription.update", "webhook_subscription", id,
			map[string]any{"url": sub.URL, "events": sub.Events, "journey_id": sub.JourneyID, "active": sub.Active})
	})
	if err != nil {
		return nil, fmt.Errorf("update webhook subscription: %w", err)
	}
	return &out, s.LoadHookSubscriptions(ctx)
}

// DeleteHookSubscription removes a subscription with its delivery log;
// deliveries still pending are dropped.
func (s *Store) DeleteHookSubscription(ctx context.Context, actor, tenantID, id string) error {
	err := s.b.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM hook_deliveries WHERE tenant_id = $1 AND subscription_id = $2`, tenantID, id); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "webhook subscription %q not found", id)
		}
		return s.audit(ctx, tx, tenantID, actor, "webhook_subscription.delete", "webhook_subscription", id, nil)
	})
	if err != nil {
		return fmt.Errorf("delete webhook subscription: %w", err)
	}
	return s.LoadHookSubscriptions(ctx)
}

// GetHookSubscription returns one of the tenant's subscriptions.
func (s *Store) GetHookSubscription(ctx context.Context, tenantID, id string) (*kalcifer.WebhookSubscription, error) {
	sub, err := scanHookSub(s.b.Q().QueryRow(ctx, `SELECT `+hookSubColumns+` FROM webhook_subscriptions
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "webhook subscription %q not found", id)
	}
	return &sub, nil
}

// ListHookSubscriptions returns a page of the tenant's subscriptions,
// oldest first.
func (s *Store) ListHookSubscriptions(ctx context.Context, tenantID string, limit int, cursor string) (kalcifer.Page[kalcifer.WebhookSubscription], error) {
	limit = kalcifer.ClampLimit(limit)
	rows, err := s.b.Q().Query(ctx, `SELECT `+hookSubColumns+` FROM webhook_subscriptions
		WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, cursor, limit+1)
	if err != nil {
		return kalcifer.Page[kalcifer.WebhookSubscription]{}, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	defer rows.Close()
	subs := []kalcifer.WebhookSubscription{}
	for rows.Next() {
		sub, err := scanHookSub(rows)
		if err != nil {
			return kalcifer.Page[kalcifer.WebhookSubscription]{}, fmt.Errorf("list webhook subscriptions: %w", err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return kalcifer.Page[kalcifer.WebhookSubscription]{}, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	return pageOf(subs, limit, func(s kalcifer.WebhookSubscription) string { return s.ID }), nil
}

const hookSubColumns = `id, tenant_id, url, events, COALESCE(journey_id, ''), description, active, created_at, updated_at`

func scanHookSub(r Row) (kalcifer.WebhookSubscription, error) {
	var sub kalcifer.WebhookSubscription
	var events string
	var active int
	var created, updated int64
	if err := r.Scan(&sub.ID, &sub.TenantID, &sub.URL, &events, &sub.JourneyID, &sub.Description, &active, &created, &updated); err != nil {
		return sub, err
	}
	if err := jsonUnmarshal(events, &sub.Events); err != nil {
		return sub, fmt.Errorf("webhook subscription %s events: %w", sub.ID, err)
	}
	sub.Active, sub.CreatedAt, sub.UpdatedAt = active == 1, fromMicros(created), fromMicros(updated)
	return sub, nil
}

// flag is a boolean's stored form.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// migrationHook reads, before a migration is saved, the status it leaves
// when the save would make it completed or paused and a subscription wants
// to hear it; the returned func, called after the save, writes the event.
// A tenant without such a subscription costs nothing.
func (s *Store) migrationHook(ctx context.Context, q Querier, now time.Time, m *kalcifer.Migration) (func() error, error) {
	none := func() error { return nil }
	typ := migrationHookType(m.Status)
	if typ == "" || !s.HookWanted(m.TenantID, typ, m.JourneyID) {
		return none, nil
	}
	var from string
	if err := q.QueryRow(ctx, `SELECT status FROM migrations WHERE id = $1`, m.ID).Scan(&from); err != nil {
		return nil, fmt.Errorf("read migration %s: %w", m.ID, err)
	}
	if kalcifer.MigrationStatus(from) == m.Status {
		return none, nil
	}
	return func() error { return s.enqueueMigrationEvent(ctx, q, now, m) }, nil
}

// migrationHookType is the webhook event of a migration reaching status,
// "" when there is none.
func migrationHookType(status kalcifer.MigrationStatus) string {
	switch status {
	case kalcifer.MigrationCompleted:
		return kalcifer.HookMigrationCompleted
	case kalcifer.MigrationPaused:
		return kalcifer.HookMigrationPaused
	}
	return ""
}

// enqueueMigrationEvent writes the webhook event of m's status.
func (s *Store) enqueueMigrationEvent(ctx context.Context, q Querier, now time.Time, m *kalcifer.Migration) error {
	typ := migrationHookType(m.Status)
	if typ == "" || !s.HookWanted(m.TenantID, typ, m.JourneyID) {
		return nil
	}
	return s.enqueueHooks(ctx, q, now, []kalcifer.HookEvent{{Type: typ, TenantID: m.TenantID, JourneyID: m.JourneyID,
		Data: map[string]any{"migration_id": m.ID, "status": string(m.Status), "reason": m.Reason,
			"from_version": m.FromVersion, "to_version": m.ToVersion, "strategy": string(m.Strategy),
			"progress": m.Progress}}})
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

// SetDefaultLimits sets the limits of every tenant without overrides
// (KALCIFER_RATE_LIMIT_*, KALCIFER_QUOTA_*). The zero Limits, the default,
// is unlimited. Call it before the store is used.
func (s *Store) SetDefaultLimits(l kalcifer.Limits) { s.defaults = l }

// DefaultLimits returns what SetDefaultLimits set.
func (s *Store) DefaultLimits() kalcifer.Limits { return s.defaults }

const limitColumns = `events_per_second, api_per_minute, active_instances, journeys, uploads_per_day`

// LimitOverrides returns the overrides the operator set for a tenant (none:
// every field nil); ENOTFOUND for an unknown tenant.
func (s *Store) LimitOverrides(ctx context.Context, tenantID string) (kalcifer.LimitOverrides, error) {
	if _, err := s.GetTenant(ctx, tenantID); err != nil {
		return kalcifer.LimitOverrides{}, err
	}
	return limitOverrides(ctx, s.b.Q(), tenantID)
}

func limitOverrides(ctx context.Context, q Querier, tenantID string) (kalcifer.LimitOverrides, error) {
	var o kalcifer.LimitOverrides
	var cols [5]*int64
	err := q.QueryRow(ctx, `SELECT `+limitColumns+` FROM tenant_limits WHERE tenant_id = $1`, tenantID).
		Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4])
	if errors.Is(err, ErrNoRows) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("limits of %s: %w", tenantID, err)
	}
	for i, f := range o.Fields(&kalcifer.Limits{}) {
		if cols[i] != nil {
			v := int(*cols[i])
			*f.Override = &v
		}
	}
	return o, nil
}

// Limits returns a tenant's effective limits: its overrides over the
// defaults.
func (s *Store) Limits(ctx context.Context, tenantID string) (kalcifer.Limits, error) {
	o, err := limitOverrides(ctx, s.b.Q(), tenantID)
	if err != nil {
		return kalcifer.Limits{}, err
	}
	return o.Over(s.defaults), nil
}

// SetLimitOverrides replaces a tenant's overrides (nil fields follow the
// default) and audits the change. Only the operator sets them: no API route
// calls it, so a tenant cannot raise its own limits.
func (s *Store) SetLimitOverrides(ctx context.Context, actor, tenantID string, o kalcifer.LimitOverrides) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if _, err := s.GetTenant(ctx, tenantID); err != nil {
		return err
	}
	var cols [5]any
	for i, f := range o.Fields(&kalcifer.Limits{}) {
		if *f.Override != nil {
			cols[i] = int64(**f.Override)
		}
	}
	return s.b.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenant_limits (tenant_id, `+limitColumns+`, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id) DO UPDATE SET events_per_second = $2, api_per_minute = $3,
				active_instances = $4, journeys = $5, uploads_per_day = $6, updated_at = $7`,
			tenantID, cols[0], cols[1], cols[2], cols[3], cols[4], micros(s.now()))
		if err != nil {
			return fmt.Errorf("set limits of %s: %w", tenantID, err)
		}
		return s.audit(ctx, tx, tenantID, actor, "tenant.limits", "tenant", tenantID, o)
	})
}

// Usage returns what a tenant uses of its quotas now.
func (s *Store) Usage(ctx context.Context, tenantID string) (kalcifer.Usage, error) {
	var u kalcifer.Usage
	err := s.b.Q().QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM instances WHERE tenant_id = $1 AND status IN ('active', 'paused')),
		(SELECT COUNT(*) FROM journeys WHERE tenant_id = $1 AND status <> 'archived'),
		COALESCE((SELECT uploads FROM tenant_usage WHERE tenant_id = $1 AND day = $2), 0),
		COALESCE((SELECT skipped_entries FROM tenant_usage WHERE tenant_id = $1 AND day = $2), 0)`,
		tenantID, kalcifer.UTCDay(s.now())).Scan(&u.ActiveInstances, &u.Journeys, &u.UploadsToday, &u.SkippedEntriesToday)
	if err != nil {
		return u, fmt.Errorf("usage of %s: %w", tenantID, err)
	}
	return u, nil
}

// ReserveUpload counts one upload of the tenant today, unless that would
// pass its uploads-per-day quota: then ERATELIMITED with RetryAfter until
// the next UTC day. Check and count are one statement, so concurrent
// uploads cannot both take the last one.
func (s *Store) ReserveUpload(ctx context.Context, tenantID string) error {
	lim, err := s.Limits(ctx, tenantID)
	if err != nil {
		return err
	}
	now := s.now()
	quota := int64(lim.UploadsPerDay)
	if quota == 0 {
		quota = kalcifer.MaxLimit + 1 // unlimited: still counted, for GET /limits
	}
	var n int64
	err = s.b.WithTx(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO tenant_usage (tenant_id, day, uploads) VALUES ($1, $2, 1)
			ON CONFLICT (tenant_id, day) DO UPDATE SET uploads = tenant_usage.uploads + 1
			WHERE tenant_usage.uploads < $3
			RETURNING uploads`, tenantID, kalcifer.UTCDay(now), quota).Scan(&n)
	})
	if errors.Is(err, ErrNoRows) {
		wait := kalcifer.NextUTCDay(now).Sub(now)
		return &kalcifer.Error{Code: kalcifer.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("this tenant's quota of %d uploads per day is used up; it renews at 00:00 UTC, in %s",
				lim.UploadsPerDay, wait.Round(time.Minute)),
			State: map[string]any{"quota": "uploads_per_day", "limit": lim.UploadsPerDay}}
	}
	if err != nil {
		return fmt.Errorf("count upload of %s: %w", tenantID, err)
	}
	return nil
}

// checkJourneyQuota refuses, with EQUOTA, a new journey of a tenant at its
// journeys quota. It runs in the transaction that inserts the journey; on
// PostgreSQL it locks the tenant's row first, so that two concurrent
// creations cannot both take the last place.
func (s *Store) checkJourneyQuota(ctx context.Context, tx Tx, tenantID string) error {
	o, err := limitOverrides(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	quota := o.Over(s.defaults).Journeys
	if quota == 0 {
		return nil
	}
	var id string
	if err := tx.QueryRow(ctx, `SELECT id FROM tenants WHERE id = $1`+s.forUpdate(), tenantID).Scan(&id); err != nil {
		return notFound(err, "tenant %q not found", tenantID)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM journeys WHERE tenant_id = $1 AND status <> 'archived'`, tenantID).Scan(&n); err != nil {
		return fmt.Errorf("count journeys of %s: %w", tenantID, err)
	}
	if n >= quota {
		return &kalcifer.Error{Code: kalcifer.EQUOTA,
			Message: fmt.Sprintf("this tenant has %d journeys that are not archived, its quota is %d: archive one, or ask the operator to raise the quota", n, quota),
			State:   map[string]any{"quota": "journeys", "limit": quota, "used": n}}
	}
	return nil
}

// ActiveInstanceQuota returns the tenant's active-instance quota (0:
// unlimited) and, when it has one, how many of its instances have not ended.
// With a quota, it first takes the tenant's lock (Dialect.TenantLock) for
// the rest of the transaction, so the count stays true while the caller
// starts instances; callers take several tenants' locks in one order (by
// id) to never wait for each other in a cycle.
func (t *EngineTx) ActiveInstanceQuota(tenantID string) (quota, used int, err error) {
	o, err := limitOverrides(t.ctx, t.tx, tenantID)
	if err != nil {
		return 0, 0, err
	}
	quota = o.Over(t.s.defaults).ActiveInstances
	if quota == 0 {
		return 0, 0, nil
	}
	if t.s.d.TenantLock != "" {
		if _, err := t.tx.Exec(t.ctx, t.s.d.TenantLock, tenantID); err != nil {
			return 0, 0, fmt.Errorf("lock tenant %s: %w", tenantID, err)
		}
	}
	err = t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM instances WHERE tenant_id = $1 AND status IN ('active', 'paused')`, tenantID).Scan(&used)
	if err != nil {
		return 0, 0, fmt.Errorf("count active instances of %s: %w", tenantID, err)
	}
	return quota, used, nil
}

// InJourney reports whether the customer is in an instance of the journey
// that holds its place (a journey without re-entry).
func (t *EngineTx) InJourney(tenantID, journeyID, customerID string) (bool, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM active_entries WHERE tenant_id = $1 AND journey_id = $2 AND customer_id = $3`,
		tenantID, journeyID, customerID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("find %s in journey %s: %w", customerID, journeyID, err)
	}
	return n > 0, nil
}

// CountSkippedEntry counts, for today, one entry of the tenant that the
// active-instance quota refused.
func (t *EngineTx) CountSkippedEntry(tenantID string) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO tenant_usage (tenant_id, day, skipped_entries) VALUES ($1, $2, 1)
		ON CONFLICT (tenant_id, day) DO UPDATE SET skipped_entries = tenant_usage.skipped_entries + 1`,
		tenantID, kalcifer.UTCDay(t.now))
	if err != nil {
		return fmt.Errorf("count skipped entry of %s: %w", tenantID, err)
	}
	return nil
}

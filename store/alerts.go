package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Alert rules, their episodes (alerts), and what the rules measure: one
// indexed query each over the send ledger and the instances.

// CreateAlertRule checks and stores a rule.
func (s *Store) CreateAlertRule(ctx context.Context, actor string, r *kalcifer.AlertRule) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	now := s.now()
	r.ID, r.CreatedAt, r.UpdatedAt = kalcifer.NewID("alr"), now, now
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.b.WithTx(ctx, func(tx Tx) error {
		if r.JourneyID != "" {
			if _, err := getJourney(ctx, tx, r.TenantID, r.JourneyID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alert_rules (id, tenant_id, name, kind, rule, active, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, r.ID, r.TenantID, r.Name, r.Kind, string(raw), flag(r.Active), micros(now)); err != nil {
			return fmt.Errorf("create alert rule: %w", err)
		}
		return s.audit(ctx, tx, r.TenantID, actor, "alert_rule.create", "alert_rule", r.ID, r)
	})
}

// ReplaceAlertRule replaces a rule's definition with r (PUT); its open
// alert, if any, stays open until the loop judges the new definition.
func (s *Store) ReplaceAlertRule(ctx context.Context, actor string, r *kalcifer.AlertRule) error {
	if err := r.Normalize(); err != nil {
		return err
	}
	return s.b.WithTx(ctx, func(tx Tx) error {
		old, err := scanAlertRule(tx.QueryRow(ctx, `SELECT `+alertRuleColumns+` FROM alert_rules WHERE tenant_id = $1 AND id = $2`+s.forUpdate(),
			r.TenantID, r.ID))
		if err != nil {
			return notFound(err, "alert rule %q not found", r.ID)
		}
		if r.JourneyID != "" {
			if _, err := getJourney(ctx, tx, r.TenantID, r.JourneyID); err != nil {
				return err
			}
		}
		r.CreatedAt, r.UpdatedAt = old.CreatedAt, s.now()
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE alert_rules SET name = $1, kind = $2, rule = $3, active = $4, updated_at = $5 WHERE id = $6`,
			r.Name, r.Kind, string(raw), flag(r.Active), micros(r.UpdatedAt), r.ID); err != nil {
			return fmt.Errorf("update alert rule: %w", err)
		}
		return s.audit(ctx, tx, r.TenantID, actor, "alert_rule.update", "alert_rule", r.ID, r)
	})
}

// DeleteAlertRule removes a rule and its alerts.
func (s *Store) DeleteAlertRule(ctx context.Context, actor, tenantID, id string) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM alerts WHERE tenant_id = $1 AND rule_id = $2`, tenantID, id); err != nil {
			return fmt.Errorf("delete alerts: %w", err)
		}
		n, err := tx.Exec(ctx, `DELETE FROM alert_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return fmt.Errorf("delete alert rule: %w", err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "alert rule %q not found", id)
		}
		return s.audit(ctx, tx, tenantID, actor, "alert_rule.delete", "alert_rule", id, nil)
	})
}

// GetAlertRule returns one of the tenant's rules.
func (s *Store) GetAlertRule(ctx context.Context, tenantID, id string) (*kalcifer.AlertRule, error) {
	r, err := scanAlertRule(s.b.Q().QueryRow(ctx, `SELECT `+alertRuleColumns+` FROM alert_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "alert rule %q not found", id)
	}
	return r, nil
}

// ListAlertRules returns a page of the tenant's rules, oldest first.
func (s *Store) ListAlertRules(ctx context.Context, tenantID string, limit int, cursor string) (kalcifer.Page[*kalcifer.AlertRule], error) {
	limit = kalcifer.ClampLimit(limit)
	rules, err := s.alertRules(ctx, `WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, tenantID, cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.AlertRule]{}, err
	}
	return pageOf(rules, limit, func(r *kalcifer.AlertRule) string { return r.ID }), nil
}

// ActiveAlertRules returns every tenant's active rules, for the alert loop.
func (s *Store) ActiveAlertRules(ctx context.Context) ([]*kalcifer.AlertRule, error) {
	return s.alertRules(ctx, `WHERE active = 1 ORDER BY id`)
}

func (s *Store) alertRules(ctx context.Context, where string, args ...any) ([]*kalcifer.AlertRule, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+alertRuleColumns+` FROM alert_rules `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	defer rows.Close()
	out := []*kalcifer.AlertRule{}
	for rows.Next() {
		r, err := scanAlertRule(rows)
		if err != nil {
			return nil, fmt.Errorf("list alert rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const alertRuleColumns = `id, tenant_id, rule, active`

func scanAlertRule(r Row) (*kalcifer.AlertRule, error) {
	var rule kalcifer.AlertRule
	var id, tenant, raw string
	var active int
	if err := r.Scan(&id, &tenant, &raw, &active); err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(raw, &rule); err != nil {
		return nil, fmt.Errorf("alert rule %s: %w", id, err)
	}
	rule.ID, rule.TenantID, rule.Active = id, tenant, active == 1
	return &rule, nil
}

// --- what rules measure ---

// FailureRate counts, for a journey since a time, the sends that finished
// (failed ones among them) or, for subject instances, the instances that
// ended (failed ones among them).
func (s *Store) FailureRate(ctx context.Context, tenantID, journeyID, subject string, since time.Time) (failed, total int, err error) {
	q := `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM sends
		WHERE tenant_id = $1 AND journey_id = $2 AND completed_at IS NOT NULL AND completed_at >= $3
		AND status IN ('sent', 'failed', 'ambiguous')`
	if subject == kalcifer.AlertSubjectInstances {
		q = `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM instances
			WHERE tenant_id = $1 AND journey_id = $2 AND ended_at IS NOT NULL AND ended_at >= $3`
	}
	err = s.b.Q().QueryRow(ctx, q, tenantID, journeyID, micros(since)).Scan(&total, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("measure failure rate: %w", err)
	}
	return failed, total, nil
}

// DeliveryRate counts a channel's sends that finished since a time (sent,
// failed or ambiguous; dry-run, capped and skipped sends are not
// deliveries) and those delivered among them: sent, and not reported
// bounced or failed by the provider.
func (s *Store) DeliveryRate(ctx context.Context, tenantID, channel string, since time.Time) (delivered, total int, err error) {
	err = s.b.Q().QueryRow(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status = 'sent' AND delivery NOT IN ('bounced', 'failed') THEN 1 ELSE 0 END), 0) FROM sends
		WHERE tenant_id = $1 AND channel = $2 AND completed_at IS NOT NULL AND completed_at >= $3
		AND status IN ('sent', 'failed', 'ambiguous')`, tenantID, channel, micros(since)).Scan(&total, &delivered)
	if err != nil {
		return 0, 0, fmt.Errorf("measure delivery rate: %w", err)
	}
	return delivered, total, nil
}

// Stuck counts a journey's active instances that have not moved since
// before (at node, when node is not empty).
func (s *Store) Stuck(ctx context.Context, tenantID, journeyID, node string, before time.Time) (int, error) {
	q := `SELECT COUNT(*) FROM instances WHERE tenant_id = $1 AND journey_id = $2 AND status = 'active' AND updated_at < $3`
	args := []any{tenantID, journeyID, micros(before)}
	if node != "" {
		q += ` AND at_nodes LIKE $4`
		args = append(args, "% "+node+" %")
	}
	var n int
	if err := s.b.Q().QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stuck customers: %w", err)
	}
	return n, nil
}

// --- alerts ---

// OpenAlert returns a rule's firing alert, nil when there is none.
func (s *Store) OpenAlert(ctx context.Context, ruleID string) (*kalcifer.Alert, error) {
	a, err := scanAlert(s.b.Q().QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE rule_id = $1 AND status = 'firing'`, ruleID))
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read open alert: %w", err)
	}
	return a, nil
}

// FireAlert opens an alert for rule, with its alert.fired webhooks, in one
// transaction. A rule already firing (another replica got there first) is
// left as it is: fired reports whether this call opened it.
func (s *Store) FireAlert(ctx context.Context, r *kalcifer.AlertRule, value float64, message string) (a *kalcifer.Alert, fired bool, err error) {
	now := s.now()
	a = &kalcifer.Alert{ID: kalcifer.NewID("alt"), TenantID: r.TenantID, RuleID: r.ID, RuleName: r.Name, Kind: r.Kind,
		Status: kalcifer.AlertFiring, Value: value, LastValue: value, Message: message, FiredAt: now}
	err = s.b.WithTx(ctx, func(tx Tx) error {
		var open int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM alerts WHERE rule_id = $1 AND status = 'firing'`, r.ID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO alerts (id, tenant_id, rule_id, rule_name, kind, status, value, last_value, message, fired_at)
			VALUES ($1, $2, $3, $4, $5, 'firing', $6, $6, $7, $8)`, a.ID, a.TenantID, a.RuleID, a.RuleName, a.Kind, value, message, micros(now)); err != nil {
			return err
		}
		fired = true
		return s.enqueueHooks(ctx, tx, now, []kalcifer.HookEvent{alertEvent(kalcifer.HookAlertFired, r, a)})
	})
	if err != nil {
		if s.b.IsUniqueViolation(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("fire alert: %w", err)
	}
	return a, fired, nil
}

// ResolveAlert closes a firing alert, with its alert.resolved webhooks.
func (s *Store) ResolveAlert(ctx context.Context, r *kalcifer.AlertRule, a *kalcifer.Alert, value float64) error {
	now := s.now()
	return s.b.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `UPDATE alerts SET status = 'resolved', resolved_at = $1, last_value = $2 WHERE id = $3 AND status = 'firing'`,
			micros(now), value, a.ID)
		if err != nil {
			return fmt.Errorf("resolve alert: %w", err)
		}
		if n == 0 {
			return nil // resolved by another replica
		}
		a.Status, a.ResolvedAt, a.LastValue = kalcifer.AlertResolved, &now, value
		return s.enqueueHooks(ctx, tx, now, []kalcifer.HookEvent{alertEvent(kalcifer.HookAlertResolved, r, a)})
	})
}

// NoteAlertValue records the latest measure of a firing alert.
func (s *Store) NoteAlertValue(ctx context.Context, a *kalcifer.Alert, value float64) error {
	_, err := s.b.Q().Exec(ctx, `UPDATE alerts SET last_value = $1 WHERE id = $2`, value, a.ID)
	return err
}

func alertEvent(typ string, r *kalcifer.AlertRule, a *kalcifer.Alert) kalcifer.HookEvent {
	data := map[string]any{"alert_id": a.ID, "rule_id": r.ID, "rule_name": r.Name, "kind": r.Kind, "status": a.Status,
		"value": a.LastValue, "threshold": r.Threshold, "message": a.Message, "fired_at": a.FiredAt}
	if a.ResolvedAt != nil {
		data["resolved_at"] = *a.ResolvedAt
	}
	if r.Channel != "" {
		data["channel"] = r.Channel
	}
	return kalcifer.HookEvent{Type: typ, TenantID: r.TenantID, JourneyID: r.JourneyID, NodeID: r.NodeID, Data: data}
}

// ListAlerts returns a page of the tenant's alerts, newest first; status
// (firing or resolved) and ruleID filter it when not empty.
func (s *Store) ListAlerts(ctx context.Context, tenantID, status, ruleID string, limit int, cursor string) (kalcifer.Page[*kalcifer.Alert], error) {
	limit = kalcifer.ClampLimit(limit)
	q := `SELECT ` + alertColumns + ` FROM alerts WHERE tenant_id = $1`
	args := []any{tenantID}
	for _, f := range []struct{ cond, v string }{{"id < $%d", cursor}, {"status = $%d", status}, {"rule_id = $%d", ruleID}} {
		if f.v != "" {
			args = append(args, f.v)
			q += " AND " + fmt.Sprintf(f.cond, len(args))
		}
	}
	args = append(args, limit+1)
	rows, err := s.b.Q().Query(ctx, q+fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return kalcifer.Page[*kalcifer.Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	out := []*kalcifer.Alert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return kalcifer.Page[*kalcifer.Alert]{}, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return kalcifer.Page[*kalcifer.Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	return pageOf(out, limit, func(a *kalcifer.Alert) string { return a.ID }), nil
}

const alertColumns = `id, tenant_id, rule_id, rule_name, kind, status, value, last_value, message, fired_at, resolved_at`

func scanAlert(r Row) (*kalcifer.Alert, error) {
	var a kalcifer.Alert
	var fired int64
	var resolved *int64
	if err := r.Scan(&a.ID, &a.TenantID, &a.RuleID, &a.RuleName, &a.Kind, &a.Status, &a.Value, &a.LastValue, &a.Message,
		&fired, &resolved); err != nil {
		return nil, err
	}
	a.FiredAt, a.ResolvedAt = fromMicros(fired), fromNullMicros(resolved)
	return &a, nil
}

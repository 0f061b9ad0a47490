package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

const sendColumns = `key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel, config, status, attempts, detail, created_at, completed_at, target, template_id, template_version, delivery, delivery_at, delivery_detail, provider`

// Send reads a send by key inside the transaction.
func (t *EngineTx) Send(key string) (*kalcifer.Send, error) {
	s, err := scanSend(t.tx.QueryRow(t.ctx, `SELECT `+sendColumns+` FROM sends WHERE key = $1`, key))
	if err != nil {
		return nil, notFound(err, "send %q not found", key)
	}
	return s, nil
}

// DueParams chooses the pending sends DueSends reads.
type DueParams struct {
	Limit int
	// SkipTenants and SkipTargets leave out sends of tenants and targets
	// that have no free call slot, so that their backlog does not hide
	// everyone else's sends.
	SkipTenants, SkipTargets []string
	// Hold leaves out the sends of a tenant's targets: those of a
	// provider account whose circuit breaker is open.
	Hold []Hold
}

// Hold names a tenant's send targets whose sends wait.
type Hold struct {
	TenantID string
	Targets  []string
}

// DueSend is a pending send that fell due, with what its call needs.
type DueSend struct {
	Send *kalcifer.Send
	// InstanceStatus and InstanceState are the instance's ("" and nil when
	// it no longer exists).
	InstanceStatus kalcifer.InstanceStatus
	InstanceState  json.RawMessage
	// Customer is the profile; nil when the customer has none.
	Customer *kalcifer.Customer
}

// DueSends reads up to p.Limit pending sends that are due, oldest first,
// with their instance and customer, locking them on PostgreSQL (SKIP
// LOCKED). It changes nothing: MarkSending takes the ones about to be
// called, and the others stay pending.
func (t *EngineTx) DueSends(p DueParams) ([]DueSend, error) {
	var q strings.Builder
	q.WriteString(`SELECT ` + prefixed("s.", sendColumns) + `, i.status, i.state, c.attributes, c.tags, c.created_at, c.updated_at
		FROM sends s LEFT JOIN instances i ON i.id = s.instance_id
		LEFT JOIN customers c ON c.tenant_id = s.tenant_id AND c.id = s.customer_id
		WHERE s.status = 'pending' AND s.next_attempt_at <= $1`)
	args := []any{micros(t.now), p.Limit}
	if len(p.SkipTenants) > 0 {
		q.WriteString(` AND s.tenant_id NOT IN (` + bind(&args, p.SkipTenants) + `)`)
	}
	if len(p.SkipTargets) > 0 {
		q.WriteString(` AND s.target NOT IN (` + bind(&args, p.SkipTargets) + `)`)
	}
	for _, h := range p.Hold {
		args = append(args, h.TenantID)
		fmt.Fprintf(&q, ` AND NOT (s.tenant_id = $%d AND s.target IN (%s))`, len(args), bind(&args, h.Targets))
	}
	q.WriteString(` ORDER BY s.next_attempt_at LIMIT $2` + t.s.skipLockedOf("s"))
	rows, err := t.tx.Query(t.ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("due sends: %w", err)
	}
	defer rows.Close()
	var out []DueSend
	for rows.Next() {
		var d DueSend
		var status, state, attrs, tags *string
		var created, updated *int64
		sd, err := scanSend(rows, &status, &state, &attrs, &tags, &created, &updated)
		if err != nil {
			return nil, fmt.Errorf("read due sends: %w", err)
		}
		d.Send = sd
		if status != nil {
			d.InstanceStatus, d.InstanceState = kalcifer.InstanceStatus(*status), json.RawMessage(*state)
		}
		if attrs != nil {
			c := &kalcifer.Customer{ID: sd.CustomerID, CreatedAt: fromMicros(*created), UpdatedAt: fromMicros(*updated)}
			if err := json.Unmarshal([]byte(*attrs), &c.Attributes); err != nil {
				return nil, fmt.Errorf("decode attributes of customer %s: %w", c.ID, err)
			}
			if err := json.Unmarshal([]byte(*tags), &c.Tags); err != nil {
				return nil, fmt.Errorf("decode tags of customer %s: %w", c.ID, err)
			}
			d.Customer = c
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// MarkSending marks sends about to be called: from this commit on, an
// interruption means their call may have begun. replica is the process
// that calls them (store.Backend.Live), so that its death is noticed.
func (t *EngineTx) MarkSending(sends []*kalcifer.Send, replica int64) error {
	if len(sends) == 0 {
		return nil
	}
	args := []any{micros(t.now), replica}
	keys := make([]string, len(sends))
	for i, s := range sends {
		keys[i] = s.Key
	}
	n, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = 'sending', attempts = attempts + 1, claimed_at = $1, claimed_by = $2, updated_at = $1,
		next_attempt_at = NULL WHERE status = 'pending' AND key IN (`+bind(&args, keys)+`)`, args...)
	if err != nil {
		return fmt.Errorf("mark %d sends sending: %w", len(sends), err)
	}
	if int(n) != len(sends) {
		return fmt.Errorf("mark %d sends sending: %d were still pending", len(sends), n)
	}
	for _, s := range sends {
		s.Status = kalcifer.SendSending
		s.Attempts++
	}
	return nil
}

// bind appends values to args and returns their placeholders, "$3, $4…",
// for an IN list.
func bind[T any](args *[]any, values []T) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		*args = append(*args, v)
		b.WriteString("$" + strconv.Itoa(len(*args)))
	}
	return b.String()
}

// InFlightReplicas lists the replicas, other than self, that have sends in
// flight (0 stands for sends claimed before replicas were recorded).
func (t *EngineTx) InFlightReplicas(self int64) ([]int64, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT DISTINCT COALESCE(claimed_by, 0) FROM sends
		WHERE status = 'sending' AND COALESCE(claimed_by, 0) <> $1`, self)
	if err != nil {
		return nil, fmt.Errorf("replicas with sends in flight: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("replicas with sends in flight: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ReplicaAlive reports whether replica id is running (store.Backend.Live).
func (t *EngineTx) ReplicaAlive(id int64) (bool, error) {
	return t.s.b.ReplicaAlive(t.ctx, t.tx, id)
}

// StrandedSends returns up to limit sends in flight whose worker is gone:
// those of the given dead replicas, and those claimed before a time (the
// lease) by anyone. Their calls may have begun, so their outcome is unknown.
func (t *EngineTx) StrandedSends(dead []int64, before time.Time, limit int) ([]*kalcifer.Send, error) {
	args := []any{micros(before), limit}
	orDead := ""
	if len(dead) > 0 {
		orDead = ` OR COALESCE(claimed_by, 0) IN (` + bind(&args, dead) + `)`
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+sendColumns+` FROM sends WHERE status = 'sending' AND (claimed_at < $1`+orDead+`)
		ORDER BY claimed_at LIMIT $2`+t.s.skipLocked(), args...)
	if err != nil {
		return nil, fmt.Errorf("stranded sends: %w", err)
	}
	return collectSends(rows)
}

// RetrySend returns a send in flight to pending, to be claimed again after
// a time: its call certainly did not reach the receiver, or the receiver
// drops repeats of its key.
func (t *EngineTx) RetrySend(key, detail string, at time.Time) error {
	_, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = 'pending', detail = $1, next_attempt_at = $2, claimed_at = NULL, updated_at = $3
		WHERE key = $4 AND status = 'sending'`, detail, micros(at), micros(t.now), key)
	if err != nil {
		return fmt.Errorf("retry send %s: %w", key, err)
	}
	return nil
}

// DeferSend leaves a pending send pending until at, with detail saying
// why: its provider does not take calls for now.
func (t *EngineTx) DeferSend(key, detail string, at time.Time) error {
	_, err := t.tx.Exec(t.ctx, `UPDATE sends SET detail = $1, next_attempt_at = $2, updated_at = $3
		WHERE key = $4 AND status = 'pending'`, detail, micros(at), micros(t.now), key)
	if err != nil {
		return fmt.Errorf("defer send %s: %w", key, err)
	}
	return nil
}

// FinishSend records a send's final status, and s.Provider as the provider
// it went through. It returns false when the send was no longer in flight
// (another worker or the recovery finished it).
func (t *EngineTx) FinishSend(s *kalcifer.Send, status kalcifer.SendStatus, detail string) (bool, error) {
	ok, err := t.FinishSends([]Finish{{s, status, detail}})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// Finish is a send's final status and its detail, for FinishSends.
type Finish struct {
	Send   *kalcifer.Send
	Status kalcifer.SendStatus
	Detail string
}

// FinishSends records sends' final statuses (FinishSend): one statement
// on PostgreSQL. ok[i] reports whether list[i] was still in flight.
func (t *EngineTx) FinishSends(list []Finish) (ok []bool, err error) {
	ok = make([]bool, len(list))
	if len(list) == 0 {
		return ok, nil
	}
	now := micros(t.now)
	if t.s.d.BindsArrays {
		keys, statuses, details, providers := make([]string, len(list)), make([]string, len(list)), make([]string, len(list)), make([]string, len(list))
		for i, f := range list {
			keys[i], statuses[i], details[i], providers[i] = f.Send.Key, string(f.Status), f.Detail, f.Send.Provider
		}
		rows, err := t.tx.Query(t.ctx, `UPDATE sends AS s SET status = v.st, detail = v.d, updated_at = $1, completed_at = $1,
			next_attempt_at = NULL, provider = v.p
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v(k, st, d, p)
			WHERE s.key = v.k AND s.status IN ('sending', 'capped', 'pending') RETURNING s.key`, now, keys, statuses, details, providers)
		if err != nil {
			return nil, fmt.Errorf("finish %d sends: %w", len(list), err)
		}
		done := map[string]bool{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("finish %d sends: %w", len(list), err)
			}
			done[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("finish %d sends: %w", len(list), err)
		}
		for i, f := range list {
			ok[i] = done[f.Send.Key]
			delete(done, f.Send.Key) // a key listed twice finished once
		}
	} else {
		for i, f := range list {
			n, err := t.tx.Exec(t.ctx, `UPDATE sends SET status = $1, detail = $2, updated_at = $3, completed_at = $3,
				next_attempt_at = NULL, provider = $5 WHERE key = $4 AND status IN ('sending', 'capped', 'pending')`,
				string(f.Status), f.Detail, now, f.Send.Key, f.Send.Provider)
			if err != nil {
				return nil, fmt.Errorf("finish send %s as %s: %w", f.Send.Key, f.Status, err)
			}
			ok[i] = n == 1
		}
	}
	for i, f := range list {
		if !ok[i] {
			continue
		}
		t.finished(f.Send, f.Status)
		if t.observing() {
			done := *f.Send
			done.Status, done.Detail = f.Status, f.Detail
			t.written.Sends = append(t.written.Sends, done)
		}
	}
	return ok, nil
}

// SetSendTemplate records the template version a send in flight was
// rendered from.
func (t *EngineTx) SetSendTemplate(key, templateID string, version int) error {
	_, err := t.tx.Exec(t.ctx, `UPDATE sends SET template_id = $1, template_version = $2 WHERE key = $3`, templateID, version, key)
	if err != nil {
		return fmt.Errorf("record the template of send %s: %w", key, err)
	}
	return nil
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

// scanSend reads the sendColumns, then any further columns into more.
func scanSend(r Row, more ...any) (*kalcifer.Send, error) {
	var s kalcifer.Send
	var cfg, status string
	var created int64
	var completed, deliveryAt *int64
	dest := append([]any{&s.Key, &s.TenantID, &s.JourneyID, &s.Version, &s.InstanceID, &s.PathID, &s.NodeID, &s.NodeType,
		&s.CustomerID, &s.Channel, &cfg, &status, &s.Attempts, &s.Detail, &created, &completed, &s.Target, &s.TemplateID, &s.TemplateVersion,
		&s.Delivery, &deliveryAt, &s.DeliveryDetail, &s.Provider}, more...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &s.Config); err != nil {
		return nil, fmt.Errorf("decode send config: %w", err)
	}
	s.Status = kalcifer.SendStatus(status)
	s.CreatedAt, s.CompletedAt, s.DeliveryAt = fromMicros(created), fromNullMicros(completed), fromNullMicros(deliveryAt)
	return &s, nil
}

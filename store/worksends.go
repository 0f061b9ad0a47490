package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Sends in the working set (issue 12). A run's sends are buffered and
// written with the batch's other pending writes, in one statement on
// PostgreSQL (workset.go). Whether a send's key is new is answered from
// memory: a send's key begins with its instance's id (engine.SendKey), so
// an instance started in this transaction has no sends yet, and the keys
// of the other instances in the working set are read together, once, when
// the first of them sends. Frequency caps count from a read of the ledger
// rows of the batch's customers, once per batch, plus the transaction's
// own sends.

// sendWork is the working set's part of the send ledger.
type sendWork struct {
	// pending are the sends buffered since the last flush.
	pending []sendRow
	// keys are the send keys known to exist (in the database or
	// buffered); keysOf are the instances whose keys are all in keys.
	keys   map[string]bool
	keysOf map[string]bool
	// ledgers are customers' reserved sends since a time, for caps.
	ledgers map[customerKey]*ledger
	// ours are the sends this transaction inserted, by key.
	ours map[string]ledgerRow
}

type sendRow struct {
	s      kalcifer.Send
	config string
}

// ledger is a customer's sends created since from, by key.
type ledger struct {
	from time.Time
	rows map[string]ledgerRow
}

type ledgerRow struct {
	customer        customerKey
	channel, status string
	at              time.Time
}

func newSendWork() sendWork {
	return sendWork{keys: map[string]bool{}, keysOf: map[string]bool{}, ledgers: map[customerKey]*ledger{}, ours: map[string]ledgerRow{}}
}

// InsertSend writes a send to the ledger before any attempt, with the
// transaction's other pending writes. A send whose key exists already (the
// same instance, node and visit) is not written again, and inserted is
// false.
func (t *EngineTx) InsertSend(s *kalcifer.Send) (inserted bool, err error) {
	exists, err := t.sendExists(s.InstanceID, s.Key)
	if err != nil || exists {
		return false, err
	}
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return false, fmt.Errorf("encode send config: %w", err)
	}
	s.CreatedAt = t.now
	w := &t.ws.sends
	w.pending = append(w.pending, sendRow{*s, string(cfg)})
	w.keys[s.Key] = true
	row := ledgerRow{customerKey{s.TenantID, s.CustomerID}, s.Channel, string(s.Status), t.now}
	w.ours[s.Key] = row
	if l, ok := w.ledgers[row.customer]; ok {
		l.rows[s.Key] = row
	}
	return true, nil
}

// sendExists reports whether a send key is taken. The keys of every
// instance in the working set not started in this transaction are read
// together the first time one of them is asked about.
func (t *EngineTx) sendExists(instanceID, key string) (bool, error) {
	w := &t.ws.sends
	if w.keys[key] {
		return true, nil
	}
	if t.ws.born[instanceID] || w.keysOf[instanceID] {
		return false, nil
	}
	want := []string{instanceID}
	for id := range t.ws.instances {
		if id != instanceID && !t.ws.born[id] && !w.keysOf[id] {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	arg, err := t.list(want)
	if err != nil {
		return false, err
	}
	// Raw: the pending sends are in keys already.
	rows, err := t.raw.Query(t.ctx, `SELECT key FROM sends WHERE `+t.anyOf("instance_id", 1), arg)
	if err != nil {
		return false, fmt.Errorf("read send keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return false, fmt.Errorf("read send keys: %w", err)
		}
		w.keys[k] = true
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read send keys: %w", err)
	}
	for _, id := range want {
		w.keysOf[id] = true
	}
	return w.keys[key], nil
}

// reserved are the statuses a frequency cap counts: pending and in-flight
// sends are reservations.
var reserved = []string{string(kalcifer.SendPending), string(kalcifer.SendSending), string(kalcifer.SendSent),
	string(kalcifer.SendLogged), string(kalcifer.SendAmbiguous)}

// CountSends counts a customer's sends on channel ("any": every channel)
// created since a time, across the tenant's journeys. Pending and in-flight
// sends count: they are reserved. The ledger rows of every customer of the
// tenant in the working set are read together, once, and the
// transaction's own sends are counted from memory.
func (t *EngineTx) CountSends(tenantID, customerID, channel string, since time.Time) (int, error) {
	since = since.UTC().Truncate(time.Microsecond)
	k := customerKey{tenantID, customerID}
	if l, ok := t.ws.sends.ledgers[k]; !ok || since.Before(l.from) {
		if err := t.readLedgers(k, since); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, r := range t.ws.sends.ledgers[k].rows {
		if (channel == "any" || r.channel == channel) && !r.at.Before(since) && slices.Contains(reserved, r.status) {
			n++
		}
	}
	return n, nil
}

// readLedgers reads the sends since a time of customer k and of the
// working set's other customers of its tenant whose ledgers do not reach
// back that far.
func (t *EngineTx) readLedgers(k customerKey, since time.Time) error {
	w := &t.ws.sends
	want := []string{k.id}
	for c := range t.ws.customers {
		if l, ok := w.ledgers[c]; c.tenant == k.tenant && c != k && (!ok || since.Before(l.from)) {
			want = append(want, c.id)
		}
	}
	arg, err := t.list(want)
	if err != nil {
		return err
	}
	// Raw: the pending sends are among ours.
	rows, err := t.raw.Query(t.ctx, `SELECT key, customer_id, channel, status, created_at FROM sends
		WHERE tenant_id = $1 AND `+t.anyOf("customer_id", 2)+` AND created_at >= $3`, k.tenant, arg, micros(since))
	if err != nil {
		return fmt.Errorf("count sends: %w", err)
	}
	defer rows.Close()
	read := map[customerKey]*ledger{}
	for _, id := range want {
		read[customerKey{k.tenant, id}] = &ledger{from: since, rows: map[string]ledgerRow{}}
	}
	for rows.Next() {
		var key, customer string
		var at int64
		r := ledgerRow{}
		if err := rows.Scan(&key, &customer, &r.channel, &r.status, &at); err != nil {
			return fmt.Errorf("count sends: %w", err)
		}
		r.customer, r.at = customerKey{k.tenant, customer}, fromMicros(at)
		read[r.customer].rows[key] = r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count sends: %w", err)
	}
	for key, r := range w.ours {
		if l, ok := read[r.customer]; ok && !r.at.Before(since) {
			l.rows[key] = r
		}
	}
	for c, l := range read {
		w.ledgers[c] = l
	}
	return nil
}

// finished notes a send's new status for the caps counted from memory.
func (t *EngineTx) finished(s *kalcifer.Send, status kalcifer.SendStatus) {
	w := &t.ws.sends
	c := customerKey{s.TenantID, s.CustomerID}
	if r, ok := w.ours[s.Key]; ok {
		r.status = string(status)
		w.ours[s.Key] = r
	}
	if l, ok := w.ledgers[c]; ok {
		if r, ok := l.rows[s.Key]; ok {
			r.status = string(status)
			l.rows[s.Key] = r
		}
	}
}

// insertSends writes the buffered sends: one statement on PostgreSQL,
// multi-row VALUES on SQLite. A key that exists is left as it is.
func (t *EngineTx) insertSends(rows []sendRow) error {
	if len(rows) == 0 {
		return nil
	}
	now := micros(t.now)
	next := func(s *kalcifer.Send) *int64 {
		if s.Status == kalcifer.SendPending {
			return &now
		}
		return nil
	}
	if !t.s.d.BindsArrays {
		const cols, chunk = 14, 200
		for len(rows) > 0 {
			part := rows[:min(chunk, len(rows))]
			rows = rows[len(part):]
			var q strings.Builder
			q.WriteString(`INSERT INTO sends (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type,
				customer_id, channel, config, status, next_attempt_at, target, created_at, updated_at) VALUES `)
			args := make([]any, 0, len(part)*cols+1)
			args = append(args, now)
			for i, r := range part {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(strings.TrimSuffix(placeholders(len(args), cols), ")") + ", $1, $1)")
				s := &r.s
				args = append(args, s.Key, s.TenantID, s.JourneyID, s.Version, s.InstanceID, s.PathID, s.NodeID, s.NodeType,
					s.CustomerID, s.Channel, r.config, string(s.Status), next(s), s.Target)
			}
			q.WriteString(` ON CONFLICT (key) DO NOTHING`)
			if _, err := t.raw.Exec(t.ctx, q.String(), args...); err != nil {
				return fmt.Errorf("insert %d sends: %w", len(part), err)
			}
		}
		return nil
	}
	var c struct {
		keys, tenants, journeys, instances, nodes, types, customers, channels, configs, statuses, targets []string
		versions, paths                                                                                   []int64
		next                                                                                              []*int64
	}
	for _, r := range rows {
		s := &r.s
		c.keys, c.tenants, c.journeys = append(c.keys, s.Key), append(c.tenants, s.TenantID), append(c.journeys, s.JourneyID)
		c.instances, c.nodes, c.types = append(c.instances, s.InstanceID), append(c.nodes, s.NodeID), append(c.types, s.NodeType)
		c.customers, c.channels, c.configs = append(c.customers, s.CustomerID), append(c.channels, s.Channel), append(c.configs, r.config)
		c.statuses, c.targets, c.next = append(c.statuses, string(s.Status)), append(c.targets, s.Target), append(c.next, next(s))
		c.versions, c.paths = append(c.versions, int64(s.Version)), append(c.paths, int64(s.PathID))
	}
	if _, err := t.raw.Exec(t.ctx, `INSERT INTO sends (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type,
		customer_id, channel, config, status, next_attempt_at, target, created_at, updated_at)
		SELECT k, tn, j, v, i, p, n, ty, cu, ch, cf::jsonb, st, nx, tg, $1, $1
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[]) AS x(k, tn, j, v, i, p, n, ty, cu, ch, cf, st, nx, tg)
		ON CONFLICT (key) DO NOTHING`,
		now, c.keys, c.tenants, c.journeys, c.versions, c.instances, c.paths, c.nodes, c.types,
		c.customers, c.channels, c.configs, c.statuses, c.next, c.targets); err != nil {
		return fmt.Errorf("insert %d sends: %w", len(rows), err)
	}
	return nil
}

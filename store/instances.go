package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

const instanceColumns = `id, tenant_id, journey_id, version, customer_id, status, state, reason, at_nodes, step_count, lock_version, created_at, updated_at, ended_at`

func scanInstance(r Row) (*kalcifer.Instance, error) {
	var in kalcifer.Instance
	var status, state, atNodes string
	var created, updated int64
	var ended *int64
	if err := r.Scan(&in.ID, &in.TenantID, &in.JourneyID, &in.Version, &in.CustomerID, &status, &state, &in.Reason, &atNodes,
		&in.StepCount, &in.LockVersion, &created, &updated, &ended); err != nil {
		return nil, err
	}
	in.Status = kalcifer.InstanceStatus(status)
	in.State = json.RawMessage(state)
	in.Nodes = strings.Fields(atNodes)
	if in.Nodes == nil {
		in.Nodes = []string{}
	}
	in.CreatedAt, in.UpdatedAt, in.EndedAt = fromMicros(created), fromMicros(updated), fromNullMicros(ended)
	return &in, nil
}

// StartInstance begins a new instance: it takes the customer's place in
// the journey and returns true, or, when the journey does not allow
// re-entry and the customer is already in it, returns false. The instance
// row itself is written by the first SaveInstance (after its first run,
// in the same transaction), which saves a write per start.
func (t *EngineTx) StartInstance(in *kalcifer.Instance, allowReentry bool) (bool, error) {
	if !allowReentry {
		// Only a place freed in this transaction and not yet flushed
		// needs the pending writes first.
		q := t.raw
		if len(t.ws.leave) > 0 {
			q = t.tx
		}
		n, err := q.Exec(t.ctx, `INSERT INTO active_entries (tenant_id, journey_id, customer_id, instance_id)
			VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, journey_id, customer_id) DO NOTHING`,
			in.TenantID, in.JourneyID, in.CustomerID, in.ID)
		if err != nil {
			return false, fmt.Errorf("enter journey %s: %w", in.JourneyID, err)
		}
		if n == 0 {
			return false, nil
		}
	}
	in.CreatedAt, in.UpdatedAt, in.LockVersion = t.now, t.now, 0 // 0: not stored yet
	return true, nil
}

// Instance reads an instance inside the transaction: from the working set
// when the transaction read or saved it before (LoadInstances), else from
// the database.
//
// On PostgreSQL the row stays locked until the transaction ends. Every
// engine path locks the instance before its waits, so two workers never
// wait for each other in opposite orders.
func (t *EngineTx) Instance(id string) (*kalcifer.Instance, error) {
	if in, ok := t.ws.instances[id]; ok {
		return cloneInstance(in), nil
	}
	in, err := scanInstance(t.tx.QueryRow(t.ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = $1`+t.s.forUpdate(), id))
	if err != nil {
		return nil, notFound(err, "instance %q not found", id)
	}
	t.remember(in)
	return in, nil
}

// SaveInstance records an instance's new state with the steps of the run,
// and replaces its waits; they are written with the transaction's other
// pending writes (workset.go). It returns ErrConflict when the instance
// changed since it was read: at once when the transaction read it, else
// when the writes are flushed.
func (t *EngineTx) SaveInstance(in *kalcifer.Instance, steps []kalcifer.Step, waits map[int]kalcifer.Wait) error {
	fresh := in.LockVersion == 0 // started in this transaction, not stored yet
	cur, known := t.ws.instances[in.ID]
	switch {
	case known && (fresh || cur.LockVersion != in.LockVersion):
		return ErrConflict
	case !known && !fresh:
		t.ws.stored[in.ID] = in.LockVersion // checked when flushed
	}
	for i, st := range steps {
		t.ws.steps = append(t.ws.steps, stepRow{in.ID, in.StepCount + i + 1, st})
	}
	t.recordInstance(in, fresh, t.loaded[in.ID], steps)
	if fresh {
		t.ws.born[in.ID] = true
	}
	in.StepCount += len(steps)
	in.LockVersion++
	pending := slices.ContainsFunc(t.ws.saved, func(s savedRow) bool { return s.id == in.ID })
	if !pending {
		// Not stored yet when fresh, or when saved fresh since the last
		// flush (then it is pending already).
		t.ws.saved = append(t.ws.saved, savedRow{id: in.ID, fresh: fresh})
	}
	t.ws.instances[in.ID] = cloneInstance(in)
	t.ws.waits[in.ID] = maps.Clone(waits)
	if t.ws.waits[in.ID] == nil {
		t.ws.waits[in.ID] = map[int]kalcifer.Wait{}
	}
	for k := range t.ws.taken {
		if k.instance == in.ID {
			delete(t.ws.taken, k)
		}
	}
	if in.Status.Ended() {
		t.ws.leave = append(t.ws.leave, cloneInstance(in))
	}
	return nil
}

// leaveJourney frees an ended instance's place in its journey, so that the
// customer may enter again.
func (t *EngineTx) leaveJourney(in *kalcifer.Instance) error {
	// By primary key: a lookup by instance_id alone scanned the table.
	if _, err := t.raw.Exec(t.ctx, `DELETE FROM active_entries WHERE tenant_id = $1 AND journey_id = $2 AND customer_id = $3
		AND instance_id = $4`, in.TenantID, in.JourneyID, in.CustomerID, in.ID); err != nil {
		return fmt.Errorf("leave journey: %w", err)
	}
	return nil
}

// placeholders returns "($n+1, …, $n+cols)".
func placeholders(n, cols int) string {
	var b strings.Builder
	b.WriteByte('(')
	for c := 1; c <= cols; c++ {
		if c > 1 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n + c))
	}
	b.WriteByte(')')
	return b.String()
}

func (t *EngineTx) insertWait(in *kalcifer.Instance, pathID int, w kalcifer.Wait) error {
	filter, due, err := waitColumns(w)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO waits (instance_id, path_id, tenant_id, customer_id, kind, event_type, filter, due_at, send_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		in.ID, pathID, in.TenantID, in.CustomerID, string(w.Kind), nullString(w.EventType), filter, due, nullString(w.SendKey))
	if err != nil {
		return fmt.Errorf("insert wait of %s: %w", in.ID, err)
	}
	return nil
}

// waitColumns encodes a wait's filter and due time for its row.
func waitColumns(w kalcifer.Wait) (filter, due any, err error) {
	if len(w.Filter) > 0 {
		b, err := json.Marshal(w.Filter)
		if err != nil {
			return nil, nil, fmt.Errorf("encode wait filter: %w", err)
		}
		filter = string(b)
	}
	if w.DueAt != nil {
		due = micros(*w.DueAt)
	}
	return filter, due, nil
}

// atNodes stores node IDs space-separated with a space at each end, so that
// LIKE '% id %' finds an instance at a node on both databases.
func atNodes(nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	return " " + strings.Join(nodes, " ") + " "
}

// WaitRef names a blocked path and what it waits for.
type WaitRef struct {
	InstanceID string
	PathID     int
	Wait       kalcifer.Wait
}

// TakeWait removes a path's wait, returning false when it was already gone
// (another wake won the race). Whoever takes the wait owns the wake. The
// wake has checked the instance's state, read (and on PostgreSQL locked)
// before its waits, which is written with them: the wait row is deleted
// with the transaction's other pending writes.
func (t *EngineTx) TakeWait(instanceID string, pathID int) (bool, error) {
	k := waitKey{instanceID, pathID}
	if waits, ok := t.ws.waits[instanceID]; ok { // saved in this transaction
		if _, ok := waits[pathID]; !ok {
			return false, nil
		}
		delete(waits, pathID)
	} else if t.ws.taken[k] {
		return false, nil
	} else {
		t.ws.taken[k] = true
	}
	t.ws.takenNow = append(t.ws.takenNow, k)
	return true, nil
}

// EventWaits returns the waits of a customer's active instances for an
// event type: from memory for the customers whose waits the transaction
// loaded (LoadEventWaits), else from the database.
func (t *EngineTx) EventWaits(tenantID, customerID, eventType string) ([]WaitRef, error) {
	if refs, ok := t.eventWaitsInMemory(tenantID, customerID, eventType); ok {
		return refs, nil
	}
	return t.waits(`SELECT w.instance_id, w.path_id, w.kind, w.event_type, w.filter, w.due_at, w.send_key
		FROM waits w JOIN instances i ON i.id = w.instance_id
		WHERE w.tenant_id = $1 AND w.customer_id = $2 AND w.event_type = $3 AND i.status = 'active'
		ORDER BY w.instance_id, w.path_id`, tenantID, customerID, eventType)
}

// DueWaits returns up to limit waits of active instances whose time has
// come, earliest first.
func (t *EngineTx) DueWaits(limit int) ([]WaitRef, error) {
	return t.waits(`SELECT w.instance_id, w.path_id, w.kind, w.event_type, w.filter, w.due_at, w.send_key
		FROM waits w JOIN instances i ON i.id = w.instance_id
		WHERE w.due_at <= $1 AND i.status = 'active'
		ORDER BY w.due_at LIMIT $2`+t.s.skipLocked(), micros(t.now), limit)
}

func (t *EngineTx) waits(query string, args ...any) ([]WaitRef, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read waits: %w", err)
	}
	var out []WaitRef
	err = scanWaits(rows, func(ref WaitRef, _ string) { out = append(out, ref) }, false)
	return out, err
}

// scanWaits reads wait rows (instance_id, path_id, kind, event_type,
// filter, due_at, send_key, and customer_id when withCustomer), and
// closes them.
func scanWaits(rows Rows, fn func(ref WaitRef, customerID string), withCustomer bool) error {
	defer rows.Close()
	for rows.Next() {
		var ref WaitRef
		var kind, customerID string
		var eventType, filter, sendKey *string
		var due *int64
		dest := []any{&ref.InstanceID, &ref.PathID, &kind, &eventType, &filter, &due, &sendKey}
		if withCustomer {
			dest = append(dest, &customerID)
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read waits: %w", err)
		}
		ref.Wait.Kind = kalcifer.WaitKind(kind)
		if eventType != nil {
			ref.Wait.EventType = *eventType
		}
		if sendKey != nil {
			ref.Wait.SendKey = *sendKey
		}
		if filter != nil {
			if err := json.Unmarshal([]byte(*filter), &ref.Wait.Filter); err != nil {
				return fmt.Errorf("decode wait filter: %w", err)
			}
		}
		ref.Wait.DueAt = fromNullMicros(due)
		fn(ref, customerID)
	}
	return rows.Err()
}

// NextDue returns when the earliest wait of an active instance falls due,
// if any (paused instances' timers wait for their resume).
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due int64
	err := s.b.Q().QueryRow(ctx, `SELECT w.due_at FROM waits w JOIN instances i ON i.id = w.instance_id
		WHERE w.due_at IS NOT NULL AND i.status = 'active' ORDER BY w.due_at LIMIT 1`).Scan(&due)
	if err == ErrNoRows {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due wait: %w", err)
	}
	return fromMicros(due), true, nil
}

// ActiveInstances returns a customer's active and paused instances.
func (t *EngineTx) ActiveInstances(tenantID, customerID string) ([]*kalcifer.Instance, error) {
	list, err := activeInstances(t.ctx, t.tx, tenantID, customerID)
	for _, in := range list {
		t.noteLoaded(in)
	}
	return list, err
}

// CustomerInstances returns the journeys a customer is in: their active
// and paused instances, newest first.
func (s *Store) CustomerInstances(ctx context.Context, tenantID, customerID string) ([]*kalcifer.Instance, error) {
	return activeInstances(ctx, s.b.Q(), tenantID, customerID)
}

func activeInstances(ctx context.Context, q Querier, tenantID, customerID string) ([]*kalcifer.Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM instances
		WHERE tenant_id = $1 AND customer_id = $2 AND status IN ('active', 'paused') ORDER BY id DESC`, tenantID, customerID)
	if err != nil {
		return nil, fmt.Errorf("active instances of %s: %w", customerID, err)
	}
	return collectInstances(rows)
}

func collectInstances(rows Rows) ([]*kalcifer.Instance, error) {
	defer rows.Close()
	out := []*kalcifer.Instance{}
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("read instances: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

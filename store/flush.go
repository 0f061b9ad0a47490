package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// flush writes the transaction's pending writes (workset.go): on
// PostgreSQL one statement per table, binding arrays; on SQLite a cached
// statement a row, which measured fastest there (no round trips). An
// instance that changed since the transaction read it fails the flush
// with ErrConflict, and the transaction is rolled back.
func (t *EngineTx) flush() error {
	w := t.ws
	if !w.dirty() {
		return nil
	}
	// Taken out first: a failed flush leaves nothing to write twice.
	saved, steps, taken, leave, processed, sends, profiles := w.saved, w.steps, w.takenNow, w.leave, w.processed, w.sends.pending, w.profiles
	seen := make([]customerKey, 0, len(w.seen))
	for k := range w.seen {
		seen = append(seen, k)
	}
	slices.SortFunc(seen, func(a, b customerKey) int { return strings.Compare(a.tenant+"\x00"+a.id, b.tenant+"\x00"+b.id) })
	w.saved, w.steps, w.takenNow, w.leave, w.processed, w.seen = nil, nil, nil, nil, nil, map[customerKey]bool{}
	w.sends.pending, w.profiles = nil, nil
	// In id order: two transactions lock rows in the same order.
	slices.SortFunc(saved, func(a, b savedRow) int { return strings.Compare(a.id, b.id) })

	if err := t.writeInstances(saved); err != nil {
		return err
	}
	if err := t.insertStepRows(steps); err != nil {
		return err
	}
	if err := t.writeWaits(saved, taken); err != nil {
		return err
	}
	if err := t.freePlaces(leave); err != nil {
		return err
	}
	if err := t.insertSends(sends); err != nil {
		return err
	}
	if err := t.writeProfiles(profiles); err != nil {
		return err
	}
	if err := t.writeSeen(seen); err != nil {
		return err
	}
	if len(processed) > 0 {
		if err := t.markProcessed(processed); err != nil {
			return err
		}
	}
	for _, s := range saved {
		w.stored[s.id] = w.instances[s.id].LockVersion
	}
	return nil
}

// instanceRow is an instance's row as flush writes it.
func (t *EngineTx) instanceRow(in *kalcifer.Instance) (ended *int64) {
	if in.Status.Ended() {
		us := micros(t.now)
		ended = &us
	}
	return ended
}

// writeInstances inserts the fresh instances and updates the others,
// checking each one's lock version.
func (t *EngineTx) writeInstances(saved []savedRow) error {
	var fresh, old []*kalcifer.Instance
	for _, s := range saved {
		if s.fresh {
			fresh = append(fresh, t.ws.instances[s.id])
		} else {
			old = append(old, t.ws.instances[s.id])
		}
	}
	now := micros(t.now)
	if !t.s.d.BindsArrays {
		for _, in := range fresh {
			if _, err := t.raw.Exec(t.ctx, `INSERT INTO instances (id, tenant_id, journey_id, version, customer_id, status, state, reason,
				at_nodes, step_count, lock_version, created_at, updated_at, ended_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)`,
				in.ID, in.TenantID, in.JourneyID, in.Version, in.CustomerID, string(in.Status), string(in.State), in.Reason,
				atNodes(in.Nodes), in.StepCount, in.LockVersion, now, t.instanceRow(in)); err != nil {
				return fmt.Errorf("insert instance: %w", err)
			}
		}
		for _, in := range old {
			n, err := t.raw.Exec(t.ctx, `UPDATE instances SET status = $1, state = $2, reason = $3, step_count = $4,
				lock_version = $5, updated_at = $6, ended_at = $7, at_nodes = $8
				WHERE id = $9 AND lock_version = $10`,
				string(in.Status), string(in.State), in.Reason, in.StepCount, in.LockVersion, now, t.instanceRow(in), atNodes(in.Nodes),
				in.ID, t.ws.stored[in.ID])
			if err != nil {
				return fmt.Errorf("save instance %s: %w", in.ID, err)
			}
			if n == 0 {
				return ErrConflict
			}
		}
		return nil
	}
	var c struct {
		ids, tenants, journeys, customers, statuses, states, reasons, nodes []string
		versions, stepCounts, locks, from, created                          []int64
		ended                                                               []*int64
	}
	add := func(in *kalcifer.Instance) {
		c.ids, c.tenants, c.journeys = append(c.ids, in.ID), append(c.tenants, in.TenantID), append(c.journeys, in.JourneyID)
		c.customers, c.statuses, c.states = append(c.customers, in.CustomerID), append(c.statuses, string(in.Status)), append(c.states, string(in.State))
		c.reasons, c.nodes, c.versions = append(c.reasons, in.Reason), append(c.nodes, atNodes(in.Nodes)), append(c.versions, int64(in.Version))
		c.stepCounts, c.locks, c.ended = append(c.stepCounts, int64(in.StepCount)), append(c.locks, int64(in.LockVersion)), append(c.ended, t.instanceRow(in))
		c.from, c.created = append(c.from, int64(t.ws.stored[in.ID])), append(c.created, micros(in.CreatedAt))
	}
	if len(fresh) > 0 {
		for _, in := range fresh {
			add(in)
		}
		if _, err := t.raw.Exec(t.ctx, `INSERT INTO instances (id, tenant_id, journey_id, version, customer_id, status, state, reason,
			at_nodes, step_count, lock_version, created_at, updated_at, ended_at)
			SELECT id, tn, j, v, cu, st, s::jsonb, r, n, sc, l, cr, $1, e
			FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
				$11::int[], $12::int[], $13::bigint[], $14::bigint[]) AS x(id, tn, j, v, cu, st, s, r, n, sc, l, cr, e)`,
			now, c.ids, c.tenants, c.journeys, c.versions, c.customers, c.statuses, c.states, c.reasons, c.nodes,
			c.stepCounts, c.locks, c.created, c.ended); err != nil {
			return fmt.Errorf("insert instances: %w", err)
		}
	}
	if len(old) == 0 {
		return nil
	}
	c.ids, c.statuses, c.states, c.reasons, c.nodes, c.stepCounts, c.locks, c.ended, c.from = nil, nil, nil, nil, nil, nil, nil, nil, nil
	for _, in := range old {
		add(in)
	}
	n, err := t.raw.Exec(t.ctx, `UPDATE instances AS i SET status = v.st, state = v.s::jsonb, reason = v.r, step_count = v.sc,
		lock_version = v.l, updated_at = $1, ended_at = v.e, at_nodes = v.n
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::bigint[], $10::int[])
			AS v(id, st, s, r, n, sc, l, e, f)
		WHERE i.id = v.id AND i.lock_version = v.f`,
		now, c.ids, c.statuses, c.states, c.reasons, c.nodes, c.stepCounts, c.locks, c.ended, c.from)
	if err != nil {
		return fmt.Errorf("save instances: %w", err)
	}
	if int(n) != len(old) {
		return ErrConflict
	}
	return nil
}

// writeWaits replaces the waits of the saved instances, and deletes the
// waits taken.
func (t *EngineTx) writeWaits(saved []savedRow, taken []waitKey) error {
	var clear []string
	var ins waitRows
	for _, s := range saved {
		if !s.fresh {
			clear = append(clear, s.id)
		}
		in := t.ws.instances[s.id]
		for _, pathID := range sortedPaths(t.ws.waits[s.id]) {
			if err := ins.add(s.id, in.TenantID, in.CustomerID, pathID, t.ws.waits[s.id][pathID]); err != nil {
				return err
			}
		}
	}
	// A taken wait of an instance whose waits are cleared goes with them.
	taken = slices.DeleteFunc(slices.Clone(taken), func(k waitKey) bool { return slices.Contains(clear, k.instance) })
	if !t.s.d.BindsArrays {
		for _, k := range taken {
			if _, err := t.raw.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = $1 AND path_id = $2`, k.instance, k.path); err != nil {
				return fmt.Errorf("take wait %s/%d: %w", k.instance, k.path, err)
			}
		}
		for _, id := range clear {
			if _, err := t.raw.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = $1`, id); err != nil {
				return fmt.Errorf("clear waits of %s: %w", id, err)
			}
		}
		return ins.insert(t.ctx, t.raw, false)
	}
	ids := make([]string, len(taken))
	paths := make([]int64, len(taken))
	for i, k := range taken {
		ids[i], paths[i] = k.instance, int64(k.path)
	}
	if err := deleteWaitPaths(t.ctx, t.raw, ids, paths); err != nil {
		return fmt.Errorf("take waits: %w", err)
	}
	if len(clear) > 0 {
		if _, err := t.raw.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = ANY($1::text[])`, clear); err != nil {
			return fmt.Errorf("clear waits: %w", err)
		}
	}
	return ins.insert(t.ctx, t.raw, true)
}

func sortedPaths(waits map[int]kalcifer.Wait) []int {
	out := make([]int, 0, len(waits))
	for id := range waits {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// freePlaces frees the journey places of ended instances, so that their
// customers may enter again.
func (t *EngineTx) freePlaces(ended []*kalcifer.Instance) error {
	if len(ended) == 0 {
		return nil
	}
	if !t.s.d.BindsArrays {
		for _, in := range ended {
			if err := t.leaveJourney(in); err != nil {
				return err
			}
		}
		return nil
	}
	var tenants, journeys, customers, ids []string
	for _, in := range ended {
		tenants, journeys = append(tenants, in.TenantID), append(journeys, in.JourneyID)
		customers, ids = append(customers, in.CustomerID), append(ids, in.ID)
	}
	// By primary key: a lookup by instance_id alone scans the table.
	if _, err := t.raw.Exec(t.ctx, `DELETE FROM active_entries a USING unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(t, j, c, i)
		WHERE a.tenant_id = d.t AND a.journey_id = d.j AND a.customer_id = d.c AND a.instance_id = d.i`,
		tenants, journeys, customers, ids); err != nil {
		return fmt.Errorf("leave journeys: %w", err)
	}
	return nil
}

// writeSeen widens the first and last seen times of customers.
func (t *EngineTx) writeSeen(keys []customerKey) error {
	if len(keys) == 0 {
		return nil
	}
	if !t.s.d.BindsArrays {
		for _, k := range keys {
			c := t.ws.customers[k]
			if _, err := t.raw.Exec(t.ctx, `UPDATE customers SET
				first_seen_at = CASE WHEN first_seen_at IS NULL OR first_seen_at > $3 THEN $3 ELSE first_seen_at END,
				last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < $4 THEN $4 ELSE last_seen_at END
				WHERE tenant_id = $1 AND id = $2`, k.tenant, k.id, micros(*c.FirstSeenAt), micros(*c.LastSeenAt)); err != nil {
				return fmt.Errorf("record customer %s seen: %w", k.id, err)
			}
		}
		return nil
	}
	var tenants, ids []string
	var firsts, lasts []int64
	for _, k := range keys {
		c := t.ws.customers[k]
		tenants, ids = append(tenants, k.tenant), append(ids, k.id)
		firsts, lasts = append(firsts, micros(*c.FirstSeenAt)), append(lasts, micros(*c.LastSeenAt))
	}
	if _, err := t.raw.Exec(t.ctx, `UPDATE customers AS c SET
		first_seen_at = CASE WHEN c.first_seen_at IS NULL OR c.first_seen_at > v.f THEN v.f ELSE c.first_seen_at END,
		last_seen_at = CASE WHEN c.last_seen_at IS NULL OR c.last_seen_at < v.l THEN v.l ELSE c.last_seen_at END
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS v(t, id, f, l)
		WHERE c.tenant_id = v.t AND c.id = v.id`, tenants, ids, firsts, lasts); err != nil {
		return fmt.Errorf("record customers seen: %w", err)
	}
	return nil
}

// markProcessed records that events were routed.
func (t *EngineTx) markProcessed(ids []string) error {
	arg, err := t.list(ids)
	if err != nil {
		return err
	}
	if _, err := t.raw.Exec(t.ctx, `UPDATE events SET processed_at = $1 WHERE `+t.anyOf("id", 2), micros(t.now), arg); err != nil {
		return fmt.Errorf("mark %d events processed: %w", len(ids), err)
	}
	return nil
}

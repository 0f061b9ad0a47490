package store

import (
	"context"
	"fmt"

	"github.com/kalcifer/kalcifer"
)

// Writing a batch of moved instances: their rows, history steps, changed
// waits and undo records, with one statement per kind of row where the
// database binds arrays (Dialect.BindsArrays), a row at a time otherwise.

// writeMoved writes moved instances: their rows with a history step each,
// their changed wait rows, and the place of those that ended.
func (t *EngineTx) writeMoved(moves []InstanceMove) error {
	if err := t.forget(); err != nil {
		return err
	}
	if err := t.updateMoved(moves); err != nil {
		return err
	}
	if t.s.d.BindsArrays {
		if err := t.replaceWaitsOfBatch(moves); err != nil {
			return err
		}
	}
	for _, mv := range moves {
		if !t.s.d.BindsArrays {
			if err := t.replaceWaits(mv.Prior, mv.Waits, mv.Drop, mv.Status.Ended()); err != nil {
				return err
			}
		}
		if mv.Status.Ended() {
			if err := t.leaveJourney(mv.Prior); err != nil {
				return err
			}
		}
	}
	return nil
}

// updateMoved writes the instances' new rows and one history step each: on
// PostgreSQL with one statement per chunk, on SQLite a row at a time.
func (t *EngineTx) updateMoved(moves []InstanceMove) error {
	now := micros(t.now)
	steps := make([]stepRow, 0, len(moves))
	for _, mv := range moves {
		var ended *int64
		if mv.Status.Ended() {
			ended = &now
		}
		step := kalcifer.Step{Version: mv.Version, Type: "migration", Result: mv.Outcome, Detail: mv.Detail, At: t.now}
		steps = append(steps, stepRow{mv.Prior.ID, mv.Prior.StepCount + 1, step})
		moved := *mv.Prior
		moved.Version, moved.Status, moved.Reason, moved.Nodes = mv.Version, mv.Status, mv.Reason, mv.Nodes
		t.recordInstance(&moved, false, mv.Prior.Status, []kalcifer.Step{step})
		if !t.s.d.BindsArrays {
			if _, err := t.tx.Exec(t.ctx, `UPDATE instances SET version = $1, status = $2, reason = $3, state = $4, at_nodes = $5,
				step_count = step_count + 1, lock_version = lock_version + 1, updated_at = $6, ended_at = $7 WHERE id = $8`,
				mv.Version, string(mv.Status), mv.Reason, string(mv.State), atNodes(mv.Nodes), now, ended, mv.Prior.ID); err != nil {
				return fmt.Errorf("migrate instance %s: %w", mv.Prior.ID, err)
			}
		}
	}
	if t.s.d.BindsArrays && len(moves) > 0 {
		// One statement with arrays: its text never changes, so it is
		// planned once, not once per batch size.
		var ids, statuses, reasons, states, nodes []string
		var versions []int64
		var endeds []*int64
		for _, mv := range moves {
			var ended *int64
			if mv.Status.Ended() {
				ended = &now
			}
			ids, versions, statuses = append(ids, mv.Prior.ID), append(versions, int64(mv.Version)), append(statuses, string(mv.Status))
			reasons, states, nodes = append(reasons, mv.Reason), append(states, string(mv.State)), append(nodes, atNodes(mv.Nodes))
			endeds = append(endeds, ended)
		}
		if _, err := t.tx.Exec(t.ctx, `UPDATE instances AS i SET version = v.version, status = v.status, reason = v.reason,
			state = v.state::jsonb, at_nodes = v.at_nodes, step_count = i.step_count + 1, lock_version = i.lock_version + 1,
			updated_at = $1, ended_at = v.ended_at
			FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
				AS v(id, version, status, reason, state, at_nodes, ended_at)
			WHERE i.id = v.id`, now, ids, versions, statuses, reasons, states, nodes, endeds); err != nil {
			return fmt.Errorf("migrate instances: %w", err)
		}
	}
	return t.insertStepRows(steps)
}

// stepRow is a history step with the instance and sequence it goes under.
type stepRow struct {
	instanceID string
	seq        int
	step       kalcifer.Step
}

// insertStepRows appends history steps of several instances: on
// PostgreSQL in multi-row INSERTs, on SQLite a row at a time.
func (t *EngineTx) insertStepRows(rows []stepRow) error {
	if t.s.d.BindsArrays {
		if len(rows) == 0 {
			return nil
		}
		var ids, nodes, types, results, details []string
		var seqs, versions, paths, visits, ats []int64
		for _, r := range rows {
			st := r.step
			ids, seqs, versions = append(ids, r.instanceID), append(seqs, int64(r.seq)), append(versions, int64(st.Version))
			paths, nodes, types = append(paths, int64(st.PathID)), append(nodes, st.NodeID), append(types, st.Type)
			visits, results, details, ats = append(visits, int64(st.Visit)), append(results, st.Result), append(details, st.Detail), append(ats, micros(st.At))
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO instance_steps (instance_id, seq, version, path_id, node_id, node_type, visit, result, detail, at)
			SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::bigint[])`,
			ids, seqs, versions, paths, nodes, types, visits, results, details, ats); err != nil {
			return fmt.Errorf("insert history steps: %w", err)
		}
		return nil
	}
	for _, r := range rows { // SQLite: one cached statement a row measured fastest
		st := r.step
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO instance_steps (instance_id, seq, version, path_id, node_id, node_type, visit, result, detail, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			r.instanceID, r.seq, st.Version, st.PathID, st.NodeID, st.Type, st.Visit, st.Result, st.Detail, micros(st.At)); err != nil {
			return fmt.Errorf("insert history steps: %w", err)
		}
	}
	return nil
}

// replaceWaitsOfBatch is replaceWaits for a whole batch on PostgreSQL, in
// a few set-based statements instead of two per instance.
func (t *EngineTx) replaceWaitsOfBatch(moves []InstanceMove) error {
	var ended, goneIDs []string
	var gonePaths []int64
	var ins waitRows
	for _, mv := range moves {
		if mv.Status.Ended() {
			ended = append(ended, mv.Prior.ID)
			continue
		}
		for _, id := range mv.Drop {
			goneIDs, gonePaths = append(goneIDs, mv.Prior.ID), append(gonePaths, int64(id))
		}
		for id, w := range mv.Waits {
			goneIDs, gonePaths = append(goneIDs, mv.Prior.ID), append(gonePaths, int64(id))
			if err := ins.add(mv.Prior.ID, mv.Prior.TenantID, mv.Prior.CustomerID, id, w); err != nil {
				return err
			}
		}
	}
	if len(ended) > 0 {
		if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = ANY($1::text[])`, ended); err != nil {
			return fmt.Errorf("clear waits: %w", err)
		}
	}
	if err := deleteWaitPaths(t.ctx, t.tx, goneIDs, gonePaths); err != nil {
		return fmt.Errorf("clear changed waits: %w", err)
	}
	return ins.insert(t.ctx, t.tx, true)
}

// waitRows are waits as column arrays, written by one unnest insert on
// PostgreSQL (or a statement a row where arrays do not bind).
type waitRows struct {
	ids, tenants, customers, kinds []string
	paths                          []int64
	events, filters, keys          []*string
	dues                           []*int64
}

// add appends the wait of path pathID of an instance.
func (r *waitRows) add(instanceID, tenantID, customerID string, pathID int, w kalcifer.Wait) error {
	filter, due, err := waitColumns(w)
	if err != nil {
		return err
	}
	r.ids, r.paths = append(r.ids, instanceID), append(r.paths, int64(pathID))
	r.tenants, r.customers, r.kinds = append(r.tenants, tenantID), append(r.customers, customerID), append(r.kinds, string(w.Kind))
	r.events, r.keys = append(r.events, optional(w.EventType)), append(r.keys, optional(w.SendKey))
	f, _ := filter.(string)
	r.filters = append(r.filters, optional(f))
	var d *int64
	if due != nil {
		v := due.(int64)
		d = &v
	}
	r.dues = append(r.dues, d)
	return nil
}

// insert writes the rows: in one statement where the database binds
// arrays, else one a row.
func (r *waitRows) insert(ctx context.Context, tx Tx, bindsArrays bool) error {
	if len(r.ids) == 0 {
		return nil
	}
	if !bindsArrays {
		for i := range r.ids {
			if _, err := tx.Exec(ctx, `INSERT INTO waits (instance_id, path_id, tenant_id, customer_id, kind, event_type, filter, due_at, send_key)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				r.ids[i], r.paths[i], r.tenants[i], r.customers[i], r.kinds[i], r.events[i], r.filters[i], r.dues[i], r.keys[i]); err != nil {
				return fmt.Errorf("insert wait of %s: %w", r.ids[i], err)
			}
		}
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO waits (instance_id, path_id, tenant_id, customer_id, kind, event_type, filter, due_at, send_key)
		SELECT i, p, t, c, k, e, f::jsonb, d, s
		FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
			AS w(i, p, t, c, k, e, f, d, s)`,
		r.ids, r.paths, r.tenants, r.customers, r.kinds, r.events, r.filters, r.dues, r.keys); err != nil {
		return fmt.Errorf("insert waits: %w", err)
	}
	return nil
}

// deleteWaitPaths deletes the waits of the (instance, path) pairs ids[i],
// paths[i], in one statement (PostgreSQL: it binds arrays).
func deleteWaitPaths(ctx context.Context, tx Tx, ids []string, paths []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM waits w USING unnest($1::text[], $2::int[]) AS d(instance_id, path_id)
		WHERE w.instance_id = d.instance_id AND w.path_id = d.path_id`, ids, paths)
	return err
}

// optional is s, or nil (NULL) when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// replaceWaits rewrites some of an instance's wait rows: those of the
// paths in waits and drop, or every row when all is set.
func (t *EngineTx) replaceWaits(in *kalcifer.Instance, waits map[int]kalcifer.Wait, drop []int, all bool) error {
	if all {
		if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = $1`, in.ID); err != nil {
			return fmt.Errorf("clear waits of %s: %w", in.ID, err)
		}
	} else {
		for _, id := range drop {
			if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = $1 AND path_id = $2`, in.ID, id); err != nil {
				return fmt.Errorf("clear wait of %s: %w", in.ID, err)
			}
		}
		for id := range waits {
			if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = $1 AND path_id = $2`, in.ID, id); err != nil {
				return fmt.Errorf("clear wait of %s: %w", in.ID, err)
			}
		}
	}
	for id, w := range waits {
		if err := t.insertWait(in, id, w); err != nil {
			return err
		}
	}
	return nil
}

func (t *EngineTx) insertMoveRecords(migrationID string, moves []InstanceMove) error {
	lockAfter := func(mv InstanceMove) int {
		if mv.Outcome == kalcifer.MoveFailed {
			return mv.Prior.LockVersion
		}
		return mv.Prior.LockVersion + 1
	}
	if t.s.d.BindsArrays {
		var ids, outcomes, statuses, states, nodes, details []string
		var versions, locks []int64
		for _, mv := range moves {
			ids, outcomes, versions = append(ids, mv.Prior.ID), append(outcomes, mv.Outcome), append(versions, int64(mv.Prior.Version))
			statuses, states, nodes = append(statuses, string(mv.Prior.Status)), append(states, string(mv.Prior.State)), append(nodes, atNodes(mv.Prior.Nodes))
			locks, details = append(locks, int64(lockAfter(mv))), append(details, mv.Detail)
		}
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO migration_moves (migration_id, instance_id, outcome, prior_version, prior_status, prior_state,
			prior_nodes, lock_version, detail)
			SELECT $1, i, o, v, s, st::jsonb, n, l, d
			FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[]) AS m(i, o, v, s, st, n, l, d)`,
			migrationID, ids, outcomes, versions, statuses, states, nodes, locks, details); err != nil {
			return fmt.Errorf("record migrated instances: %w", err)
		}
		return nil
	}
	for _, mv := range moves {
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO migration_moves (migration_id, instance_id, outcome, prior_version, prior_status, prior_state,
			prior_nodes, lock_version, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			migrationID, mv.Prior.ID, mv.Outcome, mv.Prior.Version, string(mv.Prior.Status), string(mv.Prior.State), atNodes(mv.Prior.Nodes),
			lockAfter(mv), mv.Detail); err != nil {
			return fmt.Errorf("record migrated instances: %w", err)
		}
	}
	return nil
}

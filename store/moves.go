package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// Moving instances: the candidates of a migration's batch, the batch's
// write (movebatch.go), the undo records, and restoring or releasing them.

// MigrationCandidates returns up to limit instances still on m's old
// version (active or paused) that m has not handled, after m.Cursor in id
// order. On PostgreSQL they are locked, and rows another transaction holds
// are skipped: a later pass finds them (MigrationLeft).
func (t *EngineTx) MigrationCandidates(m *kalcifer.Migration, limit int) ([]*kalcifer.Instance, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT `+instanceColumns+` FROM instances i
		WHERE tenant_id = $1 AND journey_id = $2 AND version = $3 AND status IN ('active', 'paused') AND id > $4
		  AND NOT EXISTS (SELECT 1 FROM migration_moves mv WHERE mv.migration_id = $5 AND mv.instance_id = i.id)
		ORDER BY id LIMIT $6`+t.s.skipLocked(), m.TenantID, m.JourneyID, m.FromVersion, m.Cursor, m.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("read instances to migrate: %w", err)
	}
	return collectInstances(rows)
}

// MigrationLeft returns the ids of the instances still on m's old version
// (active or paused) that m has not handled.
func (t *EngineTx) MigrationLeft(m *kalcifer.Migration) ([]string, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT id FROM instances i
		WHERE tenant_id = $1 AND journey_id = $2 AND version = $3 AND status IN ('active', 'paused')
		  AND NOT EXISTS (SELECT 1 FROM migration_moves mv WHERE mv.migration_id = $4 AND mv.instance_id = i.id)
		ORDER BY id`, m.TenantID, m.JourneyID, m.FromVersion, m.ID)
	if err != nil {
		return nil, fmt.Errorf("read instances left to migrate: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// InstanceMove is one instance's migration: the instance as it was read
// (its prior state, kept for an abort) and what it becomes.
type InstanceMove struct {
	Prior   *kalcifer.Instance
	Outcome string // kalcifer.MoveMigrated, MoveHeld, MoveExited or MoveFailed
	Version int
	Status  kalcifer.InstanceStatus
	Reason  string
	State   json.RawMessage
	Nodes   []string
	// Waits replace the wait rows of their paths; Drop removes rows.
	Waits  map[int]kalcifer.Wait
	Drop   []int
	Detail string
}

// ApplyMoves writes a batch of migrated instances: each instance's new
// version, status and state with a history step, its changed waits, and a
// record of its prior state. Failed moves are only recorded. The instances
// must have been read in this transaction (MigrationCandidates).
func (t *EngineTx) ApplyMoves(migrationID string, moves []InstanceMove) error {
	if len(moves) == 0 {
		return nil
	}
	var changed []InstanceMove
	for _, mv := range moves {
		if mv.Outcome != kalcifer.MoveFailed {
			changed = append(changed, mv)
		}
	}
	if err := t.writeMoved(changed); err != nil {
		return err
	}
	return t.insertMoveRecords(migrationID, moves)
}

// MovedInstance is an instance a migration moved, with what it was before.
type MovedInstance struct {
	Current      *kalcifer.Instance
	Outcome      string
	PriorVersion int
	PriorStatus  kalcifer.InstanceStatus
	PriorState   json.RawMessage
	PriorNodes   []string
	// LockVersion is the instance's lock version right after the move:
	// if it differs now, the instance moved on since.
	LockVersion int
}

// Restore outcomes of migration_moves.restored.
const (
	restored     = 1
	movedOnSince = 2
)

// MovesToRestore returns up to limit instances m moved (migrated, held or
// exited) and has not restored, after m.Cursor, locked like
// MigrationCandidates.
func (t *EngineTx) MovesToRestore(m *kalcifer.Migration, limit int) ([]MovedInstance, error) {
	return t.movedInstances(true, `mv.migration_id = $1 AND mv.restored = 0 AND mv.outcome <> 'failed' AND mv.instance_id > $2
		ORDER BY mv.instance_id LIMIT $3`, m.ID, m.Cursor, limit)
}

// RestoreLeft counts the instances m moved and has not restored yet,
// locked by others or not.
func (t *EngineTx) RestoreLeft(m *kalcifer.Migration) (int, error) {
	var n int
	err := t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM migration_moves WHERE migration_id = $1 AND restored = 0 AND outcome <> 'failed'`, m.ID).Scan(&n)
	return n, err
}

// HeldMove returns a held instance of migration m that is still held.
func (t *EngineTx) HeldMove(migrationID, instanceID string) (*MovedInstance, error) {
	list, err := t.movedInstances(false, `mv.migration_id = $1 AND mv.instance_id = $2 AND mv.outcome = 'held' AND mv.restored = 0`,
		migrationID, instanceID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// movedInstances reads moved instances, locking them where writers run
// concurrently (with skip, passing over rows others hold).
func (t *EngineTx) movedInstances(skip bool, where string, args ...any) ([]MovedInstance, error) {
	lock := t.s.d.forUpdateOf("i")
	if skip {
		lock = t.s.d.skipLockedOf("i")
	}
	rows, err := t.tx.Query(t.ctx, `SELECT mv.outcome, mv.prior_version, mv.prior_status, mv.prior_state, mv.prior_nodes, mv.lock_version,
		i.id, i.tenant_id, i.journey_id, i.version, i.customer_id, i.status, i.state, i.reason, i.at_nodes, i.step_count,
		i.lock_version, i.created_at, i.updated_at, i.ended_at
		FROM migration_moves mv JOIN instances i ON i.id = mv.instance_id WHERE `+where+lock, args...)
	if err != nil {
		return nil, fmt.Errorf("read migrated instances: %w", err)
	}
	defer rows.Close()
	var out []MovedInstance
	for rows.Next() {
		var mi MovedInstance
		var in kalcifer.Instance
		var priorStatus, priorState, priorNodes, status, state, nodes string
		var created, updated int64
		var ended *int64
		if err := rows.Scan(&mi.Outcome, &mi.PriorVersion, &priorStatus, &priorState, &priorNodes, &mi.LockVersion,
			&in.ID, &in.TenantID, &in.JourneyID, &in.Version, &in.CustomerID, &status, &state, &in.Reason, &nodes, &in.StepCount,
			&in.LockVersion, &created, &updated, &ended); err != nil {
			return nil, fmt.Errorf("read migrated instances: %w", err)
		}
		mi.PriorStatus, mi.PriorState, mi.PriorNodes = kalcifer.InstanceStatus(priorStatus), json.RawMessage(priorState), strings.Fields(priorNodes)
		in.Status, in.State, in.Nodes = kalcifer.InstanceStatus(status), json.RawMessage(state), strings.Fields(nodes)
		in.CreatedAt, in.UpdatedAt, in.EndedAt = fromMicros(created), fromMicros(updated), fromNullMicros(ended)
		mi.Current = &in
		out = append(out, mi)
	}
	return out, rows.Err()
}

// RestoreMove puts an instance back as it was before migration m moved it:
// version, status, state and waits (given by the engine from the prior
// state), and its place in the journey if the move had ended it. When the
// instance changed since the move it is left alone and RestoreMove
// reports false.
func (t *EngineTx) RestoreMove(migrationID string, mi MovedInstance, waits map[int]kalcifer.Wait, allowReentry bool) (bool, error) {
	if err := t.forget(); err != nil {
		return false, err
	}
	in := mi.Current
	if in.LockVersion != mi.LockVersion {
		_, err := t.tx.Exec(t.ctx, `UPDATE migration_moves SET restored = $1 WHERE migration_id = $2 AND instance_id = $3`,
			movedOnSince, migrationID, in.ID)
		return false, err
	}
	if in.Status.Ended() && !allowReentry && !mi.PriorStatus.Ended() {
		n, err := t.tx.Exec(t.ctx, `INSERT INTO active_entries (tenant_id, journey_id, customer_id, instance_id)
			VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, journey_id, customer_id) DO NOTHING`,
			in.TenantID, in.JourneyID, in.CustomerID, in.ID)
		if err != nil {
			return false, fmt.Errorf("re-enter journey: %w", err)
		}
		if n == 0 { // the customer entered again since: leave this one ended
			_, err := t.tx.Exec(t.ctx, `UPDATE migration_moves SET restored = $1 WHERE migration_id = $2 AND instance_id = $3`,
				movedOnSince, migrationID, in.ID)
			return false, err
		}
	}
	n, err := t.tx.Exec(t.ctx, `UPDATE instances SET version = $1, status = $2, reason = '', state = $3, at_nodes = $4,
		step_count = step_count + 1, lock_version = lock_version + 1, updated_at = $5, ended_at = NULL WHERE id = $6 AND lock_version = $7`,
		mi.PriorVersion, string(mi.PriorStatus), string(mi.PriorState), atNodes(mi.PriorNodes), micros(t.now), in.ID, in.LockVersion)
	if err != nil {
		return false, fmt.Errorf("restore instance %s: %w", in.ID, err)
	}
	if n == 0 {
		return false, ErrConflict
	}
	step := kalcifer.Step{Version: mi.PriorVersion, Type: "migration", Result: "restored",
		Detail: fmt.Sprintf("migration %s aborted: back on version %d", migrationID, mi.PriorVersion), At: t.now}
	if err := t.insertStepRows([]stepRow{{in.ID, in.StepCount + 1, step}}); err != nil {
		return false, err
	}
	restoredIn := *in
	restoredIn.Version, restoredIn.Status, restoredIn.Reason, restoredIn.Nodes = mi.PriorVersion, mi.PriorStatus, "", mi.PriorNodes
	t.recordInstance(&restoredIn, false, in.Status, []kalcifer.Step{step})
	if err := t.replaceWaits(in, waits, nil, true); err != nil {
		return false, err
	}
	_, err = t.tx.Exec(t.ctx, `UPDATE migration_moves SET restored = $1 WHERE migration_id = $2 AND instance_id = $3`,
		restored, migrationID, in.ID)
	return err == nil, err
}

// ReleaseHeld records that a held instance was released by a later move
// (mv), replacing its held record.
func (t *EngineTx) ReleaseHeld(migrationID string, mv InstanceMove) error {
	if err := t.writeMoved([]InstanceMove{mv}); err != nil {
		return err
	}
	_, err := t.tx.Exec(t.ctx, `UPDATE migration_moves SET outcome = $1, lock_version = $2, detail = $3
		WHERE migration_id = $4 AND instance_id = $5`, mv.Outcome, mv.Prior.LockVersion+1, mv.Detail, migrationID, mv.Prior.ID)
	if err != nil {
		return fmt.Errorf("record release: %w", err)
	}
	return nil
}

// HeldInstances lists the instances migration id holds for review.
func (s *Store) HeldInstances(ctx context.Context, tenantID, id string, limit int, cursor string) (kalcifer.Page[*kalcifer.Instance], error) {
	limit = kalcifer.ClampLimit(limit)
	rows, err := s.b.Q().Query(ctx, `SELECT `+prefixed("i.", instanceColumns)+` FROM migration_moves mv JOIN instances i ON i.id = mv.instance_id
		WHERE mv.migration_id = $1 AND i.tenant_id = $2 AND mv.outcome = 'held' AND mv.restored = 0 AND ($3 = '' OR mv.instance_id > $3)
		ORDER BY mv.instance_id LIMIT $4`, id, tenantID, cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.Instance]{}, fmt.Errorf("list held instances: %w", err)
	}
	list, err := collectInstances(rows)
	if err != nil {
		return kalcifer.Page[*kalcifer.Instance]{}, err
	}
	return pageOf(list, limit, instanceID), nil
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

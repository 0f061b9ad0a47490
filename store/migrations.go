package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// --- versions ---

// CreateVersion stores g as the journey's next version, a draft, after
// checking it. Any journey but an archived one can have drafts.
func (s *Store) CreateVersion(ctx context.Context, actor, tenantID, journeyID string, g *graph.Graph, changelog string) (*kalcifer.Version, error) {
	if err := kalcifer.ValidateGraph(g); err != nil {
		return nil, err
	}
	var out *kalcifer.Version
	err := s.b.WithTx(ctx, func(tx Tx) error {
		j, err := getJourney(ctx, tx, tenantID, journeyID)
		if err != nil {
			return err
		}
		if j.Status == kalcifer.JourneyArchived {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "an archived journey cannot have new versions",
				State: map[string]any{"status": string(j.Status)}}
		}
		n, err := nextVersion(ctx, tx, journeyID)
		if err != nil {
			return err
		}
		v := &kalcifer.Version{JourneyID: journeyID, Version: n, Status: kalcifer.VersionDraft, Graph: *g,
			Author: actor, Changelog: changelog, CreatedAt: s.now()}
		if err := insertVersion(ctx, tx, tenantID, v); err != nil {
			return err
		}
		out = v
		return s.audit(ctx, tx, tenantID, actor, "version.create", "journey", journeyID,
			map[string]any{"version": n, "changelog": changelog})
	})
	return out, err
}

// nextVersion is the number the journey's next version gets.
func nextVersion(ctx context.Context, q Querier, journeyID string) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM journey_versions WHERE journey_id = $1`, journeyID).Scan(&n); err != nil {
		return 0, fmt.Errorf("number the next version: %w", err)
	}
	return n, nil
}

// Publish makes a version the journey's current one and records the
// migration the engine planned for its running instances, in one
// transaction. Publishing needs a draft version; a rollback, a published
// one other than the current. The journey must be active or paused, its
// current version still m.FromVersion, and no other migration of it under
// way. m's Total, Status and times are filled here.
func (s *Store) Publish(ctx context.Context, m *kalcifer.Migration) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		j, err := getJourney(ctx, tx, m.TenantID, m.JourneyID)
		if err != nil {
			return err
		}
		if j.Status != kalcifer.JourneyActive && j.Status != kalcifer.JourneyPaused {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: "only an active or paused journey can publish a version; this journey is " + string(j.Status) + " (activate it first)",
				State:   map[string]any{"status": string(j.Status)}}
		}
		if j.CurrentVersion != m.FromVersion {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the journey's current version changed meanwhile; try again",
				State: map[string]any{"current_version": j.CurrentVersion}}
		}
		if m.ToVersion == j.CurrentVersion {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("version %d is already the current version", m.ToVersion),
				State: map[string]any{"current_version": j.CurrentVersion}}
		}
		v, err := scanVersion(tx.QueryRow(ctx, `SELECT `+versionColumns+` FROM journey_versions
			WHERE tenant_id = $1 AND journey_id = $2 AND version = $3`, m.TenantID, m.JourneyID, m.ToVersion))
		if err != nil {
			return notFound(err, "version %d of journey %q not found", m.ToVersion, m.JourneyID)
		}
		switch {
		case !m.Rollback && v.Status != kalcifer.VersionDraft:
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: fmt.Sprintf("version %d is already published (roll back to it instead)", v.Version),
				State:   map[string]any{"version_status": string(v.Status)}}
		case m.Rollback && v.Status != kalcifer.VersionPublished:
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: fmt.Sprintf("version %d is a draft: publish it instead of rolling back to it", v.Version),
				State:   map[string]any{"version_status": string(v.Status)}}
		}
		var busyID, busyStatus string
		err = tx.QueryRow(ctx, `SELECT id, status FROM migrations WHERE tenant_id = $1 AND journey_id = $2
			AND status IN ('running', 'paused', 'partial', 'aborting') ORDER BY id LIMIT 1`, m.TenantID, m.JourneyID).Scan(&busyID, &busyStatus)
		if err == nil {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: fmt.Sprintf("migration %s of this journey is %s; let it finish (raise a gradual rollout to 100) or abort it first", busyID, busyStatus),
				State:   map[string]any{"migration_id": busyID, "migration_status": busyStatus}}
		} else if !errors.Is(err, ErrNoRows) {
			return fmt.Errorf("look for migrations under way: %w", err)
		}

		now := s.now()
		if !m.Rollback {
			if _, err := tx.Exec(ctx, `UPDATE journey_versions SET status = 'published', published_at = $1
				WHERE journey_id = $2 AND version = $3`, micros(now), m.JourneyID, m.ToVersion); err != nil {
				return fmt.Errorf("publish version %d: %w", m.ToVersion, err)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM instances WHERE tenant_id = $1 AND journey_id = $2 AND version = $3
			AND status IN ('active', 'paused')`, m.TenantID, m.JourneyID, m.FromVersion).Scan(&m.Progress.Total); err != nil {
			return fmt.Errorf("count running instances: %w", err)
		}
		m.ID, m.Status, m.CreatedAt, m.UpdatedAt = kalcifer.NewID("mig"), kalcifer.MigrationRunning, now, now
		// A migrating publish runs at least one pass even with nobody to
		// move: instances started on the old version just before the
		// change are found by it.
		if m.Strategy == kalcifer.StrategyNewEntriesOnly {
			m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
		}
		if err := insertMigration(ctx, tx, m); err != nil {
			return err
		}
		j.CurrentVersion = m.ToVersion
		if err := s.saveJourney(ctx, tx, j); err != nil {
			return err
		}
		action := "version.publish"
		if m.Rollback {
			action = "version.rollback"
		}
		return s.audit(ctx, tx, m.TenantID, m.Actor, action, "journey", m.JourneyID, map[string]any{
			"version": m.ToVersion, "from_version": m.FromVersion, "migration_id": m.ID, "strategy": string(m.Strategy)})
	})
}

// --- migrations ---

const migrationColumns = `id, tenant_id, journey_id, from_version, to_version, strategy, config, mapping, confidence,
	rollback, status, reason, progress, actor, scan_cursor, lock_version, created_at, updated_at, finished_at`

func insertMigration(ctx context.Context, tx Tx, m *kalcifer.Migration) error {
	config, mapping, confidence, progress, err := encodeMigration(m)
	if err != nil {
		return err
	}
	rollback := 0
	if m.Rollback {
		rollback = 1
	}
	m.LockVersion = 1
	_, err = tx.Exec(ctx, `INSERT INTO migrations (`+migrationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16, $17)`,
		m.ID, m.TenantID, m.JourneyID, m.FromVersion, m.ToVersion, string(m.Strategy), config, mapping, confidence,
		rollback, string(m.Status), m.Reason, progress, m.Actor, m.Cursor, micros(m.CreatedAt), nullMicros(m.FinishedAt))
	if err != nil {
		return fmt.Errorf("insert migration: %w", err)
	}
	return nil
}

func encodeMigration(m *kalcifer.Migration) (config, mapping, confidence, progress string, err error) {
	parts := []any{m.Config, m.Mapping, m.Confidence, m.Progress}
	out := make([]string, len(parts))
	for i, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return "", "", "", "", fmt.Errorf("encode migration: %w", err)
		}
		if string(b) == "null" {
			b = []byte("{}")
		}
		out[i] = string(b)
	}
	return out[0], out[1], out[2], out[3], nil
}

func scanMigration(r Row) (*kalcifer.Migration, error) {
	var m kalcifer.Migration
	var strategy, config, mapping, confidence, status, progress string
	var rollback int
	var created, updated int64
	var finished *int64
	if err := r.Scan(&m.ID, &m.TenantID, &m.JourneyID, &m.FromVersion, &m.ToVersion, &strategy, &config, &mapping, &confidence,
		&rollback, &status, &m.Reason, &progress, &m.Actor, &m.Cursor, &m.LockVersion, &created, &updated, &finished); err != nil {
		return nil, err
	}
	m.Strategy, m.Status, m.Rollback = kalcifer.MigrationStrategy(strategy), kalcifer.MigrationStatus(status), rollback == 1
	for _, p := range []struct {
		raw string
		v   any
	}{{config, &m.Config}, {mapping, &m.Mapping}, {confidence, &m.Confidence}, {progress, &m.Progress}} {
		if err := jsonUnmarshal(p.raw, p.v); err != nil {
			return nil, fmt.Errorf("decode migration %s: %w", m.ID, err)
		}
	}
	m.CreatedAt, m.UpdatedAt, m.FinishedAt = fromMicros(created), fromMicros(updated), fromNullMicros(finished)
	return &m, nil
}

// GetMigration returns one of the tenant's migrations.
func (s *Store) GetMigration(ctx context.Context, tenantID, id string) (*kalcifer.Migration, error) {
	m, err := scanMigration(s.b.Q().QueryRow(ctx, `SELECT `+migrationColumns+` FROM migrations WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "migration %q not found", id)
	}
	return m, nil
}

// ListMigrations returns a journey's migrations, newest first.
func (s *Store) ListMigrations(ctx context.Context, tenantID, journeyID string, limit int, cursor string) (kalcifer.Page[*kalcifer.Migration], error) {
	if _, err := s.GetJourney(ctx, tenantID, journeyID); err != nil {
		return kalcifer.Page[*kalcifer.Migration]{}, err
	}
	limit = kalcifer.ClampLimit(limit)
	rows, err := s.b.Q().Query(ctx, `SELECT `+migrationColumns+` FROM migrations
		WHERE tenant_id = $1 AND journey_id = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`,
		tenantID, journeyID, cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.Migration]{}, fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	page := kalcifer.Page[*kalcifer.Migration]{Data: []*kalcifer.Migration{}}
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return page, fmt.Errorf("list migrations: %w", err)
		}
		page.Data = append(page.Data, m)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list migrations: %w", err)
	}
	return pageOf(page.Data, limit, func(m *kalcifer.Migration) string { return m.ID }), nil
}

// MigrationBatches returns a migration's batch results, in order.
func (s *Store) MigrationBatches(ctx context.Context, id string) ([]kalcifer.MigrationBatch, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT result FROM migration_batches WHERE migration_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("read migration batches: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.MigrationBatch{}
	for rows.Next() {
		var raw string
		var b kalcifer.MigrationBatch
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read migration batches: %w", err)
		}
		if err := jsonUnmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("decode migration batch: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ChangeMigration applies fn to a migration in a transaction and saves it
// with an audit row naming action; fn returns an error to refuse.
func (s *Store) ChangeMigration(ctx context.Context, actor, tenantID, id, action string, fn func(j *kalcifer.Journey, m *kalcifer.Migration) error) (*kalcifer.Migration, error) {
	var out *kalcifer.Migration
	err := s.b.WithTx(ctx, func(tx Tx) error {
		m, err := scanMigration(tx.QueryRow(ctx, `SELECT `+migrationColumns+` FROM migrations WHERE tenant_id = $1 AND id = $2`+s.forUpdate(), tenantID, id))
		if err != nil {
			return notFound(err, "migration %q not found", id)
		}
		j, err := getJourney(ctx, tx, tenantID, m.JourneyID)
		if err != nil {
			return err
		}
		before := j.CurrentVersion
		if err := fn(j, m); err != nil {
			return err
		}
		if j.CurrentVersion != before {
			if err := s.saveJourney(ctx, tx, j); err != nil {
				return err
			}
		}
		if err := saveMigration(ctx, tx, s.now(), m); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, tenantID, actor, "migration."+action, "migration", id,
			map[string]any{"journey_id": m.JourneyID, "status": string(m.Status), "rollout_percent": m.Config.RolloutPercent})
	})
	return out, err
}

func saveMigration(ctx context.Context, q Querier, now time.Time, m *kalcifer.Migration) error {
	config, _, _, progress, err := encodeMigration(m)
	if err != nil {
		return err
	}
	m.UpdatedAt = now
	n, err := q.Exec(ctx, `UPDATE migrations SET config = $1, status = $2, reason = $3, progress = $4, scan_cursor = $5,
		lock_version = lock_version + 1, updated_at = $6, finished_at = $7 WHERE id = $8 AND lock_version = $9`,
		config, string(m.Status), m.Reason, progress, m.Cursor, micros(now), nullMicros(m.FinishedAt), m.ID, m.LockVersion)
	if err != nil {
		return fmt.Errorf("save migration %s: %w", m.ID, err)
	}
	if n == 0 {
		return kalcifer.Errorf(kalcifer.ECONFLICT, "migration %q changed meanwhile; try again", m.ID)
	}
	m.LockVersion++
	return nil
}

// --- the migration worker's transaction ---

// NextMigration returns a migration with work to do (running or aborting),
// locked for this transaction on PostgreSQL so that one replica at a time
// works on it; nil when there is none.
func (t *EngineTx) NextMigration() (*kalcifer.Migration, error) {
	m, err := scanMigration(t.tx.QueryRow(t.ctx, `SELECT `+migrationColumns+` FROM migrations
		WHERE status IN ('running', 'aborting') ORDER BY id LIMIT 1`+t.s.skipLocked()))
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find migration work: %w", err)
	}
	return m, nil
}

// SaveMigration records a migration's progress, with the result of the
// batch just done if b is not nil.
func (t *EngineTx) SaveMigration(m *kalcifer.Migration, b *kalcifer.MigrationBatch) error {
	if err := saveMigration(t.ctx, t.tx, t.now, m); err != nil {
		return err
	}
	if b == nil {
		return nil
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode migration batch: %w", err)
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO migration_batches (migration_id, seq, result) VALUES ($1, $2, $3)`,
		m.ID, b.Seq, string(raw)); err != nil {
		return fmt.Errorf("record migration batch: %w", err)
	}
	return nil
}

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

// writeMoved writes moved instances: their rows with a history step each,
// their changed wait rows, and the place of those that ended.
func (t *EngineTx) writeMoved(moves []InstanceMove) error {
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
		steps = append(steps, stepRow{mv.Prior.ID, mv.Prior.StepCount + 1, kalcifer.Step{Version: mv.Version, Type: "migration",
			Result: mv.Outcome, Detail: mv.Detail, At: t.now}})
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
	var ins struct {
		ids, tenants, customers, kinds []string
		paths                          []int64
		events, filters, keys          []*string
		dues                           []*int64
	}
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
			filter, due, err := waitColumns(w)
			if err != nil {
				return err
			}
			ins.ids, ins.paths = append(ins.ids, mv.Prior.ID), append(ins.paths, int64(id))
			ins.tenants, ins.customers, ins.kinds = append(ins.tenants, mv.Prior.TenantID), append(ins.customers, mv.Prior.CustomerID), append(ins.kinds, string(w.Kind))
			ins.events, ins.keys = append(ins.events, optional(w.EventType)), append(ins.keys, optional(w.SendKey))
			f, _ := filter.(string)
			ins.filters = append(ins.filters, optional(f))
			var d *int64
			if due != nil {
				v := due.(int64)
				d = &v
			}
			ins.dues = append(ins.dues, d)
		}
	}
	if len(ended) > 0 {
		if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits WHERE instance_id = ANY($1::text[])`, ended); err != nil {
			return fmt.Errorf("clear waits: %w", err)
		}
	}
	if len(goneIDs) > 0 {
		if _, err := t.tx.Exec(t.ctx, `DELETE FROM waits w USING unnest($1::text[], $2::int[]) AS d(instance_id, path_id)
			WHERE w.instance_id = d.instance_id AND w.path_id = d.path_id`, goneIDs, gonePaths); err != nil {
			return fmt.Errorf("clear changed waits: %w", err)
		}
	}
	if len(ins.ids) > 0 {
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO waits (instance_id, path_id, tenant_id, customer_id, kind, event_type, filter, due_at, send_key)
			SELECT i, p, t, c, k, e, f::jsonb, d, s
			FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
				AS w(i, p, t, c, k, e, f, d, s)`,
			ins.ids, ins.paths, ins.tenants, ins.customers, ins.kinds, ins.events, ins.filters, ins.dues, ins.keys); err != nil {
			return fmt.Errorf("insert waits: %w", err)
		}
	}
	return nil
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
	if err := t.insertStepRows([]stepRow{{in.ID, in.StepCount + 1, kalcifer.Step{Version: mi.PriorVersion, Type: "migration",
		Result: "restored", Detail: fmt.Sprintf("migration %s aborted: back on version %d", migrationID, mi.PriorVersion), At: t.now}}}); err != nil {
		return false, err
	}
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

// PopulatedNodes counts, per node, the active and paused instances of a
// journey version with a path there.
func (s *Store) PopulatedNodes(ctx context.Context, tenantID, journeyID string, version int) (map[string]int, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT at_nodes, COUNT(*) FROM instances WHERE tenant_id = $1 AND journey_id = $2 AND version = $3
		AND status IN ('active', 'paused') GROUP BY at_nodes`, tenantID, journeyID, version)
	if err != nil {
		return nil, fmt.Errorf("count instances per node: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var nodes string
		var n int
		if err := rows.Scan(&nodes, &n); err != nil {
			return nil, fmt.Errorf("count instances per node: %w", err)
		}
		for _, id := range strings.Fields(nodes) {
			out[id] += n
		}
	}
	return out, rows.Err()
}

// Journey reads a journey inside the engine's transaction.
func (t *EngineTx) Journey(tenantID, id string) (*kalcifer.Journey, error) {
	return getJourney(t.ctx, t.tx, tenantID, id)
}

// Migration reads one of the tenant's migrations inside the transaction,
// locked on PostgreSQL until it ends.
func (t *EngineTx) Migration(tenantID, id string) (*kalcifer.Migration, error) {
	m, err := scanMigration(t.tx.QueryRow(t.ctx, `SELECT `+migrationColumns+` FROM migrations WHERE tenant_id = $1 AND id = $2`+t.s.forUpdate(), tenantID, id))
	if err != nil {
		return nil, notFound(err, "migration %q not found", id)
	}
	return m, nil
}

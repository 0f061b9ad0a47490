package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Live version rollout (kalcifer.Migration; not the schema migrations of
// the backends): publishing with its migration row, reading, listing and
// controlling the rows, and the worker's progress and batch records. The
// instances a rollout moves are in moves.go.

// PublishParams are a publish's (or rollback's) arguments, from the API to
// the engine's Publish, which plans the node mapping and hands Store.Publish
// the migration it planned.
type PublishParams struct {
	Actor     string // who publishes, for the audit row
	TenantID  string
	JourneyID string
	// Version becomes the journey's current version.
	Version int
	// Rollback makes an earlier published version current again, instead
	// of publishing a draft.
	Rollback bool
	// Request is the strategy, its settings and the node mapping asked for.
	Request kalcifer.PublishRequest
}

// ControlMigrationParams are a migration command's arguments, from the API
// to the engine's ControlMigration, which decides in Store.ChangeMigration
// whether the command fits the migration.
type ControlMigrationParams struct {
	Actor       string // who commands, for the audit row
	TenantID    string
	MigrationID string
	// Action is "pause", "resume", "abort" or "rollout".
	Action string
	// Percent is the gradual rollout's new percentage; only "rollout"
	// reads it.
	Percent int
}

// Publish makes a version the journey's current one and records the
// migration the engine planned for its running instances, in one
// transaction. Publishing needs a draft version; a rollback, a published
// one other than the current. The journey must be active or paused, its
// current version still m.FromVersion, and no other migration of it under
// way. m's Total, Status and times are filled here.
func (s *Store) Publish(ctx context.Context, m *kalcifer.Migration) error {
	defer s.journeysChanged()
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
		if m.Status == kalcifer.MigrationCompleted {
			if err := s.enqueueMigrationEvent(ctx, tx, now, m); err != nil {
				return err
			}
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

// --- migration rows ---

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

// ChangeMigrationParams name the migration ChangeMigration changes and
// what its audit row records.
type ChangeMigrationParams struct {
	Actor       string // who changes it, for the audit row
	TenantID    string
	MigrationID string
	// Action names the change in the audit row ("migration."+Action).
	Action string
}

// ChangeMigration applies fn to a migration in a transaction and saves it
// with an audit row naming p.Action; fn returns an error to refuse. fn stays
// an argument of its own, as with WithTx, so that its body reads at the call.
func (s *Store) ChangeMigration(ctx context.Context, p ChangeMigrationParams, fn func(j *kalcifer.Journey, m *kalcifer.Migration) error) (*kalcifer.Migration, error) {
	defer s.journeysChanged()
	actor, tenantID, id, action := p.Actor, p.TenantID, p.MigrationID, p.Action
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
		if err := s.saveMigration(ctx, tx, s.now(), m); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, tenantID, actor, "migration."+action, "migration", id,
			map[string]any{"journey_id": m.JourneyID, "status": string(m.Status), "rollout_percent": m.Config.RolloutPercent})
	})
	return out, err
}

func (s *Store) saveMigration(ctx context.Context, q Querier, now time.Time, m *kalcifer.Migration) error {
	config, _, _, progress, err := encodeMigration(m)
	if err != nil {
		return err
	}
	hook, err := s.migrationHook(ctx, q, now, m)
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
	return hook()
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
	if err := t.s.saveMigration(t.ctx, t.tx, t.now, m); err != nil {
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

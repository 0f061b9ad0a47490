package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

const versionColumns = `journey_id, version, status, graph, author, changelog, created_at, published_at`

func insertVersion(ctx context.Context, tx Tx, tenantID string, v *kalcifer.Version) error {
	g, err := json.Marshal(v.Graph)
	if err != nil {
		return fmt.Errorf("encode version graph: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO journey_versions (tenant_id, `+versionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		tenantID, v.JourneyID, v.Version, string(v.Status), string(g), v.Author, v.Changelog, micros(v.CreatedAt), nullMicros(v.PublishedAt))
	if err != nil {
		return fmt.Errorf("insert version %d of journey %s: %w", v.Version, v.JourneyID, err)
	}
	return nil
}

// ListVersions returns a journey's versions, newest first.
func (s *Store) ListVersions(ctx context.Context, tenantID, journeyID string) ([]kalcifer.Version, error) {
	if _, err := s.GetJourney(ctx, tenantID, journeyID); err != nil {
		return nil, err
	}
	rows, err := s.b.Q().Query(ctx, `SELECT `+versionColumns+` FROM journey_versions
		WHERE tenant_id = $1 AND journey_id = $2 ORDER BY version DESC`, tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list versions: %w", err)
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// GetVersion returns one version of a journey.
func (s *Store) GetVersion(ctx context.Context, tenantID, journeyID string, version int) (*kalcifer.Version, error) {
	v, err := scanVersion(s.b.Q().QueryRow(ctx, `SELECT `+versionColumns+` FROM journey_versions
		WHERE tenant_id = $1 AND journey_id = $2 AND version = $3`, tenantID, journeyID, version))
	if err != nil {
		return nil, notFound(err, "version %d of journey %q not found", version, journeyID)
	}
	return v, nil
}

// Version is GetVersion inside the engine's transaction, so that the engine
// never needs a second connection while it holds one.
func (t *EngineTx) Version(tenantID, journeyID string, version int) (*kalcifer.Version, error) {
	v, err := scanVersion(t.tx.QueryRow(t.ctx, `SELECT `+versionColumns+` FROM journey_versions
		WHERE tenant_id = $1 AND journey_id = $2 AND version = $3`, tenantID, journeyID, version))
	if err != nil {
		return nil, notFound(err, "version %d of journey %q not found", version, journeyID)
	}
	return v, nil
}

func scanVersion(r Row) (*kalcifer.Version, error) {
	var v kalcifer.Version
	var status, g string
	var createdAt int64
	var publishedAt *int64
	if err := r.Scan(&v.JourneyID, &v.Version, &status, &g, &v.Author, &v.Changelog, &createdAt, &publishedAt); err != nil {
		return nil, err
	}
	v.Status = kalcifer.VersionStatus(status)
	if err := json.Unmarshal([]byte(g), &v.Graph); err != nil {
		return nil, fmt.Errorf("decode graph of version %d: %w", v.Version, err)
	}
	v.CreatedAt = fromMicros(createdAt)
	v.PublishedAt = fromNullMicros(publishedAt)
	return &v, nil
}

// CreateVersionParams are a new draft version's arguments.
type CreateVersionParams struct {
	Actor     string // who creates it, for the audit row
	TenantID  string
	JourneyID string
	Graph     *graph.Graph
	Changelog string
}

// CreateVersion stores p.Graph as the journey's next version, a draft, after
// checking it. Any journey but an archived one can have drafts.
func (s *Store) CreateVersion(ctx context.Context, p CreateVersionParams) (*kalcifer.Version, error) {
	actor, tenantID, journeyID, g, changelog := p.Actor, p.TenantID, p.JourneyID, p.Graph, p.Changelog
	if err := validateGraph(g); err != nil {
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

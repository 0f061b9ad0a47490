package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// InstanceFilter selects a tenant's instances for a list, newest first.
type InstanceFilter struct {
	TenantID   string
	JourneyID  string
	CustomerID string
	Version    int // 0: any
	Status     kalcifer.InstanceStatus
	NodeID     string // instances with a path at this node
	Limit      int
	Cursor     string
}

// ListInstances returns one page of instances. Only the filters that are
// set become conditions, so that each database plans with the predicates it
// will really apply: a condition that is true when its parameter is empty
// hides the journey from SQLite's planner, which then sorted every instance
// of the tenant for one page of one journey's.
func (s *Store) ListInstances(ctx context.Context, f InstanceFilter) (kalcifer.Page[*kalcifer.Instance], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	var where strings.Builder
	args := []any{f.TenantID}
	where.WriteString("tenant_id = $1")
	and := func(cond string, arg any) {
		args = append(args, arg)
		fmt.Fprintf(&where, " AND "+cond, len(args))
	}
	if f.JourneyID != "" {
		and("journey_id = $%d", f.JourneyID)
	}
	if f.CustomerID != "" {
		and("customer_id = $%d", f.CustomerID)
	}
	if f.Version != 0 {
		and("version = $%d", f.Version)
	}
	if f.Status != "" {
		and("status = $%d", string(f.Status))
	}
	if f.NodeID != "" {
		and(`at_nodes LIKE $%d ESCAPE '\'`, "% "+escapeLike(f.NodeID)+" %")
	}
	if f.Cursor != "" {
		and("id < $%d", f.Cursor)
	}
	args = append(args, limit+1)
	rows, err := s.b.Q().Query(ctx, fmt.Sprintf(`SELECT %s FROM instances WHERE %s ORDER BY id DESC LIMIT $%d`,
		instanceColumns, where.String(), len(args)), args...)
	if err != nil {
		return kalcifer.Page[*kalcifer.Instance]{}, fmt.Errorf("list instances: %w", err)
	}
	list, err := collectInstances(rows)
	if err != nil {
		return kalcifer.Page[*kalcifer.Instance]{}, err
	}
	return pageOf(list, limit, instanceID), nil
}

func instanceID(in *kalcifer.Instance) string { return in.ID }

// GetInstance returns one of the tenant's instances.
func (s *Store) GetInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	in, err := scanInstance(s.b.Q().QueryRow(ctx, `SELECT `+instanceColumns+` FROM instances WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "instance %q not found", id)
	}
	return in, nil
}

// InstanceSteps returns an instance's history in order.
func (s *Store) InstanceSteps(ctx context.Context, instanceID string) ([]kalcifer.Step, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT seq, version, path_id, node_id, node_type, visit, result, detail, at
		FROM instance_steps WHERE instance_id = $1 ORDER BY seq`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("instance steps: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.Step{}
	for rows.Next() {
		var st kalcifer.Step
		var at int64
		if err := rows.Scan(&st.Seq, &st.Version, &st.PathID, &st.NodeID, &st.Type, &st.Visit, &st.Result, &st.Detail, &at); err != nil {
			return nil, fmt.Errorf("instance steps: %w", err)
		}
		st.At = fromMicros(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

// CountByVersion counts a journey's active and paused instances per version.
func (s *Store) CountByVersion(ctx context.Context, tenantID, journeyID string) (map[int]int, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT version, COUNT(*) FROM instances
		WHERE tenant_id = $1 AND journey_id = $2 AND status IN ('active', 'paused') GROUP BY version`, tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("count instances by version: %w", err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("count instances by version: %w", err)
		}
		out[v] = n
	}
	return out, rows.Err()
}

// ActiveJourney is a journey new customers can enter: its current version.
type ActiveJourney struct {
	TenantID     string
	JourneyID    string
	Version      int
	AllowReentry bool
}

// ActiveJourneys lists every active journey of every tenant.
func (s *Store) ActiveJourneys(ctx context.Context) ([]ActiveJourney, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT tenant_id, id, current_version, settings FROM journeys WHERE status = 'active' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("active journeys: %w", err)
	}
	defer rows.Close()
	var out []ActiveJourney
	for rows.Next() {
		var a ActiveJourney
		var settings string
		if err := rows.Scan(&a.TenantID, &a.JourneyID, &a.Version, &settings); err != nil {
			return nil, fmt.Errorf("active journeys: %w", err)
		}
		var js kalcifer.JourneySettings
		if err := jsonUnmarshal(settings, &js); err != nil {
			return nil, fmt.Errorf("settings of journey %s: %w", a.JourneyID, err)
		}
		a.AllowReentry = js.AllowReentry
		out = append(out, a)
	}
	return out, rows.Err()
}

// VersionRef names one published version of a journey.
type VersionRef struct {
	TenantID  string
	JourneyID string
	Version   int
}

// AllVersions lists every version of every journey, whatever the journey's
// status: instances of paused and archived journeys still run.
func (s *Store) AllVersions(ctx context.Context) ([]VersionRef, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT tenant_id, journey_id, version FROM journey_versions ORDER BY journey_id, version`)
	if err != nil {
		return nil, fmt.Errorf("all versions: %w", err)
	}
	defer rows.Close()
	var out []VersionRef
	for rows.Next() {
		var v VersionRef
		if err := rows.Scan(&v.TenantID, &v.JourneyID, &v.Version); err != nil {
			return nil, fmt.Errorf("all versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// JourneysChanged returns a value that changes whenever any journey is
// written, so the engine knows when to reload its entry index.
func (s *Store) JourneysChanged(ctx context.Context) (string, error) {
	return journeysChanged(ctx, s.b.Q())
}

// JourneysChanged is Store.JourneysChanged inside the engine's transaction.
func (t *EngineTx) JourneysChanged() (string, error) { return journeysChanged(t.ctx, t.tx) }

func journeysChanged(ctx context.Context, q Querier) (string, error) {
	// Every write of a journey bumps its lock version, so the sum moves
	// even when the clock does not (two changes in one microsecond).
	var n, versions int64
	var max *int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(lock_version), 0), MAX(updated_at) FROM journeys`).
		Scan(&n, &versions, &max); err != nil {
		return "", fmt.Errorf("journeys changed: %w", err)
	}
	m := int64(0)
	if max != nil {
		m = *max
	}
	return fmt.Sprintf("%d:%d:%d", n, versions, m), nil
}

package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// LiveCounts is where a journey's running customers (active or paused
// instances) are now: what the live feed pushes every second.
type LiveCounts struct {
	// Customers counts the running instances.
	Customers int
	// Nodes counts them per node, all versions together: an instance whose
	// parallel paths wait at several nodes counts once at each.
	Nodes map[string]int
	// Versions is the same per journey version.
	Versions map[int]*VersionCounts
}

// VersionCounts is LiveCounts for one journey version.
type VersionCounts struct {
	Customers int
	Nodes     map[string]int
}

// LiveNodeCounts counts a journey's running instances per node and version,
// in one query grouped by the nodes' column (distinct sets of nodes are
// few, however many instances share them).
func (s *Store) LiveNodeCounts(ctx context.Context, tenantID, journeyID string) (*LiveCounts, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT version, at_nodes, COUNT(*) FROM instances
		WHERE tenant_id = $1 AND journey_id = $2 AND status IN ('active', 'paused') GROUP BY version, at_nodes`, tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("live node counts: %w", err)
	}
	defer rows.Close()
	out := &LiveCounts{Nodes: map[string]int{}, Versions: map[int]*VersionCounts{}}
	for rows.Next() {
		var version, n int
		var nodes string
		if err := rows.Scan(&version, &nodes, &n); err != nil {
			return nil, fmt.Errorf("live node counts: %w", err)
		}
		v := out.Versions[version]
		if v == nil {
			v = &VersionCounts{Nodes: map[string]int{}}
			out.Versions[version] = v
		}
		out.Customers += n
		v.Customers += n
		seen := map[string]bool{}
		for _, node := range strings.Fields(nodes) {
			if !seen[node] {
				seen[node] = true
				out.Nodes[node] += n
				v.Nodes[node] += n
			}
		}
	}
	return out, rows.Err()
}

// StatusCounts counts a journey's instances per status, every version and
// every status present (those with none are left out).
func (s *Store) StatusCounts(ctx context.Context, tenantID, journeyID string) (map[kalcifer.InstanceStatus]int, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT status, COUNT(*) FROM instances
		WHERE tenant_id = $1 AND journey_id = $2 GROUP BY status`, tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("instance status counts: %w", err)
	}
	defer rows.Close()
	out := map[kalcifer.InstanceStatus]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("instance status counts: %w", err)
		}
		out[kalcifer.InstanceStatus(status)] = n
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"fmt"

	"github.com/kalcifer/kalcifer"
)

// Gauges is what the engine has left to do, as the metrics read it: one
// statement for the backlogs (each count answered by a partial index) and
// one for the migrations at work.
type Gauges struct {
	// Inbox counts stored events not yet routed.
	Inbox int64
	// SendsDue counts pending sends whose time has come (retries waiting
	// for their backoff are not counted).
	SendsDue int64
	// Migrations are the migrations running or aborting.
	Migrations []*kalcifer.Migration
}

// ReadGauges reads the engine's backlogs and the migrations at work,
// across tenants.
func (s *Store) ReadGauges(ctx context.Context) (Gauges, error) {
	var g Gauges
	err := s.b.Q().QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM events WHERE processed_at IS NULL),
		(SELECT COUNT(*) FROM sends WHERE status = 'pending' AND next_attempt_at <= $1)`, micros(s.now())).Scan(&g.Inbox, &g.SendsDue)
	if err != nil {
		return g, fmt.Errorf("read backlogs: %w", err)
	}
	rows, err := s.b.Q().Query(ctx, `SELECT `+migrationColumns+` FROM migrations WHERE status IN ('running', 'aborting') ORDER BY id`)
	if err != nil {
		return g, fmt.Errorf("read migrations at work: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return g, err
		}
		g.Migrations = append(g.Migrations, m)
	}
	if err := rows.Err(); err != nil {
		return g, fmt.Errorf("read migrations at work: %w", err)
	}
	return g, nil
}

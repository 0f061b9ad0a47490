package store

import (
	"context"
	"fmt"
	"time"
)

// The engine's loops sleep while nothing happens; these tell them when to
// look again without asking the database every second.

// OnJourneysChanged sets fn to be called after a transaction that wrote
// journeys (created, changed, activated, published, deleted) ends: the
// engine then reads the journeys' tag again before its next event batch,
// rather than before every batch.
func (s *Store) OnJourneysChanged(fn func()) { s.onJourneys.Store(&fn) }

// journeysChanged calls the OnJourneysChanged hook. Writers defer it, so
// it also runs after a write that failed: a wasted read, never a missed
// one.
func (s *Store) journeysChanged() {
	if fn := s.onJourneys.Load(); fn != nil {
		(*fn)()
	}
}

// NextSendDue returns when the earliest pending send falls due (a retry or
// a deferred send may be due later than now); ok is false when no send is
// pending.
func (s *Store) NextSendDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var at *int64
	if err := s.b.Q().QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM sends WHERE status = 'pending'`).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("next due send: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return fromMicros(*at), true, nil
}

// NextHookDue returns when the earliest webhook delivery falls due: a
// pending one's next attempt, or the end of a claimed one's lease; ok is
// false when there is none.
func (s *Store) NextHookDue(ctx context.Context) (due time.Time, ok bool, err error) {
	var pending, leased *int64
	if err := s.b.Q().QueryRow(ctx, `SELECT (SELECT MIN(next_at) FROM hook_deliveries WHERE status = 'pending'),
		(SELECT MIN(lease_until) FROM hook_deliveries WHERE status = 'delivering')`).Scan(&pending, &leased); err != nil {
		return time.Time{}, false, fmt.Errorf("next due webhook delivery: %w", err)
	}
	if pending == nil && leased == nil {
		return time.Time{}, false, nil
	}
	at := int64(1<<63 - 1)
	for _, t := range []*int64{pending, leased} {
		if t != nil {
			at = min(at, *t)
		}
	}
	return fromMicros(at), true, nil
}

// HasUnprocessedEvents reports whether any stored event waits to be
// routed: one indexed probe, cheaper than a lane's batch transaction.
func (s *Store) HasUnprocessedEvents(ctx context.Context) (bool, error) {
	var any bool
	if err := s.b.Q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE processed_at IS NULL)`).Scan(&any); err != nil {
		return false, fmt.Errorf("unprocessed events: %w", err)
	}
	return any, nil
}

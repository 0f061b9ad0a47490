package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/secrets"
)

// Store is Kalcifer's persistent state over one Backend. Every method that
// changes configuration writes its audit row in the same transaction.
type Store struct {
	b     Backend
	d     Dialect // b's, read once
	clock kalcifer.Clock
	keys  keyCache
	// keyring seals stored credentials and holds the API key pepper.
	keyring *secrets.Keyring
	// webhookSecrets caches webhook signing secrets by tenant, opened;
	// they never change.
	webhookSecrets   sync.Map
	webhookSecretsMu sync.Mutex // one read of an uncached secret at a time
	// migrated is set once no migration was pending: a running process
	// cannot lose one, and asking again takes the SQLite writer.
	migrated atomic.Bool
	// defaults are the limits of tenants without overrides (SetDefaultLimits).
	defaults kalcifer.Limits
	// onChanged is called after customer changes are queued (entries.go).
	onChanged atomic.Pointer[func()]
	// onJourneys is called after a write of journeys commits (wakeups.go).
	onJourneys atomic.Pointer[func()]
	// observers watch engine transactions (observe.go).
	observers []Observer
	// hooks indexes the active webhook subscriptions (hooks.go).
	hooks atomic.Pointer[hookIndex]
}

// New returns a Store over b, taking the time from clock, sealing stored
// credentials and hashing API keys with keyring (which must not be nil).
func New(b Backend, clock kalcifer.Clock, keyring *secrets.Keyring) *Store {
	if keyring == nil {
		panic("store.New: no keyring")
	}
	return &Store{b: b, d: b.Dialect(), clock: clock, keys: keyCache{m: map[string]cachedKey{}}, keyring: keyring}
}

// Backend returns the database behind the store, for the engine's job queue.
func (s *Store) Backend() Backend { return s.b }

// Keyring is what the store seals credentials and hashes API keys with.
func (s *Store) Keyring() *secrets.Keyring { return s.keyring }

// Kind names the database, "sqlite" or "postgres", for display.
func (s *Store) Kind() string { return s.b.Kind() }

// Dialect is what the database does differently (Backend.Dialect).
func (s *Store) Dialect() Dialect { return s.d }

// Close closes the backend.
func (s *Store) Close() error { return s.b.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.b.Ping(ctx) }

// Ready checks that the database answers and every migration is applied.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.b.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if s.migrated.Load() {
		return nil
	}
	n, err := s.b.PendingMigrations(ctx)
	if err != nil {
		return fmt.Errorf("read migration state: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%d migrations pending (run kalcifer migrate)", n)
	}
	s.migrated.Store(true)
	return nil
}

// Counts are the totals /info reports.
type Counts struct {
	Tenants        int `json:"tenants"`
	Journeys       int `json:"journeys"`
	ActiveJourneys int `json:"active_journeys"`
	// PendingEvents are stored events not yet routed: the engine's backlog.
	PendingEvents int `json:"pending_events"`
}

// Counts returns totals across all tenants.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.b.Q().QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM tenants),
		(SELECT COUNT(*) FROM journeys),
		(SELECT COUNT(*) FROM journeys WHERE status = 'active'),
		(SELECT COUNT(*) FROM events WHERE processed_at IS NULL)`).Scan(&c.Tenants, &c.Journeys, &c.ActiveJourneys, &c.PendingEvents)
	if err != nil {
		return Counts{}, fmt.Errorf("count: %w", err)
	}
	return c, nil
}

// now returns the store's current time, truncated to what the database keeps.
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// micros and fromMicros convert between times and their stored form.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros is micros(*t), or nil (SQL NULL) when t is nil.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func fromNullMicros(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

// pageOf makes a page of items read with one more than limit: the extra one
// says there is a next page, which starts after the last item kept.
func pageOf[T any](items []T, limit int, id func(T) string) kalcifer.Page[T] {
	page := kalcifer.Page[T]{Data: items}
	if len(items) > limit {
		page.Data = items[:limit]
		page.NextCursor = id(items[limit-1])
	}
	return page
}

// notFound turns ErrNoRows into a user-facing ENOTFOUND error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, ErrNoRows) {
		return kalcifer.Errorf(kalcifer.ENOTFOUND, format, args...)
	}
	return err
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

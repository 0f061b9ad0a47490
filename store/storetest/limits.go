package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// fixedClock is a clock a test moves by hand.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func ptr(n int) *int { return &n }

// Overrides are stored per tenant, nil fields follow the defaults, and a
// change is audited.
func testLimitOverrides(t *testing.T, s *store.Store) {
	ctx := context.Background()
	s.SetDefaultLimits(kalcifer.Limits{EventsPerSecond: 1000, APIPerMinute: 600})
	_, err := s.CreateTenant(ctx, actor, "acme")
	must(t, err)

	o, err := s.LimitOverrides(ctx, "acme")
	must(t, err)
	if o != (kalcifer.LimitOverrides{}) {
		t.Fatalf("a fresh tenant has overrides %+v", o)
	}
	must(t, s.SetLimitOverrides(ctx, actor, "acme", kalcifer.LimitOverrides{EventsPerSecond: ptr(5), Journeys: ptr(0), UploadsPerDay: ptr(3)}))
	lim, err := s.Limits(ctx, "acme")
	must(t, err)
	want := kalcifer.Limits{EventsPerSecond: 5, APIPerMinute: 600, Journeys: 0, UploadsPerDay: 3}
	if lim != want {
		t.Fatalf("effective limits = %+v, want %+v", lim, want)
	}
	if lim, err := s.Limits(ctx, "default"); err != nil || lim != s.DefaultLimits() {
		t.Fatalf("another tenant's limits = %+v, %v; want the defaults", lim, err)
	}
	// Replacing the row clears what the new overrides leave nil.
	must(t, s.SetLimitOverrides(ctx, actor, "acme", kalcifer.LimitOverrides{APIPerMinute: ptr(7)}))
	o, err = s.LimitOverrides(ctx, "acme")
	must(t, err)
	if o.EventsPerSecond != nil || o.UploadsPerDay != nil || o.APIPerMinute == nil || *o.APIPerMinute != 7 {
		t.Fatalf("overrides after the second set = %+v", o)
	}

	wantCode(t, s.SetLimitOverrides(ctx, actor, "acme", kalcifer.LimitOverrides{Journeys: ptr(-1)}), kalcifer.EUNPROCESSABLE)
	wantCode(t, s.SetLimitOverrides(ctx, actor, "nobody", kalcifer.LimitOverrides{}), kalcifer.ENOTFOUND)
	_, err = s.LimitOverrides(ctx, "nobody")
	wantCode(t, err, kalcifer.ENOTFOUND)

	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "acme", Limit: 10})
	must(t, err)
	n := 0
	for _, e := range page.Data {
		if e.Action == "tenant.limits" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("tenant.limits audit entries = %d, want 2", n)
	}
}

// The journeys quota counts journeys that are not archived and refuses
// creation and duplication past it.
func testJourneyQuota(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.SetLimitOverrides(ctx, actor, "default", kalcifer.LimitOverrides{Journeys: ptr(2)}))
	a := newJourney(t, s, "default", "A", nil)
	newJourney(t, s, "default", "B", nil)
	err := s.CreateJourney(ctx, actor, &kalcifer.Journey{TenantID: "default", Name: "C"})
	wantCode(t, err, kalcifer.EQUOTA)
	_, err = s.DuplicateJourney(ctx, actor, "default", a.ID, "")
	wantCode(t, err, kalcifer.EQUOTA)
	u, err := s.Usage(ctx, "default")
	must(t, err)
	if u.Journeys != 2 {
		t.Fatalf("usage.journeys = %d, want 2", u.Journeys)
	}
	// Archiving one frees its place.
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: a.ID, Action: kalcifer.ActionArchive})
	must(t, err)
	_, err = s.DuplicateJourney(ctx, actor, "default", a.ID, "")
	must(t, err)
	// Another tenant has its own count (and the default: unlimited).
	_, err = s.CreateTenant(ctx, actor, "acme")
	must(t, err)
	for range 3 {
		newJourney(t, s, "acme", "Other", nil)
	}
}

// Uploads are counted per tenant and UTC day; past the quota the answer is
// ERATELIMITED until the next day, and a new day starts from zero.
func testUploadQuota(t *testing.T, s *store.Store) {
	ctx := context.Background()
	clock := &fixedClock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	s = store.New(s.Backend(), clock, testKeyring(t, oldKey))
	must(t, s.SetLimitOverrides(ctx, actor, "default", kalcifer.LimitOverrides{UploadsPerDay: ptr(2)}))
	must(t, s.ReserveUpload(ctx, "default"))
	must(t, s.ReserveUpload(ctx, "default"))
	err := s.ReserveUpload(ctx, "default")
	wantCode(t, err, kalcifer.ERATELIMITED)
	if e := err.(*kalcifer.Error); e.RetryAfter != 2*time.Hour {
		t.Fatalf("RetryAfter = %s, want 2h (until 00:00 UTC)", e.RetryAfter)
	}
	u, err := s.Usage(ctx, "default")
	must(t, err)
	if u.UploadsToday != 2 {
		t.Fatalf("uploads today = %d, want 2 (a refused one is not counted)", u.UploadsToday)
	}
	clock.set(time.Date(2026, 3, 2, 0, 0, 1, 0, time.UTC))
	must(t, s.ReserveUpload(ctx, "default"))
	if u, err := s.Usage(ctx, "default"); err != nil || u.UploadsToday != 1 {
		t.Fatalf("uploads on the new day = %+v, %v; want 1", u, err)
	}
	// Unlimited uploads are still counted.
	must(t, s.SetLimitOverrides(ctx, actor, "default", kalcifer.LimitOverrides{}))
	for range 3 {
		must(t, s.ReserveUpload(ctx, "default"))
	}
	if u, err := s.Usage(ctx, "default"); err != nil || u.UploadsToday != 4 {
		t.Fatalf("uploads = %+v, %v; want 4", u, err)
	}
}

// The engine's quota reads: active instances counted per tenant (active and
// paused, not ended ones), skipped entries counted per day.
func testActiveInstanceQuota(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		quota, used, err := tx.ActiveInstanceQuota("default")
		if err != nil || quota != 0 || used != 0 {
			t.Fatalf("without a quota: %d, %d, %v", quota, used, err)
		}
		newInstance(t, tx, j, "c1", false)
		newInstance(t, tx, j, "c2", false)
		ended, _ := newInstance(t, tx, j, "c3", true)
		ended.Status = kalcifer.InstanceCompleted
		return tx.SaveInstance(ended, nil, nil)
	}))
	must(t, s.SetLimitOverrides(ctx, actor, "default", kalcifer.LimitOverrides{ActiveInstances: ptr(2)}))
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		quota, used, err := tx.ActiveInstanceQuota("default")
		if err != nil || quota != 2 || used != 2 {
			t.Fatalf("quota, used = %d, %d, %v; want 2, 2", quota, used, err)
		}
		if in, err := tx.InJourney("default", j.ID, "c1"); err != nil || !in {
			t.Fatalf("c1 in journey = %v, %v", in, err)
		}
		if in, err := tx.InJourney("default", j.ID, "c9"); err != nil || in {
			t.Fatalf("c9 in journey = %v, %v", in, err)
		}
		must(t, tx.CountSkippedEntry("default"))
		return tx.CountSkippedEntry("default")
	}))
	u, err := s.Usage(ctx, "default")
	must(t, err)
	if u.ActiveInstances != 2 || u.SkippedEntriesToday != 2 {
		t.Fatalf("usage = %+v, want 2 active instances and 2 skipped entries", u)
	}
}

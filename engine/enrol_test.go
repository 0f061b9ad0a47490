package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// segment stores a segment of the default tenant from its text form.
func (e *env) segment(name, text string) string {
	e.t.Helper()
	r, err := segment.Parse("rule", text)
	if err != nil {
		e.t.Fatal(err)
	}
	sg := &segment.Segment{TenantID: kalcifer.DefaultTenantID, Name: name, Rule: *r}
	if err := e.st.CreateSegment(e.ctx, "test", sg); err != nil {
		e.t.Fatal(err)
	}
	return sg.ID
}

// patch changes a profile as PATCH /customers/{id}/profile does.
func (e *env) patch(customer string, set map[string]any) {
	e.t.Helper()
	if _, err := e.st.PatchCustomer(e.ctx, store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: customer, Set: set}); err != nil {
		e.t.Fatal(err)
	}
}

// enrolled counts each customer's instances of the journey.
func (e *env) enrolled(journeyID string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	f := store.InstanceFilter{TenantID: kalcifer.DefaultTenantID, JourneyID: journeyID, Limit: 100}
	for {
		page, err := e.st.ListInstances(e.ctx, f)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, in := range page.Data {
			out[in.CustomerID]++
		}
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

// wantEnrolled compares instances per customer, naming the customers who
// differ.
func wantEnrolled(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	var diff []string
	for c, n := range got {
		if want[c] != n {
			diff = append(diff, fmt.Sprintf("%s: %d, want %d", c, n, want[c]))
		}
	}
	for c, n := range want {
		if _, ok := got[c]; !ok {
			diff = append(diff, fmt.Sprintf("%s: 0, want %d", c, n))
		}
	}
	if len(diff) > 0 {
		slices.Sort(diff)
		t.Fatalf("instances per customer differ (%d customers): %s", len(diff), strings.Join(diff[:min(len(diff), 10)], "; "))
	}
}

// segmentJourney is a journey entered from segment seg (enrol mode, or
// the default when empty) that waits a day: its instances stay active.
func (e *env) segmentJourney(allowReentry bool, seg, mode, extra string) string {
	cfg := `{"segment_id":"` + seg + `"`
	if mode != "" {
		cfg += `,"enrol":"` + mode + `"`
	}
	return e.journey(allowReentry, g([]string{`in:segment_entry:` + cfg + extra + `}`, `w:wait:{"duration":"1d"}`}, []string{"in->w"}, ""))
}

// A profile change that makes a customer match enrols them once, right
// after the change; other changes while they match, and leaving and
// entering again while their instance is active, do not enrol them again.
// Customers who matched before activation are not enrolled (enrol: new,
// the default).
func TestSegmentEntryOnProfileChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.patch("before", map[string]any{"plan": "pro"})
		e.patch("free", map[string]any{"plan": "free"})
		j := e.segmentJourney(false, e.segment("pro", `plan = "pro"`), "", "")
		// Right after activation, before the engine has looked at the
		// journey: activation recorded who matched, and queues changes.
		e.patch("quick", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"quick": 1})

		e.patch("free", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"quick": 1, "free": 1})
		if in := e.only(j, "free"); in.Status != kalcifer.InstanceActive || e.trail(in) != "in=default w=waiting" {
			t.Fatalf("instance %s: %s", in.Status, e.trail(in))
		}

		e.patch("free", map[string]any{"seats": 3})
		e.patch("free", map[string]any{"plan": "free"})
		e.drain()
		e.patch("free", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"quick": 1, "free": 1})

		// An event that makes a customer match ("performed") enrols them.
		j2 := e.segmentJourney(false, e.segment("buyers", `performed bought >= 2`), "", "")
		e.drain()
		e.event("shopper", "bought", "")
		e.drain()
		wantEnrolled(t, e.enrolled(j2), map[string]int{})
		e.event("shopper", "bought", "")
		e.drain()
		wantEnrolled(t, e.enrolled(j2), map[string]int{"shopper": 1})
	})
}

// With re-entry allowed, a customer who stops matching and starts again
// enters again; one who keeps matching does not.
func TestSegmentEntryReentry(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		j := e.segmentJourney(true, e.segment("pro", `plan = "pro"`), "", "")
		e.drain()
		e.patch("c", map[string]any{"plan": "pro"})
		e.drain()
		e.patch("c", map[string]any{"seats": 2})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"c": 1})
		e.patch("c", map[string]any{"plan": "free"})
		e.drain()
		e.patch("c", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"c": 2})
	})
}

// existing enrols the members at activation only; new those who start
// matching after; both, both.
func TestSegmentEntryModes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		seg := e.segment("pro", `plan = "pro"`)
		e.patch("old", map[string]any{"plan": "pro"})
		existing := e.segmentJourney(false, seg, "existing", "")
		newOnly := e.segmentJourney(false, seg, "new", "")
		both := e.segmentJourney(false, seg, "both", "")
		e.drain()
		e.patch("young", map[string]any{"plan": "pro"})
		e.drain()
		// A re-evaluation changes nothing either.
		e.clock.advance(2 * time.Hour)
		e.drain()
		wantEnrolled(t, e.enrolled(existing), map[string]int{"old": 1})
		wantEnrolled(t, e.enrolled(newOnly), map[string]int{"young": 1})
		wantEnrolled(t, e.enrolled(both), map[string]int{"old": 1, "young": 1})
	})
}

// A rule relative to now starts matching with no change to the customer:
// the periodic re-evaluation (hourly by default, or the entry's schedule)
// enrols them.
func TestSegmentEntryPeriodicScan(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.patch("soon", map[string]any{"renews_at": start.Add(10 * 24 * time.Hour).Format(time.RFC3339)})
		e.patch("later", map[string]any{"renews_at": start.Add(30 * 24 * time.Hour).Format(time.RFC3339)})
		seg := e.segment("renewing", `renews_at within next 7d`)
		hourly := e.segmentJourney(false, seg, "", "")
		daily := e.segmentJourney(false, seg, "", `,"schedule":"0 6 * * *"`)
		e.drain()
		e.clock.advance(4 * 24 * time.Hour) // 2026-03-06 09:00: "soon" renews within 7 days now
		e.drain()
		wantEnrolled(t, e.enrolled(hourly), map[string]int{"soon": 1})
		wantEnrolled(t, e.enrolled(daily), map[string]int{"soon": 1})

		// Still matching, they are not enrolled again.
		e.clock.advance(20 * time.Hour) // 2026-03-07 05:00
		e.drain()
		e.clock.advance(24 * time.Hour) // 2026-03-08 05:00: re-evaluated for the tick of the 7th, 06:00
		e.drain()
		wantEnrolled(t, e.enrolled(hourly), map[string]int{"soon": 1})
		wantEnrolled(t, e.enrolled(daily), map[string]int{"soon": 1})

		runs, err := e.st.EntryRuns(e.ctx, kalcifer.DefaultTenantID, daily)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v, %v", runs, err)
		}
		if r := runs[0]; r.Pass != store.PassNone || r.Scanned != 1 || r.Enrolled != 0 || r.TickAt == nil || !r.TickAt.Equal(time.Date(2026, 3, 7, 6, 0, 0, 0, time.UTC)) ||
			r.NextRunAt == nil || !r.NextRunAt.Equal(time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)) {
			t.Fatalf("run after the last re-evaluation: %+v next %v", r, r.NextRunAt)
		}
	})
}

// scheduledJourney is a journey that enrols on cron (re-entry allowed, so
// that every tick enrols everyone) and waits an hour.
func (e *env) scheduledJourney(cfg string) string {
	return e.journey(true, g([]string{`in:scheduled_entry:` + cfg, `w:wait:{"duration":"1h"}`}, []string{"in->w"}, ""))
}

// each is n instances for each of the customers.
func each(n int, customers []string) map[string]int {
	out := map[string]int{}
	for _, c := range customers {
		out[c] = n
	}
	return out
}

// A tick enrols every customer (or the segment) once, even with two
// runtimes working at once on one database, in batches of 10; ticks missed
// while nothing ran run once; past its end the schedule stops.
func TestScheduledEntryTicks(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.enrolBatch = 10
		e.rt = e.newRuntime()
		var customers, vips []string
		for i := range 120 {
			c := fmt.Sprintf("c%03d", i)
			customers = append(customers, c)
			if i%3 != 0 {
				vips = append(vips, c)
			}
			e.patch(c, map[string]any{"vip": i%3 != 0})
		}
		all := e.scheduledJourney(`{"cron":"0 8 * * *","timezone":"Europe/Paris","end_at":"2026-03-10T00:00:00Z"}`)
		vip := e.scheduledJourney(`{"cron":"0 8 * * *","timezone":"Europe/Paris","segment_id":"` + e.segment("vip", `vip = true`) + `"}`)
		e.drain() // 09:00 UTC = 10:00 in Paris: the first tick is tomorrow
		wantEnrolled(t, e.enrolled(all), map[string]int{})

		// 07:00 UTC = 08:00 in Paris, by two runtimes at once.
		e.clock.advance(22 * time.Hour)
		other := e.newRuntime()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, rt := range []*engine.Runtime{e.rt, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 100 {
					if _, err := rt.Enrol(e.ctx); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		e.drain()
		wantEnrolled(t, e.enrolled(all), each(1, customers))
		wantEnrolled(t, e.enrolled(vip), each(1, vips))

		// Down for three days and a half: one tick on restart, not three.
		e.clock.advance(3*24*time.Hour + 12*time.Hour)
		e.drain()
		wantEnrolled(t, e.enrolled(all), each(2, customers))
		e.clock.advance(12 * time.Hour) // the tick of 2026-03-07 08:00 Paris
		e.drain()
		wantEnrolled(t, e.enrolled(all), each(3, customers))

		runs, err := e.st.EntryRuns(e.ctx, kalcifer.DefaultTenantID, all)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v, %v", runs, err)
		}
		if r := runs[0]; r.Scanned != 120 || r.Enrolled != 120 || r.Total != 120 || r.TickAt == nil || !r.TickAt.Equal(time.Date(2026, 3, 7, 7, 0, 0, 0, time.UTC)) {
			t.Fatalf("run: %+v tick %v", r, r.TickAt)
		}

		// The ticks of the 8th and 9th run; the 10th is past the end.
		for range 5 {
			e.clock.advance(24 * time.Hour)
			e.drain()
		}
		wantEnrolled(t, e.enrolled(all), each(5, customers))
		if runs, _ := e.st.EntryRuns(e.ctx, kalcifer.DefaultTenantID, all); runs[0].NextRunAt != nil {
			t.Fatalf("a schedule past its end runs again at %v", runs[0].NextRunAt)
		}
		wantEnrolled(t, e.enrolled(vip), each(8, vips))
	})
}

// The entry loop keeps segments' stored members: a new segment is built by
// its full pass, changes update it at once, and a time-relative one is
// re-evaluated by a full pass every refresh interval (default 15 minutes),
// so a customer whose events grow old leaves it without any change.
func TestSegmentMembersKept(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.patch("a", map[string]any{"plan": "pro"})
		e.event("b", "bought", "")
		e.drain()
		recent := e.segment("recent buyers", `performed bought in 1h`)
		size := func(id string) *store.SegmentSize {
			t.Helper()
			s, err := e.st.SegmentSize(e.ctx, kalcifer.DefaultTenantID, id)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if s := size(recent); s.Status != store.SegmentBuilding || s.Count != 1 {
			t.Fatalf("before its pass: %+v, want building, counted live", s)
		}
		e.drain()
		if s := size(recent); s.Status != store.SegmentReady || s.Count != 1 {
			t.Fatalf("built: %+v, want ready with b", s)
		}
		e.event("a", "bought", "")
		e.drain()
		if s := size(recent); s.Count != 2 {
			t.Fatalf("after a's event: %+v, want 2", s)
		}
		e.clock.advance(50 * time.Minute)
		e.event("c", "bought", "")
		e.drain()
		if s := size(recent); s.Count != 3 {
			t.Fatalf("after c's event: %+v, want 3", s)
		}
		// An hour after a's and b's events, the refresh finds they aged out.
		e.clock.advance(20 * time.Minute)
		e.drain()
		if s := size(recent); s.Count != 1 {
			t.Fatalf("after the refresh: %+v, want 1 (c)", s)
		}
	})
}

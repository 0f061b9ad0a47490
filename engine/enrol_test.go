package engine_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
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
	for _, in := range e.instances(journeyID) {
		out[in.CustomerID]++
	}
	return out
}

func wantEnrolled(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("instances per customer: got %v, want %v", got, want)
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
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{})

		e.patch("free", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"free": 1})
		if in := e.only(j, "free"); in.Status != kalcifer.InstanceActive || e.trail(in) != "in=default w=waiting" {
			t.Fatalf("instance %s: %s", in.Status, e.trail(in))
		}

		e.patch("free", map[string]any{"seats": 3})
		e.patch("free", map[string]any{"plan": "free"})
		e.drain()
		e.patch("free", map[string]any{"plan": "pro"})
		e.drain()
		wantEnrolled(t, e.enrolled(j), map[string]int{"free": 1})

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

// A tick enrols every customer (or the segment) once, even with two
// runtimes working at once on one database; ticks missed while nothing ran
// run once; past its end the schedule stops.
func TestScheduledEntryTicks(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, c := range []string{"a", "b", "c"} {
			e.patch(c, map[string]any{"vip": c != "c"})
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
		for _, enrol := range []func() (int, error){func() (int, error) { return e.rt.Enrol(e.ctx) }, func() (int, error) { return other.Enrol(e.ctx) }} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if _, err := enrol(); err != nil {
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
		wantEnrolled(t, e.enrolled(all), map[string]int{"a": 1, "b": 1, "c": 1})
		wantEnrolled(t, e.enrolled(vip), map[string]int{"a": 1, "b": 1})

		// Down for three days and a half: one tick on restart, not three.
		e.clock.advance(3*24*time.Hour + 12*time.Hour)
		e.drain()
		wantEnrolled(t, e.enrolled(all), map[string]int{"a": 2, "b": 2, "c": 2})
		e.clock.advance(12 * time.Hour) // the tick of 2026-03-07 08:00 Paris
		e.drain()
		wantEnrolled(t, e.enrolled(all), map[string]int{"a": 3, "b": 3, "c": 3})

		runs, err := e.st.EntryRuns(e.ctx, kalcifer.DefaultTenantID, all)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v, %v", runs, err)
		}
		if r := runs[0]; r.Scanned != 3 || r.Enrolled != 3 || r.Total != 3 || r.TickAt == nil || !r.TickAt.Equal(time.Date(2026, 3, 7, 7, 0, 0, 0, time.UTC)) {
			t.Fatalf("run: %+v tick %v", r, r.TickAt)
		}

		// The ticks of the 8th and 9th run; the 10th is past the end.
		for range 5 {
			e.clock.advance(24 * time.Hour)
			e.drain()
		}
		wantEnrolled(t, e.enrolled(all), map[string]int{"a": 5, "b": 5, "c": 5})
		if runs, _ := e.st.EntryRuns(e.ctx, kalcifer.DefaultTenantID, all); runs[0].NextRunAt != nil {
			t.Fatalf("a schedule past its end runs again at %v", runs[0].NextRunAt)
		}
		if n := e.enrolled(vip)["a"]; n != 8 {
			t.Fatalf("the schedule without an end enrolled a %d times, want 8", n)
		}
	})
}

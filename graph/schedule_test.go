package graph

import (
	"testing"
	"time"
)

// A schedule's ticks follow its zone's clocks across daylight saving time:
// 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer. Past its
// end there is no tick.
func TestScheduledEntryNextRun(t *testing.T) {
	paris, end := "Europe/Paris", "2026-11-01T00:00:00Z"
	c := ScheduledEntryConfig{Cron: "0 9 * * *", Timezone: &paris, EndAt: &end}
	for _, tc := range []struct{ after, want string }{
		{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"}, // the night clocks go forward
		{"2026-03-27T07:59:00Z", "2026-03-27T08:00:00Z"},
		{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"}, // the night clocks go back
		{"2026-10-31T09:00:00Z", ""},                     // past the end
	} {
		after, _ := time.Parse(time.RFC3339, tc.after)
		got, err := c.NextRun(after)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("after %s: a tick at %s past the end", tc.after, got)
		case tc.want != "" && (got == nil || got.Format(time.RFC3339) != tc.want):
			t.Errorf("after %s: got %v, want %s", tc.after, got, tc.want)
		}
	}
	// A segment entry re-evaluates hourly by default, in UTC; one of
	// existing members runs once.
	seg := SegmentEntryConfig{SegmentID: "s"}
	if got, _ := seg.NextRun(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)); got == nil || !got.Equal(time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("hourly: %v", got)
	}
	seg.Enrol = EnrolExisting
	if got, _ := seg.NextRun(time.Now()); got != nil {
		t.Errorf("existing members only: a re-evaluation at %v", got)
	}
}

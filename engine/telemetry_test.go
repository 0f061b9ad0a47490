package engine_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/metrics"
)

// Waits that fire late are observed with exactly how late they were: the
// clock stands still past the due time, and the lag is that distance.
func TestTimerLagObserved(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		m := metrics.New(slog.New(slog.DiscardHandler))
		e.rt = engine.New(engine.Config{Store: e.st, Clock: e.clock, Metrics: m})
		t.Cleanup(e.rt.Stop)
		e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `w:wait:{"duration":"1h"}`},
			[]string{"in->w"}, ""))
		e.event("a", "go", "")
		e.event("b", "go", "")
		e.drain()
		e.clock.advance(time.Hour + 90*time.Second) // 90 s late
		e.drain()
		families, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, f := range families {
			switch f.GetName() {
			case "kalcifer_timer_lag_seconds":
				seen++
				h := f.GetMetric()[0].GetHistogram()
				if h.GetSampleCount() != 2 || h.GetSampleSum() != 180 {
					t.Errorf("timer lag: %d samples summing %v s, want 2 of 90 s", h.GetSampleCount(), h.GetSampleSum())
				}
			case "kalcifer_events_ingested_total":
				seen++
				if v := f.GetMetric()[0].GetCounter().GetValue(); v != 2 {
					t.Errorf("events ingested = %v, want 2", v)
				}
			}
		}
		if seen != 2 {
			t.Fatalf("found %d of the timer lag and ingestion metrics", seen)
		}
	})
}

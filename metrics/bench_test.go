package metrics_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/metrics"
	"github.com/kalcifer/kalcifer/store"
)

// BenchmarkCommitted is the observer's cost per engine transaction of a
// J1-like step: one instance with three steps, and one settled send.
func BenchmarkCommitted(b *testing.B) {
	m := metrics.New(slog.New(slog.DiscardHandler))
	w := &store.Written{Instances: []store.SavedInstance{{Status: kalcifer.InstanceActive, From: kalcifer.InstanceActive,
		Steps: []kalcifer.Step{{Type: "event_entry", Result: "ok"}, {Type: "call_webhook", Result: "waiting"}, {Type: "wait", Result: "waiting"}}}},
		Sends: []kalcifer.Send{{Channel: "webhook", Status: kalcifer.SendSent}}}
	for b.Loop() {
		m.Committed(w)
	}
}

// BenchmarkRequest is the cost of observing one HTTP request.
func BenchmarkRequest(b *testing.B) {
	m := metrics.New(slog.New(slog.DiscardHandler))
	for b.Loop() {
		m.Request("POST", "/api/v1/events", 202, time.Millisecond)
	}
}

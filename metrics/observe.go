package metrics

import (
	"context"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// InTx does nothing: counters in memory need not commit with the engine's
// writes, and counting a transaction that then rolls back would be wrong.
func (m *Metrics) InTx(*store.EngineTx, *store.Written) error { return nil }

// Committed counts what a committed engine transaction wrote: steps by
// node type, instance transitions, and sends settled by channel and status.
func (m *Metrics) Committed(w *store.Written) {
	for _, in := range w.Instances {
		// A transition is counted when the status before is known: the
		// instance started here, or the transaction read it first.
		switch {
		case in.Created:
			m.instances.WithLabelValues("started").Inc()
			if in.Status != kalcifer.InstanceActive {
				m.instances.WithLabelValues(string(in.Status)).Inc()
			}
		case in.From != "" && in.Status != in.From:
			m.instances.WithLabelValues(string(in.Status)).Inc()
		}
		for _, s := range in.Steps {
			m.steps.WithLabelValues(s.Type, resultClass(s.Result)).Inc()
		}
	}
	for _, s := range w.Sends {
		m.sends.WithLabelValues(s.Channel, string(s.Status)).Inc()
	}
}

// resultClass bounds a step's result: the named results, and "ok" for a
// branch taken (branch names are the journey's own, such as A/B variants).
func resultClass(result string) string {
	switch result {
	case "waiting", "ended", "exited", "failed":
		return result
	}
	return "ok"
}

// Backend wraps b so that every transaction's duration is observed. The
// store sees b unchanged otherwise.
func (m *Metrics) Backend(b store.Backend) store.Backend {
	if m == nil {
		return b
	}
	return timedBackend{b, m}
}

type timedBackend struct {
	store.Backend
	m *Metrics
}

func (t timedBackend) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	start := time.Now()
	err := t.Backend.WithTx(ctx, fn)
	t.m.Transaction(time.Since(start))
	return err
}

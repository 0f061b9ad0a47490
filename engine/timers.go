package engine

import (
	"context"
	"errors"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// FireTimers wakes one batch of paths whose wait fell due (a wait, a
// wait_until, or a wait_for_event's timeout), in one transaction. A timer
// fires late after downtime, never not at all. It returns how many fired.
func (rt *Runtime) FireTimers(ctx context.Context) (int, error) {
	n := 0
	var lags []time.Duration
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		n, lags = 0, lags[:0]
		due, err := t.DueWaits(rt.cfg.TimerBatch)
		if err != nil {
			return err
		}
		for _, w := range due {
			if w.Wait.DueAt != nil {
				lags = append(lags, t.Now().Sub(*w.Wait.DueAt))
			}
			if w.Wait.Kind == kalcifer.WaitSend {
				continue // sends have no timers; a due send wait would be a bug
			}
			err := rt.wake(ctx, t, w.InstanceID, Wake{Kind: WakeTimer, PathID: w.PathID})
			if err != nil && !errors.Is(err, errStale) {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		for _, lag := range lags {
			rt.metrics.TimerFired(lag)
		}
	}
	return n, err
}

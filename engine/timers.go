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
		if err := loadTimerBatch(t, due); err != nil {
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

// loadTimerBatch reads the instances of due waits and their customers in
// one query each (and one per further tenant), so that waking them works
// from the transaction's working set (store/workset.go).
func loadTimerBatch(t *store.EngineTx, due []store.WaitRef) error {
	ids := make([]string, len(due))
	for i, w := range due {
		ids[i] = w.InstanceID
	}
	if err := t.LoadInstances(ids); err != nil {
		return err
	}
	var tenants []string
	customers := map[string][]string{}
	for _, id := range ids {
		in, err := t.Instance(id)
		if err != nil {
			continue // gone: its wake reports it
		}
		if _, ok := customers[in.TenantID]; !ok {
			tenants = append(tenants, in.TenantID)
		}
		customers[in.TenantID] = append(customers[in.TenantID], in.CustomerID)
	}
	for _, tenant := range tenants {
		if err := t.LoadCustomers(tenant, customers[tenant]); err != nil {
			return err
		}
	}
	return nil
}

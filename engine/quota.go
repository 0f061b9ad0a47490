package engine

import (
	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// quotas holds, for one batch of events, each tenant's active-instance
// quota and how many of its instances have not ended: read once per batch
// and tenant (only when an event of the tenant matches an entry), then
// counted up as the batch starts instances. Instances that end within the
// batch are not counted down, so the count errs on the side of the quota.
//
// On PostgreSQL the event lanes route in parallel, each with its own count,
// so a tenant's lanes together may start up to (lanes-1) batches' worth of
// entries past the quota in the same moment; the next batches see the
// true count.
type quotas map[string]*quota

type quota struct{ limit, used int }

// admit decides whether en may start a customer on e. Past the tenant's
// active-instance quota it may not: the entry is counted (GET /limits shows
// the day's skipped entries) and logged, never silently dropped. A
// customer who is in the journey already and may not re-enter would not be
// started anyway, so is not counted as skipped.
func (rt *Runtime) admit(t *store.EngineTx, q quotas, e *kalcifer.Event, en entry) (bool, error) {
	qt, ok := q[e.TenantID]
	if !ok {
		limit, used, err := t.ActiveInstanceQuota(e.TenantID)
		if err != nil {
			return false, err
		}
		qt = &quota{limit: limit, used: used}
		q[e.TenantID] = qt
	}
	if qt.limit == 0 || qt.used < qt.limit {
		return true, nil
	}
	if !en.allowReentry {
		in, err := t.InJourney(e.TenantID, en.journeyID, e.CustomerID)
		if err != nil || in {
			return in, err // start finds the customer in the journey and does nothing
		}
	}
	if err := t.CountSkippedEntry(e.TenantID); err != nil {
		return false, err
	}
	rt.log.Warn("entry skipped: the tenant's active-instance quota is reached",
		"tenant_id", e.TenantID, "journey_id", en.journeyID, "customer_id", e.CustomerID, "event_id", e.ID,
		"quota", qt.limit, "active_instances", qt.used)
	return false, nil
}

// started counts an instance the batch started.
func (q quotas) started(tenantID string) {
	if qt := q[tenantID]; qt != nil {
		qt.used++
	}
}

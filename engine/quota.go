package engine

import (
	"slices"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// quotas holds, for one batch of events, the active-instance quota of each
// tenant with events in it and how many of the tenant's instances have not
// ended: read at the start of the batch (taking each limited tenant's lock,
// in id order, so that parallel lanes of PostgreSQL count one at a time and
// never in a cycle), then counted up as the batch starts instances.
// Instances that end within the batch are not counted down, so the count
// errs on the side of the quota.
type quotas map[string]*quota

type quota struct{ limit, used int }

// batchQuotas reads the quotas of the tenants of events.
func batchQuotas(t *store.EngineTx, events []kalcifer.Event) (quotas, error) {
	q := quotas{}
	var tenants []string
	for _, e := range events {
		if _, ok := q[e.TenantID]; !ok {
			q[e.TenantID] = nil
			tenants = append(tenants, e.TenantID)
		}
	}
	slices.Sort(tenants)
	for _, id := range tenants {
		limit, used, err := t.ActiveInstanceQuota(id)
		if err != nil {
			return nil, err
		}
		q[id] = &quota{limit: limit, used: used}
	}
	return q, nil
}

// admit decides whether en may start a customer on e. Past the tenant's
// active-instance quota it may not: the entry is counted (GET /limits shows
// the day's skipped entries) and logged, never silently dropped. A
// customer who is in the journey already and may not re-enter would not be
// started anyway, so is not counted as skipped.
func (rt *Runtime) admit(t *store.EngineTx, q quotas, e *kalcifer.Event, en entry) (bool, error) {
	qt := q[e.TenantID]
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

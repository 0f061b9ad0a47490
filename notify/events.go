package notify

import (
	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Observer turns what engine transactions write into webhook events, written
// to the outbox inside the transaction (store.Observer). It looks at a
// transaction only for tenants with an active subscription that wants the
// event, so a tenant without one costs a map lookup per instance.
type Observer struct {
	st *store.Store
	// wake is told, after a commit that wrote deliveries, that there is
	// work (non-blocking); nil when nobody listens.
	wake chan struct{}
}

var _ store.Observer = (*Observer)(nil)

// NewObserver returns an observer over st; register it with st.Observe.
// When d is not nil, it is woken after each commit that queued deliveries.
func NewObserver(st *store.Store, d *Deliverer) *Observer {
	o := &Observer{st: st}
	if d != nil {
		o.wake = d.wake
	}
	return o
}

// InTx writes the webhook events of w to the outbox.
func (o *Observer) InTx(t *store.EngineTx, w *store.Written) error {
	events := o.Events(w)
	if len(events) == 0 {
		return nil
	}
	return t.EnqueueHooks(events)
}

// Committed wakes the delivery loop when the transaction queued anything.
func (o *Observer) Committed(w *store.Written) {
	if o.wake == nil || len(o.Events(w)) == 0 {
		return
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Events are the webhook events of what one transaction wrote, for the
// subscriptions that want them.
func (o *Observer) Events(w *store.Written) []kalcifer.HookEvent {
	var out []kalcifer.HookEvent
	add := func(typ, tenant, journey string, e kalcifer.HookEvent) {
		if o.st.HookWanted(tenant, typ, journey) {
			e.Type, e.TenantID, e.JourneyID = typ, tenant, journey
			if e.Timestamp.IsZero() {
				e.Timestamp = w.At
			}
			out = append(out, e)
		}
	}
	for i := range w.Instances {
		in := &w.Instances[i]
		if !o.st.HasHooks(in.TenantID) {
			continue
		}
		base := kalcifer.HookEvent{InstanceID: in.ID, CustomerID: in.CustomerID}
		if in.Created {
			e := base
			if len(in.Steps) > 0 {
				e.NodeID, e.Timestamp = in.Steps[0].NodeID, in.Steps[0].At
			}
			e.Data = map[string]any{"version": in.Version}
			add(kalcifer.HookCustomerEntered, in.TenantID, in.JourneyID, e)
		}
		for _, st := range in.Steps {
			if st.Type == graph.TypeGoalReached && st.Result != "failed" {
				e := base
				e.NodeID, e.Timestamp = st.NodeID, st.At
				e.Data = map[string]any{"version": st.Version, "detail": st.Detail}
				add(kalcifer.HookCustomerGoalReached, in.TenantID, in.JourneyID, e)
			}
		}
		if in.Status == in.From {
			continue
		}
		e := base
		if n := len(in.Steps); n > 0 {
			e.NodeID, e.Timestamp = in.Steps[n-1].NodeID, in.Steps[n-1].At
		}
		e.Data = map[string]any{"version": in.Version, "status": string(in.Status), "reason": in.Reason}
		switch in.Status {
		case kalcifer.InstanceCompleted, kalcifer.InstanceExited:
			add(kalcifer.HookCustomerExited, in.TenantID, in.JourneyID, e)
		case kalcifer.InstanceFailed:
			add(kalcifer.HookInstanceFailed, in.TenantID, in.JourneyID, e)
		}
	}
	for _, s := range w.Sends {
		if s.Status == kalcifer.SendFailed && o.st.HasHooks(s.TenantID) {
			add(kalcifer.HookMessageFailed, s.TenantID, s.JourneyID, sendEvent(s, map[string]any{
				"status": string(s.Status), "detail": s.Detail, "attempts": s.Attempts}))
		}
	}
	for _, d := range w.Deliveries {
		if (d.Delivery == "bounced" || d.Delivery == "failed") && o.st.HasHooks(d.Send.TenantID) {
			e := sendEvent(d.Send, map[string]any{"status": string(d.Send.Status), "delivery": d.Delivery})
			e.Timestamp = d.At
			add(kalcifer.HookMessageFailed, d.Send.TenantID, d.Send.JourneyID, e)
		}
	}
	return out
}

// sendEvent is the event of a send, with data beside its channel and key.
func sendEvent(s kalcifer.Send, data map[string]any) kalcifer.HookEvent {
	data["channel"], data["send_key"], data["node_type"], data["version"] = s.Channel, s.Key, s.NodeType, s.Version
	return kalcifer.HookEvent{InstanceID: s.InstanceID, CustomerID: s.CustomerID, NodeID: s.NodeID, Data: data}
}

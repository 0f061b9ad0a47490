package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Reserved event types: entries made through the API rather than by a
// customer's behaviour. User event types may not start with "$".
const (
	EventTrigger = "$trigger" // POST /journeys/:id/trigger
	EventWebhook = "$webhook" // POST /webhooks/:journey_id
)

// Ingest stores events durably and returns once they are committed; the
// event loop routes them afterwards. Concurrent callers share transactions
// (group commit). dup[i] tells that event i repeated a client ID already
// stored, whose event ID was put in events[i].ID.
func (rt *Runtime) Ingest(ctx context.Context, events []*kalcifer.Event) (dup []bool, err error) {
	for _, e := range events {
		if e.TenantID == "" || e.CustomerID == "" || e.Type == "" {
			return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "an event needs a customer_id and an event_type")
		}
	}
	dup, err = rt.ingest.submit(ctx, events)
	if err != nil {
		rt.metrics.EventsIngested("failed", len(events))
		return nil, err
	}
	dups := 0
	for _, d := range dup {
		if d {
			dups++
		}
	}
	rt.metrics.EventsIngested("stored", len(events)-dups)
	rt.metrics.EventsIngested("duplicate", dups)
	return dup, nil
}

// ProcessEvents routes one batch of stored events: to the waits of the
// customer's instances, the exit criteria of its journeys, and the entries
// of active journeys. It returns how many events it routed.
func (rt *Runtime) ProcessEvents(ctx context.Context) (int, error) {
	return rt.processLane(ctx, 0, 1)
}

// processLane routes one batch of the events of one lane of lanes (see
// store.EngineTx.UnprocessedEventsOfLane). A batch routed with an entry
// index older than the journeys is rolled back and routed again with a
// fresh one.
func (rt *Runtime) processLane(ctx context.Context, lane, lanes int) (int, error) {
	for {
		idx, err := rt.entryIndex(ctx)
		if err != nil {
			return 0, err
		}
		n, err := rt.routeBatch(ctx, idx, lane, lanes)
		if !errors.Is(err, errStaleIndex) || ctx.Err() != nil {
			return n, err
		}
		rt.entriesDirty.Store(true)
	}
}

// routeBatch routes one batch of a lane's events in one transaction, with
// the entry index idx. If the journeys changed since idx was read, the
// batch is rolled back (errStaleIndex): an event that matched no entry of a
// stale index (a trigger of a journey just activated) would otherwise be
// marked processed and lost, and one that started a customer may have
// started them on a version a migration has passed by.
func (rt *Runtime) routeBatch(ctx context.Context, idx *entryIndex, lane, lanes int) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		// Across replicas, one worker at a time owns a lane.
		if ok, err := t.TryLockLane(lane); err != nil || !ok {
			return err
		}
		events, err := t.UnprocessedEventsOfLane(rt.cfg.EventBatch, lane, lanes)
		if err != nil || len(events) == 0 {
			return err
		}
		q, err := batchQuotas(t, events)
		if err != nil {
			return err
		}
		if err := loadEventBatch(t, events); err != nil {
			return err
		}
		for i := range events {
			if err := rt.route(ctx, t, idx, q, &events[i]); err != nil {
				return fmt.Errorf("route event %s: %w", events[i].ID, err)
			}
			if err := t.MarkEventProcessed(events[i].ID); err != nil {
				return err
			}
		}
		if err := noteEventCustomers(t, events); err != nil {
			return err
		}
		// Read after the events: a journey activated before an event that
		// names it was stored shows here.
		tag, err := t.JourneysChanged()
		if err != nil {
			return err
		}
		if tag != idx.tag {
			return errStaleIndex
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// loadEventBatch reads what routing the events needs, in a few queries for
// the whole batch: their customers, and the waits (with their instances)
// of those customers for the batch's event types. Routing then works from
// the transaction's working set (store/workset.go).
func loadEventBatch(t *store.EngineTx, events []kalcifer.Event) error {
	type batch struct{ customers, waiting, types []string }
	var tenants []string
	byTenant := map[string]*batch{}
	for _, e := range events {
		b := byTenant[e.TenantID]
		if b == nil {
			b = &batch{}
			byTenant[e.TenantID] = b
			tenants = append(tenants, e.TenantID)
		}
		b.customers = append(b.customers, e.CustomerID)
		if !strings.HasPrefix(e.Type, "$") {
			b.waiting = append(b.waiting, e.CustomerID)
			if !slices.Contains(b.types, e.Type) {
				b.types = append(b.types, e.Type)
			}
		}
	}
	for _, tenant := range tenants {
		b := byTenant[tenant]
		if err := t.LoadCustomers(tenant, b.customers); err != nil {
			return err
		}
		if len(b.waiting) > 0 {
			if err := t.LoadEventWaits(tenant, b.waiting, b.types); err != nil {
				return err
			}
		}
	}
	return nil
}

// noteEventCustomers queues the customers of events (their own, not the
// API's enrolments), by tenant and event type, for the stored members of
// segments and for segment entries: a "performed" clause may match them
// now. The store queues only those some segment of the tenant can depend
// on.
func noteEventCustomers(t *store.EngineTx, events []kalcifer.Event) error {
	type key struct{ tenant, typ string }
	var keys []key
	byKey := map[key][]string{}
	for _, e := range events {
		k := key{e.TenantID, e.Type}
		if strings.HasPrefix(e.Type, "$") || slices.Contains(byKey[k], e.CustomerID) {
			continue
		}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], e.CustomerID)
	}
	for _, k := range keys {
		if err := t.NoteChanged(k.tenant, k.typ, byKey[k]); err != nil {
			return err
		}
	}
	return nil
}

// errStaleIndex rolls back an event batch routed with an entry index older
// than the journeys.
var errStaleIndex = errors.New("journeys changed during the event batch")

// route delivers one event inside t; q counts the batch's instances
// against each tenant's active-instance quota.
func (rt *Runtime) route(ctx context.Context, t *store.EngineTx, idx *entryIndex, q quotas, e *kalcifer.Event) error {
	customer, err := t.Customer(e.TenantID, e.CustomerID)
	if err != nil {
		return err
	}
	ev := e
	if !strings.HasPrefix(e.Type, "$") {
		// A customer's own event (not an enrolment by the API) says when
		// they were last seen.
		if err := t.SeeCustomer(e.TenantID, customer, e.OccurredAt); err != nil {
			return err
		}
		// Exit criteria by event type come first: an unsubscribe must not
		// also move the customer on.
		if idx.exits[e.TenantID+"\x00"+e.Type] {
			if err := rt.exitOnEvent(ctx, t, e); err != nil {
				return err
			}
		}
		waits, err := t.EventWaits(e.TenantID, e.CustomerID, e.Type)
		if err != nil {
			return err
		}
		for _, w := range waits {
			if !WaitMatches(w.Wait, *e) {
				continue
			}
			err := rt.wake(ctx, t, w.InstanceID, Wake{Kind: WakeEvent, PathID: w.PathID, Event: ev})
			if err != nil && !errors.Is(err, errStale) {
				return err
			}
		}
	}
	for _, en := range idx.match(e) {
		ok, err := rt.admit(t, q, e, en)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		in, err := rt.start(ctx, t, e.TenantID, en.journeyID, en.version, en.allowReentry, en.nodeID, customer, ev)
		if err != nil {
			return err
		}
		if in != nil {
			q.started(e.TenantID)
		}
	}
	return nil
}

// exitOnEvent ends the customer's instances whose journey exits on e.
func (rt *Runtime) exitOnEvent(ctx context.Context, t *store.EngineTx, e *kalcifer.Event) error {
	active, err := t.ActiveInstances(e.TenantID, e.CustomerID)
	if err != nil {
		return err
	}
	for _, in := range active {
		p, err := rt.program(ctx, t, in.TenantID, in.JourneyID, in.Version)
		if err != nil {
			return err
		}
		if p.ExitEvent() == e.Type {
			if err := rt.exitInstance(t, in, "exit event "+e.Type); err != nil {
				return err
			}
		}
	}
	return nil
}

// exitInstance ends an instance at once, for exit criteria or by request.
func (rt *Runtime) exitInstance(t *store.EngineTx, in *kalcifer.Instance, reason string) error {
	state, err := decodeState(in)
	if err != nil {
		return err
	}
	state.Paths = nil
	in.Status, in.Reason, in.Nodes = kalcifer.InstanceExited, reason, []string{}
	var steps []kalcifer.Step
	steps = append(steps, kalcifer.Step{Version: in.Version, NodeID: "", Type: "exit", Result: "exited", Detail: reason, At: t.Now()})
	raw, err := encodeState(&state)
	if err != nil {
		return err
	}
	in.State = raw
	return t.SaveInstance(in, steps, nil)
}

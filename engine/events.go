package engine

import (
	"context"
	"errors"
	"fmt"
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
	return rt.ingest.submit(ctx, events)
}

// ProcessEvents routes one batch of stored events: to the waits of the
// customer's instances, the exit criteria of its journeys, and the entries
// of active journeys. It returns how many events it routed.
func (rt *Runtime) ProcessEvents(ctx context.Context) (int, error) {
	return rt.processLane(ctx, 0, 1)
}

// processLane routes one batch of the events of one lane of lanes (see
// store.EngineTx.UnprocessedEventsOfLane).
func (rt *Runtime) processLane(ctx context.Context, lane, lanes int) (int, error) {
	for try := 1; ; try++ {
		n, err := rt.routeBatch(ctx, lane, lanes, try < 3)
		if !errors.Is(err, errStaleIndex) {
			return n, err
		}
	}
}

// routeBatch routes one batch of a lane's events in one transaction. With
// checkIndex, a batch that started customers is rolled back (errStaleIndex)
// when the journeys changed since the entry index was read.
func (rt *Runtime) routeBatch(ctx context.Context, lane, lanes int, checkIndex bool) (int, error) {
	idx, err := rt.entryIndex(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	err = rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		// Across replicas, one worker at a time owns a lane.
		if ok, err := t.TryLockLane(lane); err != nil || !ok {
			return err
		}
		events, err := t.UnprocessedEventsOfLane(rt.cfg.EventBatch, lane, lanes)
		if err != nil {
			return err
		}
		entered := false
		for i := range events {
			matched, err := rt.route(ctx, t, idx, &events[i])
			if err != nil {
				return fmt.Errorf("route event %s: %w", events[i].ID, err)
			}
			entered = entered || matched
			if err := t.MarkEventProcessed(events[i].ID); err != nil {
				return err
			}
		}
		// A version published since the index was read must not gain
		// customers on the version before it (a migration may already
		// have passed them by): start over with a fresh index.
		if entered && checkIndex {
			tag, err := t.JourneysChanged()
			if err != nil {
				return err
			}
			if tag != idx.tag {
				return errStaleIndex
			}
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// errStaleIndex rolls back an event batch that started customers with an
// entry index older than the journeys.
var errStaleIndex = errors.New("journeys changed during the event batch")

// route delivers one event inside t. It reports whether the event matched
// an entry of the index.
func (rt *Runtime) route(ctx context.Context, t *store.EngineTx, idx *entryIndex, e *kalcifer.Event) (bool, error) {
	customer, err := t.Customer(e.TenantID, e.CustomerID)
	if err != nil {
		return false, err
	}
	ev := e
	if !strings.HasPrefix(e.Type, "$") {
		// Exit criteria by event type come first: an unsubscribe must not
		// also move the customer on.
		if idx.exits[e.TenantID+"\x00"+e.Type] {
			if err := rt.exitOnEvent(ctx, t, e); err != nil {
				return false, err
			}
		}
		waits, err := t.EventWaits(e.TenantID, e.CustomerID, e.Type)
		if err != nil {
			return false, err
		}
		for _, w := range waits {
			if !WaitMatches(w.Wait, *e) {
				continue
			}
			err := rt.wake(ctx, t, w.InstanceID, Wake{Kind: WakeEvent, PathID: w.PathID, Event: ev})
			if err != nil && !errors.Is(err, errStale) {
				return false, err
			}
		}
	}
	matches := idx.match(e)
	for _, en := range matches {
		if _, err := rt.start(ctx, t, e.TenantID, en.journeyID, en.version, en.allowReentry, en.nodeID, customer, ev); err != nil {
			return false, err
		}
	}
	return len(matches) > 0, nil
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
	raw, err := jsonMarshal(state)
	if err != nil {
		return err
	}
	in.State = raw
	return t.SaveInstance(in, steps, nil)
}

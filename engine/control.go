package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Trigger enrols customers in an active journey by hand: each becomes a
// stored "$trigger" event, routed like any other (so enrolment is as
// durable and idempotent as ingestion).
func (rt *Runtime) Trigger(ctx context.Context, tenantID, journeyID string, customerIDs []string) ([]*kalcifer.Event, error) {
	if _, err := rt.activeJourney(ctx, tenantID, journeyID); err != nil {
		return nil, err
	}
	events := make([]*kalcifer.Event, len(customerIDs))
	for i, id := range customerIDs {
		events[i] = &kalcifer.Event{TenantID: tenantID, CustomerID: id, Type: EventTrigger, JourneyID: journeyID, Data: json.RawMessage(`{}`)}
	}
	if _, err := rt.Ingest(ctx, events); err != nil {
		return nil, err
	}
	return events, nil
}

// Webhook enrols one customer through a journey's webhook_entry: the call
// becomes a stored "$webhook" event carrying the request's data.
func (rt *Runtime) Webhook(ctx context.Context, tenantID, journeyID, customerID string, data json.RawMessage) (*kalcifer.Event, error) {
	j, err := rt.activeJourney(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	v, err := rt.st.GetVersion(ctx, tenantID, journeyID, j.CurrentVersion)
	if err != nil {
		return nil, err
	}
	if !hasNodeType(&v.Graph, "webhook_entry") {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "journey %q has no webhook_entry node, so it takes no webhooks", journeyID)
	}
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	ev := &kalcifer.Event{TenantID: tenantID, CustomerID: customerID, Type: EventWebhook, JourneyID: journeyID, Data: data}
	if _, err := rt.Ingest(ctx, []*kalcifer.Event{ev}); err != nil {
		return nil, err
	}
	return ev, nil
}

// activeJourney returns the journey if it takes customers now.
func (rt *Runtime) activeJourney(ctx context.Context, tenantID, journeyID string) (*kalcifer.Journey, error) {
	j, err := rt.st.GetJourney(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	if j.Status != kalcifer.JourneyActive {
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "only an active journey takes customers; this one is " + string(j.Status),
			State: map[string]any{"status": string(j.Status)}}
	}
	return j, nil
}

func hasNodeType(g *graph.Graph, typ string) bool {
	for _, n := range g.Nodes {
		if n.Type == typ {
			return true
		}
	}
	return false
}

// PauseInstance holds an active instance: its timers and events wait until
// it is resumed (timers then fire late; events that arrived meanwhile are
// not replayed).
func (rt *Runtime) PauseInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	return rt.control(ctx, tenantID, id, func(t *store.EngineTx, in *kalcifer.Instance) error {
		if in.Status != kalcifer.InstanceActive {
			return conflict("pause", in)
		}
		in.Status = kalcifer.InstancePaused
		return rt.saveKeepingWaits(t, in, "paused")
	})
}

// ResumeInstance lets a paused instance go on.
func (rt *Runtime) ResumeInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	in, err := rt.control(ctx, tenantID, id, func(t *store.EngineTx, in *kalcifer.Instance) error {
		if in.Status != kalcifer.InstancePaused {
			return conflict("resume", in)
		}
		in.Status = kalcifer.InstanceActive
		if err := rt.saveKeepingWaits(t, in, "resumed"); err != nil {
			return err
		}
		return rt.replaySends(ctx, t, in)
	})
	if err == nil {
		rt.pokeAll()
	}
	return in, err
}

// replaySends resumes the paths of a just-resumed instance whose sends
// finished while it was paused: their outcome could not move them then.
func (rt *Runtime) replaySends(ctx context.Context, t *store.EngineTx, in *kalcifer.Instance) error {
	state, err := decodeState(in)
	if err != nil {
		return err
	}
	woke := false
	for _, p := range state.Paths {
		if p.Wait == nil || p.Wait.Kind != kalcifer.WaitSend {
			continue
		}
		status, err := t.SendStatus(p.Wait.SendKey)
		if err != nil {
			return err
		}
		outcome, done := sendOutcomes[status]
		if !done {
			continue // still on its way; its outcome will wake the path
		}
		err = rt.wake(ctx, t, in.ID, Wake{Kind: WakeSend, PathID: p.ID, Send: outcome, SendKey: p.Wait.SendKey})
		if err != nil && !errors.Is(err, errStale) {
			return err
		}
		woke = woke || err == nil
	}
	if woke { // the caller answers with the instance as it is now
		fresh, err := t.Instance(in.ID)
		if err != nil {
			return err
		}
		*in = *fresh
	}
	return nil
}

// replaySendsOf is replaySends for an instance written earlier in t (a
// migration's restore or release), read again first.
func (rt *Runtime) replaySendsOf(ctx context.Context, t *store.EngineTx, id string) error {
	in, err := t.Instance(id)
	if err != nil {
		return err
	}
	return rt.replaySends(ctx, t, in)
}

// ExitInstance ends an instance now; sends not yet delivered are not sent.
func (rt *Runtime) ExitInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	return rt.control(ctx, tenantID, id, func(t *store.EngineTx, in *kalcifer.Instance) error {
		if in.Status.Ended() {
			return conflict("exit", in)
		}
		return rt.exitInstance(t, in, "exited by request")
	})
}

func (rt *Runtime) control(ctx context.Context, tenantID, id string, fn func(*store.EngineTx, *kalcifer.Instance) error) (*kalcifer.Instance, error) {
	if _, err := rt.st.GetInstance(ctx, tenantID, id); err != nil { // tenant check
		return nil, err
	}
	var out *kalcifer.Instance
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		in, err := t.Instance(id)
		if err != nil {
			return err
		}
		if err := fn(t, in); err != nil {
			return err
		}
		out = in
		return nil
	})
	if err == store.ErrConflict {
		return nil, kalcifer.Errorf(kalcifer.ECONFLICT, "instance %q changed meanwhile; try again", id)
	}
	return out, err
}

// saveKeepingWaits records a status change without touching the paths.
func (rt *Runtime) saveKeepingWaits(t *store.EngineTx, in *kalcifer.Instance, what string) error {
	state, err := decodeState(in)
	if err != nil {
		return err
	}
	waits := map[int]kalcifer.Wait{}
	for _, p := range state.Paths {
		if p.Wait != nil {
			waits[p.ID] = *p.Wait
		}
	}
	step := kalcifer.Step{Version: in.Version, Type: "control", Result: what, At: t.Now()}
	return t.SaveInstance(in, []kalcifer.Step{step}, waits)
}

func conflict(action string, in *kalcifer.Instance) error {
	return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("cannot %s an instance that is %s", action, in.Status),
		State: map[string]any{"status": string(in.Status)}}
}

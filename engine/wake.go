package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/logctx"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/store"
)

// start makes a new instance of a journey version for a customer and runs
// it from an entry node, inside t. It returns nil without starting when the
// customer is already in a journey that does not allow re-entry.
func (rt *Runtime) start(ctx context.Context, t *store.EngineTx, tenantID, journeyID string, version int,
	allowReentry bool, entry string, customer *kalcifer.Customer, ev *kalcifer.Event) (*kalcifer.Instance, error) {
	p, err := rt.program(ctx, t, tenantID, journeyID, version)
	if err != nil {
		return nil, err
	}
	in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: tenantID, JourneyID: journeyID, Version: version,
		CustomerID: customer.ID, Status: kalcifer.InstanceActive, State: json.RawMessage(`{"paths":[]}`)}
	ok, err := t.StartInstance(in, allowReentry)
	if err != nil || !ok {
		return nil, err
	}
	return in, rt.step(ctx, t, p, in, customer, State{}, Wake{Kind: WakeStart, Entry: entry, Event: ev})
}

// wake resumes one waiting path of an instance inside t. Taking the wait row
// decides races: a timer and an event for the same wait cannot both win.
// The instance is read (and on PostgreSQL locked) before its wait, the
// order every engine path follows. A paused instance keeps its wait: a
// send's outcome is replayed when it resumes (ResumeInstance); timers
// fire then; events meanwhile are not replayed.
func (rt *Runtime) wake(ctx context.Context, t *store.EngineTx, instanceID string, w Wake) error {
	in, err := t.Instance(instanceID)
	if err != nil {
		return err
	}
	if in.Status != kalcifer.InstanceActive {
		return errStale
	}
	state, err := decodeState(in)
	if err != nil {
		return err
	}
	// The wait row was found before the instance was locked: a live
	// migration may have changed the wait since.
	if !stillWaitsFor(state, w, t.Now()) {
		return errStale
	}
	taken, err := t.TakeWait(instanceID, w.PathID)
	if err != nil {
		return err
	}
	if !taken {
		return errStale
	}
	p, err := rt.program(ctx, t, in.TenantID, in.JourneyID, in.Version)
	if err != nil {
		return err
	}
	customer, err := t.Customer(in.TenantID, in.CustomerID)
	if err != nil {
		return err
	}
	return rt.step(ctx, t, p, in, customer, state, w)
}

// stillWaitsFor reports whether the woken path's wait, as the instance's
// state has it, is what w answers: an event its wait matches, a timer that
// is due. Send outcomes are matched by the send's key already.
func stillWaitsFor(state State, w Wake, now time.Time) bool {
	for _, p := range state.Paths {
		if p.ID != w.PathID || p.Wait == nil {
			continue
		}
		switch w.Kind {
		case WakeEvent:
			return w.Event != nil && WaitMatches(*p.Wait, *w.Event)
		case WakeTimer:
			return p.Wait.DueAt != nil && !p.Wait.DueAt.After(now)
		case WakeSend:
			return p.Wait.Kind == kalcifer.WaitSend && p.Wait.SendKey == w.SendKey
		}
		return true
	}
	return false
}

// step runs the program and writes everything it decided: state, history,
// waits, sends (with their delivery jobs) and profile changes.
func (rt *Runtime) step(ctx context.Context, t *store.EngineTx, p *Program, in *kalcifer.Instance, customer *kalcifer.Customer, state State, w Wake) error {
	// A database error, or the sandbox pool's own (not the code's), aborts
	// the transaction; it does not fail the instance.
	var abortErr error
	var runCode func(sandbox.Request) (sandbox.Result, error)
	if rt.cfg.Sandbox != nil {
		runCode = func(req sandbox.Request) (sandbox.Result, error) {
			res, err := rt.cfg.Sandbox.Run(req)
			if _, byCode := errors.AsType[*sandbox.CodeError](err); err != nil && !byCode && abortErr == nil {
				abortErr = fmt.Errorf("run custom code: %w", err) // the pool's failure, not the code's: try again later
			}
			return res, err
		}
	}
	out, err := p.Run(Input{
		Now: t.Now(), TenantID: in.TenantID, InstanceID: in.ID, Customer: customer, State: state, Wake: w,
		SentSince: func(ch string, since time.Time) int {
			n, err := t.CountSends(in.TenantID, in.CustomerID, ch, since)
			if err != nil && abortErr == nil {
				abortErr = err
			}
			return n
		},
		RunCode: runCode,
	})
	if errors.Is(err, ErrStaleWake) {
		return errStale
	}
	if err != nil {
		return err
	}
	if abortErr != nil {
		return abortErr
	}
	if err := rt.persist(ctx, t, p, in, customer, out); err != nil {
		return err
	}
	if out.Status == kalcifer.InstanceFailed {
		rt.log.WarnContext(logctx.Instance(ctx, in.TenantID, in.JourneyID, in.ID, in.CustomerID), "instance failed", "reason", out.Reason)
	}
	return nil
}

func (rt *Runtime) persist(ctx context.Context, t *store.EngineTx, p *Program, in *kalcifer.Instance, customer *kalcifer.Customer, out Output) error {
	raw, err := encodeState(&out.State)
	if err != nil {
		return err
	}
	in.State, in.Status, in.Reason = raw, out.Status, out.Reason
	in.Nodes = in.Nodes[:0]
	for _, path := range out.State.Paths {
		in.Nodes = append(in.Nodes, path.Node)
	}
	if err := t.SaveInstance(in, out.Steps, out.Waits); err != nil {
		return err
	}
	if err := t.ApplyProfile(in.TenantID, customer, out.Set, out.AddTags, out.RemoveTags); err != nil {
		return err
	}
	var capped []kalcifer.Send
	for _, s := range out.Sends {
		s.TenantID, s.CustomerID, s.Status = in.TenantID, in.CustomerID, kalcifer.SendPending
		over, err := rt.capped(t, p, &s)
		if err != nil {
			return err
		}
		if over {
			s.Status = kalcifer.SendCapped
		}
		inserted, err := t.InsertSend(&s)
		if err != nil {
			return err
		}
		if inserted && over {
			capped = append(capped, s)
		}
	}
	// A capped send never leaves: its path goes on at once, in this
	// transaction.
	for i := range capped {
		if err := rt.finishSend(ctx, t, &capped[i], kalcifer.SendCapped, "frequency cap reached"); err != nil {
			return err
		}
	}
	return nil
}

// capped checks the journey's frequency cap for the send's channel against
// the customer's sends across every journey of the tenant. The count and the
// new ledger row are in the same transaction, so the cap is also a
// reservation.
func (rt *Runtime) capped(t *store.EngineTx, p *Program, s *kalcifer.Send) (bool, error) {
	c, ok := p.caps[s.Channel]
	if !ok {
		return false, nil
	}
	n, err := t.CountSends(s.TenantID, s.CustomerID, s.Channel, t.Now().Add(-c.window))
	if err != nil {
		return false, err
	}
	return n >= c.max, nil
}

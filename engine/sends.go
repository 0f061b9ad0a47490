package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/store"
)

// The send ledger is also the outbox. DeliverSends claims a batch of pending
// rows in one commit (marking them "sending"), calls the providers
// concurrently, then records each outcome and resumes its path in one
// transaction. A row found still "sending" after its worker is gone may
// have reached the provider: it is marked ambiguous, never sent again.
//
// Claiming batches from our own table rather than one River job per send is
// deliberate: River's per-job overhead (~1,700 jobs/s on SQLite here) would
// cap journey starts, since most journeys send first.

// maxSendAttempts bounds retries of sends that certainly did not arrive.
const maxSendAttempts = 5

// DefaultSendLease is how long a claimed send may be in flight before a
// PostgreSQL replica assumes its worker died. It exceeds the longest
// provider timeout (the webhook provider's is 2 minutes).
const DefaultSendLease = 3 * time.Minute

// DeliverSends delivers one batch of due sends and returns how many it took.
// Providers are called concurrently; the outcomes are then recorded, and
// their paths resumed, in one transaction for the whole batch.
func (rt *Runtime) DeliverSends(ctx context.Context) (int, error) {
	var claimed []*kalcifer.Send
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		var err error
		claimed, err = t.ClaimSends(rt.cfg.SendBatch)
		return err
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	outcomes := make([]outcome, len(claimed))
	var wg sync.WaitGroup
	sem := make(chan struct{}, rt.cfg.SendConcurrency)
	for i, s := range claimed {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			outcomes[i] = rt.deliver(ctx, s)
		}()
	}
	wg.Wait()
	// Record the outcomes even if we are shutting down: the calls happened.
	ctx = context.WithoutCancel(ctx)
	err = rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		for i, s := range claimed {
			if err := rt.record(ctx, t, s, outcomes[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return len(claimed), nil
	}
	// One bad row must not hold the others back: record them one by one.
	rt.log.Warn("recording a batch of send outcomes failed; recording them one by one", "err", err)
	var errs []error
	for i, s := range claimed {
		// A conflict (the instance moved meanwhile) is worth a few tries:
		// a send left claimed would be settled as ambiguous after its lease.
		var err error
		for try := 0; try < 3; try++ {
			err = rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error { return rt.record(ctx, t, s, outcomes[i]) })
			if !errors.Is(err, store.ErrConflict) {
				break
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("send %s: %w", s.Key, err))
		}
	}
	return len(claimed), errors.Join(errs...)
}

// outcome is what a provider call came to. A positive retryAfter means the
// provider certainly did not act on the request.
type outcome struct {
	status     kalcifer.SendStatus
	detail     string
	retryAfter time.Duration
	settled    bool // settled elsewhere meanwhile: record nothing
}

// record writes a send's outcome: a retry, or its final status.
func (rt *Runtime) record(ctx context.Context, t *store.EngineTx, s *kalcifer.Send, o outcome) error {
	if o.settled {
		return nil
	}
	if o.retryAfter > 0 && s.Attempts < maxSendAttempts {
		return t.RetrySend(s.Key, o.detail, t.Now().Add(o.retryAfter))
	}
	return rt.finishSend(ctx, t, s, o.status, o.detail)
}

// deliver calls the provider and classifies the outcome.
func (rt *Runtime) deliver(ctx context.Context, s *kalcifer.Send) outcome {
	customer, err := rt.st.GetCustomer(ctx, s.TenantID, s.CustomerID)
	if err != nil {
		return outcome{kalcifer.SendFailed, "customer: " + err.Error(), 0, false}
	}
	in, err := rt.st.GetInstance(ctx, s.TenantID, s.InstanceID)
	if err != nil {
		return outcome{kalcifer.SendFailed, "instance: " + err.Error(), 0, false}
	}
	if in.Status.Ended() { // e.g. the customer unsubscribed meanwhile: never send after that
		return outcome{kalcifer.SendFailed, "not sent: the instance " + string(in.Status) + " first", 0, false}
	}
	m := channel.Message{
		Key: s.Key, TenantID: s.TenantID, JourneyID: s.JourneyID, Version: s.Version, InstanceID: s.InstanceID,
		NodeID: s.NodeID, NodeType: s.NodeType, Channel: s.Channel, Config: s.Config,
		Customer: customerMap(customer), Attempt: s.Attempts,
	}
	if state, err := decodeState(in); err == nil && state.Event != nil {
		m.Event = eventMap(state.Event)
	}
	p, err := rt.cfg.Providers.For(m)
	if err != nil {
		return outcome{kalcifer.SendFailed, err.Error(), 0, false}
	}
	// On PostgreSQL the send may have waited in this batch past its lease
	// and been settled as ambiguous by another replica: then it must not
	// leave. (SQLite settles only at start, having one process.)
	if rt.st.Kind() == "postgres" {
		if claimed, err := rt.st.StampSend(ctx, s.Key); err != nil {
			return outcome{kalcifer.SendFailed, err.Error(), time.Second, false}
		} else if !claimed {
			return outcome{settled: true}
		}
	}
	res, err := p.Send(ctx, m)
	result, after := channel.Classify(err)
	switch result {
	case channel.OutcomeSent:
		return outcome{kalcifer.SendSent, res.Detail, 0, false}
	case channel.OutcomeRetry:
		return outcome{kalcifer.SendFailed, err.Error(), max(after, time.Second), false}
	case channel.OutcomeFailed:
		return outcome{kalcifer.SendFailed, err.Error(), 0, false}
	}
	return outcome{kalcifer.SendAmbiguous, err.Error(), 0, false}
}

// RecoverSends settles sends whose worker is gone: on SQLite (one process)
// every send in flight at start; on PostgreSQL those older than the lease.
// Their outcome is unknown, so they are marked ambiguous and not repeated.
func (rt *Runtime) RecoverSends(ctx context.Context, atStart bool) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		before := t.Now().Add(-rt.cfg.SendLease)
		if atStart && rt.st.Kind() == "sqlite" {
			before = t.Now().Add(time.Second)
		}
		stale, err := t.ClaimedBefore(before, 1000)
		if err != nil {
			return err
		}
		for _, s := range stale {
			if err := rt.finishSend(ctx, t, s, kalcifer.SendAmbiguous, "interrupted in flight (crash or restart); not retried"); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}

// finishSend records a send's final status and resumes the path that waits
// for it, in the same transaction.
func (rt *Runtime) finishSend(ctx context.Context, t *store.EngineTx, s *kalcifer.Send, status kalcifer.SendStatus, detail string) error {
	ok, err := t.FinishSend(s.Key, status, detail)
	if err != nil || !ok {
		return err
	}
	err = rt.wake(ctx, t, s.InstanceID, Wake{Kind: WakeSend, PathID: s.PathID, Send: sendOutcomes[status], SendKey: s.Key})
	if errors.Is(err, errStale) {
		return nil // the instance exited or moved on meanwhile
	}
	if err != nil {
		return fmt.Errorf("resume after send %s: %w", s.Key, err)
	}
	return nil
}

// sendOutcomes maps the ledger's final statuses to what a waiting path sees.
var sendOutcomes = map[kalcifer.SendStatus]SendOutcome{kalcifer.SendSent: SendSent, kalcifer.SendFailed: SendFailed,
	kalcifer.SendAmbiguous: SendAmbiguous, kalcifer.SendCapped: SendCapped}

// customerMap is the profile as providers and templates see it.
func customerMap(c *kalcifer.Customer) map[string]any {
	m := make(map[string]any, len(c.Attributes)+2)
	for k, v := range c.Attributes {
		m[k] = v
	}
	m["id"], m["tags"] = c.ID, c.Tags
	return m
}

func eventMap(e *kalcifer.Event) map[string]any {
	m := map[string]any{"type": e.Type, "timestamp": e.OccurredAt}
	if len(e.Data) > 0 {
		var data map[string]any
		if jsonUnmarshal(e.Data, &data) == nil {
			m["data"] = data
		}
	}
	return m
}

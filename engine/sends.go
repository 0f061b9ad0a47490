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

// sendLease is how long a claimed send may be in flight before a
// PostgreSQL replica assumes its worker died. It exceeds the longest
// provider timeout.
const sendLease = 3 * time.Minute

// DeliverSends delivers one batch of due sends and returns how many it took.
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
	var wg sync.WaitGroup
	sem := make(chan struct{}, rt.cfg.SendConcurrency)
	errs := make(chan error, len(claimed))
	for _, s := range claimed {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := rt.deliverOne(ctx, s); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return len(claimed), errors.Join(collect(errs)...)
}

func collect(ch chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// deliverOne calls the provider for a claimed send and records the outcome.
func (rt *Runtime) deliverOne(ctx context.Context, s *kalcifer.Send) error {
	status, detail, retryAfter := rt.deliver(ctx, s)
	// Record the outcome even if we are shutting down: the call happened.
	ctx = context.WithoutCancel(ctx)
	return rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		if retryAfter > 0 && s.Attempts < maxSendAttempts {
			return t.RetrySend(s.Key, detail, t.Now().Add(retryAfter))
		}
		return rt.finishSend(ctx, t, s, status, detail)
	})
}

// deliver calls the provider and classifies the outcome. A positive
// retryAfter means the provider certainly did not act on the request.
func (rt *Runtime) deliver(ctx context.Context, s *kalcifer.Send) (status kalcifer.SendStatus, detail string, retryAfter time.Duration) {
	customer, err := rt.st.GetCustomer(ctx, s.TenantID, s.CustomerID)
	if err != nil {
		return kalcifer.SendFailed, "customer: " + err.Error(), 0
	}
	in, err := rt.st.GetInstance(ctx, s.TenantID, s.InstanceID)
	if err != nil {
		return kalcifer.SendFailed, "instance: " + err.Error(), 0
	}
	if in.Status.Ended() { // e.g. the customer unsubscribed meanwhile: never send after that
		return kalcifer.SendFailed, "not sent: the instance " + string(in.Status) + " first", 0
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
		return kalcifer.SendFailed, err.Error(), 0
	}
	res, err := p.Send(ctx, m)
	outcome, after := channel.Classify(err)
	switch outcome {
	case channel.OutcomeSent:
		return kalcifer.SendSent, res.Detail, 0
	case channel.OutcomeRetry:
		return kalcifer.SendFailed, err.Error(), max(after, time.Second)
	case channel.OutcomeFailed:
		return kalcifer.SendFailed, err.Error(), 0
	}
	return kalcifer.SendAmbiguous, err.Error(), 0
}

// RecoverSends settles sends whose worker is gone: on SQLite (one process)
// every send in flight at start; on PostgreSQL those older than the lease.
// Their outcome is unknown, so they are marked ambiguous and not repeated.
func (rt *Runtime) RecoverSends(ctx context.Context, atStart bool) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		before := t.Now().Add(-sendLease)
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
	outcome := map[kalcifer.SendStatus]SendOutcome{kalcifer.SendSent: SendSent, kalcifer.SendFailed: SendFailed,
		kalcifer.SendAmbiguous: SendAmbiguous, kalcifer.SendCapped: SendCapped}[status]
	err = rt.wake(ctx, t, s.InstanceID, Wake{Kind: WakeSend, PathID: s.PathID, Send: outcome})
	if errors.Is(err, errStale) {
		return nil // the instance exited or moved on meanwhile
	}
	if err != nil {
		return fmt.Errorf("resume after send %s: %w", s.Key, err)
	}
	return nil
}

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

package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/internal/logctx"
	"github.com/kalcifer/kalcifer/store"
)

// The send ledger is also the outbox. The sender takes pending sends only
// when a call slot is free for them, and marks them "sending" in the commit
// right before their calls begin: a crash can leave in flight at most as
// many sends as there are slots, and only sends whose call may have begun.
// Each outcome is recorded, and its path resumed, in the transaction that
// also takes the next sends, so a slot freed by a finished call is reused
// at once and one slow receiver never holds the others back.
//
// Claiming from our own table rather than one River job per send is
// deliberate: River's per-job overhead (~1,700 jobs/s on SQLite here) would
// cap journey starts, since most journeys send first.

// maxSendAttempts bounds the tries of a send: retries of calls that
// certainly did not arrive, and resends to receivers that drop repeats.
const maxSendAttempts = 5

// DefaultSendLease is how long a send may be in flight before any replica
// takes its worker for dead, even one that still looks alive. It exceeds
// the longest provider timeout (the webhook provider's is 2 minutes).
const DefaultSendLease = 3 * time.Minute

// sendDrain is how long Stop lets calls in flight finish before cancelling
// them.
const sendDrain = 5 * time.Second

// sendLinger is how long the send loop waits for more calls to finish
// after one did, so that one transaction records them all.
const sendLinger = 2 * time.Millisecond

// sender owns the call slots. Only the send loop (or DeliverSends) touches
// its counters.
type sender struct {
	inFlight int
	byTenant map[string]int
	byTarget map[string]int
	// done receives each finished call; it has room for every slot, so a
	// call never waits to report.
	done chan finished
	// calls is the context of provider calls: it outlives the loop's by
	// sendDrain at Stop, so calls in flight may finish.
	calls       context.Context
	cancelCalls context.CancelFunc
}

// finished is a call's outcome, waiting to be recorded.
type finished struct {
	call *call
	out  outcome
}

// outcome is what a provider call came to. A positive retryAfter asks for
// another attempt (the call certainly did not arrive, or its receiver drops
// repeats), within maxSendAttempts. trouble marks a call that did not get
// through (retry or ambiguous), which the circuit breaker counts.
type outcome struct {
	status     kalcifer.SendStatus
	detail     string
	retryAfter time.Duration
	trouble    bool
}

func newSender(concurrency int) *sender {
	calls, cancel := context.WithCancel(context.Background())
	return &sender{byTenant: map[string]int{}, byTarget: map[string]int{}, done: make(chan finished, concurrency),
		calls: calls, cancelCalls: cancel}
}

// sendLoop delivers sends until ctx ends, then lets the calls in flight
// finish (for up to sendDrain) and records them. With no call in flight it
// sleeps until a poke, its safety poll (which also settles sends stranded
// by dead replicas) or the next retry falls due.
func (rt *Runtime) sendLoop(ctx context.Context) {
	defer rt.stopped.Done()
	s := rt.send
	idle := rt.newIdlePoll()
	poll := time.NewTimer(idle.base)
	defer poll.Stop()
	var done []finished
	look := true    // whether due sends may be waiting
	settle := false // whether to read when the next send falls due
	busy := true    // whether the last wake-up found work or was a poke
	for {
		if len(done) > 0 || (look && rt.claimLimit() > 0) {
			before := s.inFlight - len(done)
			more, err := rt.sendCycle(ctx, done, look)
			if err != nil && ctx.Err() == nil {
				rt.log.Error("engine work failed", "err", err)
			}
			if len(done) > 0 {
				rt.pokeEvents() // resumed paths may have made work elsewhere
				rt.pokeTimers()
				// Retries fall due later: should this replica die first,
				// the others know when to look (the relay coalesces these).
				rt.tell(nudgeSends)
			}
			busy = busy || len(done) > 0 || s.inFlight > before
			done = done[:0]
			look = more
			settle = true
		}
		if settle && s.inFlight == 0 {
			// Going idle: sleep until the next poll or the next retry.
			poll.Reset(min(idle.next(busy), rt.untilNextSend(ctx)))
			settle, busy = false, false
		}
		select {
		case <-ctx.Done():
			rt.drainSends(done)
			return
		case f := <-s.done:
			done = append(done, f)
			// Group commit: calls that finish within a moment of each other
			// are recorded (and their slots refilled) by one transaction. A
			// slow call never holds the others back longer than this.
			linger := time.NewTimer(sendLinger)
			for waiting := true; waiting && len(done) < s.inFlight; {
				select {
				case f := <-s.done:
					done = append(done, f)
				case <-linger.C:
					waiting = false
				}
			}
			linger.Stop()
			look = true
		case <-rt.pokeSd:
			look, busy, settle = true, true, true
		case <-poll.C:
			look, settle = true, true
			if n, err := rt.RecoverSends(ctx); err != nil && ctx.Err() == nil {
				rt.log.Error("settling sends stranded in flight failed", "err", err)
			} else if n > 0 {
				busy = true
			}
			if s.inFlight > 0 {
				poll.Reset(idle.next(true)) // calls in flight: keep settling
			}
		}
	}
}

// drainSends waits for the calls in flight, cancelling them after
// sendDrain, and records their outcomes.
func (rt *Runtime) drainSends(done []finished) {
	s := rt.send
	ctx := context.Background()
	cancel := time.AfterFunc(sendDrain, s.cancelCalls)
	defer cancel.Stop()
	for s.inFlight > len(done) {
		done = append(done, <-s.done)
	}
	if _, err := rt.sendCycle(ctx, done, false); err != nil {
		rt.log.Error("recording the last send outcomes failed", "err", err)
	}
}

// DeliverSends delivers one batch of due sends, waits for their calls and
// records the outcomes; it returns how many it called. The send loop does
// the same continuously; tests and tools call this to step. It must not run
// beside a started Runtime's send loop.
func (rt *Runtime) DeliverSends(ctx context.Context) (int, error) {
	if _, err := rt.sendCycle(ctx, nil, true); err != nil {
		return 0, err
	}
	var done []finished
	for rt.send.inFlight > len(done) {
		done = append(done, <-rt.send.done)
	}
	_, err := rt.sendCycle(ctx, done, false)
	return len(done), err
}

// claimLimit is how many sends one cycle may take at most.
func (rt *Runtime) claimLimit() int {
	return min(rt.cfg.SendBatch, rt.cfg.SendConcurrency-rt.send.inFlight)
}

// sendCycle records the finished calls and, with claim, takes the sends
// that fit the free slots — in one transaction — then starts their calls.
// It reports whether more sends may be due at once (the batch was full, or
// sends were left for want of a slot of their tenant or target).
func (rt *Runtime) sendCycle(ctx context.Context, done []finished, claim bool) (more bool, err error) {
	s := rt.send
	for _, f := range done {
		s.release(f.call.send)
	}
	var calls []*call
	start := time.Now()
	defer func() {
		if n := len(done) + len(calls); n > 0 || err != nil {
			rt.observeBatch(ctx, "sends", start, n, err)
		}
	}()
	// Record even while shutting down: the calls happened.
	err = rt.st.WithEngineTx(context.WithoutCancel(ctx), func(t *store.EngineTx) error {
		if err := rt.recordAll(ctx, t, done); err != nil {
			return err
		}
		if !claim || ctx.Err() != nil {
			return nil
		}
		var err error
		calls, more, err = rt.claim(ctx, t)
		return err
	})
	if err != nil && len(done) > 0 {
		// One bad row must not hold the others back: record them one by
		// one, and take new sends next time.
		rt.log.Warn("recording a batch of send outcomes failed; recording them one by one", "err", err)
		return true, rt.recordEach(ctx, done)
	}
	if err != nil {
		return false, err
	}
	// The marks are committed: from here on, a crash leaves these sends in
	// doubt, so their calls begin at once.
	for _, c := range calls {
		s.take(c.send)
		go func() {
			defer c.cancel()
			start := time.Now()
			out := rt.call(c)
			rt.metrics.ProviderCalled(c.send.Channel, c.providerName(), out.label(), time.Since(start))
			if c.account != nil {
				rt.breakers.report(c.account, out.trouble, rt.clock.Now())
			}
			s.done <- finished{c, out}
		}()
	}
	return more, nil
}

// recordEach records outcomes one transaction each.
func (rt *Runtime) recordEach(ctx context.Context, done []finished) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, f := range done {
		// A conflict (the instance moved meanwhile) is worth a few tries:
		// a send left in flight would be settled as ambiguous.
		var err error
		for try := 0; try < 3; try++ {
			err = rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error { return rt.record(ctx, t, f.call.send, f.out) })
			if !errors.Is(err, store.ErrConflict) {
				break
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("send %s: %w", f.call.send.Key, err))
		}
	}
	return errors.Join(errs...)
}

// call is a send being called, with its provider and message.
type call struct {
	send     *kalcifer.Send
	provider channel.Provider
	account  *kalcifer.ProviderAccount // nil for a server provider
	msg      channel.Message
	ctx      context.Context
	cancel   context.CancelFunc
}

// claim takes, inside t, the due sends that fit the free slots (overall,
// per tenant and per target), settles those that cannot go, and marks the
// rest sending. more reports whether further sends may be due at once.
func (rt *Runtime) claim(ctx context.Context, t *store.EngineTx) (calls []*call, more bool, err error) {
	s := rt.send
	limit := rt.claimLimit()
	if limit <= 0 {
		return nil, false, nil
	}
	now := rt.clock.Now()
	due, err := t.DueSends(store.DueParams{Limit: limit, Hold: rt.breakers.held(now),
		SkipTenants: full(s.byTenant, rt.cfg.SendTenantConcurrency), SkipTargets: full(s.byTarget, rt.cfg.SendTargetConcurrency)})
	if err != nil {
		return nil, false, err
	}
	more = len(due) == limit
	tenants, targets := map[string]int{}, map[string]int{}
	memo := newClaimMemo()
	var sends []*kalcifer.Send
	for _, d := range due {
		sd := d.Send
		if s.byTenant[sd.TenantID]+tenants[sd.TenantID] >= rt.cfg.SendTenantConcurrency ||
			s.byTarget[sd.Target]+targets[sd.Target] >= rt.cfg.SendTargetConcurrency {
			more = true // stays pending; the next cycle skips the full tenant or target
			continue
		}
		c, end, err := rt.prepare(ctx, t, memo, d)
		if err != nil {
			return calls, false, err
		}
		if end != nil {
			if err := rt.finishSend(ctx, t, sd, end.status, end.detail); err != nil {
				return calls, false, err
			}
			continue
		}
		if c.account != nil {
			// An account whose breaker is open is not called: its sends
			// stay pending. Most are left out by DueSends (Hold); one
			// whose target names the account otherwise (renamed since)
			// waits here until the breaker may probe.
			if ok, until := rt.breakers.admit(c.account.ID, now); !ok {
				if until.IsZero() {
					continue // a probe is in flight; Hold leaves these out meanwhile
				}
				if err := t.DeferSend(sd.Key, fmt.Sprintf("waiting: provider account %q keeps failing, so it is not called until %s",
					c.account.Name, until.UTC().Format(time.RFC3339)), until); err != nil {
					return calls, false, err
				}
				continue
			}
		}
		tenants[sd.TenantID]++
		targets[sd.Target]++
		sends = append(sends, sd)
		c.msg.Attempt = sd.Attempts + 1 // as MarkSending counts it
		c.ctx, c.cancel = context.WithCancel(s.calls)
		calls = append(calls, c)
	}
	return calls, more, t.MarkSending(sends, rt.replica)
}

// full lists the keys whose calls in flight reached limit.
func full(inFlight map[string]int, limit int) []string {
	var out []string
	for k, n := range inFlight {
		if n >= limit {
			out = append(out, k)
		}
	}
	return out
}

func (s *sender) take(sd *kalcifer.Send) {
	s.inFlight++
	s.byTenant[sd.TenantID]++
	s.byTarget[sd.Target]++
}

func (s *sender) release(sd *kalcifer.Send) {
	s.inFlight--
	decrement(s.byTenant, sd.TenantID)
	decrement(s.byTarget, sd.Target)
}

func decrement(m map[string]int, key string) {
	if m[key]--; m[key] <= 0 {
		delete(m, key)
	}
}

// prepare builds a due send's message — its content rendered — and finds
// its provider, or says how the send ends without a call. An error is the
// store's.
func (rt *Runtime) prepare(ctx context.Context, t *store.EngineTx, memo *claimMemo, d store.DueSend) (*call, *settle, error) {
	sd := d.Send
	failed := func(reason string) (*call, *settle, error) { return nil, &settle{kalcifer.SendFailed, reason}, nil }
	switch {
	case d.InstanceStatus == "":
		return failed("not sent: the instance no longer exists")
	case d.InstanceStatus.Ended(): // e.g. the customer unsubscribed meanwhile: never send after that
		return failed("not sent: the instance " + string(d.InstanceStatus) + " first")
	case d.Customer == nil:
		return failed("not sent: the customer's profile no longer exists")
	}
	m := message(sd)
	m.Customer = customerMap(d.Customer)
	state, err := decodeState(&kalcifer.Instance{ID: sd.InstanceID, State: d.InstanceState})
	if err != nil {
		return failed("not sent: the instance's state cannot be read: " + err.Error())
	}
	if state.Event != nil {
		m.Event = eventMap(state.Event)
	}
	r, err := rt.render(ctx, t, memo, d, state, &m)
	if err != nil {
		return nil, nil, err
	}
	if r.templateID != "" {
		if err := t.SetSendTemplate(sd.Key, r.templateID, r.templateVersion); err != nil {
			return nil, nil, err
		}
	}
	if r.settle != nil {
		return nil, r.settle, nil
	}
	p, acct, err := rt.resolve(ctx, m, false)
	if o, _ := channel.Classify(err); err != nil && o == channel.OutcomeRetry {
		return nil, nil, err // the accounts could not be read: later
	}
	if err != nil {
		return failed(err.Error())
	}
	sd.Provider = providerName(p, acct)
	if err := rt.track(acct, &m); err != nil {
		return failed("not sent: " + err.Error())
	}
	return &call{send: sd, provider: p, account: acct, msg: m}, nil, nil
}

// track adds Kalcifer's own open and click tracking to an email's HTML
// when it goes through an account whose provider reports no opens (SMTP)
// and the server has a public URL for the pixel and links to reach.
func (rt *Runtime) track(acct *kalcifer.ProviderAccount, m *channel.Message) error {
	if rt.tracker == nil || acct == nil || m.Email == nil || m.Email.HTML == "" || !rt.cfg.Accounts.Tracked(acct.Type) {
		return nil
	}
	html, err := rt.tracker.Rewrite(m.Email.HTML, rt.cfg.PublicURL, m.TenantID, m.Key)
	if err != nil {
		return err
	}
	e := *m.Email
	e.HTML = html
	m.Email = &e
	return nil
}

// providerName names the provider a send goes through, as the ledger
// and the analytics record it: the tenant's account, else the server
// provider.
func providerName(p channel.Provider, acct *kalcifer.ProviderAccount) string {
	if acct != nil {
		return acct.Name
	}
	return p.Name()
}

// message is the provider's view of a send, without customer and event.
func message(s *kalcifer.Send) channel.Message {
	return channel.Message{Key: s.Key, TenantID: s.TenantID, JourneyID: s.JourneyID, Version: s.Version, InstanceID: s.InstanceID,
		NodeID: s.NodeID, NodeType: s.NodeType, Channel: s.Channel, Config: s.Config, Attempt: s.Attempts}
}

// call calls the provider and classifies the outcome.
func (rt *Runtime) call(c *call) outcome {
	res, err := c.provider.Send(c.ctx, c.msg)
	result, after := channel.Classify(err)
	switch result {
	case channel.OutcomeSent:
		if channel.IsDryRun(c.provider) {
			return outcome{status: kalcifer.SendLogged, detail: res.Detail}
		}
		return outcome{status: kalcifer.SendSent, detail: res.Detail}
	case channel.OutcomeRetry:
		if after <= 0 { // the provider named no delay: back off, with jitter
			after = channel.Backoff(c.msg.Attempt)
		}
		return outcome{status: kalcifer.SendFailed, detail: err.Error(), retryAfter: after, trouble: true}
	case channel.OutcomeFailed:
		return outcome{status: kalcifer.SendFailed, detail: err.Error()}
	}
	if channel.Deduplicates(c.provider, c.msg) {
		return outcome{status: kalcifer.SendAmbiguous, detail: err.Error() + " (the receiver drops repeats: sent again with the same key)",
			retryAfter: backoff(c.msg.Attempt), trouble: true}
	}
	return outcome{status: kalcifer.SendAmbiguous, detail: err.Error(), trouble: true}
}

// backoff is the delay before the next attempt of a resend: 1s, 2s, 4s…
// up to a minute.
func backoff(attempt int) time.Duration {
	return min(time.Second<<min(max(attempt-1, 0), 6), time.Minute)
}

// record writes a send's outcome: a retry, or its final status.
func (rt *Runtime) record(ctx context.Context, t *store.EngineTx, s *kalcifer.Send, o outcome) error {
	return rt.recordAll(ctx, t, []finished{{&call{send: s}, o}})
}

// recordAll writes a batch of outcomes set-wise: the ledger rows of the
// final ones are finished in one statement, the instances they resume and
// their customers read in one query each, and then each path resumes from
// memory. Retries stay a statement each (rare).
func (rt *Runtime) recordAll(ctx context.Context, t *store.EngineTx, done []finished) error {
	var final []store.Finish
	var ids []string
	for _, f := range done {
		s, o := f.call.send, f.out
		if o.retryAfter > 0 && s.Attempts < maxSendAttempts {
			if err := t.RetrySend(s.Key, o.detail, t.Now().Add(o.retryAfter)); err != nil {
				return err
			}
			continue
		}
		final = append(final, store.Finish{Send: s, Status: o.status, Detail: o.detail})
		ids = append(ids, s.InstanceID)
	}
	if len(final) == 0 {
		return nil
	}
	ok, err := t.FinishSends(final)
	if err != nil {
		return err
	}
	// After the ledger rows, as finishSend locks them: sends, then instances.
	var woken []string
	for i, id := range ids {
		if ok[i] {
			woken = append(woken, id)
		}
	}
	if len(woken) > 1 {
		if err := loadWoken(t, woken); err != nil {
			return err
		}
	}
	for i, f := range final {
		if ok[i] {
			if err := rt.resumeAfterSend(ctx, t, f.Send, f.Status, f.Detail); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadWoken reads the instances about to be woken, and the customers of
// the active ones, into t's working set: one query for the instances and
// one per tenant for the customers.
func loadWoken(t *store.EngineTx, ids []string) error {
	if err := t.LoadInstances(ids); err != nil {
		return err
	}
	customers := map[string][]string{}
	for _, id := range ids {
		if in, err := t.Instance(id); err == nil && in.Status == kalcifer.InstanceActive {
			customers[in.TenantID] = append(customers[in.TenantID], in.CustomerID)
		}
	}
	for tenant, list := range customers {
		if err := t.LoadCustomers(tenant, list); err != nil {
			return err
		}
	}
	return nil
}

// RecoverSends settles sends whose worker is gone: those of replicas that
// are no longer alive (noticed at once: store.Backend.Live), and those in
// flight longer than the lease. Their call may have begun, so they are
// ambiguous — unless their receiver drops repeats, and then they are sent
// again with the same key. It returns how many it settled.
func (rt *Runtime) RecoverSends(ctx context.Context) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		ids, err := t.InFlightReplicas(rt.replica)
		if err != nil {
			return err
		}
		var dead []int64
		for _, id := range ids {
			alive, err := t.ReplicaAlive(id)
			if err != nil {
				return err
			}
			if !alive {
				dead = append(dead, id)
			}
		}
		stranded, err := t.StrandedSends(dead, t.Now().Add(-rt.cfg.SendLease), 1000)
		if err != nil {
			return err
		}
		for _, s := range stranded {
			m := message(s)
			p, acct, err := rt.resolve(ctx, m, false)
			if err == nil {
				s.Provider = providerName(p, acct)
			}
			if err == nil && channel.Deduplicates(p, m) && s.Attempts < maxSendAttempts {
				err = t.RetrySend(s.Key, "interrupted in flight (crash or restart); sent again with the same key, as the receiver drops repeats", t.Now())
				if err != nil {
					return err
				}
				continue
			}
			if err := rt.finishSend(ctx, t, s, kalcifer.SendAmbiguous, "interrupted in flight (crash or restart): the receiver may have got it, so it is not sent again"); err != nil {
				return err
			}
		}
		n = len(stranded)
		return nil
	})
	return n, err
}

// finishSend records a send's final status and resumes the path that waits
// for it, in the same transaction.
func (rt *Runtime) finishSend(ctx context.Context, t *store.EngineTx, s *kalcifer.Send, status kalcifer.SendStatus, detail string) error {
	ok, err := t.FinishSend(s, status, detail)
	if err != nil || !ok {
		return err
	}
	return rt.resumeAfterSend(ctx, t, s, status, detail)
}

// resumeAfterSend resumes the path that waits for a finished send.
func (rt *Runtime) resumeAfterSend(ctx context.Context, t *store.EngineTx, s *kalcifer.Send, status kalcifer.SendStatus, detail string) error {
	if status == kalcifer.SendFailed || status == kalcifer.SendAmbiguous {
		rt.log.WarnContext(logctx.Send(ctx, s), "send failed", "send_key", s.Key, "node_id", s.NodeID, "channel", s.Channel,
			"status", status, "detail", detail)
	}
	err := rt.wake(ctx, t, s.InstanceID, Wake{Kind: WakeSend, PathID: s.PathID, Send: sendOutcomes[status], SendKey: s.Key, SendDetail: detail})
	if errors.Is(err, errStale) {
		return nil // the instance exited or moved on meanwhile
	}
	if err != nil {
		return fmt.Errorf("resume after send %s: %w", s.Key, err)
	}
	return nil
}

// sendOutcomes maps the ledger's final statuses to what a waiting path sees.
var sendOutcomes = map[kalcifer.SendStatus]SendOutcome{kalcifer.SendSent: SendSent, kalcifer.SendLogged: SendLogged,
	kalcifer.SendFailed: SendFailed, kalcifer.SendAmbiguous: SendAmbiguous, kalcifer.SendCapped: SendCapped,
	kalcifer.SendSkipped: SendSkipped}

// sendTarget names where a channel node's sends go, for the per-target
// limit on calls in flight: a webhook's host, else the provider the node
// names, else the channel's default provider.
func sendTarget(channelName string, config map[string]any) string {
	if raw, ok := config["url"].(string); ok {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return "host:" + u.Host
		}
	}
	if p, ok := config["provider"].(string); ok && p != "" {
		return "provider:" + p
	}
	return "channel:" + channelName
}

// newReplicaID names this process among the replicas sharing a database.
func newReplicaID() int64 { return int64(rand.Int32N(1<<31-2) + 1) }

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

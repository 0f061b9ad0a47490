package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// launchReplicas starts a webhook receiver and n servers on one PostgreSQL
// database, each on its own port, sharing the admin key and the data
// directory (so the key file). They start one after the other: the first
// migrates the database. stop ends them all.
func launchReplicas(ctx context.Context, binary, databaseURL string, n int) (*fleet, *receiver, func(), error) {
	if n > 1 && databaseURL == "" {
		return nil, nil, nil, errors.New("several replicas need PostgreSQL (--database-url or KALCIFER_DATABASE_URL): SQLite is one process's embedded store")
	}
	first, rcv, stopFirst, err := launch(ctx, binary, databaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	srvs := []*server{first}
	stop := func() {
		for _, s := range srvs[1:] {
			s.stop()
		}
		stopFirst()
	}
	for len(srvs) < n {
		r, err := first.replica(ctx)
		if err != nil {
			stop()
			return nil, nil, nil, fmt.Errorf("start replica %d: %w", len(srvs)+1, err)
		}
		srvs = append(srvs, r)
	}
	return &fleet{srvs: srvs, down: make([]atomic.Bool, n)}, rcv, stop, nil
}

// fleet spreads requests over replicas and steers around killed ones.
type fleet struct {
	srvs []*server
	down []atomic.Bool
}

// call sends request i to replica i mod n, or to the next one up when that
// one is down or the request fails on it (a replica may die under it).
func (f *fleet) call(i int, method, path string, body, out any) error {
	err := errors.New("every replica is down")
	for k := range f.srvs {
		r := (i + k) % len(f.srvs)
		if f.down[r].Load() {
			continue
		}
		if err = f.srvs[r].call(method, path, body, out); err == nil {
			return nil
		}
	}
	return err
}

// live returns a replica that is not down.
func (f *fleet) live() *server {
	for r, s := range f.srvs {
		if !f.down[r].Load() {
			return s
		}
	}
	return f.srvs[0]
}

// kill takes replica r out of the rotation and SIGKILLs it.
func (f *fleet) kill(r int) {
	f.down[r].Store(true)
	f.srvs[r].kill()
}

// peakRSS is the largest replica's high-water resident memory.
func (f *fleet) peakRSS() int64 {
	var m int64
	for _, s := range f.srvs {
		m = max(m, s.peakRSS())
	}
	return m
}

// ReplicaKillOptions chooses what the replica kill scenario runs on.
type ReplicaKillOptions struct {
	Binary      string // the kalcifer executable; default: this one
	DatabaseURL string // postgres://… (required)
	Replicas    int    // servers on the database (default 3)
	N           int    // customers (default 300)
	Clients     int    // concurrent HTTP clients (default 12)
	// Delay is the receiver's time per call: with one, every replica has
	// calls in flight when one is killed, for the others to take over.
	Delay time.Duration
	Out   io.Writer
}

// ReplicaKillResult is the audit of a run in which one of several replicas
// was SIGKILLed under load and never restarted.
type ReplicaKillResult struct {
	CrashResult
	Replicas int
	// KilledAt is how many customers had entered when the replica died.
	KilledAt int
	// OutOfOrder counts customers whose follow-up webhook came before their
	// welcome webhook, or before their email_opened event was sent.
	OutOfOrder int
	// Takeover is from the kill until the last of the dead replica's sends
	// in flight was settled by a survivor (0: it had none in flight).
	Takeover time.Duration
	Elapsed  time.Duration
}

// RunReplicaKill runs J1 on several replicas of one PostgreSQL database
// with each customer's two events (signed_up, then email_opened once the
// customer waits for it) sent to different replicas, SIGKILLs the last
// replica when half the customers have entered, goes on with the others,
// and audits: one completed journey per customer (so every accepted event
// was routed: the wait's timeout is an hour), each customer's webhooks in
// the order of their events, the ledger against the receiver.
func RunReplicaKill(ctx context.Context, o ReplicaKillOptions) (*ReplicaKillResult, error) {
	if o.Replicas <= 0 {
		o.Replicas = 3
	}
	if o.Replicas < 2 {
		return nil, errors.New("killing one replica needs at least 2")
	}
	if o.N <= 0 {
		o.N = 300
	}
	if o.Clients <= 0 {
		o.Clients = 12
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	began := time.Now()
	f, rcv, stop, err := launchReplicas(ctx, o.Binary, o.DatabaseURL, o.Replicas)
	if err != nil {
		return nil, err
	}
	defer stop()
	rcv.delay = o.Delay
	res := &ReplicaKillResult{CrashResult: CrashResult{Backend: backendOf(o.DatabaseURL), N: o.N, Kills: 1}, Replicas: o.Replicas}
	journeyID, err := createActive(f.srvs[0], "J1 replicas", j1(rcv.addr, "signed_up", time.Hour))
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(o.Out, "replicas: %d customers over %d replicas, SIGKILL of one at half way\n", o.N, o.Replicas)
	var entered atomic.Int64
	opened := make([]time.Time, o.N) // just before each email_opened was sent
	loadDone := make(chan error, 1)
	go func() {
		loadDone <- fanOut(o.N, o.Clients, func(i int) error {
			if err := f.postEvent(ctx, i, fmt.Sprintf("rk-s-%d", i), cid(i), "signed_up"); err != nil {
				return err
			}
			entered.Add(1)
			if err := f.waitAt(ctx, i+1, journeyID, cid(i), "wait"); err != nil {
				return err
			}
			opened[i] = time.Now()
			return f.postEvent(ctx, i+1, fmt.Sprintf("rk-o-%d", i), cid(i), "email_opened")
		})
	}()
	for entered.Load() < int64(o.N/2) {
		time.Sleep(time.Millisecond)
	}
	victim := o.Replicas - 1
	res.KilledAt = int(entered.Load())
	killed := time.Now()
	f.kill(victim)
	fmt.Fprintf(o.Out, "  replica %d killed at %d entered\n", victim+1, res.KilledAt)
	if err := <-loadDone; err != nil {
		return nil, err
	}

	// The sends in flight on the dead replica are settled by the others
	// once they see it gone, long before the lease: a minute is plenty.
	instances, err := waitEnded(f.live(), journeyID, o.N, time.Now().Add(time.Minute), &res.CrashResult)
	if err != nil {
		return nil, err
	}
	if err := audit(f.live(), rcv, instances, &res.CrashResult); err != nil {
		return nil, err
	}
	if !res.LastRecovered.IsZero() {
		res.Takeover = res.LastRecovered.Sub(killed)
	}
	welcome, followup := rcv.arrivals("/welcome/signed_up"), rcv.arrivals("/followup/signed_up")
	for i := range o.N {
		w, okW := welcome[cid(i)]
		u, okU := followup[cid(i)]
		if okU && (okW && !u.After(w) || u.Before(opened[i])) {
			res.OutOfOrder++
			res.Problems = append(res.Problems, fmt.Sprintf("%s: follow-up at %s, welcome at %s, email_opened sent at %s",
				cid(i), u.Format(time.StampMicro), w.Format(time.StampMicro), opened[i].Format(time.StampMicro)))
		}
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

// postEvent sends an event through replica i (or the next live one) until
// one accepts it: its client id makes a repeat of an event that did
// commit on a replica that then died a no-op.
func (f *fleet) postEvent(ctx context.Context, i int, id, customer, eventType string) error {
	ev := map[string]any{"id": id, "customer_id": customer, "event_type": eventType}
	for attempt := 0; ; attempt++ {
		err := f.call(i+attempt, "POST", "/api/v1/events", ev, nil)
		if err == nil {
			return nil
		}
		if attempt > 500 || ctx.Err() != nil {
			return fmt.Errorf("event %s never accepted: %w", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAt polls until customer's instance of journeyID is at node.
func (f *fleet) waitAt(ctx context.Context, i int, journeyID, customer, node string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var page struct {
			Data []any `json:"data"`
		}
		err := f.call(i, "GET", "/api/v1/journeys/"+journeyID+"/instances?customer_id="+customer+"&node_id="+node, nil, &page)
		if err == nil && len(page.Data) > 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s never reached %q (last error: %v)", customer, node, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Print writes the audit as a table.
func (r *ReplicaKillResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nReplica kill (J1 on %d replicas of one PostgreSQL, one SIGKILLed, never restarted), N = %d, machine: %s\n\n",
		r.Replicas, r.N, machine())
	takeover := "none in flight on it"
	if r.Recovered > 0 {
		takeover = fmt.Sprintf("%d sends, the last %s after the kill", r.Recovered, ms(r.Takeover))
	}
	rows := [][2]string{
		{"killed at (customers entered)", fmt.Sprintf("%d", r.KilledAt)},
		{"instances / completed", fmt.Sprintf("%d / %d", r.Instances, r.Completed)},
		{"ledger sent / ambiguous / failed / unsettled", fmt.Sprintf("%d / %d / %d / %d", r.Sent, r.Ambiguous, r.Failed, r.Pending)},
		{"dead replica's sends settled by the others", takeover},
		{"receiver requests / distinct keys", fmt.Sprintf("%d / %d", r.Deliveries, r.DistinctKeys)},
		{"ambiguous sends never called (lost)", fmt.Sprintf("%d", r.NeverCalled)},
		{"lost (accepted, no single completed journey)", fmt.Sprintf("%d", r.Lost)},
		{"duplicates (a key received twice)", fmt.Sprintf("%d", r.Duplicates)},
		{"customers with webhooks out of order", fmt.Sprintf("%d", r.OutOfOrder)},
		{"sent but not received / received not in ledger", fmt.Sprintf("%d / %d", r.SentNotReceived, r.ReceivedNotInLedger)},
		{"whole run", fmt.Sprintf("%.1f s", r.Elapsed.Seconds())},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-50s %s\n", row[0], row[1])
	}
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(w, "  … and %d more problems\n", len(r.Problems)-20)
			break
		}
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
}

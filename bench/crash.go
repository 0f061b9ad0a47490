package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// CrashOptions chooses what the crash audit runs on.
type CrashOptions struct {
	Binary      string        // the kalcifer executable; default: this one
	DatabaseURL string        // postgres://…; empty: SQLite in a temporary directory
	N           int           // customers (default 1000)
	Clients     int           // concurrent HTTP clients (default 16)
	Kills       int           // SIGKILLs spread over the load (default 3)
	Timeout     time.Duration // J1's wait_for_event timeout (default 2s)
	// Idempotent declares J1's webhooks idempotent ("the receiver drops
	// repeats of the Idempotency-Key"): sends in doubt are then sent again,
	// so none may stay ambiguous or be lost.
	Idempotent bool
	Out        io.Writer // progress lines
}

// CrashResult is the audit of a run interrupted by SIGKILLs: every event
// the API accepted must have become a completed journey, and every send
// in the ledger must match what the receiver saw.
type CrashResult struct {
	Backend    string
	N, Kills   int
	Idempotent bool
	ReadyAfter []time.Duration // restart → ready, per kill

	Instances, Completed     int
	Sent, Ambiguous, Failed  int // ledger rows by final status
	Pending                  int // ledger rows never settled
	Deliveries, DistinctKeys int // receiver: requests, and distinct idempotency keys
	Lost                     int // accepted customers without a completed journey
	Duplicates               int // idempotency keys that arrived more than once
	SentNotReceived          int // ledger says sent, receiver never saw it
	ReceivedNotInLedger      int // receiver saw a key the ledger does not have
	AmbiguousReceived        int // ambiguous rows the receiver did see (allowed)
	// NeverCalled counts ambiguous rows the receiver never saw: for the
	// customer these are lost, flagged or not. Only a send whose call was
	// under way when the server died may be ambiguous, and of those only
	// the ones whose request had not left in full were never called.
	NeverCalled int
	// Resent counts keys the receiver got more than once from idempotent
	// webhooks: sends in doubt sent again, which the receiver drops.
	Resent int
	// Recovered counts sends settled because their worker died in their
	// call (RecoverSends); LastRecovered is when the last of them was.
	Recovered     int
	LastRecovered time.Time
	Problems      []string
}

// OK reports whether the audit found nothing lost and nothing doubled.
// With idempotent webhooks, no send may be left ambiguous either.
func (r *CrashResult) OK() bool {
	ok := r.Lost == 0 && r.Duplicates == 0 && r.SentNotReceived == 0 && r.ReceivedNotInLedger == 0 && r.Pending == 0 &&
		r.NeverCalled == 0
	return ok && (!r.Idempotent || r.Ambiguous == 0)
}

// RunCrash loads J1 with N customers through POST /events while killing
// the server with SIGKILL Kills times and restarting it on the same data,
// then audits the send ledger against what the receiver got.
func RunCrash(ctx context.Context, o CrashOptions) (*CrashResult, error) {
	if o.N <= 0 {
		o.N = 1000
	}
	if o.Clients <= 0 {
		o.Clients = 16
	}
	if o.Kills <= 0 {
		o.Kills = 3
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, rcv, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &CrashResult{Backend: backendOf(o.DatabaseURL), N: o.N, Kills: o.Kills, Idempotent: o.Idempotent}
	graph := j1(rcv.addr, "signed_up", o.Timeout)
	if o.Idempotent {
		idempotentHooks(graph)
	}
	journeyID, err := createActive(srv, "J1 crash", graph)
	if err != nil {
		return nil, err
	}

	// Clients retry every event until it is accepted; the client event id
	// makes a retry of an event that did commit a no-op.
	fmt.Fprintf(o.Out, "crash: %d customers through POST /events, %d SIGKILLs on the way\n", o.N, o.Kills)
	var accepted atomic.Int64
	loadDone := make(chan error, 1)
	go func() {
		loadDone <- fanOut(o.N, o.Clients, func(i int) error {
			ev := map[string]any{"id": fmt.Sprintf("crash-%d", i), "customer_id": cid(i), "event_type": "signed_up"}
			for attempt := 0; ; attempt++ {
				err := srv.call("POST", "/api/v1/events", ev, nil)
				if err == nil {
					accepted.Add(1)
					return nil
				}
				if attempt > 2000 || ctx.Err() != nil {
					return fmt.Errorf("event %d never accepted: %w", i, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}()
	for k := 1; k <= o.Kills; k++ {
		at := int64(o.N * k / (o.Kills + 1))
		for accepted.Load() < at {
			time.Sleep(time.Millisecond)
		}
		srv.kill()
		ready, err := srv.start(ctx)
		if err != nil {
			return nil, fmt.Errorf("restart after kill %d: %w", k, err)
		}
		res.ReadyAfter = append(res.ReadyAfter, ready)
		fmt.Fprintf(o.Out, "  kill %d at %d accepted; ready again in %s\n", k, at, ready.Round(time.Millisecond))
	}
	if err := <-loadDone; err != nil {
		return nil, err
	}

	fmt.Fprintf(o.Out, "crash: waiting for every journey to complete\n")
	instances, err := waitEnded(srv, journeyID, o.N, time.Now().Add(3*time.Minute+o.Timeout), res)
	if err != nil {
		return nil, err
	}
	return res, audit(srv, rcv, instances, res)
}

// waitEnded polls until the journey has n instances and none is active,
// or the deadline passes (a problem of res), and returns the instances.
func waitEnded(srv *server, journeyID string, n int, deadline time.Time, res *CrashResult) ([]instanceRow, error) {
	for {
		instances, err := listInstances(srv, journeyID)
		if err != nil {
			return nil, err
		}
		ended := 0
		for _, in := range instances {
			if in.Status != "active" {
				ended++
			}
		}
		if len(instances) >= n && ended == len(instances) {
			return instances, nil
		}
		if time.Now().After(deadline) {
			res.Problems = append(res.Problems, fmt.Sprintf("%d instances, %d ended, when the deadline passed", len(instances), ended))
			return instances, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type instanceRow struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Status     string `json:"status"`
}

func listInstances(srv *server, journeyID string) ([]instanceRow, error) {
	var all []instanceRow
	cursor := ""
	for {
		var page struct {
			Data       []instanceRow `json:"data"`
			NextCursor string        `json:"next_cursor"`
		}
		if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances?limit=500&cursor="+cursor, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

// interrupted begins the detail of a send that RecoverSends settled (or
// sent again) because its worker died during its call.
const interrupted = "interrupted in flight"

// audit compares each instance's ledger with the receiver.
func audit(srv *server, rcv *receiver, instances []instanceRow, res *CrashResult) error {
	keys := rcv.keyCounts()
	for _, n := range keys {
		res.Deliveries += n
		switch {
		case n > 1 && res.Idempotent:
			res.Resent++ // the receiver drops the repeat
		case n > 1:
			res.Duplicates++
		}
	}
	res.DistinctKeys = len(keys)
	res.Instances = len(instances)
	perCustomer := map[string]int{}
	ledger := map[string]bool{}
	for _, in := range instances {
		if in.Status == "completed" || in.Status == "exited" {
			res.Completed++
			perCustomer[in.CustomerID]++
		}
		var detail struct {
			Sends []struct {
				Key         string     `json:"key"`
				Status      string     `json:"status"`
				Detail      string     `json:"detail"`
				CompletedAt *time.Time `json:"completed_at"`
			} `json:"sends"`
		}
		if err := srv.call("GET", "/api/v1/instances/"+in.ID, nil, &detail); err != nil {
			return err
		}
		for _, s := range detail.Sends {
			ledger[s.Key] = true
			if strings.HasPrefix(s.Detail, interrupted) {
				res.Recovered++
				if s.CompletedAt != nil && s.CompletedAt.After(res.LastRecovered) {
					res.LastRecovered = *s.CompletedAt
				}
			}
			got := keys[s.Key]
			switch s.Status {
			case "sent":
				res.Sent++
				if got == 0 {
					res.SentNotReceived++
					res.Problems = append(res.Problems, "sent but never received: "+s.Key)
				}
			case "ambiguous":
				res.Ambiguous++
				if got > 0 {
					res.AmbiguousReceived++
				} else {
					res.NeverCalled++
					res.Problems = append(res.Problems, "ambiguous but never called (lost): "+s.Key)
				}
			case "failed":
				res.Failed++
			default:
				res.Pending++
				res.Problems = append(res.Problems, "send never settled: "+s.Key+" is "+s.Status)
			}
		}
	}
	for k := range keys {
		if !ledger[k] {
			res.ReceivedNotInLedger++
			res.Problems = append(res.Problems, "received without a ledger row: "+k)
		}
	}
	for i := 0; i < res.N; i++ {
		switch perCustomer[cid(i)] {
		case 1:
		case 0:
			res.Lost++
			res.Problems = append(res.Problems, "no completed journey for "+cid(i))
		default:
			res.Problems = append(res.Problems, fmt.Sprintf("%s completed the journey %d times", cid(i), perCustomer[cid(i)]))
			res.Lost++ // counted as a failure: one event must make one journey
		}
	}
	return nil
}

// Print writes the audit as a table.
func (r *CrashResult) Print(w io.Writer) {
	var ready []string
	for _, d := range r.ReadyAfter {
		ready = append(ready, ms(d))
	}
	webhooks := "webhooks not idempotent"
	if r.Idempotent {
		webhooks = "idempotent webhooks"
	}
	fmt.Fprintf(w, "\nCrash audit (J1 under SIGKILL), backend %s, N = %d, kills = %d, %s\n\n", r.Backend, r.N, r.Kills, webhooks)
	rows := [][2]string{
		{"restart → ready, per kill", strings.Join(ready, ", ")},
		{"instances / completed", fmt.Sprintf("%d / %d", r.Instances, r.Completed)},
		{"ledger sent / ambiguous / failed / unsettled", fmt.Sprintf("%d / %d / %d / %d", r.Sent, r.Ambiguous, r.Failed, r.Pending)},
		{"receiver requests / distinct keys", fmt.Sprintf("%d / %d", r.Deliveries, r.DistinctKeys)},
		{"ambiguous sends the receiver did get", fmt.Sprintf("%d", r.AmbiguousReceived)},
		{"ambiguous sends never called (lost)", fmt.Sprintf("%d", r.NeverCalled)},
		{"lost (accepted, no single completed journey)", fmt.Sprintf("%d", r.Lost)},
		{"duplicates (a key received twice)", fmt.Sprintf("%d", r.Duplicates)},
		{"resent to an idempotent receiver (dropped by it)", fmt.Sprintf("%d", r.Resent)},
		{"sent but not received", fmt.Sprintf("%d", r.SentNotReceived)},
		{"received but not in the ledger", fmt.Sprintf("%d", r.ReceivedNotInLedger)},
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

package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// SlowCrashOptions chooses what the slow-receiver crash runs on.
type SlowCrashOptions struct {
	Binary      string        // the kalcifer executable; default: this one
	DatabaseURL string        // postgres://…; empty: SQLite in a temporary directory
	N           int           // customers, enrolled in one batch (default 300)
	Delay       time.Duration // the receiver's time per call (default 3s)
	KillAfter   time.Duration // from the batch to the SIGKILL (default 4s)
	Idempotent  bool          // the webhook declares its receiver drops repeats
	Out         io.Writer     // progress lines
}

// RunSlowCrash kills the server while a slow receiver holds its calls: a
// journey event_entry → call_webhook → journey_exit, N events in one batch,
// SIGKILL after KillAfter, a restart on the same data. Only the calls under
// way at the kill may end ambiguous — the receiver got each of them — and
// every other send is delivered after the restart; with an idempotent
// webhook, the ones in doubt are sent again too.
func RunSlowCrash(ctx context.Context, o SlowCrashOptions) (*CrashResult, error) {
	if o.N <= 0 {
		o.N = 300
	}
	if o.Delay <= 0 {
		o.Delay = 3 * time.Second
	}
	if o.KillAfter <= 0 {
		o.KillAfter = 4 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, rcv, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	rcv.delay = o.Delay
	res := &CrashResult{Backend: backendOf(o.DatabaseURL), N: o.N, Kills: 1, Idempotent: o.Idempotent}
	graph := map[string]any{
		"nodes": []any{
			map[string]any{"id": "entry", "type": "event_entry", "config": map[string]any{"event_type": "signed_up"}},
			map[string]any{"id": "welcome", "type": "call_webhook", "config": map[string]any{"url": rcv.addr + "/welcome", "timeout": "1m"}},
			map[string]any{"id": "exit", "type": "journey_exit"},
		},
		"edges": []any{
			map[string]any{"id": "e1", "source": "entry", "target": "welcome"},
			map[string]any{"id": "e2", "source": "welcome", "target": "exit"},
		},
	}
	if o.Idempotent {
		idempotentHooks(graph)
	}
	journeyID, err := createActive(srv, "slow receiver crash", graph)
	if err != nil {
		return nil, err
	}
	events := make([]map[string]any, o.N)
	for i := range events {
		events[i] = map[string]any{"id": fmt.Sprintf("slow-%d", i), "customer_id": cid(i), "event_type": "signed_up"}
	}
	if err := srv.call("POST", "/api/v1/events/batch", map[string]any{"events": events}, nil); err != nil {
		return nil, fmt.Errorf("post the batch: %w", err)
	}
	fmt.Fprintf(o.Out, "crash-slow: %d events in one batch, a receiver taking %s per call, SIGKILL in %s\n", o.N, o.Delay, o.KillAfter)
	time.Sleep(o.KillAfter)
	fmt.Fprintf(o.Out, "  %d calls had arrived when the server was killed\n", rcv.arrived())
	srv.kill()
	ready, err := srv.start(ctx)
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	res.ReadyAfter = append(res.ReadyAfter, ready)

	fmt.Fprintf(o.Out, "crash-slow: waiting for every journey to end\n")
	instances, err := waitEnded(srv, journeyID, o.N, time.Now().Add(time.Duration(o.N/8+10)*o.Delay+time.Minute), res)
	if err != nil {
		return nil, err
	}
	return res, audit(srv, rcv, instances, res)
}

// idempotentHooks declares every call_webhook of graph idempotent.
func idempotentHooks(graph map[string]any) {
	for _, n := range graph["nodes"].([]any) {
		node := n.(map[string]any)
		if node["type"] == "call_webhook" {
			node["config"].(map[string]any)["idempotent"] = true
		}
	}
}

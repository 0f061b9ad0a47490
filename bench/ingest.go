package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// IngestOptions chooses what the ingestion scenarios run on.
type IngestOptions struct {
	Binary      string
	DatabaseURL string
	N           int // events per scenario (default 100,000)
	Clients     int // concurrent clients for single events (default 32)
	BatchSize   int // events per /events/batch request (default 500)
	Out         io.Writer
}

// IngestResult holds durable-ingestion figures: single events per request,
// and E-batch (BENCHMARKS.md), both against a journey the events do not
// match, so the figures are of ingestion itself.
type IngestResult struct {
	Backend               string
	N, Clients, BatchSize int
	SinglePerSec          float64
	SingleP50, SingleP99  time.Duration
	BatchPerSec           float64
	BatchP50, BatchP99    time.Duration
	// SingleRouted and BatchRouted: first event sent → every event routed.
	SingleRouted, BatchRouted time.Duration
	PeakRSS                   int64
}

// RunIngest measures POST /events and POST /events/batch.
func RunIngest(ctx context.Context, o IngestOptions) (*IngestResult, error) {
	if o.N <= 0 {
		o.N = 100_000
	}
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, rcv, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	if _, err := createActive(srv, "J1", j1(rcv.addr, "signed_up", time.Hour)); err != nil {
		return nil, err
	}
	res := &IngestResult{Backend: backendOf(o.DatabaseURL), N: o.N, Clients: o.Clients, BatchSize: o.BatchSize}

	fmt.Fprintf(o.Out, "ingest: %d single events, %d clients\n", o.N, o.Clients)
	lat := make([]time.Duration, o.N)
	start := time.Now()
	if err := fanOut(o.N, o.Clients, func(i int) error {
		t := time.Now()
		err := srv.call("POST", "/api/v1/events", map[string]any{"customer_id": cid(i), "event_type": "page_viewed",
			"data": map[string]any{"path": "/pricing"}}, nil)
		lat[i] = time.Since(t)
		return err
	}); err != nil {
		return nil, err
	}
	res.SinglePerSec = float64(o.N) / time.Since(start).Seconds()
	res.SingleP50, res.SingleP99 = pct(lat, 50), pct(lat, 99)
	// Let the engine route the backlog first, so that the batch figures
	// are not of two phases at once.
	if res.SingleRouted, err = waitRouted(srv, start); err != nil {
		return nil, err
	}

	requests := (o.N + o.BatchSize - 1) / o.BatchSize
	fmt.Fprintf(o.Out, "ingest: %d events in %d batches of %d, 4 clients\n", o.N, requests, o.BatchSize)
	blat := make([]time.Duration, requests)
	var mu sync.Mutex
	start = time.Now()
	if err := fanOut(requests, 4, func(r int) error {
		events := make([]map[string]any, 0, o.BatchSize)
		for i := r * o.BatchSize; i < min((r+1)*o.BatchSize, o.N); i++ {
			events = append(events, map[string]any{"customer_id": cid(i), "event_type": "page_viewed",
				"data": map[string]any{"path": "/docs"}})
		}
		t := time.Now()
		err := srv.call("POST", "/api/v1/events/batch", map[string]any{"events": events}, nil)
		mu.Lock()
		blat[r] = time.Since(t)
		mu.Unlock()
		return err
	}); err != nil {
		return nil, err
	}
	res.BatchPerSec = float64(o.N) / time.Since(start).Seconds()
	res.BatchP50, res.BatchP99 = pct(blat, 50), pct(blat, 99)
	if res.BatchRouted, err = waitRouted(srv, start); err != nil {
		return nil, err
	}
	res.PeakRSS = srv.peakRSS()
	return res, nil
}

// waitRouted waits until the engine has routed every stored event and
// returns the time since start.
func waitRouted(srv *server, start time.Time) (time.Duration, error) {
	for {
		var info struct {
			Counts struct {
				PendingEvents int `json:"pending_events"`
			} `json:"counts"`
		}
		if err := srv.call("GET", "/info", nil, &info); err != nil {
			return 0, err
		}
		if info.Counts.PendingEvents == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > time.Hour {
			return 0, fmt.Errorf("%d events still not routed after an hour", info.Counts.PendingEvents)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Print writes the figures as a table.
func (r *IngestResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nDurable ingestion, backend %s, N = %d, machine: %s\n\n", r.Backend, r.N, machine())
	rows := [][2]string{
		{fmt.Sprintf("POST /events events/s (%d clients)", r.Clients), fmt.Sprintf("%.0f", r.SinglePerSec)},
		{"POST /events latency p50 / p99", fmt.Sprintf("%s / %s", ms(r.SingleP50), ms(r.SingleP99))},
		{"  all routed (events/s end to end)", fmt.Sprintf("%.1f s (%.0f/s)", r.SingleRouted.Seconds(), float64(r.N)/r.SingleRouted.Seconds())},
		{fmt.Sprintf("E-batch events/s (%d per request, 4 clients)", r.BatchSize), fmt.Sprintf("%.0f", r.BatchPerSec)},
		{"E-batch request latency p50 / p99", fmt.Sprintf("%s / %s", ms(r.BatchP50), ms(r.BatchP99))},
		{"  all routed (events/s end to end)", fmt.Sprintf("%.1f s (%.0f/s)", r.BatchRouted.Seconds(), float64(r.N)/r.BatchRouted.Seconds())},
		{"peak server RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(r.PeakRSS)/(1<<20))},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-46s %s\n", row[0], row[1])
	}
}

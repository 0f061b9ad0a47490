package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// SendsOptions chooses what the sends scenario runs on.
type SendsOptions struct {
	Binary      string
	DatabaseURL string
	N           int // customers, one email each (default 20,000)
	BatchSize   int // events per /events/batch request (default 500)
	Out         io.Writer
}

// SendsResult holds the figures of the sends scenario.
type SendsResult struct {
	Backend string
	N       int
	// Posted: first event posted → last batch accepted.
	Posted time.Duration
	// Provider: first event posted → the fake provider's N-th request.
	Provider time.Duration
	// Settled: first event posted → no instance active any more (every
	// send's outcome recorded in the ledger and its path resumed).
	Settled time.Duration
	// Requests and DistinctKeys are what the fake provider received, over
	// Connections TCP connections.
	Requests, DistinctKeys, Connections int
	// Ledger counts the sends by final status, read through the API.
	Ledger  map[string]int
	PeakRSS int64
}

// OK reports whether every customer got exactly one email, recorded sent.
func (r *SendsResult) OK() bool {
	return r.Requests == r.N && r.DistinctKeys == r.N && r.Ledger["sent"] == r.N
}

// sendsJourney is the journey of the sends scenario: one email, its
// address and text rendered at send time.
func sendsJourney() map[string]any {
	return map[string]any{
		"nodes": []any{
			map[string]any{"id": "entry", "type": "event_entry", "config": map[string]any{"event_type": "ordered"}},
			map[string]any{"id": "mail", "type": "send_email", "config": map[string]any{
				"to": "{{ event.data.email }}", "subject": "Your order {{ event.data.order }}",
				"text": "Hello {{ customer.id }}, thank you for order {{ event.data.order }}."}},
			map[string]any{"id": "exit", "type": "journey_exit"},
		},
		"edges": []any{
			map[string]any{"id": "e1", "source": "entry", "target": "mail"},
			map[string]any{"id": "e2", "source": "mail", "target": "exit"},
		},
	}
}

// RunSends measures sends per second through a provider account, with the
// send ledger kept: N events through /events/batch, each starting a journey
// that sends one email through a local fake SendGrid.
func RunSends(ctx context.Context, o SendsOptions) (*SendsResult, error) {
	if o.N <= 0 {
		o.N = 20_000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	sg, err := newFakeSendGrid(o.N)
	if err != nil {
		return nil, err
	}
	defer sg.close()
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := srv.call("POST", "/api/v1/providers", map[string]any{"name": "bench-sendgrid", "type": "sendgrid",
		"channel": "email", "is_default": true, "config": map[string]any{"api_key": "SG.bench",
			"from": "shop@bench.example", "base_url": sg.addr}}, nil); err != nil {
		return nil, err
	}
	journeyID, err := createActive(srv, "Order confirmation", sendsJourney())
	if err != nil {
		return nil, err
	}
	res := &SendsResult{Backend: backendOf(o.DatabaseURL), N: o.N}

	requests := (o.N + o.BatchSize - 1) / o.BatchSize
	fmt.Fprintf(o.Out, "sends: %d events in %d batches of %d (4 clients), one email each through a local fake SendGrid\n",
		o.N, requests, o.BatchSize)
	start := time.Now()
	if err := fanOut(requests, 4, func(r int) error {
		events := make([]map[string]any, 0, o.BatchSize)
		for i := r * o.BatchSize; i < min((r+1)*o.BatchSize, o.N); i++ {
			events = append(events, map[string]any{"customer_id": cid(i), "event_type": "ordered",
				"data": map[string]any{"email": cid(i) + "@bench.example", "order": i}})
		}
		return srv.call("POST", "/api/v1/events/batch", map[string]any{"events": events}, nil)
	}); err != nil {
		return nil, err
	}
	res.Posted = time.Since(start)
	deadline := time.Now().Add(10 * time.Minute)
	if !sg.waitAll(deadline) {
		return nil, fmt.Errorf("the fake SendGrid got %d of %d emails in time", sg.requests(), o.N)
	}
	res.Provider = sg.lastAt().Sub(start)
	for {
		var page struct {
			Data []any `json:"data"`
		}
		if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances?status=active&limit=1", nil, &page); err != nil {
			return nil, err
		}
		if len(page.Data) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("instances still active after %s", time.Since(start).Round(time.Second))
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.Settled = time.Since(start)
	res.PeakRSS = srv.peakRSS()
	res.Requests, res.DistinctKeys, res.Connections = sg.requests(), sg.distinct(), sg.connections()

	fmt.Fprintf(o.Out, "sends: reading the ledger of every instance\n")
	if res.Ledger, err = ledger(srv, journeyID); err != nil {
		return nil, err
	}
	return res, nil
}

// ledger counts the journey's sends by status, from every instance's
// detail.
func ledger(srv *server, journeyID string) (map[string]int, error) {
	var ids []string
	for cursor := ""; ; {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances?limit=500&cursor="+cursor, nil, &page); err != nil {
			return nil, err
		}
		for _, in := range page.Data {
			ids = append(ids, in.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	var mu sync.Mutex
	counts := map[string]int{}
	err := fanOut(len(ids), 16, func(i int) error {
		var detail struct {
			Sends []struct {
				Status string `json:"status"`
			} `json:"sends"`
		}
		if err := srv.call("GET", "/api/v1/instances/"+ids[i], nil, &detail); err != nil {
			return err
		}
		mu.Lock()
		for _, s := range detail.Sends {
			counts[s.Status]++
		}
		mu.Unlock()
		return nil
	})
	return counts, err
}

// fakeSendGrid is a local server speaking SendGrid's Mail Send API
// (POST /v3/mail/send, answered 202 with X-Message-Id): it counts the
// requests and the distinct send keys (custom_args.kalcifer_key).
type fakeSendGrid struct {
	srv  *http.Server
	addr string
	want int

	mu    sync.Mutex
	conns int
	total int
	keys  map[string]int
	last  time.Time
	all   chan struct{} // closed at the want-th request
}

func newFakeSendGrid(want int) (*fakeSendGrid, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeSendGrid{addr: "http://" + l.Addr().String(), want: want, keys: map[string]int{}, all: make(chan struct{})}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}}
	go f.srv.Serve(l)
	return f, nil
}

func (f *fakeSendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Personalizations []struct {
			To []struct {
				Email string `json:"email"`
			} `json:"to"`
		} `json:"personalizations"`
		CustomArgs map[string]string `json:"custom_args"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
		http.NotFound(w, r)
		return
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil ||
		len(body.Personalizations) != 1 || len(body.Personalizations[0].To) != 1 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	key := body.CustomArgs["kalcifer_key"]
	f.mu.Lock()
	f.total++
	f.keys[key]++
	f.last = time.Now()
	if f.total == f.want {
		close(f.all)
	}
	f.mu.Unlock()
	w.Header().Set("X-Message-Id", "bench-"+key)
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeSendGrid) waitAll(deadline time.Time) bool {
	select {
	case <-f.all:
		return true
	case <-time.After(time.Until(deadline)):
		return false
	}
}

func (f *fakeSendGrid) requests() int { f.mu.Lock(); defer f.mu.Unlock(); return f.total }

func (f *fakeSendGrid) distinct() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.keys) }

func (f *fakeSendGrid) connections() int { f.mu.Lock(); defer f.mu.Unlock(); return f.conns }

func (f *fakeSendGrid) lastAt() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.last }

func (f *fakeSendGrid) close() { _ = f.srv.Close() }

// Print writes the figures as a table.
func (r *SendsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nSends (docs/BENCHMARKS.md), backend %s, N = %d, machine: %s\n\n", r.Backend, r.N, machine())
	rate := func(d time.Duration) string {
		return fmt.Sprintf("%.2f s (%.0f sends/s)", d.Seconds(), float64(r.N)/d.Seconds())
	}
	rows := [][2]string{
		{"events accepted (/events/batch)", rate(r.Posted)},
		{"first event → N-th provider request", rate(r.Provider)},
		{"first event → every outcome in the ledger", rate(r.Settled)},
		{"provider requests / distinct keys", fmt.Sprintf("%d / %d", r.Requests, r.DistinctKeys)},
		{"TCP connections the provider accepted", fmt.Sprintf("%d", r.Connections)},
		{"ledger sent / other", fmt.Sprintf("%d / %d", r.Ledger["sent"], r.other())},
		{"peak server RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(r.PeakRSS)/(1<<20))},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-44s %s\n", row[0], row[1])
	}
}

func (r *SendsResult) other() int {
	n := 0
	for status, c := range r.Ledger {
		if status != "sent" {
			n += c
		}
	}
	return n
}

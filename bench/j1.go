package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options chooses what the J1 scenarios run on.
type Options struct {
	Binary      string        // the kalcifer executable; default: this one
	DatabaseURL string        // postgres://…; empty: SQLite in a temporary directory
	N           int           // customers (default 2000)
	Clients     int           // concurrent HTTP clients (default 32)
	Timeout     time.Duration // S3's wait_for_event timeout (default 5s)
	// Replicas is how many servers share the database (PostgreSQL only;
	// default 1); the clients' requests are spread over them.
	Replicas int
	Out      io.Writer // progress lines
}

// Result holds the figures of one run.
type Result struct {
	Backend                               string
	N, Replicas                           int
	StartsPerSec, TimeToWaiting           float64
	FirstHookP50, FirstHookP99            time.Duration
	EventsPerSec, TimeToComplete, JPerSec float64
	TimerLagP50, TimerLagP99, TimerLagMax time.Duration
	PeakRSS                               int64
	StoreBytesPerJourney                  int64
	Duplicates                            int
}

// j1 is the peer journey of BENCHMARKS.md.
func j1(receiver, entryEvent string, timeout time.Duration) map[string]any {
	hook := func(id, path string) map[string]any {
		return map[string]any{"id": id, "type": "call_webhook", "config": map[string]any{"url": receiver + path}}
	}
	return map[string]any{
		"nodes": []any{
			map[string]any{"id": "entry", "type": "event_entry", "config": map[string]any{"event_type": entryEvent}},
			hook("welcome", "/welcome/"+entryEvent),
			map[string]any{"id": "wait", "type": "wait_for_event", "config": map[string]any{
				"event_type": "email_opened", "timeout": fmt.Sprintf("%ds", int(timeout.Seconds()))}},
			hook("followup", "/followup/"+entryEvent),
			map[string]any{"id": "exit", "type": "journey_exit"},
		},
		"edges": []any{
			map[string]any{"id": "e1", "source": "entry", "target": "welcome"},
			map[string]any{"id": "e2", "source": "welcome", "target": "wait"},
			map[string]any{"id": "e3", "source": "wait", "target": "followup", "branch": "event_received"},
			map[string]any{"id": "e4", "source": "wait", "target": "followup", "branch": "timed_out"},
			map[string]any{"id": "e5", "source": "followup", "target": "exit"},
		},
	}
}

// RunJ1 runs S1 (starts), S2 (events) and S3 (timers) and returns the figures.
func RunJ1(ctx context.Context, o Options) (*Result, error) {
	if o.N <= 0 {
		o.N = 2000
	}
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	f, rcv, stop, err := launchReplicas(ctx, o.Binary, o.DatabaseURL, o.Replicas)
	if err != nil {
		return nil, err
	}
	defer stop()
	srv := f.srvs[0]
	res := &Result{Backend: backendOf(o.DatabaseURL), N: o.N, Replicas: o.Replicas}

	// S1 and S2 share a journey whose timeout is long; S3 has its own.
	if _, err := createActive(srv, "J1", j1(rcv.addr, "signed_up", 30*24*time.Hour)); err != nil {
		return nil, err
	}
	if _, err := createActive(srv, "J1 timers", j1(rcv.addr, "signed_up_t", o.Timeout)); err != nil {
		return nil, err
	}

	fmt.Fprintf(o.Out, "S1: %d customers enter through POST /events (%d clients)\n", o.N, o.Clients)
	sent := make([]time.Time, o.N)
	start := time.Now()
	if err := fanOut(o.N, o.Clients, func(i int) error {
		sent[i] = time.Now()
		return f.call(i, "POST", "/api/v1/events", map[string]any{"customer_id": cid(i), "event_type": "signed_up"}, nil)
	}); err != nil {
		return nil, err
	}
	accepted := time.Since(start)
	if !rcv.waitFor("/welcome/signed_up", o.N, time.Now().Add(5*time.Minute)) {
		return nil, fmt.Errorf("S1: only %d of %d welcome webhooks arrived", rcv.count("/welcome/signed_up"), o.N)
	}
	// "Waiting" means past the welcome send: poll until every instance sits at the wait.
	if err := waitAtNode(srv, "wait", o.N, time.Now().Add(5*time.Minute)); err != nil {
		return nil, err
	}
	res.TimeToWaiting = time.Since(start).Seconds()
	res.StartsPerSec = float64(o.N) / accepted.Seconds()
	var lat []time.Duration
	for c, at := range rcv.arrivals("/welcome/signed_up") {
		var i int
		fmt.Sscanf(c, "c%d", &i)
		lat = append(lat, at.Sub(sent[i]))
	}
	res.FirstHookP50, res.FirstHookP99 = pct(lat, 50), pct(lat, 99)

	fmt.Fprintf(o.Out, "S2: email_opened for all %d waiting customers\n", o.N)
	start = time.Now()
	if err := fanOut(o.N, o.Clients, func(i int) error {
		return f.call(i, "POST", "/api/v1/events", map[string]any{"customer_id": cid(i), "event_type": "email_opened"}, nil)
	}); err != nil {
		return nil, err
	}
	res.EventsPerSec = float64(o.N) / time.Since(start).Seconds()
	if !rcv.waitFor("/followup/signed_up", o.N, time.Now().Add(5*time.Minute)) {
		return nil, fmt.Errorf("S2: only %d of %d follow-ups arrived", rcv.count("/followup/signed_up"), o.N)
	}
	res.TimeToComplete = time.Since(start).Seconds()
	res.JPerSec = float64(o.N) / res.TimeToComplete

	fmt.Fprintf(o.Out, "S3: %d customers wait %s with no event\n", o.N, o.Timeout)
	if err := fanOut(o.N, o.Clients, func(i int) error {
		return f.call(i, "POST", "/api/v1/events", map[string]any{"customer_id": cid(i), "event_type": "signed_up_t"}, nil)
	}); err != nil {
		return nil, err
	}
	if !rcv.waitFor("/followup/signed_up_t", o.N, time.Now().Add(5*time.Minute+o.Timeout)) {
		return nil, fmt.Errorf("S3: only %d of %d timed-out follow-ups arrived", rcv.count("/followup/signed_up_t"), o.N)
	}
	welcome := rcv.arrivals("/welcome/signed_up_t")
	var lags []time.Duration
	for c, at := range rcv.arrivals("/followup/signed_up_t") {
		// The timer is due T after the wait began, which is just after the
		// welcome webhook answered: lag is measured from that, so it
		// slightly overstates.
		lags = append(lags, at.Sub(welcome[c].Add(o.Timeout)))
	}
	res.TimerLagP50, res.TimerLagP99, res.TimerLagMax = pct(lags, 50), pct(lags, 99), pct(lags, 100)
	res.PeakRSS = f.peakRSS()
	if res.Backend == "sqlite" {
		res.StoreBytesPerJourney = srv.storeBytes() / int64(2*o.N)
	}
	res.Duplicates = rcv.duplicates()
	return res, nil
}

func backendOf(databaseURL string) string {
	if databaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func cid(i int) string { return fmt.Sprintf("c%d", i) }

func createActive(srv *server, name string, graph map[string]any) (string, error) {
	var j struct {
		ID string `json:"id"`
	}
	if err := srv.call("POST", "/api/v1/journeys", map[string]any{"name": name, "graph": graph}, &j); err != nil {
		return "", err
	}
	return j.ID, srv.call("POST", "/api/v1/journeys/"+j.ID+"/activate", nil, nil)
}

// waitAtNode polls the instances API until n instances are at node.
func waitAtNode(srv *server, node string, n int, deadline time.Time) error {
	for time.Now().Before(deadline) {
		var page struct {
			Data       []any  `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		total, cursor := 0, ""
		var journeys struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := srv.call("GET", "/api/v1/journeys?status=active", nil, &journeys); err != nil {
			return err
		}
		for _, j := range journeys.Data {
			for {
				if err := srv.call("GET", "/api/v1/journeys/"+j.ID+"/instances?node_id="+node+"&limit=500&cursor="+cursor, nil, &page); err != nil {
					return err
				}
				total += len(page.Data)
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			cursor = ""
		}
		if total >= n {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("instances did not all reach %q in time", node)
}

// fanOut runs fn(0..n-1) on the given number of workers.
func fanOut(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// pct returns the p-th percentile (100: the maximum).
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := (len(d)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return d[min(i, len(d))-1]
}

// Print writes the figures as a table, naming the machine and scenario.
func (r *Result) Print(w io.Writer) {
	replicas, rss := "", ""
	if r.Replicas > 1 {
		replicas, rss = fmt.Sprintf(" on %d replicas", r.Replicas), ", largest replica"
	}
	fmt.Fprintf(w, "\nJ1 (docs/BENCHMARKS.md), backend %s%s, N = %d, machine: %s\n\n", r.Backend, replicas, r.N, machine())
	rows := [][2]string{
		{"S1 starts/s (events accepted)", fmt.Sprintf("%.0f", r.StartsPerSec)},
		{"S1 time until all waiting", fmt.Sprintf("%.2f s", r.TimeToWaiting)},
		{"S1 trigger → first webhook p50 / p99", fmt.Sprintf("%s / %s", ms(r.FirstHookP50), ms(r.FirstHookP99))},
		{"S2 events/s accepted", fmt.Sprintf("%.0f", r.EventsPerSec)},
		{"S2 time until all completed", fmt.Sprintf("%.2f s", r.TimeToComplete)},
		{"S2 journeys/s end to end", fmt.Sprintf("%.0f", r.JPerSec)},
		{"S3 timer lag p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(r.TimerLagP50), ms(r.TimerLagP99), ms(r.TimerLagMax))},
		{"peak server RSS (VmHWM" + rss + ")", fmt.Sprintf("%.1f MiB", float64(r.PeakRSS)/(1<<20))},
		{"store per completed journey", storeCell(r.StoreBytesPerJourney)},
		{"duplicate webhook deliveries", fmt.Sprintf("%d", r.Duplicates)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-40s %s\n", row[0], row[1])
	}
}

func storeCell(b int64) string {
	if b == 0 {
		return "n/a (PostgreSQL)"
	}
	return fmt.Sprintf("%.1f KB", float64(b)/1000)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// machine names the cores and memory the figures were measured with.
func machine() string { return fmt.Sprintf("%d cores, %s", runtime.NumCPU(), memTotal()) }

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	var kb int64
	fmt.Sscanf(string(data), "MemTotal: %d kB", &kb)
	return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
}

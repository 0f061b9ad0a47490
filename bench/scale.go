package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ScaleOptions chooses what W1M and T100K run on.
type ScaleOptions struct {
	Binary      string
	DatabaseURL string
	N           int // waiting customers (W1M default 1,000,000; T100K default 100,000)
	Out         io.Writer
}

// W1MResult holds the figures of W1M (BENCHMARKS.md): N customers waiting.
type W1MResult struct {
	Backend          string
	N                int
	LoadTime         time.Duration // first event sent → all N waiting
	RSS, PeakRSS     int64         // with N waiting; high-water mark
	StoreBytes       int64         // SQLite files (0 on PostgreSQL)
	ReadyAfterKill   time.Duration // SIGKILL + restart → /health/ready answers 200
	RSSAfterRestart  int64
	WaitingAfterKill int
}

// T100KResult holds the figures of T100K: N waits due at the same instant,
// fired after the server was down.
type T100KResult struct {
	Backend         string
	N               int
	FiredDuringLoad int
	ReadyAfter      time.Duration
	DrainTime       time.Duration // restart ready → no instance waiting
	DrainPerSec     float64
	APIP50, APIP99  time.Duration // GET /api/v1/journeys/{id} during the drain
	APIRequests     int
}

// loadWaiting creates a journey whose customers wait at a node, and enrols
// N customers through /events/batch, returning when all are waiting.
func loadWaiting(srv *server, name string, wait map[string]any, n int, out io.Writer) (string, time.Duration, error) {
	journeyID, err := createActive(srv, name, map[string]any{
		"nodes": []any{
			map[string]any{"id": "entry", "type": "event_entry", "config": map[string]any{"event_type": "enrol"}},
			wait,
			map[string]any{"id": "done", "type": "add_tag", "config": map[string]any{"tag": "woke"}},
		},
		"edges": []any{
			map[string]any{"id": "e1", "source": "entry", "target": "wait"},
			map[string]any{"id": "e2", "source": "wait", "target": "done"},
		},
	})
	if err != nil {
		return "", 0, err
	}
	const batch = 500
	start := time.Now()
	requests := (n + batch - 1) / batch
	var sent atomic.Int64
	if err := fanOut(requests, 4, func(r int) error {
		events := make([]map[string]any, 0, batch)
		for i := r * batch; i < min((r+1)*batch, n); i++ {
			events = append(events, map[string]any{"customer_id": cid(i), "event_type": "enrol"})
		}
		if s := sent.Add(int64(len(events))); s%100_000 < batch {
			fmt.Fprintf(out, "  %d events accepted (%.0f s)\n", s, time.Since(start).Seconds())
		}
		return srv.call("POST", "/api/v1/events/batch", map[string]any{"events": events}, nil)
	}); err != nil {
		return "", 0, err
	}
	last := -1
	for {
		waiting, err := countWaiting(srv, journeyID)
		if err != nil {
			return "", 0, err
		}
		if waiting >= n {
			return journeyID, time.Since(start), nil
		}
		if waiting/100_000 != last/100_000 {
			fmt.Fprintf(out, "  %d waiting (%.0f s)\n", waiting, time.Since(start).Seconds())
		}
		if waiting == last && time.Since(start) > 2*time.Hour {
			return "", 0, fmt.Errorf("stuck at %d of %d waiting", waiting, n)
		}
		last = waiting
		time.Sleep(time.Second)
	}
}

// countWaiting is the number of active instances of the journey.
func countWaiting(srv *server, journeyID string) (int, error) {
	var byVersion map[string]int
	if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances/by-version", nil, &byVersion); err != nil {
		return 0, err
	}
	total := 0
	for _, c := range byVersion {
		total += c
	}
	return total, nil
}

// RunW1M loads N waiting customers, then measures memory, store size and
// the time from SIGKILL + restart until the server is ready.
func RunW1M(ctx context.Context, o ScaleOptions) (*W1MResult, error) {
	if o.N <= 0 {
		o.N = 1_000_000
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &W1MResult{Backend: backendOf(o.DatabaseURL), N: o.N}
	fmt.Fprintf(o.Out, "W1M: enrolling %d customers in a 30-day wait\n", o.N)
	journeyID, load, err := loadWaiting(srv, "W1M", map[string]any{"id": "wait", "type": "wait", "config": map[string]any{"duration": "30d"}}, o.N, o.Out)
	if err != nil {
		return nil, err
	}
	res.LoadTime = load
	res.RSS, res.PeakRSS = srv.rss(), srv.peakRSS()
	res.StoreBytes = srv.storeBytes()
	fmt.Fprintf(o.Out, "W1M: kill -9 and restart\n")
	srv.kill()
	if res.ReadyAfterKill, err = srv.start(ctx); err != nil {
		return nil, err
	}
	if res.WaitingAfterKill, err = countWaiting(srv, journeyID); err != nil {
		return nil, err
	}
	res.RSSAfterRestart = srv.rss()
	return res, nil
}

// RunT100K loads N customers waiting until one instant, stops the server
// until that instant has passed, restarts it and measures the drain.
func RunT100K(ctx context.Context, o ScaleOptions) (*T100KResult, error) {
	if o.N <= 0 {
		o.N = 100_000
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &T100KResult{Backend: backendOf(o.DatabaseURL), N: o.N}
	// Allow 1 ms per customer to load, plus a margin; waits that fall due
	// while loading are reported.
	due := time.Now().Add(time.Duration(o.N)*time.Millisecond + 30*time.Second).UTC().Truncate(time.Second)
	fmt.Fprintf(o.Out, "T100K: enrolling %d customers waiting until %s\n", o.N, due.Format(time.RFC3339))
	journeyID, _, err := loadWaiting(srv, "T100K", map[string]any{"id": "wait", "type": "wait_until",
		"config": map[string]any{"until": due.Format(time.RFC3339)}}, o.N, o.Out)
	if err != nil {
		return nil, err
	}
	srv.stop()
	if left := time.Until(due); left > 0 {
		fmt.Fprintf(o.Out, "T100K: server down; waiting %.0f s until the waits are due\n", left.Seconds())
		time.Sleep(left + time.Second)
	} else {
		res.FiredDuringLoad = -1 // unknown: some fired before the stop
	}
	fmt.Fprintf(o.Out, "T100K: restart and drain\n")
	if res.ReadyAfter, err = srv.start(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	var done atomic.Bool
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				t := time.Now()
				if err := srv.call("GET", "/api/v1/journeys/"+journeyID, nil, nil); err == nil {
					mu.Lock()
					lat = append(lat, time.Since(t))
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	for {
		waiting, err := countWaiting(srv, journeyID)
		if err != nil {
			done.Store(true)
			wg.Wait()
			return nil, err
		}
		if waiting == 0 {
			break
		}
		if time.Since(start) > time.Hour {
			done.Store(true)
			wg.Wait()
			return nil, fmt.Errorf("%d still waiting after an hour", waiting)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.DrainTime = time.Since(start)
	done.Store(true)
	wg.Wait()
	res.DrainPerSec = float64(o.N) / res.DrainTime.Seconds()
	res.APIRequests = len(lat)
	res.APIP50, res.APIP99 = pct(lat, 50), pct(lat, 99)
	return res, nil
}

// rss is the child's current resident memory, in bytes.
func (s *server) rss() int64 { return s.status("VmRSS:") }

func (s *server) status(field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Print writes the figures as a table.
func (r *W1MResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nW1M (docs/BENCHMARKS.md), backend %s, N = %d, machine: %s\n\n", r.Backend, r.N, machine())
	store := "n/a (PostgreSQL)"
	if r.StoreBytes > 0 {
		store = fmt.Sprintf("%s (%.0f B per waiting customer)", mib(r.StoreBytes), float64(r.StoreBytes)/float64(r.N))
	}
	rows := [][2]string{
		{"time to load (events sent → all waiting)", fmt.Sprintf("%.1f s (%.0f starts/s)", r.LoadTime.Seconds(), float64(r.N)/r.LoadTime.Seconds())},
		{"server RSS with all waiting / peak", mib(r.RSS) + " / " + mib(r.PeakRSS)},
		{"store size", store},
		{"kill -9 + restart → ready", ms(r.ReadyAfterKill)},
		{"still waiting after the restart", fmt.Sprintf("%d", r.WaitingAfterKill)},
		{"RSS after the restart", mib(r.RSSAfterRestart)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-44s %s\n", row[0], row[1])
	}
}

// Print writes the figures as a table.
func (r *T100KResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nT100K (docs/BENCHMARKS.md), backend %s, N = %d, machine: %s\n\n", r.Backend, r.N, machine())
	fired := "none (all due after the stop)"
	if r.FiredDuringLoad < 0 {
		fired = "some (loading took longer than the margin)"
	}
	rows := [][2]string{
		{"fired before the server went down", fired},
		{"restart → ready", ms(r.ReadyAfter)},
		{"drain time / rate", fmt.Sprintf("%.1f s / %.0f waits/s", r.DrainTime.Seconds(), r.DrainPerSec)},
		{"API p50 / p99 during the drain", fmt.Sprintf("%s / %s (%d requests)", ms(r.APIP50), ms(r.APIP99), r.APIRequests)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-44s %s\n", row[0], row[1])
	}
}

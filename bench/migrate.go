package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// MigrateOptions chooses what scenario M (live migration) runs on.
type MigrateOptions struct {
	Binary      string // the kalcifer executable; default: this one
	DatabaseURL string // postgres://…; empty: SQLite in a temporary directory
	N           int    // customers resting in the journey (default 50,000)
	BatchSize   int    // the migration's batch_size (0: the server's default)
	Rate        int    // single events per second posted meanwhile (default 200)
	// Baseline is how long events are posted before the publish, for the
	// latency without a migration (default 5 s).
	Baseline time.Duration
	Out      io.Writer
}

// IngestWindow is what the concurrent event client measured in one phase.
type IngestWindow struct {
	Requests, Errors int
	P50, P99, Max    time.Duration
}

// MigrateResult holds the figures of scenario M: N customers resting at
// five wait nodes of three types are moved to an edited version with
// migrate_all while single events keep arriving.
type MigrateResult struct {
	Backend   string
	N, Rate   int
	BatchSize int
	LoadTime  time.Duration     // first event sent → all N resting
	Populated map[string]int    // old node → customers there, from the dry run
	Mapping   map[string]string // the mapping the migration used
	// Publish is the publish request's own latency; Elapsed runs from
	// sending it until the client saw the migration completed; Server
	// from the migration's created_at to its finished_at.
	Publish, Elapsed, Server       time.Duration
	Migrated, Held, Exited, Failed int
	Batches                        int
	Status                         string
	ByVersion                      map[string]int // GET …/instances/by-version afterwards
	Sampled                        int            // instances whose new waits were checked
	Before, During                 IngestWindow   // POST /events before the publish, and until completed
	RSSBefore, RSSAfter, PeakRSS   int64
	// LoadAvg is the machine's /proc/loadavg when the publish was sent:
	// other work on the machine shows in the figures.
	LoadAvg string
}

// The resting nodes of version 1 and what version 2 does to each.
const (
	restWait3d   = "wait_3d"  // wait 3d; version 2 makes it 5d
	restUntil    = "until"    // wait_until; version 2 inserts a node before it
	restClicked  = "clicked"  // wait_for_event; version 2 changes its event type
	restCooldown = "cooldown" // wait 1d; version 2 removes it (skip_to_next_mapped)
	restRemind   = "remind"   // wait 2d; version 2 renames it to remind_2d
)

// migrateGraph is the journey of scenario M in version 1 or 2. Customers
// enter on "enrol", get a profile attribute, and an A/B split spreads them
// over five branches, each ending at a node where they rest for days.
func migrateGraph(version int) map[string]any {
	node := func(id, typ, label string, config map[string]any) map[string]any {
		n := map[string]any{"id": id, "type": typ, "config": config}
		if label != "" {
			n["label"] = label
		}
		return n
	}
	edge := func(source, target, branch string) map[string]any {
		e := map[string]any{"id": source + "-" + target + "-" + branch, "source": source, "target": target}
		if branch != "" {
			e["branch"] = branch
		}
		return e
	}
	variants := []any{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		variants = append(variants, map[string]any{"key": k, "weight": 20})
	}
	wait3d, clickedEvent, remindID, remindLabel := "3d", "clicked", restRemind, "Reminder delay"
	if version == 2 {
		wait3d, clickedEvent, remindID, remindLabel = "5d", "link_clicked", "remind_2d", "Reminder pause"
	}
	nodes := []any{
		node("entry", "event_entry", "", map[string]any{"event_type": "enrol"}),
		node("profile", "update_profile", "", map[string]any{"set": map[string]any{"stage": "onboarding"}}),
		node("split", "ab_split", "", map[string]any{"variants": variants}),
		node("tag_a", "add_tag", "", map[string]any{"tag": "branch_a"}),
		node(restWait3d, "wait", "Wait", map[string]any{"duration": wait3d}),
		node(restUntil, "wait_until", "Until the new year", map[string]any{"until": "2099-01-01T00:00:00Z"}),
		node("check", "condition", "", map[string]any{"expression": `customer.stage == "onboarding"`}),
		node(restClicked, "wait_for_event", "Wait for a click", map[string]any{"event_type": clickedEvent, "timeout": "7d"}),
		node("goal", "goal_reached", "", map[string]any{"goal_name": "clicked", "exit_after_goal": true}),
		node("nudge", "wait", "Nudge delay", map[string]any{"duration": "10d"}),
		node(remindID, "wait", remindLabel, map[string]any{"duration": "2d"}),
		node("exit", "journey_exit", "", map[string]any{}),
	}
	edges := []any{
		edge("entry", "profile", ""), edge("profile", "split", ""),
		edge("split", "tag_a", "a"), edge("tag_a", restWait3d, ""), edge(restWait3d, "exit", ""),
		edge(restUntil, "exit", ""),
		edge("split", "check", "c"), edge("check", restClicked, "true"), edge("check", "exit", "false"),
		edge(restClicked, "goal", "event_received"), edge(restClicked, "exit", "timed_out"),
		edge("nudge", "exit", ""),
		edge("split", remindID, "e"), edge(remindID, "exit", ""),
	}
	if version == 1 {
		nodes = append(nodes, node(restCooldown, "wait", "Cooldown", map[string]any{"duration": "1d"}))
		edges = append(edges, edge("split", restUntil, "b"), edge("split", restCooldown, "d"), edge(restCooldown, "nudge", ""))
	} else {
		nodes = append(nodes, node("tag_late", "add_tag", "", map[string]any{"tag": "late_joiner"}))
		edges = append(edges, edge("split", "tag_late", "b"), edge("tag_late", restUntil, ""), edge("split", "nudge", "d"))
	}
	return map[string]any{"nodes": nodes, "edges": edges}
}

// RunMigrate runs scenario M: it enrols N customers through the engine
// (POST /events/batch) so that they rest at five wait nodes, creates
// version 2, publishes it with migrate_all while a client posts single
// events at Rate per second, and polls the migration until it completes.
func RunMigrate(ctx context.Context, o MigrateOptions) (*MigrateResult, error) {
	if o.N <= 0 {
		o.N = 50_000
	}
	if o.Rate <= 0 {
		o.Rate = 200
	}
	if o.Baseline <= 0 {
		o.Baseline = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &MigrateResult{Backend: backendOf(o.DatabaseURL), N: o.N, Rate: o.Rate, BatchSize: o.BatchSize}

	fmt.Fprintf(o.Out, "M: enrolling %d customers\n", o.N)
	journeyID, err := createActive(srv, "M", migrateGraph(1))
	if err != nil {
		return nil, err
	}
	if res.LoadTime, err = enrol(srv, journeyID, o.N, o.Out); err != nil {
		return nil, err
	}
	var v2 struct {
		Version int `json:"version"`
	}
	if err := srv.call("POST", "/api/v1/journeys/"+journeyID+"/versions", map[string]any{"graph": migrateGraph(2),
		"changelog": "wait 3d → 5d; wait for link_clicked; tag before the wait_until; reminder renamed; cooldown removed"}, &v2); err != nil {
		return nil, err
	}
	publishPath := fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", journeyID, v2.Version)
	req := map[string]any{"migration_strategy": "migrate_all",
		"migration_config": map[string]any{"batch_size": o.BatchSize, "removed_node_policy": "skip_to_next_mapped"},
		"node_mapping":     map[string]string{restCooldown: ""}}
	type publishPlan struct {
		Mapping   map[string]string `json:"node_mapping"`
		Populated map[string]int    `json:"populated"`
		Migration *struct {
			ID string `json:"id"`
		} `json:"migration"`
	}
	var plan publishPlan
	dry := maps.Clone(req)
	dry["dry_run"] = true
	if err := srv.call("POST", publishPath, dry, &plan); err != nil {
		return nil, err
	}
	res.Populated = plan.Populated
	if got := plan.Mapping[restRemind]; got != "remind_2d" {
		return nil, fmt.Errorf("the automatic mapping maps the renamed node %q to %q, not remind_2d", restRemind, got)
	}
	if len(plan.Populated) != 5 {
		return nil, fmt.Errorf("customers rest at %d nodes, want 5: %v", len(plan.Populated), plan.Populated)
	}

	// The event client runs through a quiet baseline, the publish and the
	// migration; its samples are split by when they were sent.
	ev := startEvents(srv, o.N, o.Rate)
	time.Sleep(o.Baseline)
	res.RSSBefore = srv.rss()
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAvg = strings.Join(strings.Fields(string(raw))[:3], " ")
	}
	fmt.Fprintf(o.Out, "M: publishing version %d with migrate_all\n", v2.Version)
	publishedAt := time.Now()
	var published publishPlan
	if err := srv.call("POST", publishPath, req, &published); err != nil {
		ev.stop()
		return nil, err
	}
	res.Publish = time.Since(publishedAt)
	if published.Migration == nil {
		ev.stop()
		return nil, fmt.Errorf("the publish started no migration")
	}
	res.Mapping = published.Mapping
	m, err := awaitMigration(srv, published.Migration.ID, publishedAt, o.Out)
	done := time.Now()
	samples := ev.stop()
	if err != nil {
		return nil, err
	}
	res.Elapsed = done.Sub(publishedAt)
	res.Before = window(samples, time.Time{}, publishedAt)
	res.During = window(samples, publishedAt, done)
	res.RSSAfter, res.PeakRSS = srv.rss(), srv.peakRSS()
	res.Status = m.Status
	res.Migrated, res.Held, res.Exited, res.Failed = m.Progress.Migrated, m.Progress.Held, m.Progress.Exited, m.Progress.Failed
	res.Batches = len(m.Batches)
	if m.FinishedAt != nil {
		res.Server = m.FinishedAt.Sub(m.CreatedAt)
	}
	if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances/by-version", nil, &res.ByVersion); err != nil {
		return nil, err
	}
	if res.Sampled, err = checkMoved(srv, journeyID); err != nil {
		return nil, err
	}
	return res, nil
}

// checkMoved reads up to 20 instances at each of version 2's resting nodes
// and checks that their waits are version 2's: the 5-day wait measured
// from when the customer began waiting, the new event type, the renamed
// node, and the removed node's customers past it. It returns how many
// instances it checked.
func checkMoved(srv *server, journeyID string) (int, error) {
	type path struct {
		Node  string    `json:"node"`
		Since time.Time `json:"since"`
		Wait  *struct {
			DueAt     *time.Time `json:"due_at"`
			EventType string     `json:"event_type"`
		} `json:"wait"`
	}
	checks := map[string]func(p path) error{
		restWait3d: func(p path) error {
			if p.Wait == nil || p.Wait.DueAt == nil || !p.Wait.DueAt.Equal(p.Since.Add(5*24*time.Hour)) {
				return fmt.Errorf("wait is %+v, want due 5 days after %s", p.Wait, p.Since)
			}
			return nil
		},
		restClicked: func(p path) error {
			if p.Wait == nil || p.Wait.EventType != "link_clicked" {
				return fmt.Errorf("waits for %+v, want link_clicked", p.Wait)
			}
			return nil
		},
		restUntil:   func(path) error { return nil },
		"remind_2d": func(path) error { return nil },
		"nudge":     func(path) error { return nil },
	}
	checked := 0
	for _, node := range slices.Sorted(maps.Keys(checks)) {
		var page struct {
			Data []struct {
				ID      string `json:"id"`
				Version int    `json:"version"`
				State   struct {
					Paths []path `json:"paths"`
				} `json:"state"`
			} `json:"data"`
		}
		if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances?node_id="+node+"&limit=20", nil, &page); err != nil {
			return checked, err
		}
		if len(page.Data) == 0 {
			return checked, fmt.Errorf("no instance is at %q after the migration", node)
		}
		for _, in := range page.Data {
			if in.Version != 2 || len(in.State.Paths) != 1 || in.State.Paths[0].Node != node {
				return checked, fmt.Errorf("instance %s at %q: version %d, paths %+v", in.ID, node, in.Version, in.State.Paths)
			}
			if err := checks[node](in.State.Paths[0]); err != nil {
				return checked, fmt.Errorf("instance %s at %q: %w", in.ID, node, err)
			}
			checked++
		}
	}
	return checked, nil
}

// enrol sends N "enrol" events through /events/batch and returns when all
// N customers have an active instance (each rests at a wait node once its
// instance exists).
func enrol(srv *server, journeyID string, n int, out io.Writer) (time.Duration, error) {
	const batch = 500
	start := time.Now()
	if err := fanOut((n+batch-1)/batch, 4, func(r int) error {
		events := make([]map[string]any, 0, batch)
		for i := r * batch; i < min((r+1)*batch, n); i++ {
			events = append(events, map[string]any{"customer_id": cid(i), "event_type": "enrol"})
		}
		return srv.call("POST", "/api/v1/events/batch", map[string]any{"events": events}, nil)
	}); err != nil {
		return 0, err
	}
	last := -1
	for {
		resting, err := countWaiting(srv, journeyID)
		if err != nil {
			return 0, err
		}
		if resting >= n {
			return time.Since(start), nil
		}
		if resting/100_000 != last/100_000 {
			fmt.Fprintf(out, "  %d resting (%.0f s)\n", resting, time.Since(start).Seconds())
		}
		if resting == last && time.Since(start) > 2*time.Hour {
			return 0, fmt.Errorf("stuck at %d of %d resting", resting, n)
		}
		last = resting
		time.Sleep(time.Second)
	}
}

// migrationView is the part of GET /api/v1/migrations/{id} the bench reads.
type migrationView struct {
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Progress struct {
		Migrated int `json:"migrated"`
		Held     int `json:"held"`
		Exited   int `json:"exited"`
		Failed   int `json:"failed"`
	} `json:"progress"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Batches    []struct{} `json:"batches"`
}

// awaitMigration polls the migration until it is completed; any other
// state it settles in (paused, aborted, partial) is an error.
func awaitMigration(srv *server, id string, since time.Time, out io.Writer) (*migrationView, error) {
	lastReport := time.Now()
	for {
		var m migrationView
		if err := srv.call("GET", "/api/v1/migrations/"+id, nil, &m); err != nil {
			return nil, err
		}
		switch m.Status {
		case "completed":
			return &m, nil
		case "running":
		default:
			return nil, fmt.Errorf("migration %s is %s: %s", id, m.Status, m.Reason)
		}
		if time.Since(lastReport) > 10*time.Second {
			fmt.Fprintf(out, "  %d migrated (%.0f s)\n", m.Progress.Migrated, time.Since(since).Seconds())
			lastReport = time.Now()
		}
		if time.Since(since) > 2*time.Hour {
			return nil, fmt.Errorf("migration %s still running after 2 hours: %d migrated", id, m.Progress.Migrated)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventSample is one POST /events request of the background client.
type eventSample struct {
	sent    time.Time
	latency time.Duration
	err     bool
}

// eventClient posts single events at a steady rate, each in its own
// goroutine so that a slow answer does not delay the next request (an open
// loop: requests pile up rather than the rate drop while the server is
// slow; the HTTP client's 30 s timeout bounds each).
type eventClient struct {
	quit    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	samples []eventSample
}

// startEvents starts posting page_viewed events of the N customers at rate
// per second. No node waits for page_viewed: the figures are of ingestion.
func startEvents(srv *server, n, rate int) *eventClient {
	c := &eventClient{quit: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		interval := time.Second / time.Duration(rate)
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-c.quit:
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				t := time.Now()
				err := srv.call("POST", "/api/v1/events", map[string]any{"customer_id": cid(rand.IntN(n)),
					"event_type": "page_viewed", "data": map[string]any{"path": "/pricing"}}, nil)
				c.add(eventSample{sent: t, latency: time.Since(t), err: err != nil})
			}()
		}
	}()
	return c
}

func (c *eventClient) add(s eventSample) {
	c.mu.Lock()
	c.samples = append(c.samples, s)
	c.mu.Unlock()
}

// stop ends the client, waits for its requests and returns the samples.
func (c *eventClient) stop() []eventSample {
	close(c.quit)
	c.wg.Wait()
	return c.samples
}

// window summarizes the samples sent in [from, to).
func window(samples []eventSample, from, to time.Time) IngestWindow {
	var w IngestWindow
	var lat []time.Duration
	for _, s := range samples {
		if s.sent.Before(from) || !s.sent.Before(to) {
			continue
		}
		w.Requests++
		if s.err {
			w.Errors++
			continue
		}
		lat = append(lat, s.latency)
	}
	w.P50, w.P99, w.Max = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	return w
}

// OK reports whether every instance was migrated and is on version 2.
func (r *MigrateResult) OK() bool {
	return r.Status == "completed" && r.Migrated == r.N && r.Failed == 0 && r.ByVersion["v2"] == r.N && len(r.ByVersion) == 1
}

// Print writes the figures as a table.
func (r *MigrateResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nM — live migration (docs/BENCHMARKS.md), backend %s, N = %d, machine: %s\n\n", r.Backend, r.N, machine())
	var pop []string
	for _, id := range slices.Sorted(maps.Keys(r.Populated)) {
		pop = append(pop, fmt.Sprintf("%s %d", id, r.Populated[id]))
	}
	batch := "server default"
	if r.BatchSize > 0 {
		batch = fmt.Sprint(r.BatchSize)
	}
	perSec := func(d time.Duration) string {
		if d <= 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f s (%.0f instances/s)", d.Seconds(), float64(r.Migrated)/d.Seconds())
	}
	ingest := func(x IngestWindow) string {
		return fmt.Sprintf("%s / %s / %s (%d requests, %d errors)", ms(x.P50), ms(x.P99), ms(x.Max), x.Requests, x.Errors)
	}
	rows := [][2]string{
		{"load (enrol events sent → all resting)", fmt.Sprintf("%.1f s (%.0f starts/s)", r.LoadTime.Seconds(), float64(r.N)/r.LoadTime.Seconds())},
		{"customers per resting node", strings.Join(pop, ", ")},
		{"migration batch size", batch},
		{"publish request", ms(r.Publish)},
		{"publish sent → completed seen", perSec(r.Elapsed)},
		{"migration created → finished (server)", perSec(r.Server)},
		{"batches", fmt.Sprint(r.Batches)},
		{"migrated / held / exited / failed", fmt.Sprintf("%d / %d / %d / %d", r.Migrated, r.Held, r.Exited, r.Failed)},
		{"instances by version afterwards", fmt.Sprint(r.ByVersion)},
		{"sampled instances with version 2's waits", fmt.Sprint(r.Sampled)},
		{fmt.Sprintf("POST /events at %d/s p50/p99/max, before", r.Rate), ingest(r.Before)},
		{"  … during the migration", ingest(r.During)},
		{"server RSS before / after / peak", mib(r.RSSBefore) + " / " + mib(r.RSSAfter) + " / " + mib(r.PeakRSS)},
		{"machine load average at the publish", r.LoadAvg},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-42s %s\n", row[0], row[1])
	}
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// AnalyticsOptions chooses what the analytics scenario runs on.
type AnalyticsOptions struct {
	// Store is the database to load and query, opened as the server opens
	// it (with the analytics observer registered).
	Store *store.Store
	Steps int // history steps recorded in one journey (default 1,000,000)
	Runs  int // times each query is timed (default 30)
	Out   io.Writer
}

// AnalyticsResult holds the figures of the analytics scenario.
type AnalyticsResult struct {
	Backend          string
	Steps, Instances int
	Runs             int
	LoadTime         time.Duration
	Queries          []QueryTiming
}

// QueryTiming is one analytics query's latency, and the CPU time this
// process spent per run (on SQLite, the query's whole cost; on PostgreSQL,
// the client's share only), which a busy machine does not inflate.
type QueryTiming struct {
	Name     string
	P50, P99 time.Duration
	CPU      time.Duration
}

// analyticsBenchGraph is the journey the scenario records: a condition,
// an email, a wait for an event with a goal, and an SMS on the other side.
const analyticsBenchGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","config":{"event_type":"signed_up"}},
	{"id":"plan","type":"condition","config":{"expression":"customer.plan == 'pro'"}},
	{"id":"mail","type":"send_email","config":{"subject":"Hi","text":"Hi","to":"a@example.com"}},
	{"id":"wait","type":"wait_for_event","config":{"event_type":"paid","timeout":"3d"}},
	{"id":"goal","type":"goal_reached","config":{"goal_name":"paid","exit_after_goal":true}},
	{"id":"late","type":"journey_exit"},
	{"id":"sms","type":"send_sms","config":{"body":"Hi","to":"+15551234567"}},
	{"id":"free","type":"journey_exit"}],
	"edges":[{"id":"e1","source":"entry","target":"plan"},
	{"id":"e2","source":"plan","branch":"true","target":"mail"},
	{"id":"e3","source":"plan","branch":"false","target":"sms"},
	{"id":"e4","source":"mail","target":"wait"},
	{"id":"e5","source":"wait","branch":"event_received","target":"goal"},
	{"id":"e6","source":"wait","branch":"timed_out","target":"late"},
	{"id":"e7","source":"sms","target":"free"}]}`

// RunAnalytics records o.Steps history steps of generated customers in one
// journey — in engine transactions of 500 instances each, written through
// the store's SaveInstance, InsertSend and FinishSend, so the analytics
// observer counts them as it counts the engine's, but without running the
// engine — spread over the last 30 days, then times each analytics query.
func RunAnalytics(ctx context.Context, o AnalyticsOptions) (*AnalyticsResult, error) {
	if o.Steps <= 0 {
		o.Steps = 1_000_000
	}
	if o.Runs <= 0 {
		o.Runs = 30
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	st := o.Store
	const tenant = "bench-analytics"
	if _, _, err := st.EnsureTenant(ctx, "bench", tenant); err != nil {
		return nil, err
	}
	var g graph.Graph
	if err := json.Unmarshal([]byte(analyticsBenchGraph), &g); err != nil {
		return nil, err
	}
	j := &kalcifer.Journey{TenantID: tenant, Name: "analytics bench", Graph: &g}
	if err := st.CreateJourney(ctx, "bench", j); err != nil {
		return nil, err
	}
	j, err := st.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: "bench", TenantID: tenant, JourneyID: j.ID,
		Action: kalcifer.ActionActivate})
	if err != nil {
		return nil, err
	}
	res := &AnalyticsResult{Backend: st.Kind(), Runs: o.Runs}
	fmt.Fprintf(o.Out, "analytics: recording %d steps in one journey on %s\n", o.Steps, st.Kind())
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Now().UTC()
	var sample string
	start := time.Now()
	for res.Steps < o.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			for range 500 {
				in, steps, sends := benchInstance(rng, j, now)
				began := in.CreatedAt
				if _, err := tx.StartInstance(in, true); err != nil {
					return err
				}
				in.CreatedAt = began // in the past, as the steps

				if err := tx.SaveInstance(in, steps, nil); err != nil {
					return err
				}
				for _, sd := range sends {
					final := sd.Status
					sd.Status = kalcifer.SendSending
					if _, err := tx.InsertSend(sd); err != nil {
						return err
					}
					if _, err := tx.FinishSend(sd, final, ""); err != nil {
						return err
					}
				}
				res.Steps += len(steps)
				res.Instances++
				sample = in.ID
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if res.Instances%20_000 == 0 {
			fmt.Fprintf(o.Out, "  %d steps, %d instances, %.0f s\n", res.Steps, res.Instances, time.Since(start).Seconds())
		}
	}
	res.LoadTime = time.Since(start)

	day := analytics.Query{From: now.Add(-24 * time.Hour)}
	v, err := st.GetVersion(ctx, tenant, j.ID, 1)
	if err != nil {
		return nil, err
	}
	queries := []struct {
		name string
		run  func() error
	}{
		{"journey analytics", func() error { _, err := analytics.Journey(ctx, st, j, analytics.Query{}); return err }},
		{"journey analytics, last day", func() error { _, err := analytics.Journey(ctx, st, j, day); return err }},
		{"journey analytics, daily series", func() error {
			_, err := analytics.Journey(ctx, st, j, analytics.Query{Bucket: 24 * time.Hour})
			return err
		}},
		{"funnel", func() error { _, err := analytics.Funnel(ctx, st, j, v, analytics.Query{}); return err }},
		{"node metrics (wait)", func() error { _, err := analytics.Node(ctx, st, j, "wait", analytics.Query{}); return err }},
		{"node metrics (wait), hourly series", func() error {
			_, err := analytics.Node(ctx, st, j, "wait", analytics.Query{Bucket: time.Hour})
			return err
		}},
		{"channels of the journey", func() error { _, err := analytics.Channels(ctx, st, tenant, j.ID, analytics.Query{}); return err }},
		{"channels of the tenant, daily", func() error {
			_, err := analytics.Channels(ctx, st, tenant, "", analytics.Query{Bucket: 24 * time.Hour})
			return err
		}},
		{"instance trace", func() error { _, err := analytics.Trace(ctx, st, tenant, sample); return err }},
	}
	for _, q := range queries {
		lat := make([]time.Duration, 0, o.Runs)
		var cpu time.Duration
		for i := -1; i < o.Runs; i++ { // the first run warms the caches, untimed
			c := cpuTime()
			t := time.Now()
			if err := q.run(); err != nil {
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
			if i >= 0 {
				lat = append(lat, time.Since(t))
				cpu += cpuTime() - c
			}
		}
		timing := QueryTiming{Name: q.name, P50: pct(lat, 50), P99: pct(lat, 99), CPU: cpu / time.Duration(o.Runs)}
		fmt.Fprintf(o.Out, "  %s: p50 %s, p99 %s, CPU %s\n", q.name, ms(timing.P50), ms(timing.P99), ms(timing.CPU))
		res.Queries = append(res.Queries, timing)
	}
	return res, nil
}

// benchInstance makes one customer's way through analyticsBenchGraph,
// begun at a random time in the 30 days before now: its instance, its
// steps and its sends, finished.
func benchInstance(rng *rand.Rand, j *kalcifer.Journey, now time.Time) (*kalcifer.Instance, []kalcifer.Step, []*kalcifer.Send) {
	in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: j.TenantID, JourneyID: j.ID, Version: 1,
		CustomerID: fmt.Sprintf("c%d", rng.Int64()), Status: kalcifer.InstanceExited, State: []byte(`{}`), Nodes: []string{}}
	t0 := now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
	in.CreatedAt = t0
	step := func(node, typ, result string, at time.Time) kalcifer.Step {
		return kalcifer.Step{Version: 1, NodeID: node, Type: typ, Visit: 1, Result: result, At: at}
	}
	send := func(node, typ, channel string, status kalcifer.SendStatus) *kalcifer.Send {
		return &kalcifer.Send{Key: in.ID + ":" + node + ":1", TenantID: in.TenantID, JourneyID: in.JourneyID, Version: 1,
			InstanceID: in.ID, NodeID: node, NodeType: typ, CustomerID: in.CustomerID, Channel: channel, Config: map[string]any{},
			Status: status, Provider: "bench"}
	}
	steps := []kalcifer.Step{step("entry", "event_entry", "default", t0)}
	if rng.IntN(10) >= 7 { // free: an SMS and out
		sent := t0.Add(time.Second)
		steps = append(steps, step("plan", "condition", "false", t0), step("sms", "send_sms", "waiting", t0),
			step("sms", "send_sms", "default", sent), step("free", "journey_exit", "exited", sent))
		return in, steps, []*kalcifer.Send{send("sms", "send_sms", "sms", kalcifer.SendSent)}
	}
	sent := t0.Add(time.Duration(1+rng.IntN(5)) * time.Second)
	steps = append(steps, step("plan", "condition", "true", t0), step("mail", "send_email", "waiting", t0),
		step("mail", "send_email", "default", sent), step("wait", "wait_for_event", "waiting", sent))
	sd := send("mail", "send_email", "email", kalcifer.SendSent)
	if rng.IntN(20) == 0 {
		sd.Status = kalcifer.SendFailed
	}
	switch r := rng.IntN(10); {
	case r < 6: // paid within three days
		paid := sent.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		if paid.After(now) {
			break
		}
		return in, append(steps, step("wait", "wait_for_event", "event_received", paid), step("goal", "goal_reached", "exited", paid)),
			[]*kalcifer.Send{sd}
	case r < 9: // timed out
		late := sent.Add(72 * time.Hour)
		if late.After(now) {
			break
		}
		return in, append(steps, step("wait", "wait_for_event", "timed_out", late), step("late", "journey_exit", "exited", late)),
			[]*kalcifer.Send{sd}
	}
	in.Status, in.Nodes = kalcifer.InstanceActive, []string{"wait"}
	return in, steps, []*kalcifer.Send{sd}
}

// Print writes the figures as a table.
func (r *AnalyticsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nanalytics, backend %s, %d steps of %d instances in one journey, machine: %s\n\n", r.Backend, r.Steps, r.Instances, machine())
	fmt.Fprintf(w, "  %-40s %.1f s (%.0f steps/s, counters included)\n", "load time", r.LoadTime.Seconds(), float64(r.Steps)/r.LoadTime.Seconds())
	for _, q := range r.Queries {
		fmt.Fprintf(w, "  %-40s %s / %s (p50 / p99, %d runs), process CPU %s per run\n", q.Name, ms(q.P50), ms(q.P99), r.Runs, ms(q.CPU))
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

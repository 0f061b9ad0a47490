package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// SegmentsOptions chooses what the segments scenario runs on.
type SegmentsOptions struct {
	// Store is the database to load and query; it should be empty of the
	// bench's tenant, "bench-segments".
	Store *store.Store
	N     int // profiles (default 1,000,000)
	Runs  int // counts timed per segment and round (default 30)
	// PassBatch is the customers one transaction of a segment's full pass
	// walks (default: the engine's default for the database).
	PassBatch int
	Out       io.Writer
}

// SegmentsResult holds the figures of the segments scenario.
type SegmentsResult struct {
	Reused          bool // the profiles were loaded by an earlier run (--data-dir)
	Backend         string
	N, Events, Runs int
	LoadTime        time.Duration
	ProfilesPerSec  float64
	EventsPerSec    float64
	// LiveCounts is one live count of each segment (what a count answers
	// while it builds); Builds the time of each round's full passes of
	// all the segments.
	LiveCounts        []time.Duration
	Builds            []time.Duration
	Segments          []SegmentTiming
	MembersPageTiming time.Duration // a preview of 100 members of the attribute segment
}

// SegmentTiming is one segment's count latency.
type SegmentTiming struct {
	Round      int
	Name, Rule string
	Count      int64
	P50, P99   time.Duration
}

// benchTenant holds the generated profiles, apart from real ones.
const benchTenant = "bench-segments"

// The segments the scenario counts: three attribute clauses, an event count,
// and the example of docs/SEGMENTS.md mixing both.
var benchSegments = []struct{ name, rule string }{
	{"3-clause attribute", `plan = "pro" and country in ["DE", "FR"] and ltv >= 1000`},
	{"event count", `performed order_completed >= 3 in 30d`},
	{"mixed (docs example)", `plan = "pro" and (country in ["DE", "FR"] or ltv >= 1000) and performed order_completed >= 3 in 30d and not tag "churned"`},
}

// RunSegments generates N profiles with realistic attributes, tags and
// events in o.Store (bulk inserts, thousands of rows per transaction),
// creates benchSegments, times one live count of each, builds their stored
// members by full passes (timed), and times SegmentSize, what the count
// route answers, on each; twice (an edit rebuilds them). No HTTP.
func RunSegments(ctx context.Context, o SegmentsOptions) (*SegmentsResult, error) {
	if o.N <= 0 {
		o.N = 1_000_000
	}
	if o.Runs <= 0 {
		o.Runs = 30
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.PassBatch <= 0 {
		o.PassBatch = 2000
		if o.Store.Dialect().SingleWriter {
			o.PassBatch = 500
		}
	}
	st := o.Store
	if _, _, err := st.EnsureTenant(ctx, "bench", benchTenant); err != nil {
		return nil, err
	}
	res := &SegmentsResult{Backend: st.Kind(), N: o.N, Runs: o.Runs}
	loaded, err := st.CountSegment(ctx, benchTenant, &segment.Rule{Not: &segment.Rule{Tag: "no such tag"}})
	if err != nil {
		return nil, err
	}
	if loaded == int64(o.N) {
		// A database a previous run loaded (--data-dir): measure again
		// without loading, from fresh segments.
		fmt.Fprintf(o.Out, "segments: %d profiles loaded already on %s\n", o.N, st.Kind())
		res.Reused = true
		if err := dropBenchSegments(ctx, st); err != nil {
			return nil, err
		}
		return res, measureSegments(ctx, o, res)
	}
	fmt.Fprintf(o.Out, "segments: loading %d profiles and their events on %s\n", o.N, st.Kind())
	gen := newProfileGen(time.Now())
	const batch = 5000
	start := time.Now()
	var eventTime time.Duration
	for from := 0; from < o.N; from += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		customers, events := gen.batch(from, min(from+batch, o.N))
		n, err := st.InsertCustomers(ctx, benchTenant, customers)
		if err != nil {
			return nil, err
		}
		if n != len(customers) {
			return nil, fmt.Errorf("tenant %s already holds profiles: run the bench on an empty database", benchTenant)
		}
		t := time.Now()
		if err := st.InsertPastEvents(ctx, events); err != nil {
			return nil, err
		}
		eventTime += time.Since(t)
		res.Events += len(events)
		if (from/batch)%20 == 19 {
			fmt.Fprintf(o.Out, "  %d profiles, %d events, %.0f s\n", from+batch, res.Events, time.Since(start).Seconds())
		}
	}
	res.LoadTime = time.Since(start)
	res.ProfilesPerSec = float64(o.N) / (res.LoadTime - eventTime).Seconds()
	res.EventsPerSec = float64(res.Events) / eventTime.Seconds()
	return res, measureSegments(ctx, o, res)
}

// dropBenchSegments deletes the segments a previous run made, those that
// refer to others first.
func dropBenchSegments(ctx context.Context, st *store.Store) error {
	page, err := st.ListSegments(ctx, segment.Filter{TenantID: benchTenant, Limit: 100})
	if err != nil {
		return err
	}
	for len(page.Data) > 0 {
		left := page.Data[:0]
		for _, sg := range page.Data {
			if err := st.DeleteSegment(ctx, "bench", benchTenant, sg.ID); kalcifer.ErrorCode(err) == kalcifer.ECONFLICT {
				left = append(left, sg)
			} else if err != nil {
				return err
			}
		}
		if len(left) == len(page.Data) {
			return fmt.Errorf("bench segments refer to each other")
		}
		page.Data = left
	}
	return nil
}

// measureSegments makes benchSegments on the loaded profiles and measures
// them (RunSegments).
func measureSegments(ctx context.Context, o SegmentsOptions, res *SegmentsResult) error {
	st := o.Store

	// The segments are created after the load and built by their full
	// passes, batch by batch as the engine's entry loop runs them; then
	// counts read the stored members. Twice: a rule edit rebuilds them.
	var segs []*segment.Segment
	for _, b := range benchSegments {
		r, err := segment.Parse("rule_text", b.rule)
		if err != nil {
			return err
		}
		sg := &segment.Segment{TenantID: benchTenant, Name: b.name, Rule: *r}
		if err := st.CreateSegment(ctx, "bench", sg); err != nil {
			return err
		}
		segs = append(segs, sg)
		// The live query's figure, the count while a segment builds.
		t := time.Now()
		if _, err := st.CountSegment(ctx, benchTenant, r); err != nil {
			return err
		}
		res.LiveCounts = append(res.LiveCounts, time.Since(t))
	}
	for round := range 2 {
		if round > 0 {
			for _, sg := range segs {
				if _, err := st.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: "bench", TenantID: benchTenant, SegmentID: sg.ID, Rule: &sg.Rule}); err != nil {
					return err
				}
			}
		}
		t := time.Now()
		batches := 0
		for {
			n := 0
			if err := st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				var err error
				n, err = tx.SegmentPassBatch(o.PassBatch, store.DefaultSegmentRefresh)
				return err
			}); err != nil {
				return err
			}
			if n == 0 {
				break
			}
			batches++
		}
		res.Builds = append(res.Builds, time.Since(t))
		fmt.Fprintf(o.Out, "  round %d: %d segments built in %.1f s (%d transactions of %d customers)\n", round+1, len(segs), time.Since(t).Seconds(), batches, o.PassBatch)
		for i, sg := range segs {
			timing := SegmentTiming{Round: round + 1, Name: benchSegments[i].name, Rule: benchSegments[i].rule}
			lat := make([]time.Duration, 0, o.Runs)
			for i := -1; i < o.Runs; i++ { // the first run warms the caches, untimed
				t := time.Now()
				size, err := st.SegmentSize(ctx, benchTenant, sg.ID)
				if err != nil {
					return fmt.Errorf("count %s: %w", sg.Name, err)
				}
				if size.Status != store.SegmentReady {
					return fmt.Errorf("segment %s is %s after its pass", sg.Name, size.Status)
				}
				if i >= 0 {
					lat = append(lat, time.Since(t))
				}
				timing.Count = size.Count
			}
			timing.P50, timing.P99 = pct(lat, 50), pct(lat, 99)
			fmt.Fprintf(o.Out, "  %s: %d members, p50 %s, p99 %s\n", sg.Name, timing.Count, ms(timing.P50), ms(timing.P99))
			res.Segments = append(res.Segments, timing)
		}
	}
	t := time.Now()
	if _, _, err := st.SegmentPreview(ctx, benchTenant, segs[0].ID, 100); err != nil {
		return err
	}
	res.MembersPageTiming = time.Since(t)
	return nil
}

// Print writes the figures as a table.
func (r *SegmentsResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nsegments, backend %s, N = %d profiles, %d events, machine: %s\n\n", r.Backend, r.N, r.Events, machine())
	if r.Reused {
		fmt.Fprintf(w, "  %-40s %s\n", "load", "by an earlier run (--data-dir)")
	} else {
		fmt.Fprintf(w, "  %-40s %.1f s\n", "load time", r.LoadTime.Seconds())
		fmt.Fprintf(w, "  %-40s %.0f\n", "profiles loaded/s", r.ProfilesPerSec)
		fmt.Fprintf(w, "  %-40s %.0f\n", "events loaded/s", r.EventsPerSec)
	}
	for i, d := range r.LiveCounts {
		fmt.Fprintf(w, "  %-40s %s\n", "live count (while building), "+benchSegments[i].name, ms(d))
	}
	for i, d := range r.Builds {
		fmt.Fprintf(w, "  %-40s %.1f s\n", fmt.Sprintf("round %d: full passes of all segments", i+1), d.Seconds())
	}
	for _, s := range r.Segments {
		fmt.Fprintf(w, "  %-40s %s / %s (%d members, %d runs)\n", fmt.Sprintf("round %d: count p50 / p99, %s", s.Round, s.Name), ms(s.P50), ms(s.P99), s.Count, r.Runs)
	}
	fmt.Fprintf(w, "  %-40s %s\n", "preview of 100 members, 3-clause", ms(r.MembersPageTiming))
}

// profileGen makes deterministic profiles: plans, countries and tags with
// skewed frequencies, lifetime values with a long tail, sign-up dates over
// three years, and orders and page views in the last 90 days.
type profileGen struct {
	rng *rand.Rand
	now time.Time
}

func newProfileGen(now time.Time) *profileGen {
	return &profileGen{rng: rand.New(rand.NewPCG(1, 2)), now: now}
}

var (
	plans     = []weighted{{"free", 60}, {"pro", 30}, {"team", 10}}
	countries = []weighted{{"US", 30}, {"DE", 15}, {"FR", 10}, {"GB", 10}, {"ES", 6}, {"IT", 6}, {"NL", 5}, {"BR", 8}, {"JP", 5}, {"IN", 5}}
	cities    = map[string]string{"US": "New York", "DE": "Berlin", "FR": "Paris", "GB": "London", "ES": "Madrid", "IT": "Rome",
		"NL": "Amsterdam", "BR": "São Paulo", "JP": "Tokyo", "IN": "Mumbai"}
)

type weighted struct {
	v string
	w int
}

func (g *profileGen) pick(ws []weighted) string {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	n := g.rng.IntN(total)
	for _, x := range ws {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return ws[len(ws)-1].v
}

func (g *profileGen) batch(from, to int) ([]*kalcifer.Customer, []*kalcifer.Event) {
	day := 24 * time.Hour
	customers := make([]*kalcifer.Customer, 0, to-from)
	var events []*kalcifer.Event
	for i := from; i < to; i++ {
		id := fmt.Sprintf("p%07d", i)
		country := g.pick(countries)
		signedUp := g.now.Add(-time.Duration(g.rng.Int64N(int64(3 * 365 * day))))
		c := &kalcifer.Customer{ID: id, CreatedAt: signedUp, Tags: []string{}, Attributes: map[string]any{
			"email":     id + "@example.com",
			"plan":      g.pick(plans),
			"country":   country,
			"ltv":       math.Round(g.rng.ExpFloat64()*500*100) / 100,
			"age":       18 + g.rng.IntN(62),
			"vip":       g.rng.IntN(20) == 0,
			"signed_up": signedUp.Format(time.RFC3339),
			"address":   map[string]any{"city": cities[country]},
		}}
		for _, tag := range []struct {
			name string
			pct  int
		}{{"newsletter", 40}, {"churned", 10}, {"beta", 5}} {
			if g.rng.IntN(100) < tag.pct {
				c.Tags = append(c.Tags, tag.name)
			}
		}
		customers = append(customers, c)
		// 40% have ordered, 1 to 6 times in the last 90 days; half have
		// viewed pages.
		if g.rng.IntN(100) < 40 {
			for range 1 + g.rng.IntN(6) {
				data, _ := json.Marshal(map[string]any{"amount": math.Round(g.rng.ExpFloat64()*80*100) / 100, "currency": "EUR"})
				events = append(events, &kalcifer.Event{TenantID: benchTenant, CustomerID: id, Type: "order_completed",
					OccurredAt: g.now.Add(-time.Duration(g.rng.Int64N(int64(90 * day)))), Data: data})
			}
		}
		if g.rng.IntN(2) == 0 {
			for range 1 + g.rng.IntN(3) {
				events = append(events, &kalcifer.Event{TenantID: benchTenant, CustomerID: id, Type: "page_viewed",
					OccurredAt: g.now.Add(-time.Duration(g.rng.Int64N(int64(30 * day)))), Data: json.RawMessage(`{"path":"/pricing"}`)})
			}
		}
	}
	return customers, events
}

package analytics_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clock is a settable kalcifer.Clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// onBoth runs fn on a fresh SQLite and a fresh PostgreSQL store (the
// latter skipped under -short), each with the analytics observer and then
// obs registered.
func onBoth(t *testing.T, fn func(t *testing.T, st *store.Store, c *clock, obs *failing)) {
	open := map[string]func(t *testing.T) (store.Backend, error){
		"sqlite": func(t *testing.T) (store.Backend, error) { return sqlite.Open(context.Background(), t.TempDir()) },
		"postgres": func(t *testing.T) (store.Backend, error) {
			return postgres.Open(context.Background(), pgtest.URL(t))
		},
	}
	for name, o := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := o(t)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			c := &clock{now: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)}
			st := store.New(b, c, secrets.Generate())
			t.Cleanup(func() { st.Close() })
			if _, _, err := st.EnsureTenant(context.Background(), "system", kalcifer.DefaultTenantID); err != nil {
				t.Fatal(err)
			}
			obs := &failing{}
			st.Observe(&analytics.Observer{})
			st.Observe(obs)
			fn(t, st, c, obs)
		})
	}
}

// failing is an observer that fails the transaction when told to, after
// the analytics observer wrote its counts.
type failing struct{ err error }

func (f *failing) InTx(*store.EngineTx, *store.Written) error { return f.err }
func (f *failing) Committed(*store.Written)                   {}

func journey(t testing.TB, st *store.Store) *kalcifer.Journey {
	t.Helper()
	j := &kalcifer.Journey{TenantID: "default", Name: "a", Graph: &graph.Graph{
		Nodes: []graph.Node{{ID: "entry", Type: "event_entry", Config: []byte(`{"event_type":"signed_up"}`)},
			{ID: "wait", Type: "wait", Config: []byte(`{"duration":"1h"}`)}, {ID: "exit", Type: "journey_exit"}},
		Edges: []graph.Edge{{ID: "e1", Source: "entry", Target: "wait"}, {ID: "e2", Source: "wait", Target: "exit"}}}}
	if err := st.CreateJourney(context.Background(), "test", j); err != nil {
		t.Fatal(err)
	}
	j, err := st.TransitionJourney(context.Background(), store.TransitionJourneyParams{Actor: "test", TenantID: "default", JourneyID: j.ID,
		Action: kalcifer.ActionActivate})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// The counters commit with the engine's transaction, and roll back with
// it; a resumed wait counts its time at the node; history retention
// deletes old steps and leaves the counters.
func TestObserverCommitsAndRollsBack(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, st *store.Store, c *clock, obs *failing) {
		ctx := context.Background()
		j := journey(t, st)
		start := func(customer string) (*kalcifer.Instance, error) {
			in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1, CustomerID: customer,
				Status: kalcifer.InstanceActive, State: []byte(`{}`), Nodes: []string{"wait"}}
			return in, st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				if _, err := tx.StartInstance(in, false); err != nil {
					return err
				}
				return tx.SaveInstance(in, []kalcifer.Step{
					{Version: 1, NodeID: "entry", Type: "event_entry", Result: "default", At: tx.Now()},
					{Version: 1, PathID: 0, NodeID: "wait", Type: "wait", Visit: 1, Result: "waiting", At: tx.Now()}}, nil)
			})
		}
		counts := func(nodes bool) map[string]int64 {
			t.Helper()
			list, err := st.AnalyticsCounts(ctx, store.CountsParams{TenantID: "default", JourneyID: j.ID, Nodes: nodes})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, c := range list {
				out[c.NodeID+" "+c.Metric] += c.N
			}
			return out
		}

		// A transaction that rolls back (another observer fails after
		// the counts were written) leaves no counts.
		obs.err = errors.New("boom")
		if _, err := start("c1"); err == nil {
			t.Fatal("the failing observer did not fail the transaction")
		}
		if got := counts(true); len(got) != 0 {
			t.Fatalf("counts after a rollback: %v", got)
		}
		if got := counts(false); len(got) != 0 {
			t.Fatalf("journey counts after a rollback: %v", got)
		}

		obs.err = nil
		in, err := start("c1")
		if err != nil {
			t.Fatal(err)
		}
		// Two hours later the wait ends: the resumption leaves the node,
		// without arriving again, after 2h there.
		c.now = c.now.Add(2 * time.Hour)
		must(t, st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			read, err := tx.Instance(in.ID)
			if err != nil {
				return err
			}
			read.Status, read.Nodes = kalcifer.InstanceCompleted, nil
			return tx.SaveInstance(read, []kalcifer.Step{
				{Version: 1, NodeID: "wait", Type: "wait", Visit: 1, Result: "default", At: tx.Now()},
				{Version: 1, NodeID: "exit", Type: "journey_exit", Visit: 1, Result: "ended", At: tx.Now()}}, nil)
		}))
		got := counts(true)
		if got["entry entered"] != 1 || got["wait entered"] != 1 || got["wait result:default"] != 1 || got["exit entered"] != 1 ||
			got["exit result:ended"] != 1 {
			t.Fatalf("node counts: %v", got)
		}
		if jc := counts(false); jc[" entered"] != 1 || jc[" ended:completed"] != 1 {
			t.Fatalf("journey counts: %v", jc)
		}
		rep, err := analytics.Node(ctx, st, j, "wait", analytics.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.AvgSeconds == nil || *rep.AvgSeconds != 7200 || rep.P95Seconds == nil || *rep.P95Seconds < 3600 || *rep.P95Seconds > 14400 {
			t.Fatalf("time at wait: %+v", rep.NodeFigures)
		}
		// The two hours are two hourly buckets of the series.
		rep, err = analytics.Node(ctx, st, j, "wait", analytics.Query{Bucket: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Series) != 2 || rep.Series[0].Entered != 1 || rep.Series[1].Completed != 1 ||
			!rep.Series[0].At.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("series: %+v", rep.Series)
		}

		// Retention: the ended instance's steps go once it ended long
		// enough ago; an active one's stay; the counts stay.
		if _, err := start("c2"); err != nil {
			t.Fatal(err)
		}
		n, err := analytics.PruneHistory(ctx, st, c, 24*time.Hour)
		if err != nil || n != 0 {
			t.Fatalf("pruned %d steps (%v) of an instance that ended just now", n, err)
		}
		c.now = c.now.Add(25 * time.Hour)
		n, err = analytics.PruneHistory(ctx, st, c, 24*time.Hour)
		if err != nil || n != 4 {
			t.Fatalf("pruned %d steps (%v), want the ended instance's 4", n, err)
		}
		if steps, err := st.InstanceSteps(ctx, in.ID); err != nil || len(steps) != 0 {
			t.Fatalf("steps left %v (%v)", steps, err)
		}
		if after := counts(true); after["wait result:default"] != 1 || after["wait entered"] != 2 {
			t.Fatalf("counts after retention: %v", after)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

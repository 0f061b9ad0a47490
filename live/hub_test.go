package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/live"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// newStore opens a migrated SQLite store with one journey.
func newStore(t testing.TB) (*store.Store, *kalcifer.Journey) {
	t.Helper()
	ctx := context.Background()
	b, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.EnsureTenant(ctx, "test", kalcifer.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	g := &graph.Graph{Nodes: []graph.Node{
		{ID: "entry", Type: "event_entry", Config: json.RawMessage(`{"event_type":"signed_up"}`)},
		{ID: "done", Type: "journey_exit"},
	}, Edges: []graph.Edge{{ID: "e1", Source: "entry", Target: "done"}}}
	j := &kalcifer.Journey{TenantID: kalcifer.DefaultTenantID, Name: "j", Graph: g}
	if err := st.CreateJourney(ctx, "test", j); err != nil {
		t.Fatal(err)
	}
	return st, j
}

// next reads a subscriber's next message, or fails after a while.
func next(t testing.TB, s *live.Sub) [][]byte {
	t.Helper()
	select {
	case m := <-s.Out():
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
		return nil
	}
}

// TestCountsShared: the periodic counts of a journey are one query per
// tick whoever listens, and none once everyone left.
func TestCountsShared(t *testing.T) {
	st, j := newStore(t)
	h := live.New(live.Config{Store: st, CountsEvery: 10 * time.Millisecond, StatsEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	subs := make([]*live.Sub, 3)
	for i := range subs {
		subs[i] = h.Subscribe()
		if err := h.Join(ctx, subs[i], kalcifer.DefaultTenantID, "journey:"+j.ID, json.RawMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	counts := make([]int, len(subs))
	for i, s := range subs {
		for counts[i] < 10 {
			for _, f := range next(t, s) {
				var fr live.Frame
				if err := json.Unmarshal(f, &fr); err != nil {
					t.Fatal(err)
				}
				if fr.Event == live.EventNodeCounts {
					counts[i]++
				}
			}
		}
	}
	for _, s := range subs {
		h.Close(s)
	}
	q := h.Queries()
	// Each subscriber read 10 node_counts, the first possibly cached; three
	// subscribers counted apart would take 30 queries and more. (The
	// stats, due in an hour, were counted once on the first join.)
	if q > int64(counts[0])+int64(counts[1])+2 {
		t.Fatalf("%d queries for %v node_counts read by three subscribers", q, counts)
	}
	if h.Listening() != 0 {
		t.Fatalf("%d topics still listened to", h.Listening())
	}
	time.Sleep(100 * time.Millisecond) // ten ticks
	if after := h.Queries(); after != q {
		t.Fatalf("%d queries with nobody listening", after-q)
	}
}

// BenchmarkCommitted is the feed's cost per engine transaction saving 10
// instances of 2 steps each, with 1,000 subscribers on their journey: from
// Committed (which only hands the notes over) until every subscriber has
// its message (each frame encoded once, one shared message queued 1,000
// times).
func BenchmarkCommitted(b *testing.B) {
	st, j := newStore(b)
	h := live.New(live.Config{Store: st, Queue: 1 << 12, CountsEvery: time.Hour, StatsEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Start(ctx); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 1000; i++ {
		s := h.Subscribe()
		if err := h.Join(ctx, s, kalcifer.DefaultTenantID, "journey:"+j.ID, nil); err != nil {
			b.Fatal(err)
		}
		next(b, s) // the reply
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got := 0; got < b.N; {
				if len(next(b, s)) == 20 { // not a count pushed on the first join
					got++
				}
			}
		}()
	}
	w := &store.Written{At: time.Now()}
	for i := 0; i < 10; i++ {
		w.Instances = append(w.Instances, store.SavedInstance{ID: fmt.Sprint("ins_", i), TenantID: kalcifer.DefaultTenantID,
			JourneyID: j.ID, CustomerID: fmt.Sprint("c", i), Version: 1, Status: kalcifer.InstanceActive, From: kalcifer.InstanceActive,
			Steps: []kalcifer.Step{{NodeID: "entry", Type: "event_entry", Result: "default", At: time.Now()},
				{NodeID: "wait", Type: "wait", Result: "waiting", At: time.Now()}}})
	}
	b.ResetTimer()
	for range b.N {
		h.Committed(w)
	}
	wg.Wait()
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// A trigger of a journey activated after the event loop read its entry
// index is routed again with a fresh index, not marked processed and lost.
// (A stale index was re-checked only when an event had started someone.)
func TestTriggerOfJourneyActivatedAfterIndexIsNotLost(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	log := logprovider.New(nil)
	rt := New(Config{Store: st, Providers: channel.NewRegistry(map[string]channel.Provider{"email": log})})
	defer rt.Stop()

	stale, err := rt.entryIndex(ctx) // read before the journey exists
	if err != nil {
		t.Fatal(err)
	}
	j := activate(t, st, `{"nodes":[{"id":"in","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"go"}},
		{"id":"tag","type":"add_tag","position":{"x":0,"y":0},"config":{"tag":"in"}}],
		"edges":[{"id":"e1","source":"in","target":"tag"}]}`)
	if _, err := rt.Trigger(ctx, kalcifer.DefaultTenantID, j.ID, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.routeBatch(ctx, stale, 0, 1); !errors.Is(err, errStaleIndex) {
		t.Fatalf("routing with an index older than the journeys: err = %v, want errStaleIndex", err)
	}
	if n, err := rt.ProcessEvents(ctx); err != nil || n != 1 {
		t.Fatalf("routed %d, %v; want the trigger routed once", n, err)
	}
	page, err := st.ListInstances(ctx, store.InstanceFilter{TenantID: kalcifer.DefaultTenantID, JourneyID: j.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 {
		t.Fatalf("instances = %d, want the triggered customer's one", len(page.Data))
	}
}

// openStore opens a migrated SQLite store with the default tenant.
func openStore(t *testing.T) (*store.Store, *sqlite.Backend) {
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
	return st, b
}

// activate creates and activates a journey with the graph raw.
func activate(t *testing.T, st *store.Store, raw string) *kalcifer.Journey {
	t.Helper()
	var g graph.Graph
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatal(err)
	}
	j := &kalcifer.Journey{TenantID: kalcifer.DefaultTenantID, Name: "j", Graph: &g}
	if err := st.CreateJourney(context.Background(), "test", j); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TransitionJourney(context.Background(), store.TransitionJourneyParams{Actor: "test", TenantID: kalcifer.DefaultTenantID, JourneyID: j.ID, Action: kalcifer.ActionActivate}); err != nil {
		t.Fatal(err)
	}
	return j
}

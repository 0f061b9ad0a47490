package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testAnalyticsCounts: counters add up across transactions and shards,
// read back per version, node and metric, narrowed by version and hours,
// split into buckets; send counters by channel and provider across
// journeys; the waits a resumption looks up.
func testAnalyticsCounts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	h := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	add := func(counts ...store.Count) {
		must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error { return tx.AddCounts(counts) }))
	}
	c := func(version int, node, metric string, hour time.Time, n, total int64) store.Count {
		return store.Count{TenantID: "default", JourneyID: "j1", Version: version, NodeID: node, Hour: hour, Metric: metric, N: n, Total: total}
	}
	// Many transactions: on PostgreSQL they spread over the shards.
	for range 10 {
		add(c(1, "w", "entered", h, 1, 0), c(1, "w", "time:3", h, 2, 10), c(1, "", "entered", h, 1, 0))
	}
	add(c(2, "w", "entered", h.Add(24*time.Hour), 5, 0), c(2, "w", "entered", h.Add(25*time.Hour), 1, 0))
	// Another tenant's counts are never read.
	add(store.Count{TenantID: "acme", JourneyID: "j1", Version: 1, NodeID: "w", Hour: h, Metric: "entered", N: 100})

	read := func(p store.CountsParams) map[string]int64 {
		t.Helper()
		p.TenantID, p.JourneyID = "default", "j1"
		list, err := s.AnalyticsCounts(ctx, p)
		must(t, err)
		out := map[string]int64{}
		for _, c := range list {
			k := c.NodeID + "/" + c.Metric + "/v" + string(rune('0'+c.Version))
			if !c.Hour.IsZero() {
				k += "@" + c.Hour.Format("02T15")
			}
			out[k] += c.N
			if c.Total != 0 {
				out[k+"/total"] += c.Total
			}
		}
		return out
	}
	same := func(what string, got, want map[string]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("%s: %v, want %v", what, got, want)
			}
		}
	}
	same("nodes", read(store.CountsParams{Nodes: true}),
		map[string]int64{"w/entered/v1": 10, "w/time:3/v1": 20, "w/time:3/v1/total": 100, "w/entered/v2": 6})
	same("journey", read(store.CountsParams{}), map[string]int64{"/entered/v1": 10})
	same("one node, one version", read(store.CountsParams{Nodes: true, NodeID: "w", Version: 2}), map[string]int64{"w/entered/v2": 6})
	same("no such node", read(store.CountsParams{Nodes: true, NodeID: "x"}), map[string]int64{})
	same("from", read(store.CountsParams{Nodes: true, From: h.Add(24 * time.Hour)}), map[string]int64{"w/entered/v2": 6})
	same("to", read(store.CountsParams{Nodes: true, To: h.Add(25 * time.Hour)}),
		map[string]int64{"w/entered/v1": 10, "w/time:3/v1": 20, "w/time:3/v1/total": 100, "w/entered/v2": 5})
	same("hours", read(store.CountsParams{Nodes: true, Version: 2, Bucket: time.Hour}),
		map[string]int64{"w/entered/v2@02T10": 5, "w/entered/v2@02T11": 1})
	same("days", read(store.CountsParams{Nodes: true, Version: 2, Bucket: 24 * time.Hour}),
		map[string]int64{"w/entered/v2@02T00": 6})

	// Send counters, of one journey or every journey of the tenant.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		return tx.AddSendCounts([]store.SendCount{
			{TenantID: "default", JourneyID: "j1", Version: 1, NodeID: "m", Channel: "email", Provider: "acct", Hour: h, Metric: "send:sent", N: 3},
			{TenantID: "default", JourneyID: "j2", Version: 4, NodeID: "m", Channel: "email", Provider: "acct", Hour: h, Metric: "send:sent", N: 2},
			{TenantID: "default", JourneyID: "j1", Version: 1, NodeID: "m", Channel: "email", Provider: "acct", Hour: h, Metric: "delivery:opened", N: 1},
		})
	}))
	sends := func(journey string) map[string]int64 {
		list, err := s.AnalyticsSends(ctx, store.CountsParams{TenantID: "default", JourneyID: journey})
		must(t, err)
		out := map[string]int64{}
		for _, c := range list {
			out[c.Channel+"/"+c.Provider+"/"+c.Metric] += c.N
		}
		return out
	}
	same("sends of j1", sends("j1"), map[string]int64{"email/acct/send:sent": 3, "email/acct/delivery:opened": 1})
	same("sends of all", sends(""), map[string]int64{"email/acct/send:sent": 5, "email/acct/delivery:opened": 1})

	// WaitStarts finds the earliest waiting step of each visit asked for.
	j := activeJourney(t, s)
	in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1, CustomerID: "c1",
		Status: kalcifer.InstanceActive, State: []byte(`{}`), Nodes: []string{"exit"}}
	var began time.Time
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		if _, err := tx.StartInstance(in, false); err != nil {
			return err
		}
		began = tx.Now()
		return tx.SaveInstance(in, []kalcifer.Step{{Version: 1, PathID: 2, NodeID: "exit", Type: "journey_exit", Visit: 1, Result: "waiting", At: began}}, nil)
	}))
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		got, err := tx.WaitStarts([]store.WaitKey{{InstanceID: in.ID, PathID: 2, NodeID: "exit", Visit: 1}, {InstanceID: in.ID, PathID: 2, NodeID: "exit", Visit: 2}})
		if err != nil {
			return err
		}
		if len(got) != 1 || !got[store.WaitKey{InstanceID: in.ID, PathID: 2, NodeID: "exit", Visit: 1}].Equal(began.Truncate(time.Microsecond)) {
			t.Errorf("wait starts %v, want visit 1 at %v", got, began)
		}
		return nil
	}))
	waiting, err := s.WaitingAt(ctx, "default", j.ID, "exit")
	must(t, err)
	if waiting[1] != 1 || len(waiting) != 1 {
		t.Fatalf("waiting at exit: %v", waiting)
	}
}

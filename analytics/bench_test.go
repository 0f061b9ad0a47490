package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// BenchmarkEngineTx times one engine transaction on SQLite that starts an
// instance with three steps (an arrival, a branch, a wait), with and
// without the analytics observer: what the counters add to the hot path.
func BenchmarkEngineTx(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "analytics=off"
		if on {
			name = "analytics=on"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			be, err := sqlite.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			if err := be.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			st := store.New(be, kalcifer.SystemClock{}, secrets.Generate())
			defer st.Close()
			if _, _, err := st.EnsureTenant(ctx, "system", kalcifer.DefaultTenantID); err != nil {
				b.Fatal(err)
			}
			j := journey(b, st)
			if on {
				st.Observe(&analytics.Observer{})
			}
			b.ResetTimer()
			for range b.N {
				in := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1, CustomerID: "c",
					Status: kalcifer.InstanceActive, State: []byte(`{}`), Nodes: []string{"wait"}}
				err := st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
					if _, err := tx.StartInstance(in, true); err != nil {
						return err
					}
					now := tx.Now()
					return tx.SaveInstance(in, []kalcifer.Step{
						{Version: 1, NodeID: "entry", Type: "event_entry", Result: "default", At: now},
						{Version: 1, NodeID: "plan", Type: "condition", Result: "true", At: now},
						{Version: 1, NodeID: "wait", Type: "wait", Visit: 1, Result: "waiting", At: now.Add(time.Microsecond)}}, nil)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// BenchmarkIdentifyBatch measures the bulk import's store side: batches
// of 1,000 new profiles merged and written in one transaction each.
func BenchmarkIdentifyBatch(b *testing.B) {
	ctx := context.Background()
	be, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	if err := be.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	kr := secrets.Generate()
	s := store.New(be, kalcifer.SystemClock{}, kr)
	if _, _, err := s.EnsureTenant(ctx, "bench", "default"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		batch := make([]store.Identity, 1000)
		for j := range batch {
			batch[j] = store.Identity{CustomerID: fmt.Sprintf("c%d_%d", i, j), Attributes: map[string]any{"plan": "pro", "seats": 3, "address": map[string]any{"city": "Lyon"}}, AddTags: []string{"a", "b"}}
		}
		if _, err := s.IdentifyCustomers(ctx, "default", batch); err != nil {
			b.Fatal(err)
		}
	}
}

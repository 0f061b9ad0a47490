package sqlite_test

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
	"github.com/kalcifer/kalcifer/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		b, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	b, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := b.Q().QueryRow(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// A statement that fails inside a transaction must not block later ones:
// the prepared-statement cache drops what does not prepare.
func TestFailedStatementDoesNotWedgeWriter(t *testing.T) {
	ctx := context.Background()
	b, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bad := b.WithTx(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE tenants SET no_such_column = 1`)
		return err
	})
	if bad == nil {
		t.Fatal("a bad statement succeeded")
	}
	for range 3 {
		if err := b.WithTx(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE tenants SET created_at = created_at`)
			return err
		}); err != nil {
			t.Fatalf("a good transaction after a bad one: %v", err)
		}
	}
}

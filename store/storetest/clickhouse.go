package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/store"
)

// testClickHouseOutbox checks the ClickHouse sink's outbox: rows queued in
// an engine transaction commit with it (or not at all), claims hold rows
// from other shippers for their lease (where several processes share the
// database), and only deleted rows leave.
func testClickHouseOutbox(t *testing.T, s *store.Store) {
	ctx := context.Background()
	queue := func(n int, fail bool) error {
		return s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
			rows := make([]store.ClickHouseRow, n)
			for i := range rows {
				rows[i] = store.ClickHouseRow{Table: "kalcifer_steps", JSON: fmt.Appendf(nil, `{"n":%d}`, i)}
			}
			if err := tx.QueueClickHouse(rows); err != nil {
				return err
			}
			if fail {
				return fmt.Errorf("rolled back")
			}
			return nil
		})
	}
	backlog := func(want int) {
		t.Helper()
		n, err := s.ClickHouseBacklog(ctx)
		must(t, err)
		if n != want {
			t.Fatalf("backlog = %d, want %d", n, want)
		}
	}
	backlog(0)
	// More rows than one multi-row INSERT carries on either backend.
	must(t, queue(1203, false))
	if err := queue(5, true); err == nil {
		t.Fatal("the failing transaction committed")
	}
	backlog(1203)

	first, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
	must(t, err)
	if len(first) != 1000 || first[0].Table != "kalcifer_steps" || string(first[0].JSON) != `{"n":0}` || string(first[999].JSON) != `{"n":999}` {
		t.Fatalf("first claim: %d rows, first %+v", len(first), first[0])
	}
	ids := make([]int64, len(first))
	for i, r := range first {
		ids[i] = r.ID
	}
	if s.Backend().Dialect().SingleWriter {
		// One process, one shipper: rows are read, not claimed.
		again, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
		must(t, err)
		if len(again) != 1000 || again[0].ID != first[0].ID {
			t.Fatalf("second read: %d rows, want the same 1000", len(again))
		}
		must(t, s.DeleteClickHouse(ctx, ids))
		backlog(203)
		rest, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
		must(t, err)
		if len(rest) != 203 || string(rest[0].JSON) != `{"n":1000}` {
			t.Fatalf("after the delete: %d rows, want the 203 left", len(rest))
		}
		return
	}
	// Claimed rows are held: a second shipper gets the rest.
	rest, err := s.ClaimClickHouse(ctx, 1000, 0)
	must(t, err)
	if len(rest) != 203 || string(rest[0].JSON) != `{"n":1000}` {
		t.Fatalf("second claim: %d rows, want the 203 unclaimed", len(rest))
	}
	must(t, s.DeleteClickHouse(ctx, ids))
	backlog(203)
	// A claim whose lease ended (lease 0: at once) is claimed again.
	again, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
	must(t, err)
	if len(again) != 203 || again[0].ID != rest[0].ID {
		t.Fatalf("after the lease: %d rows, want the 203 again", len(again))
	}
	// Released rows are claimed again at once.
	none, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("%d rows claimed while all were held", len(none))
	}
	must(t, s.ReleaseClickHouse(ctx, []int64{again[5].ID, again[7].ID}))
	released, err := s.ClaimClickHouse(ctx, 1000, time.Hour)
	must(t, err)
	if len(released) != 2 || released[0].ID != again[5].ID || released[1].ID != again[7].ID {
		t.Fatalf("after a release: %+v, want the 2 released rows", released)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/kalcifer/kalcifer/store"
)

type pingArgs struct {
	Value string `json:"value"`
}

func (pingArgs) Kind() string { return "storetest_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	done chan string
}

func (w *pingWorker) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	w.done <- job.Args.Value
	return nil
}

// testJobs: a River job inserted in a transaction exists exactly when the
// transaction commits, and River's workers run it.
func testJobs(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := s.Backend()
	w := &pingWorker{done: make(chan string, 4)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	if err := b.StartJobs(ctx, workers, map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}); err != nil {
		t.Fatalf("start jobs: %v", err)
	}
	rolledBack := errors.New("roll back")
	err := b.WithTx(ctx, func(tx store.Tx) error {
		if err := b.InsertJobTx(ctx, tx, pingArgs{Value: "discarded"}, nil); err != nil {
			return err
		}
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatalf("WithTx = %v", err)
	}
	must(t, b.WithTx(ctx, func(tx store.Tx) error {
		return b.InsertJobTx(ctx, tx, pingArgs{Value: "committed"}, nil)
	}))
	select {
	case v := <-w.done:
		if v != "committed" {
			t.Fatalf("worker ran %q, the job of a rolled-back transaction", v)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the committed job did not run within 20s")
	}
	var n int
	must(t, b.Q().QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, pingArgs{}.Kind()).Scan(&n))
	if n != 1 {
		t.Fatalf("river_job rows = %d, want 1 (the rolled-back insert must not exist)", n)
	}
}

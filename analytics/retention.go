package analytics

import (
	"context"
	"log/slog"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// retentionBatch is how many ended instances' steps one transaction
// deletes, so that the deletion never holds the database for long.
const retentionBatch = 500

// PruneHistory deletes the history steps of instances that ended more than
// keep ago, a batch of instances per transaction until none is left, and
// returns how many steps it deleted. The counters keep their figures.
func PruneHistory(ctx context.Context, st *store.Store, clock kalcifer.Clock, keep time.Duration) (int64, error) {
	before := clock.Now().Add(-keep)
	var total int64
	for {
		n, err := st.DeleteHistory(ctx, before, retentionBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// RetainHistory runs PruneHistory every interval until ctx ends, logging
// what it deleted and any error.
func RetainHistory(ctx context.Context, st *store.Store, clock kalcifer.Clock, keep, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := PruneHistory(ctx, st, clock, keep)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("history retention", "err", err)
		case n > 0:
			logger.Info("history retention: deleted the steps of instances that ended long ago", "steps", n, "keep", keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

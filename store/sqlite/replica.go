package sqlite

import (
	"context"

	"github.com/kalcifer/kalcifer/store"
)

// Live records id as this process's replica. SQLite is used by one process
// at a time, so every other replica is gone: a send it left in flight was
// interrupted by a crash or restart.
func (b *Backend) Live(ctx context.Context, id int64) error {
	b.replica.Store(id)
	return nil
}

// ReplicaAlive reports whether id is this process's replica.
func (b *Backend) ReplicaAlive(ctx context.Context, tx store.Tx, id int64) (bool, error) {
	return id != 0 && id == b.replica.Load(), nil
}

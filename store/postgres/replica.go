package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kalcifer/kalcifer/store"
)

// replicaLockClass is the first key of the session advisory locks that
// mark replicas alive (the event lanes use 19790).
const replicaLockClass = 19791

// livenessCheck paces the retries of a lost connection (the liveness
// lock's, a listener's): a retry every quarter of it.
const livenessCheck = time.Second

// DefaultReplicaGrace is how long a replica's lock must be seen free before
// it counts as dead. A live replica whose lock connection alone was lost (a
// database restart, a proxy reset) takes its lock again well within it, so
// its sends in flight are not taken for a dead replica's.
const DefaultReplicaGrace = 10 * time.Second

// Live holds a session advisory lock (19791, id) on a connection of its own
// until ctx ends. PostgreSQL releases it the moment this process or its
// connection dies, so other replicas notice at once (ReplicaAlive), rather
// than after a lease. It returns once the lock is held. The connection is
// watched by a read that waits on it, not by pings: a lost connection is
// noticed at once and an idle one costs no statement.
func (b *Backend) Live(ctx context.Context, id int64) error {
	conn, err := b.lockReplica(ctx, id)
	if err != nil {
		return err
	}
	go func() {
		for {
			// Nothing is ever notified on this connection: the wait ends when
			// ctx does or the connection is lost.
			_, err := conn.Conn().WaitForNotification(ctx)
			if ctx.Err() != nil {
				// Closing the connection releases the lock.
				conn.Hijack().Close(context.Background())
				return
			}
			if err == nil {
				continue
			}
			b.logger.Warn("the connection marking this replica alive was lost; taking the lock again", "replica", id, "err", err)
			conn.Hijack().Close(context.Background())
			for conn, err = b.lockReplica(ctx, id); err != nil; conn, err = b.lockReplica(ctx, id) {
				if ctx.Err() != nil {
					return
				}
				time.Sleep(livenessCheck / 4)
			}
		}
	}()
	return nil
}

func (b *Backend) lockReplica(ctx context.Context, id int64) (*pgxpool.Conn, error) {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("replica liveness: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, replicaLockClass, int32(id)); err != nil {
		conn.Release()
		return nil, fmt.Errorf("replica liveness lock: %w", err)
	}
	return conn, nil
}

// ReplicaAlive reports whether replica id is running: whether it holds its
// liveness lock, or has not been seen without it for the grace period (a
// live replica may be taking it again on a new connection). If this
// transaction can take the lock, nobody holds it; the lock taken is
// released when tx ends.
func (b *Backend) ReplicaAlive(ctx context.Context, tx store.Tx, id int64) (bool, error) {
	var free bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, replicaLockClass, int32(id)).Scan(&free); err != nil {
		return false, fmt.Errorf("replica %d alive: %w", id, err)
	}
	b.replicasMu.Lock()
	defer b.replicasMu.Unlock()
	if !free {
		delete(b.lockFree, id)
		return true, nil
	}
	since, seen := b.lockFree[id]
	if !seen {
		b.lockFree[id] = time.Now()
		return b.replicaGrace > 0, nil
	}
	return time.Since(since) < b.replicaGrace, nil
}

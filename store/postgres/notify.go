package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxNotifyBytes is the most a NOTIFY payload may hold (PostgreSQL refuses
// 8000 bytes and more).
const MaxNotifyBytes = 7999

// Notify sends payload to every session listening on channel, in every
// replica (pg_notify). Payloads longer than MaxNotifyBytes are refused by
// the database.
func (b *Backend) Notify(ctx context.Context, channel, payload string) error {
	if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen listens on channel on a connection of its own and returns once
// the LISTEN is in place. The payloads arrive on the returned channel,
// which is closed when ctx ends. A lost connection is replaced; what was
// notified meanwhile is lost, so an empty payload follows each
// replacement, for receivers that must then look for themselves. A
// receiver that falls behind loses payloads rather than holding the
// connection up.
func (b *Backend) Listen(ctx context.Context, channel string) (<-chan string, error) {
	conn, err := b.listen(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		for {
			n, err := conn.WaitForNotification(ctx)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				select {
				case out <- n.Payload:
				default:
					b.logger.Warn("live notifications dropped: their reader is behind", "channel", channel)
				}
				continue
			}
			b.logger.Warn("the connection listening for notifications was lost; listening again", "channel", channel, "err", err)
			conn.Close(context.Background())
			conn = nil
			for conn == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(livenessCheck / 4):
				}
				if conn, err = b.listen(ctx, channel); err != nil {
					conn = nil
				}
			}
			select {
			case out <- "": // notifications may have been lost meanwhile
			default:
			}
		}
	}()
	return out, nil
}

// listen opens a connection outside the pool, so that listeners never
// take the pool's connections from the work, and listens on it.
func (b *Backend) listen(ctx context.Context, channel string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", channel, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen %s: %w", channel, err)
	}
	return conn, nil
}

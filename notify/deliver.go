package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/store"
)

// Headers of every outgoing webhook, beside call_webhook's
// X-Kalcifer-Timestamp and X-Kalcifer-Signature.
const (
	HeaderEvent    = "X-Kalcifer-Event"
	HeaderEventID  = "X-Kalcifer-Event-Id"
	HeaderDelivery = "X-Kalcifer-Delivery"
)

// Delivery defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 8
	// maxBackoff caps the delay before a retry the receiver did not time;
	// maxRetryAfter caps one it did.
	maxBackoff    = time.Hour
	maxRetryAfter = 24 * time.Hour
	maxResponse   = 64 << 10
)

// Config configures a Deliverer.
type Config struct {
	Store *store.Store
	// Client sends the requests: the netguard client, so that a
	// subscription's URL cannot reach the server's own networks. Nil means
	// the guard's default policy (no internal address). Redirects are never
	// followed.
	Client *http.Client
	Clock  kalcifer.Clock
	Logger *slog.Logger
	// Timeout bounds one request (DefaultTimeout).
	Timeout time.Duration
	// MaxAttempts is how many times a delivery is tried before it is
	// given up (DefaultMaxAttempts).
	MaxAttempts int
	// Concurrency bounds requests in flight (16).
	Concurrency int
	// Poll is how often the loop looks for due deliveries when nothing
	// wakes it (1 s), should a wake-up have been lost; while it finds
	// nothing the wait doubles, up to MaxPoll (60 polls). It sleeps no
	// longer than until the next delivery falls due. Refresh is how often
	// it reloads the subscriptions other replicas may have changed (10 s).
	Poll, MaxPoll, Refresh time.Duration
}

// Deliverer posts the outbox's deliveries.
type Deliverer struct {
	cfg  Config
	wake chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDeliverer returns a deliverer; Start runs its loop, DeliverDue one pass.
func NewDeliverer(cfg Config) *Deliverer {
	if cfg.Client == nil {
		cfg.Client = netguard.Policy{}.Client()
	}
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	if cfg.Clock == nil {
		cfg.Clock = kalcifer.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.MaxPoll <= 0 {
		cfg.MaxPoll = 60 * cfg.Poll
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	return &Deliverer{cfg: cfg, wake: make(chan struct{}, 1)}
}

// lease is how long a claimed delivery is held before another worker may
// take it again: well past the request's timeout, so that a slow request
// is never mistaken for a dead worker's.
func (d *Deliverer) lease() time.Duration { return 2*d.cfg.Timeout + 30*time.Second }

// Start loads the subscriptions and starts the loop.
func (d *Deliverer) Start(ctx context.Context) error {
	if err := d.cfg.Store.LoadHookSubscriptions(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.cancel, d.done = cancel, make(chan struct{})
	done := d.done
	d.mu.Unlock()
	go func() {
		defer close(done)
		wait := d.cfg.Poll
		poll, refresh := time.NewTimer(wait), time.NewTicker(d.cfg.Refresh)
		defer poll.Stop()
		defer refresh.Stop()
		for {
			busy := false
			select {
			case <-ctx.Done():
				return
			case <-refresh.C:
				// Engine transactions consult the index of active
				// subscriptions: it must not lag far behind the others'.
				if err := d.cfg.Store.LoadHookSubscriptions(ctx); err != nil && ctx.Err() == nil {
					d.cfg.Logger.Error("reload webhook subscriptions", "err", err)
				}
				continue
			case <-poll.C:
			case <-d.wake:
				busy = true
			}
			for {
				n, err := d.DeliverDue(ctx)
				if err != nil && ctx.Err() == nil {
					d.cfg.Logger.Error("deliver webhooks", "err", err)
				}
				busy = busy || n > 0
				if n == 0 || err != nil || ctx.Err() != nil {
					break
				}
			}
			if busy {
				wait = d.cfg.Poll
			} else {
				wait = min(2*wait, d.cfg.MaxPoll)
			}
			poll.Reset(min(wait, d.untilNextDue(ctx)))
		}
	}()
	return nil
}

// untilNextDue is how long until the next delivery falls due.
func (d *Deliverer) untilNextDue(ctx context.Context) time.Duration {
	due, ok, err := d.cfg.Store.NextHookDue(ctx)
	if err != nil || !ok {
		return d.cfg.MaxPoll
	}
	return max(due.Sub(d.cfg.Clock.Now()), time.Millisecond)
}

// Stop ends the loop and waits for it; requests in flight are cut off and
// their deliveries taken again after their lease.
func (d *Deliverer) Stop() {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// DeliverDue claims the deliveries that are due, posts them and records
// each outcome; it returns how many it claimed.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	claimed, err := d.cfg.Store.ClaimHookDeliveries(ctx, d.cfg.Concurrency*4, d.lease())
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, d.cfg.Concurrency)
	errs := make([]error, len(claimed))
	var wg sync.WaitGroup
	for i := range claimed {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := &claimed[i]
			errs[i] = d.cfg.Store.RecordHookDelivery(ctx, c, d.attempt(ctx, c))
		}()
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// attempt posts one delivery and says how it ended.
func (d *Deliverer) attempt(ctx context.Context, c *store.ClaimedHookDelivery) store.HookResult {
	if !c.Active {
		return store.HookResult{Status: kalcifer.HookFailed, Error: "the subscription was switched off before this delivery was sent"}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return store.HookResult{Status: kalcifer.HookFailed, Error: "build request: " + err.Error()}
	}
	now := d.cfg.Clock.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kalcifer-Webhooks")
	req.Header.Set(HeaderEvent, c.EventType)
	req.Header.Set(HeaderEventID, c.EventID)
	req.Header.Set(HeaderDelivery, c.ID)
	req.Header.Set(webhook.HeaderTimestamp, ts)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(c.Secret), ts, c.Payload))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if b, ok := netguard.IsBlocked(err); ok {
			return store.HookResult{Status: kalcifer.HookFailed, Error: b.Error()}
		}
		return d.retry(c, now, 0, "request failed: "+err.Error(), "")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return store.HookResult{Status: kalcifer.HookDelivered, ResponseCode: code}
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return d.retry(c, now, code, fmt.Sprintf("the receiver answered HTTP %d", code), resp.Header.Get("Retry-After"))
	case code >= 300 && code <= 399:
		return store.HookResult{Status: kalcifer.HookFailed, ResponseCode: code,
			Error: fmt.Sprintf("the receiver answered HTTP %d: redirects are not followed, use the final URL", code)}
	}
	return store.HookResult{Status: kalcifer.HookFailed, ResponseCode: code,
		Error: fmt.Sprintf("the receiver answered HTTP %d, which is not retried", code)}
}

// retry schedules the next attempt, or gives up after the last.
func (d *Deliverer) retry(c *store.ClaimedHookDelivery, now time.Time, code int, msg, retryAfter string) store.HookResult {
	if c.Attempts >= d.cfg.MaxAttempts {
		return store.HookResult{Status: kalcifer.HookFailed, ResponseCode: code,
			Error: fmt.Sprintf("gave up after %d attempts: %s", c.Attempts, msg)}
	}
	delay := Backoff(c.Attempts)
	if retryAfter != "" {
		delay = min(webhook.RetryAfter(retryAfter, now, delay), maxRetryAfter)
	}
	return store.HookResult{Status: kalcifer.HookPending, RetryAt: now.Add(delay), ResponseCode: code, Error: msg}
}

// Backoff is the delay after failed attempt n (1 for the first) when the
// receiver named none: 10 s doubling to an hour, each with jitter down to
// half, so that deliveries refused together do not all come back together.
// With the default 8 attempts a delivery is given up about 21 minutes
// (at most 42) after its first try.
func Backoff(n int) time.Duration {
	d := min(10*time.Second<<min(max(n-1, 0), 12), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// LimitsTTL is how long a replica uses a tenant's limits before reading
// them again, so that an operator's change reaches running servers within
// that time.
const LimitsTTL = 5 * time.Second

// rateLimiter holds a token bucket per tenant for events and one for API
// requests, in this process's memory: with several replicas, each enforces
// a tenant's limits on its own, so the cluster-wide limit is the replicas'
// count times the setting. A bucket holds one period's worth (a second of
// events, a minute of requests), which is the burst a quiet tenant may
// spend at once.
type rateLimiter struct {
	store *store.Store
	clock kalcifer.Clock
	mu    sync.Mutex
	byID  map[string]*tenantBuckets
}

type tenantBuckets struct {
	limits kalcifer.Limits
	read   time.Time // when limits were read
	events *rate.Limiter
	api    *rate.Limiter
}

func newRateLimiter(st *store.Store, clock kalcifer.Clock) *rateLimiter {
	return &rateLimiter{store: st, clock: clock, byID: map[string]*tenantBuckets{}}
}

// buckets returns the tenant's buckets, with limits at most LimitsTTL old,
// and the time to take tokens at. The caller holds l.mu.
func (l *rateLimiter) buckets(ctx context.Context, tenantID string) (*tenantBuckets, time.Time, error) {
	now := l.clock.Now()
	b := l.byID[tenantID]
	if b != nil && now.Sub(b.read) < LimitsTTL {
		return b, now, nil
	}
	lim, err := l.store.Limits(ctx, tenantID)
	if err != nil {
		return nil, now, err
	}
	if b == nil || lim.EventsPerSecond != b.limits.EventsPerSecond || lim.APIPerMinute != b.limits.APIPerMinute {
		// New or changed limits start with full buckets.
		b = &tenantBuckets{events: bucket(lim.EventsPerSecond, time.Second), api: bucket(lim.APIPerMinute, time.Minute)}
		l.byID[tenantID] = b
	}
	b.limits, b.read = lim, now
	return b, now, nil
}

// bucket allows n per period, with a burst of n; 0 is unlimited. It starts
// full.
func bucket(n int, period time.Duration) *rate.Limiter {
	if n == 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(float64(n)/period.Seconds()), n)
}

// takeEvents takes n events from the tenant's budget, all or none: a batch
// that does not fit is refused whole, ERATELIMITED with when it would fit,
// or EUNPROCESSABLE when it is larger than the whole burst and never will.
func (l *rateLimiter) takeEvents(ctx context.Context, tenantID string, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, now, err := l.buckets(ctx, tenantID)
	if err != nil {
		return err
	}
	perSecond := b.limits.EventsPerSecond
	if perSecond == 0 {
		return nil
	}
	if n > perSecond {
		return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
			Message: fmt.Sprintf("this batch of %d events is larger than this tenant's limit of %d events per second, so it can never be accepted: send batches of at most %d; nothing was stored", n, perSecond, perSecond),
			Details: []kalcifer.Detail{{Field: "events", Message: fmt.Sprintf("must hold at most %d events (the tenant's events per second)", perSecond)}}}
	}
	if wait := take(b.events, now, n); wait > 0 {
		what := "this event"
		if n > 1 {
			what = fmt.Sprintf("this batch of %d events", n)
		}
		return &kalcifer.Error{Code: kalcifer.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("rate limited: this tenant may send %d events per second, and %s does not fit now; nothing was stored, retry after %s",
				perSecond, what, retrySeconds(wait)),
			State: map[string]any{"limit": "events_per_second", "events_per_second": perSecond}}
	}
	return nil
}

// takeRequest takes one API request from the tenant's budget.
func (l *rateLimiter) takeRequest(ctx context.Context, tenantID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, now, err := l.buckets(ctx, tenantID)
	if err != nil {
		return err
	}
	if b.limits.APIPerMinute == 0 {
		return nil
	}
	if wait := take(b.api, now, 1); wait > 0 {
		return &kalcifer.Error{Code: kalcifer.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("rate limited: this tenant may make %d API requests per minute; retry after %s",
				b.limits.APIPerMinute, retrySeconds(wait)),
			State: map[string]any{"limit": "api_per_minute", "api_per_minute": b.limits.APIPerMinute}}
	}
	return nil
}

// take takes n tokens from lim if they are there now and returns 0, or
// takes none and returns how long until they would be.
func take(lim *rate.Limiter, now time.Time, n int) time.Duration {
	r := lim.ReserveN(now, n)
	wait := r.DelayFrom(now)
	if wait > 0 {
		r.CancelAt(now)
	}
	return wait
}

// retrySeconds is the Retry-After value for wait: whole seconds, at least 1.
func retrySeconds(wait time.Duration) string {
	return fmt.Sprintf("%ds", retryAfter(wait))
}

func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// rateLimit takes one request from the caller's tenant's API budget; over
// it, the request is answered 429 with Retry-After.
func (s *server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.limiter.takeRequest(r.Context(), principal(r).TenantID); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/internal/netguard"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider's name in node configs and the registry.
const Name = "webhook"

// Request headers set on every call. Node configs cannot override them.
const (
	HeaderTimestamp      = "X-Kalcifer-Timestamp"
	HeaderSignature      = "X-Kalcifer-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

const (
	// DefaultTimeout bounds a call when neither an option nor the node's
	// "timeout" config says otherwise.
	DefaultTimeout = 10 * time.Second
	// MaxTimeout caps any timeout. It stays below the engine's send lease
	// (3 minutes), so a slow call is never taken for a dead worker's.
	MaxTimeout = 2 * time.Minute
	// maxResponse is how much of an answer is read: only the status counts,
	// reading a little lets the connection be reused.
	maxResponse = 64 << 10
	// maxRetryAfter caps a receiver's Retry-After.
	maxRetryAfter = 24 * time.Hour
	// maxBackoff caps the delay before a retry the receiver did not time.
	maxBackoff = time.Minute
)

// SecretFunc returns a tenant's webhook signing secret. Errors are retried,
// unless they are channel.Permanent errors, which fail the send at once.
type SecretFunc func(ctx context.Context, tenantID string) ([]byte, error)

// Provider calls webhooks. It is safe for concurrent use.
type Provider struct {
	secretFor SecretFunc
	client    *http.Client
	timeout   time.Duration
	clock     kalcifer.Clock
}

// Option configures a Provider.
type Option func(*Provider)

// client sends through p's guard (whose transport keeps enough idle
// connections per host for the engine's calls in flight). It never follows
// redirects: a signed request is delivered only where the node says.
func client(p netguard.Policy) *http.Client {
	return &http.Client{Transport: p.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// WithPolicy sets which internal addresses webhooks may reach. The default
// (the zero netguard.Policy) refuses every loopback, private and
// link-local address, whatever name resolves to it: a URL is the tenant's
// choice, and the server's own networks are not the tenant's to call.
func WithPolicy(policy netguard.Policy) Option {
	return func(p *Provider) { p.client = client(policy) }
}

// WithTimeout sets the default time a call may take, capped at MaxTimeout;
// a node's "timeout" config overrides it. A d of zero or less is ignored.
func WithTimeout(d time.Duration) Option {
	return func(p *Provider) {
		if d > 0 {
			p.timeout = min(d, MaxTimeout)
		}
	}
}

// WithClock sets the clock that stamps requests; the default (and the
// choice for a nil c) is the system clock.
func WithClock(c kalcifer.Clock) Option {
	return func(p *Provider) {
		if c != nil {
			p.clock = c
		}
	}
}

// New returns a webhook provider signing with the secrets secretFor
// returns. It panics if secretFor is nil.
func New(secretFor SecretFunc, opts ...Option) *Provider {
	if secretFor == nil {
		panic("webhook: nil secret function")
	}
	p := &Provider{secretFor: secretFor, client: client(netguard.Policy{}), timeout: DefaultTimeout, clock: kalcifer.SystemClock{}}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Name returns "webhook".
func (p *Provider) Name() string { return Name }

// Deduplicates reports whether the node declares that its receiver drops
// repeats of the Idempotency-Key ("idempotent": true).
func (p *Provider) Deduplicates(m channel.Message) bool { return m.Config["idempotent"] == true }

// Send calls the node's webhook once. See the package comment for how
// failures are classified.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	c, err := parseConfig(m.Config, p.timeout)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("webhook node %s: %w", m.NodeID, err))
	}
	body, err := payload(m, c.extra)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("webhook node %s: %w", m.NodeID, err))
	}
	secret, err := p.secret(ctx, m)
	if err != nil {
		return channel.Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := p.request(ctx, c, m.Key, secret, body)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("webhook node %s: %w", m.NodeID, err))
	}
	return p.do(req, m.Attempt)
}

// do sends req and classifies the outcome. Whether the request was fully
// written tells a failure the receiver never saw (retry) from one it may
// have acted on (ambiguous).
func (p *Provider) do(req *http.Request, attempt int) (channel.Result, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	// With an Idempotency-Key header the transport may itself repeat a
	// request written on a reused connection that closed before any answer;
	// the receiver can drop the repeat by its key.
	resp, err := p.client.Do(req)
	if err != nil {
		return channel.Result{}, callError(err, req.URL.Hostname(), wrote.Load(), attempt)
	}
	defer resp.Body.Close()
	// Only the status counts; a failed or short read of the answer changes
	// nothing about what the receiver did, so its error is not reported.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	return classify(resp, p.clock.Now(), attempt)
}

// callError classifies a call that got no answer, in words the tenant may
// read (they become the send's detail). A refused address is named, as the
// tenant wrote it or as its name resolved. Every other failure reads the
// same within its outcome, never quoting the error: "connection refused"
// against "timeout" or a TLS failure would tell which ports of a host are
// open, and a non-HTTP answer would be quoted back ("malformed HTTP
// response \"SSH-2.0-...\"").
func callError(err error, host string, wrote bool, attempt int) error {
	if b, ok := netguard.IsBlocked(err); ok {
		return channel.Permanent(fmt.Errorf("webhook to %s not sent: %w", host, b))
	}
	if wrote {
		return channel.Ambiguous(errors.New("webhook outcome unknown, not retried: the request was sent but no complete HTTP answer came back (timeout, lost connection or not HTTP)"))
	}
	return channel.Retry(errors.New("webhook not sent: could not connect to the receiver (no connection, or no TLS handshake)"), backoff(attempt))
}

// secret fetches the tenant's signing secret. Nothing was sent yet, so a
// failure is retried unless the secret function says it is permanent.
func (p *Provider) secret(ctx context.Context, m channel.Message) ([]byte, error) {
	secret, err := p.secretFor(ctx, m.TenantID)
	if err != nil {
		err = fmt.Errorf("webhook signing secret of tenant %s: %w", m.TenantID, err)
		if o, _ := channel.Classify(err); o == channel.OutcomeFailed {
			return nil, err
		}
		return nil, channel.Retry(err, backoff(m.Attempt))
	}
	if len(secret) == 0 {
		return nil, channel.Permanent(fmt.Errorf("tenant %s has no webhook signing secret", m.TenantID))
	}
	return secret, nil
}

// request builds the signed request.
func (p *Provider) request(ctx context.Context, c config, key string, secret, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for name, value := range c.headers {
		req.Header.Set(name, value)
	}
	ts := strconv.FormatInt(p.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kalcifer")
	req.Header.Set(HeaderIdempotencyKey, key)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	return req, nil
}

// payload is the JSON body: the node's "body" fields plus the send's
// context. The context fields win, so receivers can always rely on them.
func payload(m channel.Message, extra map[string]any) ([]byte, error) {
	p := make(map[string]any, len(extra)+7)
	maps.Copy(p, extra)
	maps.Copy(p, map[string]any{
		"key":         m.Key,
		"journey_id":  m.JourneyID,
		"version":     m.Version,
		"instance_id": m.InstanceID,
		"node_id":     m.NodeID,
		"customer":    m.Customer,
		"event":       m.Event,
	})
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b, nil
}

// classify maps the receiver's status to an outcome.
func classify(resp *http.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.StatusCode
	err := fmt.Errorf("webhook answered HTTP %d", code)
	switch {
	case code >= 200 && code <= 299:
		return channel.Result{Detail: "HTTP " + strconv.Itoa(code)}, nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		// These say the request was not processed.
		return channel.Result{}, channel.Retry(err, RetryAfter(resp.Header.Get("Retry-After"), now, backoff(attempt)))
	case code >= 500:
		// A 500 may follow work already done, and a 502 or 504 comes from a
		// proxy whose upstream may have acted: the outcome is unknown.
		return channel.Result{}, channel.Ambiguous(err)
	case code >= 300 && code <= 399:
		return channel.Result{}, channel.Permanent(fmt.Errorf("%w (redirects are not followed; use the final URL)", err))
	}
	return channel.Result{}, channel.Permanent(err)
}

// RetryAfter reads a Retry-After header, in seconds or as an HTTP date,
// falling back to def when it is absent or malformed.
func RetryAfter(v string, now time.Time, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return def
}

// backoff is the delay before retrying attempt when the receiver gave none:
// 1s, 2s, 4s... up to a minute.
func backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return maxBackoff
	}
	return min(time.Second<<(attempt-1), maxBackoff)
}

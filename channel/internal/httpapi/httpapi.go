// Package httpapi holds what the HTTP email providers (sendgrid, ses,
// postmark) share: a client that does not follow redirects, a call that
// tells a request the provider never saw from one it may have acted on,
// Retry-After, backoff with jitter, and bounded error texts.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/internal/netguard"
)

const (
	// DefaultTimeout bounds a call when the caller's client sets none. It
	// stays well below the engine's send lease (3 minutes).
	DefaultTimeout = 30 * time.Second
	// maxBody is how much of an answer is read.
	maxBody = 64 << 10
	// MaxRetryAfter caps a provider's Retry-After.
	MaxRetryAfter = 24 * time.Hour
	// maxMessage is how much of a provider's error message an error keeps.
	maxMessage = 300
)

// Client returns a copy of c that never follows redirects (a provider API
// answers where it is asked; credentials must not follow a redirect), with
// DefaultTimeout when c sets no timeout. A nil c means a client with the
// SSRF guard's default policy (internal/netguard: the server's own
// networks refused), so a driver built without the catalog's client never
// fails open.
func Client(c *http.Client) *http.Client {
	if c == nil {
		c = netguard.Policy{}.Client()
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cc.Timeout <= 0 {
		cc.Timeout = DefaultTimeout
	}
	return &cc
}

// Response is a provider's answer, its body read up to 64 KiB.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// NewJSONRequest builds a POST of body as JSON.
func NewJSONRequest(ctx context.Context, url string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Kalcifer")
	return req, nil
}

// Do sends req. A transport failure before the request was fully written
// is a channel.Retry error (the provider never saw the whole request); after
// it — a timeout, a connection dropped before the answer — it is
// channel.Ambiguous, because the provider may have accepted the message.
// name names the provider in errors. A failed read of the answer's body
// keeps what was read: the status already says what the provider did.
func Do(c *http.Client, req *http.Request, name string, attempt int) (*Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.Do(req)
	if err != nil {
		if wrote.Load() {
			return nil, channel.Ambiguous(fmt.Errorf("%s: outcome unknown, the request was sent but no answer came: %w", name, err))
		}
		return nil, channel.Retry(fmt.Errorf("%s: not sent: %w", name, err), channel.Backoff(attempt))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// ServerError classifies a 5xx answer. The providers document 5xx answers
// as the message not being accepted, to be retried, so they are retried
// with backoff — except 504, a gateway that gave up waiting for the
// provider, which may have acted: like a client timeout, it is ambiguous.
func ServerError(err error, status int, attempt int) error {
	if status == http.StatusGatewayTimeout {
		return channel.Ambiguous(err)
	}
	return channel.Retry(err, channel.Backoff(attempt))
}

// RetryAfter reads a Retry-After header, in seconds or as an HTTP date, up
// to MaxRetryAfter; def when it is absent or malformed.
func RetryAfter(v string, now time.Time, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter)
	}
	return def
}

// Truncate shortens a provider's error message for the ledger.
func Truncate(s string) string {
	r := []rune(s)
	if len(r) <= maxMessage {
		return s
	}
	return string(r[:maxMessage]) + "…"
}

// BaseURL checks a provider account's base_url — an http(s) URL without
// query or fragment — and returns it without a trailing slash; empty means
// def, the provider's public API.
func BaseURL(s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base_url %q must be an http or https URL like %s", s, def)
	}
	return strings.TrimRight(s, "/"), nil
}

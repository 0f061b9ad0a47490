package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/internal/netguard"
)

var now = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)

type fixedClock struct{}

func (fixedClock) Now() time.Time { return now }

// received is one request as the receiver saw it.
type received struct {
	method string
	header http.Header
	body   []byte
}

// receiver is a real HTTP server that records what reaches it and answers
// with its handler.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, received{method: req.Method, header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		answer(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

type testBundle struct {
	secret   []byte
	provider *webhook.Provider
}

func setup(t *testing.T, opts ...webhook.Option) testBundle {
	t.Helper()
	secret := []byte("tenant-secret")
	secretFor := func(_ context.Context, tenantID string) ([]byte, error) {
		if tenantID != "t1" {
			return nil, errors.New("unknown tenant " + tenantID)
		}
		return secret, nil
	}
	// The receivers are on 127.0.0.1: these tests allow private networks.
	opts = append([]webhook.Option{webhook.WithClock(fixedClock{}), webhook.WithPolicy(netguard.Policy{AllowPrivate: true})}, opts...)
	return testBundle{secret: secret, provider: webhook.New(secretFor, opts...)}
}

func message(config map[string]any) channel.Message {
	return channel.Message{
		Key: "inst1:n1:1", TenantID: "t1", JourneyID: "j1", Version: 3, InstanceID: "inst1",
		NodeID: "n1", NodeType: "call_webhook", Channel: "webhook", Config: config,
		Customer: map[string]any{"id": "c42", "email": "ada@example.com", "tags": []string{"vip"}},
		Event:    map[string]any{"type": "signed_up", "data": map[string]any{"plan": "pro"}},
		Attempt:  1,
	}
}

func TestSendSignsRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, status(http.StatusOK))
	m := message(map[string]any{"url": rcv.URL + "/hook"})

	res, err := b.provider.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "HTTP 200" {
		t.Errorf("Detail = %q, want HTTP 200", res.Detail)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	ts, sig := got.header.Get(webhook.HeaderTimestamp), got.header.Get(webhook.HeaderSignature)
	if ts != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("timestamp = %q, want %d", ts, now.Unix())
	}
	if !webhook.Verify(b.secret, ts, sig, got.body) {
		t.Errorf("signature %q does not verify", sig)
	}
	if webhook.Verify([]byte("wrong-secret"), ts, sig, got.body) {
		t.Error("signature verifies with a wrong secret")
	}
	if webhook.Verify(b.secret, ts, sig, append(got.body, ' ')) {
		t.Error("signature verifies a changed body")
	}
	if webhook.Verify(b.secret, "1", sig, got.body) {
		t.Error("signature verifies another timestamp")
	}
	want := map[string]string{
		"Idempotency-Key": m.Key, "Content-Type": "application/json", "User-Agent": "Kalcifer",
	}
	for name, value := range want {
		if got.header.Get(name) != value {
			t.Errorf("header %s = %q, want %q", name, got.header.Get(name), value)
		}
	}
	if got.method != http.MethodPost {
		t.Errorf("method = %s, want POST", got.method)
	}
}

func TestSendDefaultBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, status(http.StatusNoContent))
	if _, err := b.provider.Send(t.Context(), message(map[string]any{"url": rcv.URL})); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var body struct {
		Key        string         `json:"key"`
		JourneyID  string         `json:"journey_id"`
		Version    int            `json:"version"`
		InstanceID string         `json:"instance_id"`
		NodeID     string         `json:"node_id"`
		Customer   map[string]any `json:"customer"`
		Event      map[string]any `json:"event"`
	}
	if err := json.Unmarshal(rcv.requests()[0].body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body.Key != "inst1:n1:1" || body.JourneyID != "j1" || body.Version != 3 || body.InstanceID != "inst1" || body.NodeID != "n1" {
		t.Errorf("context fields = %+v", body)
	}
	if body.Customer["id"] != "c42" || body.Customer["email"] != "ada@example.com" {
		t.Errorf("customer = %v", body.Customer)
	}
	if body.Event["type"] != "signed_up" {
		t.Errorf("event = %v", body.Event)
	}
}

func TestSendCustomMethodHeadersAndBody(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, status(http.StatusAccepted))
	m := message(map[string]any{
		"url":    rcv.URL,
		"method": "PUT",
		"headers": map[string]any{
			"X-Api-Token":     "abc",
			"Idempotency-Key": "spoofed", // the provider's own headers win
		},
		"body": map[string]any{"plan": "pro", "key": "spoofed"},
	})
	res, err := b.provider.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "HTTP 202" {
		t.Errorf("Detail = %q, want HTTP 202", res.Detail)
	}
	got := rcv.requests()[0]
	if got.method != http.MethodPut {
		t.Errorf("method = %s, want PUT", got.method)
	}
	if got.header.Get("X-Api-Token") != "abc" {
		t.Errorf("X-Api-Token = %q, want abc", got.header.Get("X-Api-Token"))
	}
	if got.header.Get("Idempotency-Key") != m.Key {
		t.Errorf("Idempotency-Key = %q, want %q", got.header.Get("Idempotency-Key"), m.Key)
	}
	var body map[string]any
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body["plan"] != "pro" || body["key"] != m.Key || body["customer"] == nil {
		t.Errorf("body = %v, want the extra field plus the context", body)
	}
}

func TestSendStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  http.HandlerFunc
		attempt int
		outcome channel.Outcome
		after   time.Duration
	}{
		{"200", status(200), 1, channel.OutcomeSent, 0},
		{"204", status(204), 1, channel.OutcomeSent, 0},
		{"500 may have acted", status(500), 1, channel.OutcomeAmbiguous, 0},
		{"502 may have acted", status(502), 1, channel.OutcomeAmbiguous, 0},
		{"503 with Retry-After", status(503, "Retry-After", "7"), 1, channel.OutcomeRetry, 7 * time.Second},
		{"503 with a Retry-After date", status(503, "Retry-After", now.Add(30*time.Second).Format(http.TimeFormat)), 1, channel.OutcomeRetry, 30 * time.Second},
		{"503 with a bad Retry-After", status(503, "Retry-After", "soon"), 1, channel.OutcomeRetry, time.Second},
		{"503 with a huge Retry-After", status(503, "Retry-After", "99999999999999"), 1, channel.OutcomeRetry, 24 * time.Hour},
		{"429", status(429), 1, channel.OutcomeRetry, time.Second},
		{"429 backs off by attempt", status(429), 3, channel.OutcomeRetry, 4 * time.Second},
		{"429 with Retry-After", status(429, "Retry-After", "2"), 3, channel.OutcomeRetry, 2 * time.Second},
		{"408", status(408), 1, channel.OutcomeRetry, time.Second},
		{"400", status(400), 1, channel.OutcomeFailed, 0},
		{"404", status(404), 1, channel.OutcomeFailed, 0},
		{"redirect not followed", status(302, "Location", "/elsewhere"), 1, channel.OutcomeFailed, 0},
		{"large answer", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(make([]byte, 1<<20))
		}, 1, channel.OutcomeSent, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			rcv := newReceiver(t, tt.answer)
			m := message(map[string]any{"url": rcv.URL})
			m.Attempt = tt.attempt
			_, err := b.provider.Send(t.Context(), m)
			outcome, after := channel.Classify(err)
			if outcome != tt.outcome || after != tt.after {
				t.Errorf("Send → %v → %s, %v; want %s, %v", err, outcome, after, tt.outcome, tt.after)
			}
			if n := len(rcv.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

func TestSendConnectionRefusedIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	_, err := b.provider.Send(t.Context(), message(map[string]any{"url": url}))
	if outcome, after := channel.Classify(err); outcome != channel.OutcomeRetry || after != time.Second {
		t.Errorf("Send to a closed server → %v → %s, %v; want retry, 1s", err, outcome, after)
	}
}

func TestSendCancelledBeforeWritingIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rcv := newReceiver(t, status(200))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := b.provider.Send(ctx, message(map[string]any{"url": rcv.URL}))
	if outcome, _ := channel.Classify(err); outcome != channel.OutcomeRetry {
		t.Errorf("Send with a cancelled context → %v → %s; want retry", err, outcome)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}

func TestSendTimeoutAfterWritingIsAmbiguous(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   []webhook.Option
		config map[string]any
	}{
		{"provider timeout", []webhook.Option{webhook.WithTimeout(100 * time.Millisecond)}, map[string]any{}},
		{"node timeout", nil, map[string]any{"timeout": "100ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opts...)
			release := make(chan struct{})
			rcv := newReceiver(t, func(_ http.ResponseWriter, r *http.Request) {
				select { // answer only when the client has gone or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			})
			t.Cleanup(func() { close(release) }) // runs before the server's Close
			tt.config["url"] = rcv.URL
			start := time.Now()
			_, err := b.provider.Send(t.Context(), message(tt.config))
			if outcome, _ := channel.Classify(err); outcome != channel.OutcomeAmbiguous {
				t.Errorf("Send to a hanging receiver → %v → %s; want ambiguous", err, outcome)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Send took %v; the timeout was not applied", elapsed)
			}
			if n := len(rcv.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

func TestSendRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config map[string]any // "URL" is replaced by a live receiver's URL
		want   string
	}{
		{"no url", map[string]any{}, "url"},
		{"empty url", map[string]any{"url": ""}, "url"},
		{"url not a string", map[string]any{"url": 42}, "url"},
		{"unparsable url", map[string]any{"url": "http://[::1"}, "url"},
		{"relative url", map[string]any{"url": "/hook"}, "scheme"},
		{"ftp url", map[string]any{"url": "ftp://example.com/x"}, "scheme"},
		{"no host", map[string]any{"url": "http:///x"}, "host"},
		{"bad method", map[string]any{"url": "URL", "method": "PO ST"}, "method"},
		{"method not a string", map[string]any{"url": "URL", "method": 1}, "method"},
		{"headers not an object", map[string]any{"url": "URL", "headers": "x"}, "headers"},
		{"header not a string", map[string]any{"url": "URL", "headers": map[string]any{"X-A": 1}}, "X-A"},
		{"bad header name", map[string]any{"url": "URL", "headers": map[string]any{"X A": "1"}}, "X A"},
		{"header injection", map[string]any{"url": "URL", "headers": map[string]any{"X-A": "1\r\nX-B: 2"}}, "X-A"},
		{"body not an object", map[string]any{"url": "URL", "body": "x"}, "body"},
		{"bad timeout", map[string]any{"url": "URL", "timeout": "soon"}, "timeout"},
		{"zero timeout", map[string]any{"url": "URL", "timeout": "0s"}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			rcv := newReceiver(t, status(200))
			if tt.config["url"] == "URL" {
				tt.config["url"] = rcv.URL
			}
			_, err := b.provider.Send(t.Context(), message(tt.config))
			if outcome, _ := channel.Classify(err); outcome != channel.OutcomeFailed {
				t.Errorf("Send → %v → %s; want failed", err, outcome)
			}
			if err != nil && (!strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "n1")) {
				t.Errorf("error %q should name node n1 and %s", err, tt.want)
			}
			if n := len(rcv.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want 0", n)
			}
		})
	}
}

func TestSendSecretProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  webhook.SecretFunc
		outcome channel.Outcome
	}{
		{"lookup fails", func(context.Context, string) ([]byte, error) { return nil, errors.New("db down") }, channel.OutcomeRetry},
		{"lookup fails for good", func(context.Context, string) ([]byte, error) {
			return nil, channel.Permanent(errors.New("no such tenant"))
		}, channel.OutcomeFailed},
		{"empty secret", func(context.Context, string) ([]byte, error) { return nil, nil }, channel.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, status(200))
			_, err := webhook.New(tt.secret).Send(t.Context(), message(map[string]any{"url": rcv.URL}))
			if outcome, _ := channel.Classify(err); outcome != tt.outcome {
				t.Errorf("Send → %v → %s; want %s", err, outcome, tt.outcome)
			}
			if err != nil && !strings.Contains(err.Error(), "t1") {
				t.Errorf("error %q should name the tenant", err)
			}
			if n := len(rcv.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want 0", n)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret, ts, body := []byte("s3cret"), "1700000000", []byte(`{"a":1}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + string(body)))
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name      string
		secret    []byte
		signature string
		want      bool
	}{
		{"good", secret, good, true},
		{"no prefix", secret, strings.TrimPrefix(good, "sha256="), false},
		{"upper-case hex", secret, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), false},
		{"wrong secret", []byte("other"), good, false},
		{"empty secret", nil, "sha256=" + hex.EncodeToString(hmac.New(sha256.New, nil).Sum(nil)), false},
		{"empty signature", secret, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := webhook.Verify(tt.secret, ts, tt.signature, body); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := setup(t).provider.Name(); got != "webhook" {
		t.Errorf("Name() = %q, want webhook", got)
	}
}

package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/internal/netguard"
)

// Limits on what is read from a provider: an answer far past these is a
// runaway model or a wrong URL, not a journey.
const (
	maxAnswerBytes = 8 << 20  // a whole response or stream
	maxLineBytes   = 4 << 20  // one SSE or NDJSON line
	maxErrorBytes  = 64 << 10 // an error response's body
	maxRetryWait   = 30 * time.Second
)

// APIError is a provider's refusal: an HTTP error status with the message
// the provider gave.
type APIError struct {
	Provider string
	Status   int
	Message  string
}

func (e *APIError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("%s refused the API key (HTTP %d: %s); check the configured key", e.Provider, e.Status, e.Message)
	case http.StatusTooManyRequests:
		return fmt.Sprintf("%s is rate-limiting requests (HTTP 429: %s); try again later", e.Provider, e.Message)
	case http.StatusNotFound:
		return fmt.Sprintf("%s answered HTTP 404 (%s); check the base URL and the model name", e.Provider, e.Message)
	}
	return fmt.Sprintf("%s answered HTTP %d: %s", e.Provider, e.Status, e.Message)
}

// errTooLarge is returned when a response passes maxAnswerBytes.
var errTooLarge = fmt.Errorf("the answer is larger than %d MiB", maxAnswerBytes>>20)

// httpCaller posts JSON to one provider.
type httpCaller struct {
	client   *http.Client
	provider string
	timeout  time.Duration
}

// do posts body as JSON to url and hands a successful response's body to
// read, size-limited, within the configured timeout. It retries once, after
// the provider's Retry-After (or a second), on 429, 503 and 529 (Anthropic's
// "overloaded").
func (h *httpCaller) do(ctx context.Context, url string, header http.Header, body any, read func(io.Reader) error) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode the request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("build the request: %w", err)
		}
		req.Header = header.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.client.Do(req)
		if err != nil {
			return h.callError(ctx, req.URL.Hostname(), err)
		}
		if resp.StatusCode/100 == 2 {
			err := read(&capReader{r: resp.Body, left: maxAnswerBytes})
			resp.Body.Close()
			return h.wrap(ctx, err)
		}
		apiErr := &APIError{Provider: h.provider, Status: resp.StatusCode, Message: errorMessage(resp.Body)}
		resp.Body.Close()
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == 529
		if !retryable || attempt > 0 {
			return apiErr
		}
		select {
		case <-time.After(retryAfter(resp.Header.Get("Retry-After"))):
		case <-ctx.Done():
			return h.wrap(ctx, apiErr)
		}
	}
}

// callError explains a request that got no answer. An address the guard
// refused is named (as written, or as its name resolved); every other
// failure reads the same, never quoting the error, so that the message a
// tenant sees cannot tell a closed port from an open one, nor quote what a
// non-HTTP service said.
func (h *httpCaller) callError(ctx context.Context, host string, err error) error {
	if b, ok := netguard.IsBlocked(err); ok {
		return fmt.Errorf("%s at %s not called: %w", h.provider, host, b)
	}
	if ctx.Err() != nil {
		return h.wrap(ctx, fmt.Errorf("call %s: %w", h.provider, ctx.Err()))
	}
	return fmt.Errorf("could not call %s at %s: no connection, no TLS handshake or no HTTP answer", h.provider, host)
}

// wrap explains an error caused by the request's own deadline; the caller's
// cancellation passes through unchanged (errors.Is(err, context.Canceled)).
func (h *httpCaller) wrap(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s gave no complete answer within %v (the configured timeout): %w", h.provider, h.timeout, ctx.Err())
	}
	return err
}

// retryAfter reads a Retry-After header in seconds, bounded.
func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs < 0 {
		return time.Second
	}
	return min(time.Duration(secs)*time.Second, maxRetryWait)
}

// errorMessage extracts the message of an error body in any of the shapes
// the providers use: {"error": {"message"}} (Anthropic, OpenAI),
// {"error": "…"} (Ollama), {"message"}. Any other body is not quoted: the
// URL is a tenant's choice, and an answer that is not a provider's error
// may be a page the tenant should not read through Kalcifer.
func errorMessage(body io.Reader) string {
	data, _ := io.ReadAll(io.LimitReader(body, maxErrorBytes)) // a partial body still says something
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	msg := ""
	if json.Unmarshal(data, &v) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
			msg = nested.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			msg = s
		case v.Message != "":
			msg = v.Message
		}
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return "no error message in a provider's format"
	}
	if r := []rune(msg); len(r) > 500 {
		msg = string(r[:500]) + "…"
	}
	return msg
}

// capReader fails with errTooLarge once more than left bytes are read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 { // at the limit: fine if nothing follows
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err // io.EOF at a clean end
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// errStop ends a stream early from inside its callback, without error.
var errStop = errors.New("stop")

// readLines calls fn with each non-empty line of r.
func readLines(r io.Reader, fn func(line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(line); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("a line of the answer is longer than %d MiB", maxLineBytes>>20)
	}
	return sc.Err()
}

// readSSE calls fn with each server-sent event of r: its event name (empty
// when none was given) and its data lines joined by newlines.
func readSSE(r io.Reader, fn func(event, data string) error) error {
	var event string
	var data []string
	dispatch := func() error {
		if event == "" && data == nil {
			return nil
		}
		err := fn(event, strings.Join(data, "\n"))
		event, data = "", nil
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if err := dispatch(); err != nil {
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
			continue
		}
		if strings.HasPrefix(line, ":") { // a comment, used as keep-alive
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("a line of the answer is longer than %d MiB", maxLineBytes>>20)
		}
		return err
	}
	if err := dispatch(); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

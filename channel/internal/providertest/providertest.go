// Package providertest is the local provider API the HTTP email providers
// are tested against: a real HTTP server that records each request, checks
// it, and plays an outcome — an answer, a hang until the client gives up,
// or a connection dropped after the request was read.
package providertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/channel"
)

// Request is one request as the server saw it.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Server is a local provider API.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []Request
	answer http.HandlerFunc
}

// New starts a server that answers 200 with an empty JSON object until
// Play says otherwise. It stops when the test ends.
func New(t *testing.T) *Server {
	t.Helper()
	s := &Server{answer: JSON(http.StatusOK, `{}`)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("provider server: read body: %v", err)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		answer := s.answer
		s.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Play sets how the server answers from now on.
func (s *Server) Play(answer http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = answer
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the last request received; the test fails without one.
func (s *Server) Last(t *testing.T) Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("the provider server received no request")
	}
	return reqs[len(reqs)-1]
}

// JSON answers status with body as JSON and header pairs.
func JSON(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Hang never answers: it waits until the client gives up and closes the
// connection (a client timeout).
func Hang(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// Drop closes the connection after the request was read, without an answer.
func Drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// Client is an HTTP client that gives up after a short while, for Hang.
func Client() *http.Client {
	return &http.Client{Timeout: 500 * time.Millisecond}
}

// Email is a rendered email with both bodies and one-click unsubscribe
// headers.
func Email() *channel.Email {
	headers := channel.UnsubscribeHeaders("https://kalcifer.example/u/abc")
	return &channel.Email{
		To: "ada@example.com", ReplyTo: "help@example.com", Subject: "Welcome, Ada",
		HTML: `<p>Hi Ada</p><p><a href="https://kalcifer.example/u/abc">Unsubscribe</a></p>`,
		Text: "Hi Ada\n\nUnsubscribe: https://kalcifer.example/u/abc", Headers: headers,
	}
}

// Message is an email send carrying Email().
func Message() channel.Message {
	return channel.Message{
		Key: "ins_01:welcome:1", TenantID: "t1", JourneyID: "j1", Version: 1, InstanceID: "ins_01",
		NodeID: "welcome", NodeType: "send_email", Channel: "email", Attempt: 1, Email: Email(),
	}
}

// Expect checks that err classifies as want, and for a retry that the
// delay lies within [minAfter, maxAfter].
func Expect(t *testing.T, err error, want channel.Outcome, minAfter, maxAfter time.Duration) {
	t.Helper()
	got, after := channel.Classify(err)
	if got != want {
		t.Fatalf("outcome = %v (%v), want %v", got, err, want)
	}
	if want == channel.OutcomeRetry && (after < minAfter || after > maxAfter) {
		t.Errorf("retry after %v, want between %v and %v", after, minAfter, maxAfter)
	}
}

// proxyPage is what a proxy in front of the provider might answer; its
// text must never reach an error.
const proxyPage = `<html><body>proxy-secret internal host 10.0.0.7</body></html>`

// Outcomes plays the outcomes every HTTP provider must classify alike —
// 429 with Retry-After (seconds), 500, 400, a client timeout, a connection
// dropped after the request was read, a proxy's HTML 502 — against send, which must send one
// message through s with the client Client() returns. errBody is the
// provider's error JSON for the 400 and 500, and wantMsg a piece of its
// message the 400's error must carry.
func Outcomes(t *testing.T, s *Server, send func() error, errBody, wantMsg string) {
	cases := []struct {
		name   string
		answer http.HandlerFunc
		want   channel.Outcome
		min    time.Duration
		max    time.Duration
	}{
		{"429 with Retry-After", JSON(http.StatusTooManyRequests, errBody, "Retry-After", "120"), channel.OutcomeRetry, 120 * time.Second, 120 * time.Second},
		{"500", JSON(http.StatusInternalServerError, errBody), channel.OutcomeRetry, time.Second, 2 * time.Second},
		{"400", JSON(http.StatusBadRequest, errBody), channel.OutcomeFailed, 0, 0},
		{"502 from a proxy", JSON(http.StatusBadGateway, proxyPage), channel.OutcomeRetry, time.Second, 2 * time.Second},
		{"timeout", Hang, channel.OutcomeAmbiguous, 0, 0},
		{"dropped after the request", Drop, channel.OutcomeAmbiguous, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Play(c.answer)
			before := len(s.Requests())
			err := send()
			Expect(t, err, c.want, c.min, c.max)
			if n := len(s.Requests()) - before; n != 1 {
				t.Errorf("the server got %d requests, want 1 (no retry inside Send)", n)
			}
			if err != nil && strings.Contains(err.Error(), "proxy-secret") {
				t.Errorf("error %q shows a body that is not the provider's error JSON", err)
			}
			if c.name == "400" && (err == nil || !strings.Contains(err.Error(), wantMsg)) {
				t.Errorf("error %v does not carry the provider's message %q", err, wantMsg)
			}
		})
	}
}

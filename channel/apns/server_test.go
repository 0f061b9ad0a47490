package apns_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// server is a local APNs: HTTP/2 over TLS, like api.push.apple.com. It
// records each request and plays an outcome.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer http.HandlerFunc
}

type request struct {
	Method     string
	Path       string
	ProtoMajor int
	Header     http.Header
	Body       []byte
}

type connKey struct{}

// newServer starts a server that accepts every notification (200, echoing
// apns-id) until Play says otherwise.
func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{answer: accept}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("apns server: read body: %v", err)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, request{r.Method, r.URL.Path, r.ProtoMajor, r.Header.Clone(), body})
		answer := s.answer
		s.mu.Unlock()
		answer(w, r)
	}))
	s.EnableHTTP2 = true
	s.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// client trusts the server's certificate, speaks HTTP/2 and gives up
// after timeout.
func (s *server) client(timeout time.Duration) *http.Client {
	c := *s.Client()
	c.Timeout = timeout
	return &c
}

func (s *server) Play(answer http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = answer
}

func (s *server) Requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *server) Last(t *testing.T) request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("the APNs server received no request")
	}
	return reqs[len(reqs)-1]
}

// accept is APNs's success: 200, an empty body, apns-id echoed.
func accept(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("apns-id", r.Header.Get("apns-id"))
	w.WriteHeader(http.StatusOK)
}

// drop closes the TCP connection under the HTTP/2 stream after the
// request was read, without an answer.
func drop(w http.ResponseWriter, r *http.Request) {
	_ = r.Context().Value(connKey{}).(net.Conn).Close()
}

// key is the team's APNs auth key, made once for the whole test binary.
var key = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// p8 is a key as Apple's AuthKey_<key id>.p8 holds it: PKCS#8 PEM.
func p8(t *testing.T, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

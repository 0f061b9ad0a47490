package webhook_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/internal/netguard"
)

// By default a webhook to an internal address — written as such, or a name
// resolving to one — fails for good with a message naming the address, and
// nothing reaches the receiver; the allow list lets exactly its addresses
// through.
func TestSendToInternalAddressFails(t *testing.T) {
	t.Parallel()
	secret := func(_ context.Context, _ string) ([]byte, error) { return []byte("s"), nil }
	rcv := newReceiver(t, status(http.StatusOK))
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	guarded := webhook.New(secret)
	for _, host := range []string{"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0"} {
		_, err := guarded.Send(t.Context(), message(map[string]any{"url": "http://" + host + ":" + port + "/hook"}))
		if outcome, _ := channel.Classify(err); outcome != channel.OutcomeFailed {
			t.Errorf("Send to %s → %v → %s; want failed", host, err, outcome)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "is on a private network") || !strings.Contains(msg, "KALCIFER_ALLOW_PRIVATE_NETWORKS=true") ||
			strings.Contains(msg, port) {
			t.Errorf("Send to %s: detail %q should name the address and the setting, not the port", host, msg)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("receiver got %d requests, want 0", n)
	}

	listed := webhook.New(secret, webhook.WithPolicy(netguard.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}))
	if _, err := listed.Send(t.Context(), message(map[string]any{"url": rcv.URL})); err != nil {
		t.Errorf("Send to the listed address: %v", err)
	}
	_, err := listed.Send(t.Context(), message(map[string]any{"url": "http://127.0.0.2:" + port}))
	if _, ok := netguard.IsBlocked(err); !ok {
		t.Errorf("Send to an unlisted loopback address: %v; want it refused", err)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

// rawServer accepts connections on 127.0.0.1, reads one HTTP request from
// each and answers with raw bytes (nothing: just closes), as a non-HTTP
// service or a crashing receiver would.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(conn, answer)
			}
			conn.Close()
		}
	}()
	return "http://" + l.Addr().String()
}

// A send's detail is no port scanner: a closed port reads exactly like an
// open one that does not speak TLS, and a receiver that hangs up reads
// exactly like a non-HTTP service — whose banner is never quoted. An error
// status is reported without its body.
func TestSendDetailRevealsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	open := newReceiver(t, status(http.StatusOK))
	detail := func(url string, want channel.Outcome) string {
		t.Helper()
		_, err := b.provider.Send(t.Context(), message(map[string]any{"url": url}))
		if outcome, _ := channel.Classify(err); outcome != want || err == nil {
			t.Fatalf("Send to %s → %v → %s; want %s", url, err, outcome, want)
		}
		return err.Error()
	}

	refused := detail(closedURL, channel.OutcomeRetry)
	noTLS := detail(strings.Replace(open.URL, "http://", "https://", 1), channel.OutcomeRetry)
	if refused != noTLS {
		t.Errorf("a closed port and an open non-TLS port read differently:\n%s\n%s", refused, noTLS)
	}
	hungUp := detail(rawServer(t, ""), channel.OutcomeAmbiguous)
	banner := detail(rawServer(t, "SSH-2.0-OpenSSH_9.6 secret-banner\r\n"), channel.OutcomeAmbiguous)
	if hungUp != banner {
		t.Errorf("a receiver that hung up and a non-HTTP service read differently:\n%s\n%s", hungUp, banner)
	}
	leaky := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "internal admin page secret-body", http.StatusNotFound)
	})
	notFound := detail(leaky.URL, channel.OutcomeFailed)
	for _, d := range []string{refused, noTLS, hungUp, banner, notFound} {
		if strings.Contains(d, "secret") || strings.Contains(d, "refused") || strings.Contains(d, "127.0.0.1") {
			t.Errorf("detail %q quotes the receiver or the connection error", d)
		}
	}
	if !strings.Contains(notFound, "HTTP 404") {
		t.Errorf("detail %q should give the status", notFound)
	}
}

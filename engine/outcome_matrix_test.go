package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/drivers"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/engine"
)

// matrixTimeout is the provider client's timeout in the outcome matrix: the
// "timeout" outcome hangs until the client gives up after it.
const matrixTimeout = 300 * time.Millisecond

// outcomeServer is a local provider API playing one outcome: it counts the
// send requests (an OAuth token request, FCM's, is answered and not
// counted) and answers the n-th by play(n).
type outcomeServer struct {
	*httptest.Server
	mu    sync.Mutex
	sends int
	play  func(n int) answer
	ok    http.HandlerFunc // the provider's success answer
}

// answer is how the server answers one send request.
type answer int

const (
	answerOK answer = iota
	answer429
	answer500
	answerHang // until the client gives up
	answerDrop // the connection closed after the request was read
)

type connKey struct{}

// newOutcomeServer starts a provider API; with h2 it speaks HTTP/2 over
// TLS, as APNs does.
func newOutcomeServer(t *testing.T, h2 bool, ok http.HandlerFunc, play func(n int) answer) *outcomeServer {
	s := &outcomeServer{ok: ok, play: play}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *outcomeServer) serve(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		return // never arrived whole
	}
	if r.URL.Path == "/token" { // FCM's OAuth token endpoint
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"ya29.matrix","expires_in":3599,"token_type":"Bearer"}`)
		return
	}
	s.mu.Lock()
	s.sends++
	a := s.play(s.sends)
	s.mu.Unlock()
	switch a {
	case answerOK:
		s.ok(w, r)
	case answer429:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{}`)
	case answer500:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{}`)
	case answerHang:
		<-r.Context().Done()
	case answerDrop:
		_ = r.Context().Value(connKey{}).(net.Conn).Close()
	}
}

func (s *outcomeServer) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sends }

func okJSON(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// matrixDriver is one provider driver of the matrix: its account config
// (base URL filled in) and a node sending through it.
type matrixDriver struct {
	kind, channel string
	h2            bool
	ok            http.HandlerFunc
	config        func(base string) map[string]any
	node          string // node type
	content       string // the node's config without "provider"
}

func matrixDrivers(t *testing.T) []matrixDriver {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	email := `{"to":"ada@example.com","subject":"Hi","text":"Hello"}`
	sms := `{"to":"+14155550100","body":"Hello"}`
	return []matrixDriver{
		{kind: "sendgrid", channel: "email", ok: okJSON(http.StatusAccepted, "", "X-Message-Id", "sg-1"), node: "send_email", content: email,
			config: func(b string) map[string]any {
				return map[string]any{"api_key": "SG.k", "from": "news@example.com", "base_url": b}
			}},
		{kind: "postmark", channel: "email", node: "send_email", content: email,
			ok: okJSON(http.StatusOK, `{"To":"ada@example.com","SubmittedAt":"2026-11-03T09:30:00Z","MessageID":"pm-1","ErrorCode":0,"Message":"OK"}`),
			config: func(b string) map[string]any {
				return map[string]any{"server_token": "pm-token", "from": "news@example.com", "base_url": b}
			}},
		{kind: "ses", channel: "email", node: "send_email", content: email, ok: okJSON(http.StatusOK, `{"MessageId":"ses-1"}`),
			config: func(b string) map[string]any {
				return map[string]any{"region": "eu-west-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "secret",
					"from": "news@example.com", "base_url": b}
			}},
		{kind: "twilio", channel: "sms", node: "send_sms", content: sms,
			ok: okJSON(http.StatusCreated, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued","error_code":null}`),
			config: func(b string) map[string]any {
				return map[string]any{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "tw-token",
					"from": "+15005550006", "base_url": b + "/"}
			}},
		{kind: "vonage", channel: "sms", node: "send_sms", content: sms,
			ok: okJSON(http.StatusOK, `{"message-count":"1","messages":[{"to":"14155550100","message-id":"0A01","status":"0"}]}`),
			config: func(b string) map[string]any {
				return map[string]any{"api_key": "abcd1234", "api_secret": "vonage-secret", "from": "Kalcifer", "base_url": b}
			}},
		{kind: "metawhatsapp", channel: "whatsapp", node: "send_whatsapp", content: sms,
			ok: okJSON(http.StatusOK, `{"messaging_product":"whatsapp","contacts":[{"input":"+14155550100","wa_id":"14155550100"}],"messages":[{"id":"wamid.1"}]}`),
			config: func(b string) map[string]any {
				return map[string]any{"access_token": "EAAG-token", "phone_number_id": "106540352242922", "base_url": b}
			}},
		{kind: "fcm", channel: "push", node: "send_push", content: `{"to":"fcm-registration-token-1","title":"Cart","body":"Waiting"}`,
			ok: okJSON(http.StatusOK, `{"name":"projects/demo-project/messages/0:1"}`),
			config: func(b string) map[string]any {
				return map[string]any{"project_id": "demo-project", "client_email": "k@demo-project.iam.gserviceaccount.com",
					"private_key": pemOf(rsaKey), "token_uri": b + "/token", "base_url": b + "/"}
			}},
		{kind: "apns", channel: "push", h2: true, node: "send_push",
			content: `{"to":"740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad","title":"Cart","body":"Waiting"}`,
			ok:      okJSON(http.StatusOK, "", "apns-id", "4E0A0A0A-0000-0000-0000-000000000001"),
			config: func(b string) map[string]any {
				return map[string]any{"team_id": "TEAM123456", "key_id": "KEY1234567", "private_key": pemOf(ecKey),
					"topic": "com.example.shop", "base_url": b + "/"}
			}},
	}
}

// matrixOutcome is one column of the matrix: how the server answers, and
// what the issue requires of the engine.
type matrixOutcome struct {
	name     string
	play     func(n int) answer
	attempts int
	status   kalcifer.SendStatus
	branch   string // the exit the customer reaches: "sent" or "failed"
	retried  bool   // the first attempt was answered by a scheduled retry
	// retryAfter: the server asked for the retry a second later.
	retryAfter bool
}

var matrixOutcomes = []matrixOutcome{
	{"success", func(int) answer { return answerOK }, 1, kalcifer.SendSent, "sent", false, false},
	{"429 (Retry-After: 1), then success", func(n int) answer { return pick(n == 1, answer429, answerOK) }, 2, kalcifer.SendSent, "sent", true, true},
	{"429 (Retry-After: 1) every time", func(int) answer { return answer429 }, 5, kalcifer.SendFailed, "failed", true, true},
	{"500, then success", func(n int) answer { return pick(n == 1, answer500, answerOK) }, 2, kalcifer.SendSent, "sent", true, false},
	{"500 every time", func(int) answer { return answer500 }, 5, kalcifer.SendFailed, "failed", true, false},
	{"timeout (no answer)", func(int) answer { return answerHang }, 1, kalcifer.SendAmbiguous, "failed", false, false},
	{"connection dropped after the request", func(int) answer { return answerDrop }, 1, kalcifer.SendAmbiguous, "failed", false, false},
}

func pick(first bool, a, b answer) answer {
	if first {
		return a
	}
	return b
}

// TestOutcomeMatrix sends one message per provider driver and outcome
// through the real engine — a provider account of that driver pointed at a
// local server playing the outcome, on a node with a failed branch — moves
// the engine's clock past every retry, and checks the attempts the server
// saw, the ledger's final status and the branch the customer took. It
// logs the matrix as a markdown table (go test -run TestOutcomeMatrix -v).
func TestOutcomeMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ds := matrixDrivers(t)
		// One client for every account: it trusts the TLS servers (all
		// httptest servers share one certificate) and gives up after
		// matrixTimeout.
		tlsProbe := httptest.NewTLSServer(http.NotFoundHandler())
		transport := tlsProbe.Client().Transport.(*http.Transport).Clone()
		tlsProbe.Close()
		catalog := drivers.Catalog(&http.Client{Transport: transport, Timeout: matrixTimeout}, nil)
		log := logprovider.New(nil)
		// The breaker is out of the way: each row's account fails on its own.
		e.rt = engine.New(engine.Config{Store: e.st, Clock: e.clock, Accounts: catalog, BreakerFailures: 1000,
			PublicURL: "https://kalcifer.example.com",
			Providers: channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "push": log, "whatsapp": log, "webhook": log})})
		t.Cleanup(e.rt.Stop)

		// Every account exists before the first send: the engine reads a
		// tenant's accounts once per DefaultAccountsTTL.
		type row struct {
			d       matrixDriver
			o       matrixOutcome
			srv     *outcomeServer
			journey string
		}
		var rows []row
		for _, d := range ds {
			for i, o := range matrixOutcomes {
				r := row{d: d, o: o, srv: newOutcomeServer(t, d.h2, d.ok, o.play)}
				name := fmt.Sprintf("%s-%d", d.kind, i)
				cfg, err := json.Marshal(d.config(r.srv.URL))
				if err != nil {
					t.Fatal(err)
				}
				public, secrets, err := catalog.Prepare(d.kind, d.channel, cfg, nil)
				if err != nil {
					t.Fatalf("%s: prepare: %v", name, err)
				}
				if err := e.st.CreateProviderAccount(e.ctx, "test", &kalcifer.ProviderAccount{TenantID: kalcifer.DefaultTenantID,
					Name: name, Type: d.kind, Channel: kalcifer.Channel(d.channel), Config: public, Secrets: secrets}); err != nil {
					t.Fatal(err)
				}
				content := strings.TrimSuffix(d.content, "}") + `,"provider":"` + name + `"}`
				r.journey = e.journey(false, g([]string{`in:event_entry:{"event_type":"` + name + `"}`, "send:" + d.node + ":" + content,
					"sent:journey_exit", "failed:journey_exit"}, []string{"in->send", "send->sent", "send-failed->failed"}, ""))
				rows = append(rows, r)
			}
		}

		var table strings.Builder
		table.WriteString("| driver | outcome | attempts (server) | ledger | customer's path |\n|---|---|---|---|---|\n")
		for i, r := range rows {
			d, o, srv, j := r.d, r.o, r.srv, r.journey
			customer := fmt.Sprintf("c%d", i)
			e.event(customer, fmt.Sprintf("%s-%d", d.kind, i%len(matrixOutcomes)), "")
			e.drain()
			if got := srv.count(); got != 1 {
				t.Errorf("%s, %s: %d requests before the clock moved, want 1 (a retry must wait for its backoff)", d.kind, o.name, got)
			}
			in := e.only(j, customer)
			if o.retried {
				if s := e.sends(in); len(s) != 1 || s[0].Status != kalcifer.SendPending {
					t.Errorf("%s, %s: after the first attempt the send is %+v, want pending (a retry)", d.kind, o.name, s)
				}
			}
			if o.retryAfter {
				// Retry-After: 1 is honoured: the retry is due a second later,
				// sooner than the backoff the engine would choose (2 s or more).
				e.clock.advance(1100 * time.Millisecond)
				e.drain()
				if got := srv.count(); got != 2 {
					t.Errorf("%s, %s: %d requests 1.1 s after a 429 with Retry-After: 1, want 2", d.kind, o.name, got)
				}
			}
			for round := 0; round < 10 && e.only(j, customer).Status == kalcifer.InstanceActive; round++ {
				e.clock.advance(6 * time.Minute) // past any backoff (at most 5 minutes) and Retry-After
				e.drain()
			}
			in = e.only(j, customer)
			sends := e.sends(in)
			if len(sends) != 1 {
				t.Fatalf("%s, %s: %d sends", d.kind, o.name, len(sends))
			}
			trail := e.trail(in)
			branch := "?"
			for _, b := range []string{"sent", "failed"} {
				if strings.Contains(trail, " "+b+"=") {
					branch = b
				}
			}
			got := srv.count()
			if got != o.attempts || sends[0].Status != o.status || branch != o.branch {
				t.Errorf("%s, %s: %d attempts, ledger %s (%s), path %q; want %d, %s, the %s exit",
					d.kind, o.name, got, sends[0].Status, sends[0].Detail, trail, o.attempts, o.status, o.branch)
			}
			path := map[string]string{"sent": "default branch (sent exit)", "failed": "`failed` branch", "?": "stuck: " + trail}[branch]
			fmt.Fprintf(&table, "| %s | %s | %d | %s | %s |\n", d.kind, o.name, got, sends[0].Status, path)
		}
		t.Logf("provider × outcome (%s):\n\n%s", t.Name(), table.String())
	})
}

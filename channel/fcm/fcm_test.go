package fcm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/fcm"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
)

// key is the service account's key, made once for the whole test binary.
var key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func keyPEM(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// tokenServer is a local Google token endpoint. It hands out
// "ya29.token-1", "ya29.token-2"... valid for an hour; while a gate is
// set, each answer waits for it to close.
type tokenServer struct {
	*providertest.Server
	issued atomic.Int64
	gate   atomic.Pointer[chan struct{}]
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{Server: providertest.New(t)}
	ts.Play(func(w http.ResponseWriter, r *http.Request) {
		if gate := ts.gate.Load(); gate != nil {
			<-*gate
		}
		n := ts.issued.Add(1)
		providertest.JSON(http.StatusOK, fmt.Sprintf(`{"access_token":"ya29.token-%d","expires_in":3599,"token_type":"Bearer"}`, n))(w, r)
	})
	return ts
}

type bundle struct {
	fcm    *providertest.Server
	tokens *tokenServer
	cfg    fcm.Config
	// client gives up after 10 s; tests that play a hang use
	// providertest.Client() instead.
	client *http.Client
}

func setup(t *testing.T) bundle {
	t.Helper()
	b := bundle{fcm: providertest.New(t), tokens: newTokenServer(t), client: &http.Client{Timeout: 10 * time.Second}}
	b.fcm.Play(providertest.JSON(http.StatusOK, `{"name":"projects/demo-project/messages/0:1500415314455276%31bd1c9631bd1c96"}`))
	b.cfg = fcm.Config{
		ProjectID: "demo-project", ClientEmail: "kalcifer@demo-project.iam.gserviceaccount.com",
		PrivateKey: keyPEM(t), PrivateKeyID: "key-1",
		TokenURI: b.tokens.URL + "/token", BaseURL: b.fcm.URL + "/",
	}
	return b
}

func (b bundle) provider(t *testing.T) *fcm.Provider {
	t.Helper()
	p, err := fcm.New(b.cfg, b.client)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func message() channel.Message {
	return channel.Message{
		Key: "ins_01:nudge:1", TenantID: "t1", JourneyID: "j1", Version: 1, InstanceID: "ins_01",
		NodeID: "nudge", NodeType: "send_push", Channel: "push", Attempt: 1,
		Push: &channel.Push{Token: "fcm-registration-token-1", Title: "Your cart", Body: "3 items are waiting", Data: map[string]string{"cart_id": "c42"}},
	}
}

func send(t *testing.T, p *fcm.Provider) error {
	t.Helper()
	_, err := p.Send(t.Context(), message())
	return err
}

// TestSendRequest checks both requests against Google's references: the
// JWT bearer grant at the token endpoint (form fields; the assertion's
// header and claims, verified with the public key) and messages:send
// (path, bearer token, body).
func TestSendRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.provider(t).Send(t.Context(), message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if want := "fcm message projects/demo-project/messages/0:1500415314455276%31bd1c9631bd1c96"; res.Detail != want {
		t.Errorf("Detail = %q, want %q", res.Detail, want)
	}

	tr := b.tokens.Last(t)
	if tr.Method != http.MethodPost || tr.Path != "/token" {
		t.Errorf("token request = %s %s, want POST /token", tr.Method, tr.Path)
	}
	if got := tr.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type = %q", got)
	}
	form, err := url.ParseQuery(string(tr.Body))
	if err != nil {
		t.Fatalf("token request body: %v", err)
	}
	if got := form.Get("grant_type"); got != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("grant_type = %q", got)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(form.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &key().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(b.cfg.TokenURI), jwt.WithIssuer(b.cfg.ClientEmail), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("assertion does not verify: %v", err)
	}
	if tok.Header["kid"] != "key-1" {
		t.Errorf("assertion kid = %v", tok.Header["kid"])
	}
	if claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
		t.Errorf("scope = %v", claims["scope"])
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) != time.Hour {
		t.Errorf("assertion lives %v, want 1h", exp.Sub(iat.Time))
	}

	r := b.fcm.Last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/projects/demo-project/messages:send" {
		t.Errorf("request = %s %s, want POST /v1/projects/demo-project/messages:send", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer ya29.token-1" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{"message": map[string]any{
		"token":        "fcm-registration-token-1",
		"notification": map[string]any{"title": "Your cart", "body": "3 items are waiting"},
		"data":         map[string]any{"cart_id": "c42"},
	}}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %s", r.Body)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.client = providertest.Client()
	p := b.provider(t)
	if err := send(t, p); err != nil { // caches the access token
		t.Fatalf("Send: %v", err)
	}
	errBody := `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`
	providertest.Outcomes(t, b.fcm, func() error { return send(t, p) }, errBody,
		"INVALID_ARGUMENT: The registration token is not a valid FCM registration token")
	if n := len(b.tokens.Requests()); n != 1 {
		t.Errorf("token endpoint asked %d times, want 1", n)
	}
}

func fcmError(code int, status, errorCode, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q,"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}]}}`, code, msg, status, errorCode)
}

// TestErrorCodes maps the answers of FCM's ErrorCode reference.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		answer   http.HandlerFunc
		want     channel.Outcome
		min, max time.Duration
		say      string
	}{
		{"404 UNREGISTERED", providertest.JSON(404, fcmError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")),
			channel.OutcomeFailed, 0, 0, "registration token is dead"},
		{"403 SENDER_ID_MISMATCH", providertest.JSON(403, fcmError(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")),
			channel.OutcomeFailed, 0, 0, "SENDER_ID_MISMATCH: SenderId mismatch"},
		{"401 THIRD_PARTY_AUTH_ERROR", providertest.JSON(401, fcmError(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS or Web Push Service")),
			channel.OutcomeFailed, 0, 0, "THIRD_PARTY_AUTH_ERROR"},
		{"429 QUOTA_EXCEEDED without Retry-After", providertest.JSON(429, fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.")),
			channel.OutcomeRetry, 61 * time.Second, 62 * time.Second, "QUOTA_EXCEEDED"},
		{"503 UNAVAILABLE with Retry-After", providertest.JSON(503, fcmError(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."), "Retry-After", "30"),
			channel.OutcomeRetry, 30 * time.Second, 30 * time.Second, "UNAVAILABLE"},
		{"500 INTERNAL", providertest.JSON(500, fcmError(500, "INTERNAL", "INTERNAL", "Internal error encountered.")),
			channel.OutcomeRetry, time.Second, 2 * time.Second, "INTERNAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fcm.Play(c.answer)
			err := send(t, b.provider(t))
			providertest.Expect(t, err, c.want, c.min, c.max)
			if !strings.Contains(fmt.Sprint(err), c.say) {
				t.Errorf("error %v does not say %q", err, c.say)
			}
			if n := len(b.fcm.Requests()); n != 1 {
				t.Errorf("FCM got %d requests, want 1", n)
			}
		})
	}
}

// TestTokenCached: one access token serves many sends, one after another
// and at once.
func TestTokenCached(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.provider(t)
	for range 10 {
		if err := send(t, p); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if n := len(b.tokens.Requests()); n != 1 {
		t.Errorf("10 sends asked the token endpoint %d times, want 1", n)
	}

	// 20 sends at once on a new provider, while the token endpoint holds
	// its first answer: they all wait for that one token.
	gate := make(chan struct{})
	b.tokens.gate.Store(&gate)
	p = b.provider(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- send(t, p) })
	}
	for len(b.tokens.Requests()) < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the other sends reach the cache
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if n := len(b.tokens.Requests()); n != 2 {
		t.Errorf("20 concurrent sends asked the token endpoint %d times, want 1", n-1)
	}
	if n := len(b.fcm.Requests()); n != 30 {
		t.Errorf("FCM got %d messages, want 30", n)
	}
}

// TestTokenRenewedBeforeExpiry: a token that expires in 3599 s is used for
// 54 minutes and replaced five minutes before it expires.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.provider(t)
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	fcm.SetNow(p, func() time.Time { return now })
	for _, step := range []struct {
		at     time.Duration
		tokens int
	}{{0, 1}, {30 * time.Minute, 1}, {54 * time.Minute, 1}, {55 * time.Minute, 2}, {60 * time.Minute, 2}} {
		now = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(step.at)
		if err := send(t, p); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if n := len(b.tokens.Requests()); n != step.tokens {
			t.Errorf("after %v: %d token requests, want %d", step.at, n, step.tokens)
		}
	}
	if got := b.fcm.Last(t).Header.Get("Authorization"); got != "Bearer ya29.token-2" {
		t.Errorf("last send used %q, want the renewed token", got)
	}
}

// TestRefreshOn401: FCM refusing the access token costs one new token and
// one more request; refusing the new one too fails the send.
func TestRefreshOn401(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.provider(t)
	unauthenticated := fcmError(401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")
	b.fcm.Play(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer ya29.token-1" {
			providertest.JSON(401, unauthenticated)(w, r)
			return
		}
		providertest.JSON(200, `{"name":"projects/demo-project/messages/2"}`)(w, r)
	})
	if err := send(t, p); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := send(t, p); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	if tokens, msgs := len(b.tokens.Requests()), len(b.fcm.Requests()); tokens != 2 || msgs != 3 {
		t.Errorf("token requests, FCM requests = %d, %d; want 2, 3", tokens, msgs)
	}

	b.fcm.Play(providertest.JSON(401, unauthenticated))
	err := send(t, p)
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	if tokens, msgs := len(b.tokens.Requests()), len(b.fcm.Requests()); tokens != 3 || msgs != 5 {
		t.Errorf("token requests, FCM requests = %d, %d; want 3, 5 (one refresh only)", tokens, msgs)
	}
}

// TestTokenEndpointFailures: without an access token nothing is sent, so
// no failure there is ambiguous; refused credentials are permanent.
func TestTokenEndpointFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		answer   http.HandlerFunc
		want     channel.Outcome
		min, max time.Duration
		say      string
	}{
		{"400 invalid_grant", providertest.JSON(400, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`),
			channel.OutcomeFailed, 0, 0, "invalid_grant: Invalid JWT Signature."},
		{"401 invalid_client", providertest.JSON(401, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`),
			channel.OutcomeFailed, 0, 0, "invalid_client"},
		{"429 with Retry-After", providertest.JSON(429, `{"error":"rate_limit_exceeded"}`, "Retry-After", "7"),
			channel.OutcomeRetry, 7 * time.Second, 7 * time.Second, "HTTP 429"},
		{"503", providertest.JSON(503, `<html>busy</html>`), channel.OutcomeRetry, time.Second, 2 * time.Second, "HTTP 503"},
		{"200 without a token", providertest.JSON(200, `{}`), channel.OutcomeRetry, time.Second, 2 * time.Second, "without an access_token"},
		{"timeout", providertest.Hang, channel.OutcomeRetry, time.Second, 2 * time.Second, "no access token"},
		{"dropped", providertest.Drop, channel.OutcomeRetry, time.Second, 2 * time.Second, "no access token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.client = providertest.Client()
			b.tokens.Play(c.answer)
			err := send(t, b.provider(t))
			providertest.Expect(t, err, c.want, c.min, c.max)
			if !strings.Contains(fmt.Sprint(err), c.say) {
				t.Errorf("error %v does not say %q", err, c.say)
			}
			if n := len(b.fcm.Requests()); n != 0 {
				t.Errorf("FCM got %d requests without an access token", n)
			}
		})
	}
}

func TestBadPushIsNotSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.provider(t)
	for name, push := range map[string]*channel.Push{
		"no push":    nil,
		"no token":   {Title: "Hi"},
		"no content": {Token: "fcm-registration-token-1"},
	} {
		m := message()
		m.Push = push
		_, err := p.Send(t.Context(), m)
		if got, _ := channel.Classify(err); got != channel.OutcomeFailed {
			t.Errorf("%s: outcome %v (%v), want failed", name, got, err)
		}
	}
	// A data-only message is a valid FCM message.
	m := message()
	m.Push.Title, m.Push.Body = "", ""
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Errorf("data-only push: %v", err)
	}
	if n := len(b.fcm.Requests()); n != 1 {
		t.Errorf("FCM got %d requests, want only the data-only one", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := fcm.Config{ProjectID: "demo-project", ClientEmail: "sa@demo-project.iam.gserviceaccount.com", PrivateKey: keyPEM(t)}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	escaped := good
	escaped.PrivateKey = strings.ReplaceAll(good.PrivateKey, "\n", `\n`)
	if err := escaped.Check(); err != nil {
		t.Errorf("a key with literal \\n: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*fcm.Config)
		want string
	}{
		{"no project", func(c *fcm.Config) { c.ProjectID = "" }, "project_id is required"},
		{"project with a slash", func(c *fcm.Config) { c.ProjectID = "a/b" }, "project_id"},
		{"no client email", func(c *fcm.Config) { c.ClientEmail = "" }, "client_email"},
		{"no key", func(c *fcm.Config) { c.PrivateKey = "" }, "private_key is required"},
		{"not PEM", func(c *fcm.Config) { c.PrivateKey = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" }, "private_key: not a PEM-encoded RSA private key"},
		{"bad base url", func(c *fcm.Config) { c.BaseURL = "ftp://x" }, "base_url"},
		{"bad token uri", func(c *fcm.Config) { c.TokenURI = "oauth2.googleapis.com/token" }, "token_uri"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := fcm.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}

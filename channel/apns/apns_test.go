package apns_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/apns"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
)

const deviceToken = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"

func config(t *testing.T, s *server) apns.Config {
	return apns.Config{TeamID: "TEAM123456", KeyID: "KEY1234567", PrivateKey: p8(t, key()), Topic: "com.example.shop", BaseURL: s.URL + "/"}
}

func newProvider(t *testing.T, s *server, edit ...func(*apns.Config)) *apns.Provider {
	t.Helper()
	return newProviderTimeout(t, s, 10*time.Second, edit...)
}

func newProviderTimeout(t *testing.T, s *server, timeout time.Duration, edit ...func(*apns.Config)) *apns.Provider {
	t.Helper()
	cfg := config(t, s)
	for _, e := range edit {
		e(&cfg)
	}
	p, err := apns.New(cfg, s.client(timeout))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func message() channel.Message {
	return channel.Message{
		Key: "ins_01:nudge:1", TenantID: "t1", JourneyID: "j1", Version: 1, InstanceID: "ins_01",
		NodeID: "nudge", NodeType: "send_push", Channel: "push", Attempt: 1,
		Push: &channel.Push{Token: deviceToken, Title: "Your cart", Body: "3 items are waiting", Data: map[string]string{"cart_id": "c42"}},
	}
}

func send(t *testing.T, p *apns.Provider) error {
	t.Helper()
	_, err := p.Send(t.Context(), message())
	return err
}

// providerToken verifies a request's provider token with the public key
// and returns it and its claims.
func providerToken(t *testing.T, r request) (string, jwt.MapClaims) {
	t.Helper()
	auth := r.Header.Get("authorization")
	raw, ok := strings.CutPrefix(auth, "bearer ")
	if !ok {
		t.Fatalf("authorization = %q, want a bearer token", auth)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &key().PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer("TEAM123456"))
	if err != nil {
		t.Fatalf("provider token does not verify: %v", err)
	}
	if tok.Header["kid"] != "KEY1234567" {
		t.Errorf("kid = %v, want KEY1234567", tok.Header["kid"])
	}
	return raw, claims
}

// TestSendRequest checks the request against Apple's "Sending
// notification requests to APNs": HTTP/2, path, provider token, headers,
// payload.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newProvider(t, s)
	before := time.Now()
	res, err := p.Send(t.Context(), message())
	after := time.Now()
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	id := apns.MessageID("ins_01:nudge:1")
	if want := "apns accepted, apns-id " + id; res.Detail != want {
		t.Errorf("Detail = %q, want %q", res.Detail, want)
	}
	r := s.Last(t)
	if r.ProtoMajor != 2 {
		t.Errorf("request over HTTP/%d, want HTTP/2", r.ProtoMajor)
	}
	if r.Method != http.MethodPost || r.Path != "/3/device/"+deviceToken {
		t.Errorf("request = %s %s, want POST /3/device/%s", r.Method, r.Path, deviceToken)
	}
	_, claims := providerToken(t, r)
	iat, _ := claims.GetIssuedAt()
	if iat == nil || iat.Unix() < before.Unix() || iat.Unix() > after.Unix() {
		t.Errorf("iat = %v, want the time of the send", iat)
	}
	for h, want := range map[string]string{
		"apns-topic":     "com.example.shop",
		"apns-push-type": "alert",
		"apns-priority":  "10",
		"apns-id":        id,
		"content-type":   "application/json",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	exp, err := strconv.ParseInt(r.Header.Get("apns-expiration"), 10, 64)
	if err != nil || exp < before.Add(24*time.Hour).Unix() || exp > after.Add(24*time.Hour).Unix() {
		t.Errorf("apns-expiration = %q, want a day from now in Unix seconds", r.Header.Get("apns-expiration"))
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{
		"aps":     map[string]any{"alert": map[string]any{"title": "Your cart", "body": "3 items are waiting"}},
		"cart_id": "c42",
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %s", r.Body)
	}
}

func TestConfigOptions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newProvider(t, s, func(c *apns.Config) { c.Priority, c.TTL, c.Environment = 5, "0s", "development" })
	s.Play(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("apns-unique-id", "a8b7c6d5-0000-4000-8000-000000000001")
		accept(w, r)
	})
	res, err := p.Send(t.Context(), message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasSuffix(res.Detail, ", apns-unique-id a8b7c6d5-0000-4000-8000-000000000001") {
		t.Errorf("Detail = %q, want the apns-unique-id", res.Detail)
	}
	r := s.Last(t)
	if r.Header.Get("apns-priority") != "5" || r.Header.Get("apns-expiration") != "0" {
		t.Errorf("apns-priority, apns-expiration = %q, %q; want 5, 0", r.Header.Get("apns-priority"), r.Header.Get("apns-expiration"))
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	a, b := apns.MessageID("ins_01:nudge:1"), apns.MessageID("ins_01:nudge:2")
	if a != apns.MessageID("ins_01:nudge:1") || a == b {
		t.Errorf("MessageID is not a function of the key: %s, %s", a, b)
	}
	u, err := uuid.Parse(a)
	if err != nil || u.String() != a || u.Version() != 5 {
		t.Errorf("MessageID = %q, want a lower-case canonical name-based UUID", a)
	}
}

// TestOutcomes plays every answer of Apple's "Handling notification
// responses from APNs" that a send must classify.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	reason := func(code int, r string, header ...string) http.HandlerFunc {
		return providertest.JSON(code, fmt.Sprintf(`{"reason":%q}`, r), header...)
	}
	cases := []struct {
		name     string
		answer   http.HandlerFunc
		want     channel.Outcome
		min, max time.Duration
		say      string
	}{
		{"success", accept, channel.OutcomeSent, 0, 0, ""},
		{"429 TooManyRequests with Retry-After", reason(429, "TooManyRequests", "Retry-After", "120"), channel.OutcomeRetry, 120 * time.Second, 120 * time.Second, "TooManyRequests"},
		{"429 TooManyProviderTokenUpdates", reason(429, "TooManyProviderTokenUpdates"), channel.OutcomeRetry, time.Second, 2 * time.Second, "TooManyProviderTokenUpdates"},
		{"500 InternalServerError", reason(500, "InternalServerError"), channel.OutcomeRetry, time.Second, 2 * time.Second, "InternalServerError"},
		{"503 ServiceUnavailable", reason(503, "ServiceUnavailable"), channel.OutcomeRetry, time.Second, 2 * time.Second, "ServiceUnavailable"},
		{"502 from a proxy", providertest.JSON(502, `<html>proxy-secret 10.0.0.7</html>`), channel.OutcomeRetry, time.Second, 2 * time.Second, "HTTP 502"},
		{"504 from a proxy", providertest.JSON(504, `<html>gateway timeout</html>`), channel.OutcomeAmbiguous, 0, 0, "HTTP 504"},
		{"400 BadDeviceToken", reason(400, "BadDeviceToken"), channel.OutcomeFailed, 0, 0, "BadDeviceToken; the device token is invalid"},
		{"400 DeviceTokenNotForTopic", reason(400, "DeviceTokenNotForTopic"), channel.OutcomeFailed, 0, 0, "DeviceTokenNotForTopic"},
		{"403 InvalidProviderToken", reason(403, "InvalidProviderToken"), channel.OutcomeFailed, 0, 0, "check team_id, key_id and private_key"},
		{"410 Unregistered", providertest.JSON(410, `{"reason":"Unregistered","timestamp":1793520000000}`), channel.OutcomeFailed, 0, 0,
			"Unregistered; the device token is dead (no longer active for the topic since 2026-11-01T08:00:00Z)"},
		{"413 PayloadTooLarge", reason(413, "PayloadTooLarge"), channel.OutcomeFailed, 0, 0, "PayloadTooLarge"},
		{"timeout", providertest.Hang, channel.OutcomeAmbiguous, 0, 0, "outcome unknown"},
		{"dropped connection", drop, channel.OutcomeAmbiguous, 0, 0, "outcome unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			s.Play(c.answer)
			timeout := 10 * time.Second
			if c.name == "timeout" {
				timeout = 500 * time.Millisecond
			}
			err := send(t, newProviderTimeout(t, s, timeout))
			providertest.Expect(t, err, c.want, c.min, c.max)
			if !strings.Contains(fmt.Sprint(err), c.say) {
				t.Errorf("error %v does not say %q", err, c.say)
			}
			if strings.Contains(fmt.Sprint(err), "proxy-secret") {
				t.Errorf("error %v shows a body that is not APNs's error JSON", err)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("the server got %d requests, want 1 (no retry inside Send)", n)
			}
		})
	}
}

// TestProviderTokenCached: one provider token serves every send, at once
// or one after another, for 50 minutes; then a new one is made.
func TestProviderTokenCached(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newProvider(t, s)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := start
	apns.SetNow(p, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	at := func(d time.Duration) { mu.Lock(); now = start.Add(d); mu.Unlock() }

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := send(t, p); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	for _, d := range []time.Duration{10 * time.Minute, 49 * time.Minute, 51 * time.Minute, 80 * time.Minute} {
		at(d)
		if err := send(t, p); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	var issued []time.Duration
	seen := map[string]bool{}
	for _, r := range s.Requests() {
		tok, claims := providerToken(t, r)
		if !seen[tok] {
			seen[tok] = true
			iat, _ := claims.GetIssuedAt()
			issued = append(issued, iat.Sub(start))
		}
	}
	if want := []time.Duration{0, 51 * time.Minute}; !reflect.DeepEqual(issued, want) {
		t.Errorf("tokens issued at %v, want %v", issued, want)
	}
}

// TestExpiredProviderToken: APNs calling the token expired costs one new
// token and one more request — unless the token is younger than 20
// minutes, which APNs forbids replacing: then the send is retried later.
func TestExpiredProviderToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newProvider(t, s)
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	now := start
	apns.SetNow(p, func() time.Time { return now })
	if err := send(t, p); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first, _ := providerToken(t, s.Last(t))
	expired := providertest.JSON(403, `{"reason":"ExpiredProviderToken"}`)
	s.Play(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("authorization") == "bearer "+first {
			expired(w, r)
			return
		}
		accept(w, r)
	})

	now = start.Add(25 * time.Minute)
	if err := send(t, p); err != nil {
		t.Fatalf("Send after ExpiredProviderToken: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("the server got %d requests, want 3", len(reqs))
	}
	second, claims := providerToken(t, reqs[2])
	if iat, _ := claims.GetIssuedAt(); second == first || !iat.Equal(now) {
		t.Errorf("the resend's token was issued at %v, want a new one issued at %v", iat, now)
	}

	// The new token called expired a minute later: too soon to replace.
	s.Play(expired)
	now = start.Add(26 * time.Minute)
	err := send(t, p)
	providertest.Expect(t, err, channel.OutcomeRetry, 19*time.Minute, 19*time.Minute)
	if n := len(s.Requests()); n != 4 {
		t.Errorf("the server got %d requests, want 4 (no resend with the same token)", n)
	}
}

// TestForcesHTTP2: a client whose transport would speak HTTP/1.1 is made
// to try HTTP/2, which APNs requires.
func TestForcesHTTP2(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tls := s.Client().Transport.(*http.Transport).TLSClientConfig
	p, err := apns.New(config(t, s), &http.Client{Transport: &http.Transport{TLSClientConfig: tls}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := send(t, p); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := s.Last(t); r.ProtoMajor != 2 {
		t.Errorf("request over HTTP/%d, want HTTP/2", r.ProtoMajor)
	}
}

func TestBadPushIsNotSent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := newProvider(t, s)
	for name, edit := range map[string]func(*channel.Message){
		"no push":       func(m *channel.Message) { m.Push = nil },
		"no token":      func(m *channel.Message) { m.Push.Token = "" },
		"path in token": func(m *channel.Message) { m.Push.Token = "../../3/device/abcd" },
		"no alert":      func(m *channel.Message) { m.Push.Title, m.Push.Body = "", "" },
		"data with aps": func(m *channel.Message) { m.Push.Data = map[string]string{"aps": "x"} },
	} {
		m := message()
		edit(&m)
		_, err := p.Send(t.Context(), m)
		if got, _ := channel.Classify(err); got != channel.OutcomeFailed {
			t.Errorf("%s: outcome %v (%v), want failed", name, got, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("the server got %d requests, want none", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := apns.Config{TeamID: "TEAM123456", KeyID: "KEY1234567", PrivateKey: p8(t, key()), Topic: "com.example.shop"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, c := range []struct {
		name string
		edit func(*apns.Config)
		want string
	}{
		{"bad team id", func(c *apns.Config) { c.TeamID = "team" }, "team_id"},
		{"bad key id", func(c *apns.Config) { c.KeyID = "" }, "key_id"},
		{"no key", func(c *apns.Config) { c.PrivateKey = "" }, "private_key is required"},
		{"not PEM", func(c *apns.Config) { c.PrivateKey = "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49" }, "private_key: not a PEM-encoded EC private key"},
		{"RSA key", func(c *apns.Config) { c.PrivateKey = p8(t, rsaKey) }, "private_key: not a PEM-encoded EC private key"},
		{"P-384 key", func(c *apns.Config) { c.PrivateKey = p8(t, p384) }, "private_key: the key is on P-384"},
		{"no topic", func(c *apns.Config) { c.Topic = "" }, "topic"},
		{"priority", func(c *apns.Config) { c.Priority = 7 }, "priority 7"},
		{"negative ttl", func(c *apns.Config) { c.TTL = "-1h" }, "ttl"},
		{"long ttl", func(c *apns.Config) { c.TTL = "1000h" }, "ttl"},
		{"environment", func(c *apns.Config) { c.Environment = "staging" }, "environment"},
		{"plain http base url", func(c *apns.Config) { c.BaseURL = "http://api.push.apple.com" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := apns.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}

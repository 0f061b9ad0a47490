package sendgrid_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
)

func newProvider(t *testing.T, s *providertest.Server) *sendgrid.Provider {
	t.Helper()
	p, err := sendgrid.New(sendgrid.Config{APIKey: "SG.test-key", From: "news@example.com", FromName: "Example News", BaseURL: s.URL + "/"}, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestSendRequest checks the request against the Mail Send reference:
// path, Bearer key, JSON, personalizations, text before HTML, headers and
// the key in custom_args.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusAccepted, "", "X-Message-Id", "sg-msg-1"))
	p := newProvider(t, s)

	res, err := p.Send(t.Context(), providertest.Message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "sendgrid message sg-msg-1" {
		t.Errorf("Detail = %q", res.Detail)
	}
	r := s.Last(t)
	if r.Method != http.MethodPost || r.Path != "/v3/mail/send" {
		t.Errorf("request = %s %s, want POST /v3/mail/send", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer SG.test-key" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{
		"personalizations": []any{map[string]any{"to": []any{map[string]any{"email": "ada@example.com"}}}},
		"from":             map[string]any{"email": "news@example.com", "name": "Example News"},
		"reply_to":         map[string]any{"email": "help@example.com"},
		"subject":          "Welcome, Ada",
		"content": []any{
			map[string]any{"type": "text/plain", "value": providertest.Email().Text},
			map[string]any{"type": "text/html", "value": providertest.Email().HTML},
		},
		"headers": map[string]any{
			"List-Unsubscribe":      "<https://kalcifer.example/u/abc>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		"custom_args": map[string]any{"kalcifer_key": "ins_01:welcome:1"},
	}
	if !reflect.DeepEqual(body, want) {
		got, _ := json.MarshalIndent(body, "", "  ")
		t.Errorf("body =\n%s", got)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	errBody := `{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from","help":null}]}`
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), providertest.Message())
		return err
	}, errBody, "from: The from address does not match a verified Sender Identity.")
}

// TestRateLimitReset: a 429 without Retry-After waits for X-RateLimit-Reset.
func TestRateLimitReset(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	reset := time.Now().Add(90 * time.Second).Unix()
	s.Play(providertest.JSON(http.StatusTooManyRequests, `{"errors":[{"message":"too many requests"}]}`, "X-RateLimit-Reset", itoa(reset)))
	_, err := p.Send(t.Context(), providertest.Message())
	providertest.Expect(t, err, channel.OutcomeRetry, 80*time.Second, 91*time.Second)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPermanentAnswers(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge} {
		s := providertest.New(t)
		p := newProvider(t, s)
		s.Play(providertest.JSON(code, `{"errors":[{"message":"nope"}]}`))
		_, err := p.Send(t.Context(), providertest.Message())
		providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	}
}

func TestBadEmailIsNotSent(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	m := providertest.Message()
	m.Email.Headers["Subject"] = "sneaky"
	_, err := p.Send(t.Context(), m)
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	m.Email = nil
	_, err = p.Send(t.Context(), m)
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	if n := len(s.Requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := sendgrid.Config{APIKey: "SG.x", From: "news@example.com"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*sendgrid.Config)
		want string
	}{
		{"no key", func(c *sendgrid.Config) { c.APIKey = "" }, "api_key is required"},
		{"no from", func(c *sendgrid.Config) { c.From = "" }, "from is required"},
		{"from with name", func(c *sendgrid.Config) { c.From = "News <news@example.com>" }, "plain address"},
		{"bad base url", func(c *sendgrid.Config) { c.BaseURL = "ftp://x" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := sendgrid.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}

package postmark_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/postmark"
)

func newProvider(t *testing.T, s *providertest.Server) *postmark.Provider {
	t.Helper()
	p, err := postmark.New(postmark.Config{ServerToken: "pm-token", From: "news@example.com", FromName: "Example News", BaseURL: s.URL}, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestSendRequest checks the request against Postmark's Email API
// reference: path, server token header, JSON both ways, the fields, the
// headers as Name/Value pairs and the key in Metadata.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, `{"To":"ada@example.com","SubmittedAt":"2026-11-03T09:30:00Z","MessageID":"pm-0a1b","ErrorCode":0,"Message":"OK"}`))
	p := newProvider(t, s)

	res, err := p.Send(t.Context(), providertest.Message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "postmark message pm-0a1b" {
		t.Errorf("Detail = %q", res.Detail)
	}
	r := s.Last(t)
	if r.Method != http.MethodPost || r.Path != "/email" {
		t.Errorf("request = %s %s, want POST /email", r.Method, r.Path)
	}
	for name, want := range map[string]string{"X-Postmark-Server-Token": "pm-token", "Content-Type": "application/json", "Accept": "application/json"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	headers, _ := body["Headers"].([]any)
	delete(body, "Headers")
	want := map[string]any{
		"From": `"Example News" <news@example.com>`, "To": "ada@example.com", "ReplyTo": "help@example.com",
		"Subject": "Welcome, Ada", "HtmlBody": providertest.Email().HTML, "TextBody": providertest.Email().Text,
		"Metadata": map[string]any{"kalcifer_key": "ins_01:welcome:1"}, "MessageStream": "outbound",
	}
	if !reflect.DeepEqual(body, want) {
		got, _ := json.MarshalIndent(body, "", "  ")
		t.Errorf("body =\n%s", got)
	}
	gotHeaders := map[string]any{}
	for _, h := range headers {
		h := h.(map[string]any)
		gotHeaders[h["Name"].(string)] = h["Value"]
	}
	if want := (map[string]any{"List-Unsubscribe": "<https://kalcifer.example/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}); !reflect.DeepEqual(gotHeaders, want) {
		t.Errorf("Headers = %v, want %v", gotHeaders, want)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), providertest.Message())
		return err
	}, `{"ErrorCode":300,"Message":"Invalid 'From' address: 'news@example.com'."}`, "ErrorCode 300: Invalid 'From' address")
}

// TestErrorCodes plays Postmark's documented 422 and 401 answers.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		body   string
		want   channel.Outcome
	}{
		{422, `{"ErrorCode":406,"Message":"You tried to send to recipient(s) that have been marked as inactive."}`, channel.OutcomeFailed},
		{422, `{"ErrorCode":405,"Message":"Not allowed to send: you have run out of credits."}`, channel.OutcomeFailed},
		{422, `{"ErrorCode":100,"Message":"Maintenance"}`, channel.OutcomeRetry},
		{401, `{"ErrorCode":10,"Message":"Bad or missing Server API token."}`, channel.OutcomeFailed},
		{429, `{"ErrorCode":429,"Message":"Rate limit exceeded"}`, channel.OutcomeRetry},
		{503, ``, channel.OutcomeRetry},
		{504, ``, channel.OutcomeAmbiguous},
	} {
		s := providertest.New(t)
		p := newProvider(t, s)
		s.Play(providertest.JSON(c.status, c.body))
		_, err := p.Send(t.Context(), providertest.Message())
		if got, _ := channel.Classify(err); got != c.want {
			t.Errorf("HTTP %d %s: outcome %v (%v), want %v", c.status, c.body, got, err, c.want)
		}
	}
}

// TestRetryAfterDate: Retry-After as an HTTP date is honoured too.
func TestRetryAfterDate(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	s.Play(providertest.JSON(http.StatusTooManyRequests, `{}`, "Retry-After", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat)))
	_, err := p.Send(t.Context(), providertest.Message())
	providertest.Expect(t, err, channel.OutcomeRetry, 9*time.Minute, 10*time.Minute+time.Second)
}

func TestLongKeyIsRefused(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	m := providertest.Message()
	m.Key = "ins_01:" + strings.Repeat("n", 80) + ":1"
	_, err := p.Send(t.Context(), m)
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	if len(s.Requests()) != 0 {
		t.Error("a message whose key Postmark cannot carry was sent")
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := postmark.Config{ServerToken: "x", From: "news@example.com"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*postmark.Config)
		want string
	}{
		{"no token", func(c *postmark.Config) { c.ServerToken = " " }, "server_token is required"},
		{"no from", func(c *postmark.Config) { c.From = "" }, "from is required"},
		{"bad stream", func(c *postmark.Config) { c.MessageStream = "a b" }, "message_stream"},
		{"bad base url", func(c *postmark.Config) { c.BaseURL = "api.postmarkapp.com" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
	}
}

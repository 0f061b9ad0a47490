// Package postmark sends email through Postmark's Email API (POST /email,
// X-Postmark-Server-Token).
//
// The send's key travels as the metadata field "kalcifer_key", which
// Postmark's webhooks (delivery, bounce, open, click) carry back. Postmark
// accepts no idempotency key, so the provider is not a channel.Deduplicator.
//
// Outcomes:
//
//   - sent: 200 with ErrorCode 0; the detail names Postmark's MessageID.
//   - retry: 429 (rate limit), after Retry-After or backoff; 422 with
//     ErrorCode 100 (maintenance); 500, 502, 503 with backoff; the request
//     never fully left.
//   - failed: 401 (bad server token), 422 with any other ErrorCode — 300
//     invalid request, 400/401 sender signature, 405 not allowed to send,
//     406 inactive recipient (hard bounce, spam complaint, suppression),
//     412/413 account pending or not allowed —, every other 4xx and 3xx.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, or a 504.
package postmark

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "postmark"

// DefaultBaseURL is Postmark's API.
const DefaultBaseURL = "https://api.postmarkapp.com"

// KeyField is the metadata field that carries the send's key.
const KeyField = "kalcifer_key"

// maxMetadataValue is Postmark's limit on a metadata value.
const maxMetadataValue = 80

// Postmark's ErrorCode values that steer an outcome.
const (
	codeMaintenance       = 100
	codeInactiveRecipient = 406
)

// Config is a Postmark server.
type Config struct {
	// ServerToken is the server's API token.
	ServerToken string `json:"server_token" secret:"true"`
	// From and FromName are the default sender (a confirmed sender
	// signature or domain); an email's own From wins.
	From     string `json:"from"`
	FromName string `json:"from_name,omitempty"`
	// MessageStream is the stream to send through: "outbound" (the
	// default transactional stream) or a broadcast stream's id.
	MessageStream string `json:"message_stream,omitempty"`
	// BaseURL is the API's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
	// WebhookUsername and WebhookPassword are the HTTP basic auth
	// credentials written into the webhook URL given to Postmark, which
	// signs nothing else (callback.go). Without them, callbacks are refused.
	WebhookUsername string `json:"webhook_username,omitempty"`
	WebhookPassword string `json:"webhook_password,omitempty" secret:"true"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	if strings.TrimSpace(c.ServerToken) == "" {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: server_token is required (the server's API token)")
	}
	if strings.ContainsAny(c.ServerToken, "\r\n \t") {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: server_token must not contain spaces or line breaks")
	}
	if err := channel.CheckSender(c.From, c.FromName); err != nil {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: %v", err)
	}
	if strings.ContainsAny(c.MessageStream, " \r\n\t/") {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: message_stream %q must be a stream id such as outbound", c.MessageStream)
	}
	if _, err := httpapi.BaseURL(c.BaseURL, DefaultBaseURL); err != nil {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: %v", err)
	}
	if (c.WebhookUsername == "") != (c.WebhookPassword == "") {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: webhook_username and webhook_password go together (the basic auth credentials of the webhook URL)")
	}
	if strings.ContainsAny(c.WebhookUsername, ":@/ \r\n\t") || len(c.WebhookPassword) > 0 && len(c.WebhookPassword) < 16 {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "postmark: webhook_username must have no ':', '@', '/' or spaces, and webhook_password at least 16 characters")
	}
	return nil
}

// Provider sends through one Postmark server. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	url    string
	client *http.Client
}

// New returns a provider for cfg, or cfg's problem. client may be nil (a
// default client); it is used without following redirects.
func New(cfg Config, client *http.Client) (*Provider, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.MessageStream == "" {
		cfg.MessageStream = "outbound"
	}
	base, _ := httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	return &Provider{cfg: cfg, url: base + "/email", client: httpapi.Client(client)}, nil
}

// Name returns "postmark".
func (p *Provider) Name() string { return Name }

type header struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type request struct {
	From          string            `json:"From"`
	To            string            `json:"To"`
	ReplyTo       string            `json:"ReplyTo,omitempty"`
	Subject       string            `json:"Subject"`
	HTMLBody      string            `json:"HtmlBody,omitempty"`
	TextBody      string            `json:"TextBody,omitempty"`
	Headers       []header          `json:"Headers,omitempty"`
	Metadata      map[string]string `json:"Metadata"`
	MessageStream string            `json:"MessageStream"`
}

func (p *Provider) body(m channel.Message) request {
	e := m.Email
	from, name := e.Sender(p.cfg.From, p.cfg.FromName)
	r := request{
		From: (&mail.Address{Name: name, Address: from}).String(), To: e.To, ReplyTo: e.ReplyTo, Subject: e.Subject,
		HTMLBody: e.HTML, TextBody: e.Text, Metadata: map[string]string{KeyField: m.Key}, MessageStream: p.cfg.MessageStream,
	}
	for name, value := range e.Headers {
		r.Headers = append(r.Headers, header{name, value})
	}
	return r
}

// Send posts m's email to Postmark once.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if err := m.Email.Check(); err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("postmark: %w", err))
	}
	if len(m.Key) > maxMetadataValue {
		return channel.Result{}, channel.Permanent(fmt.Errorf("postmark: the send key %q is longer than the %d characters Postmark's metadata holds (shorten the node id)", m.Key, maxMetadataValue))
	}
	req, err := httpapi.NewJSONRequest(ctx, p.url, p.body(m))
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("postmark: %w", err))
	}
	req.Header.Set("X-Postmark-Server-Token", p.cfg.ServerToken)
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// answer is Postmark's response body, on success and on error.
type answer struct {
	ErrorCode int    `json:"ErrorCode"`
	Message   string `json:"Message"`
	MessageID string `json:"MessageID"`
}

// classify maps Postmark's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	var a answer
	isJSON := json.Unmarshal(resp.Body, &a) == nil
	if code >= 200 && code <= 299 {
		if isJSON && a.ErrorCode != 0 { // not documented for 200, but never call it sent
			return channel.Result{}, channel.Permanent(fmt.Errorf("postmark answered HTTP %d with ErrorCode %d: %s", code, a.ErrorCode, httpapi.Truncate(a.Message)))
		}
		if a.MessageID != "" {
			return channel.Result{Detail: "postmark message " + a.MessageID}, nil
		}
		return channel.Result{Detail: "postmark accepted (HTTP " + strconv.Itoa(code) + ")"}, nil
	}
	msg := ""
	if isJSON && (a.ErrorCode != 0 || a.Message != "") {
		msg = fmt.Sprintf(" (ErrorCode %d: %s)", a.ErrorCode, httpapi.Truncate(a.Message))
	}
	err := fmt.Errorf("postmark answered HTTP %d%s", code, msg)
	switch {
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case code == http.StatusUnprocessableEntity && a.ErrorCode == codeMaintenance:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case code == http.StatusUnprocessableEntity && a.ErrorCode == codeInactiveRecipient:
		return channel.Result{}, channel.Permanent(fmt.Errorf("%w: the recipient is inactive at Postmark (hard bounce, spam complaint or suppression)", err))
	case code >= 500:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	}
	return channel.Result{}, channel.Permanent(err)
}

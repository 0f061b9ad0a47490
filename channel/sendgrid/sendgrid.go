// Package sendgrid sends email through the SendGrid v3 Mail Send API
// (POST /v3/mail/send, Bearer API key).
//
// The send's key travels as the custom argument "kalcifer_key", which
// SendGrid's event webhook echoes on every event of the message. SendGrid
// accepts no idempotency key, so the provider is not a channel.Deduplicator.
//
// Outcomes:
//
//   - sent: 202 (or any 2xx); the detail names X-Message-Id.
//   - retry: 429, after Retry-After or else X-RateLimit-Reset (else
//     backoff with jitter); 500, 502, 503 with backoff; the request never
//     fully left.
//   - failed: a config or email SendGrid would refuse; 400, 401, 403, 413
//     and every other 4xx and 3xx, with SendGrid's first error message.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, or a 504.
package sendgrid

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "sendgrid"

// DefaultBaseURL is SendGrid's global API; EU-pinned accounts use
// https://api.eu.sendgrid.com.
const DefaultBaseURL = "https://api.sendgrid.com"

// KeyArg is the custom argument that carries the send's key.
const KeyArg = "kalcifer_key"

// Config is a SendGrid account.
type Config struct {
	// APIKey is a key with the Mail Send permission.
	APIKey string `json:"api_key" secret:"true"`
	// From and FromName are the default sender (a verified sender
	// identity); an email's own From wins.
	From     string `json:"from"`
	FromName string `json:"from_name,omitempty"`
	// BaseURL is the API's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
	// WebhookVerificationKey is the Signed Event Webhook's public key
	// (base64, as SendGrid shows it), which callbacks are verified
	// against (callback.go). Without it, callbacks are refused.
	WebhookVerificationKey string `json:"webhook_verification_key,omitempty"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	if strings.TrimSpace(c.APIKey) == "" {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "sendgrid: api_key is required (an API key with the Mail Send permission)")
	}
	if strings.ContainsAny(c.APIKey, "\r\n \t") {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "sendgrid: api_key must not contain spaces or line breaks")
	}
	if err := channel.CheckSender(c.From, c.FromName); err != nil {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "sendgrid: %v", err)
	}
	if _, err := httpapi.BaseURL(c.BaseURL, DefaultBaseURL); err != nil {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "sendgrid: %v", err)
	}
	if c.WebhookVerificationKey != "" {
		if _, err := verificationKey(c.WebhookVerificationKey); err != nil {
			return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "sendgrid: %v", err)
		}
	}
	return nil
}

// Provider sends through one SendGrid account. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	url    string
	client *http.Client
	key    *ecdsa.PublicKey // the webhook verification key, nil when unset
}

// New returns a provider for cfg, or cfg's problem. client may be nil (a
// default client); it is used without following redirects.
func New(cfg Config, client *http.Client) (*Provider, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	base, _ := httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	p := &Provider{cfg: cfg, url: base + "/v3/mail/send", client: httpapi.Client(client)}
	if cfg.WebhookVerificationKey != "" {
		p.key, _ = verificationKey(cfg.WebhookVerificationKey) // checked by Check
	}
	return p, nil
}

// Name returns "sendgrid".
func (p *Provider) Name() string { return Name }

type address struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

type content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type personalization struct {
	To []address `json:"to"`
}

type request struct {
	Personalizations []personalization `json:"personalizations"`
	From             address           `json:"from"`
	ReplyTo          *address          `json:"reply_to,omitempty"`
	Subject          string            `json:"subject"`
	Content          []content         `json:"content"`
	Headers          map[string]string `json:"headers,omitempty"`
	CustomArgs       map[string]string `json:"custom_args"`
}

// body is the Mail Send request for m.
func (p *Provider) body(m channel.Message) request {
	e := m.Email
	from, name := e.Sender(p.cfg.From, p.cfg.FromName)
	r := request{
		Personalizations: []personalization{{To: []address{{Email: e.To}}}},
		From:             address{Email: from, Name: name},
		Subject:          e.Subject,
		Headers:          e.Headers,
		CustomArgs:       map[string]string{KeyArg: m.Key},
	}
	if e.ReplyTo != "" {
		r.ReplyTo = &address{Email: e.ReplyTo}
	}
	// SendGrid requires text/plain before text/html.
	if e.Text != "" {
		r.Content = append(r.Content, content{"text/plain", e.Text})
	}
	if e.HTML != "" {
		r.Content = append(r.Content, content{"text/html", e.HTML})
	}
	return r
}

// Send posts m's email to Mail Send once.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if err := m.Email.Check(); err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("sendgrid: %w", err))
	}
	req, err := httpapi.NewJSONRequest(ctx, p.url, p.body(m))
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("sendgrid: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// classify maps Mail Send's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		detail := "sendgrid accepted (HTTP " + strconv.Itoa(code) + ")"
		if id := resp.Header.Get("X-Message-Id"); id != "" {
			detail = "sendgrid message " + id
		}
		return channel.Result{Detail: detail}, nil
	}
	err := fmt.Errorf("sendgrid answered HTTP %d%s", code, errorMessage(resp.Body))
	switch {
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, rateLimitDelay(resp.Header, now, attempt))
	case code >= 500:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	}
	return channel.Result{}, channel.Permanent(err)
}

// rateLimitDelay is how long a 429 asks to wait: Retry-After, else until
// X-RateLimit-Reset (Unix seconds), else backoff.
func rateLimitDelay(h http.Header, now time.Time, attempt int) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		return httpapi.RetryAfter(v, now, channel.Backoff(attempt))
	}
	if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		return min(max(time.Unix(reset, 0).Sub(now), time.Second), httpapi.MaxRetryAfter)
	}
	return channel.Backoff(attempt)
}

// errorMessage is ": " + SendGrid's first error (field and message), or ""
// when the body is not SendGrid's error JSON. Other bodies are never shown.
func errorMessage(body []byte) string {
	var e struct {
		Errors []struct {
			Message string `json:"message"`
			Field   any    `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 || e.Errors[0].Message == "" {
		return ""
	}
	msg := e.Errors[0].Message
	if f, ok := e.Errors[0].Field.(string); ok && f != "" {
		msg = f + ": " + msg
	}
	return ": " + httpapi.Truncate(msg)
}

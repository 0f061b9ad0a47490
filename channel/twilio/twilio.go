// Package twilio sends SMS and WhatsApp messages through Twilio's
// Programmable Messaging API (POST /2010-04-01/Accounts/{AccountSid}/
// Messages.json, form-encoded, HTTP basic auth AccountSid:AuthToken) and
// reads its status callbacks (callback.go).
//
// SMS go from the account's number, short code or alphanumeric sender
// (From) or through a Messaging Service (MessagingServiceSid); WhatsApp
// messages go between "whatsapp:+…" addresses, free-form (Body) or as an
// approved Content Template (ContentSid and ContentVariables).
//
// The send's key travels in the StatusCallback URL as the query parameter
// "kalcifer_key", so every status callback names the send. Twilio's
// Messages API accepts no idempotency key (I-Twilio-Idempotency-Token is
// a header Twilio puts on the webhooks it sends, not one it honours on
// requests), so the provider is not a channel.Deduplicator.
//
// Outcomes:
//
//   - sent: 201 (any 2xx); the detail names the Message SID.
//   - retry: 429 (Twilio error 20429), after Retry-After or backoff;
//     error 21611 (the sender's queue is full) with backoff; 500, 502, 503
//     with backoff; the request never fully left.
//   - failed: a message Twilio would refuse (no recipient, no body, a
//     template that is not a Content SID); 400 (21211 invalid To, 21610
//     unsubscribed recipient, 21408 region not enabled, 63016 outside the
//     WhatsApp window...), 401, 403, 404 and every other 4xx and 3xx, with
//     Twilio's code and message.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, or a 504.
package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
	"github.com/kalcifer/kalcifer/channel/internal/phone"
)

var (
	_ channel.Provider       = (*Provider)(nil)
	_ channel.CallbackReader = (*Provider)(nil)
)

// Name is the provider type's name.
const Name = "twilio"

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// KeyParam is the StatusCallback URL's query parameter that carries the
// send's key back.
const KeyParam = "kalcifer_key"

// Twilio's error codes that steer an outcome.
const (
	codeTooManyRequests = 20429
	codeQueueFull       = 21611
)

var (
	accountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	contentSID = regexp.MustCompile(`^HX[0-9a-fA-F]{32}$`)
)

// Config is a Twilio account.
type Config struct {
	// AccountSID ("AC…") and AuthToken authenticate requests; the auth
	// token also signs status callbacks.
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token" secret:"true"`
	// From is the default SMS sender: a Twilio number in E.164 form, a
	// short code or an alphanumeric sender id. A message's own From wins.
	From string `json:"from,omitempty"`
	// MessagingServiceSID ("MG…") sends through a Messaging Service (its
	// sender pool) when neither the message nor the config names a sender.
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	// WhatsAppFrom is the default WhatsApp sender, a number in E.164 form
	// (sent as "whatsapp:+…").
	WhatsAppFrom string `json:"whatsapp_from,omitempty"`
	// StatusCallbackURL is where Twilio posts status changes: the
	// account's /api/v1/providers/{id}/callbacks URL. When empty, the
	// catalog fills in that URL under the server's public URL (Driver.
	// CallbackField); with no public URL either, there are no status
	// callbacks.
	StatusCallbackURL string `json:"status_callback_url,omitempty"`
	// BaseURL is the API's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	bad := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "twilio: "+format, args...)
	}
	switch {
	case !accountSID.MatchString(c.AccountSID):
		return bad("account_sid must be the account's SID (AC and 32 hex digits)")
	case strings.TrimSpace(c.AuthToken) == "":
		return bad("auth_token is required (the account's auth token)")
	case strings.ContainsAny(c.AuthToken, "\r\n \t"):
		return bad("auth_token must not contain spaces or line breaks")
	case c.MessagingServiceSID != "" && !serviceSID.MatchString(c.MessagingServiceSID):
		return bad("messaging_service_sid must be a Messaging Service SID (MG and 32 hex digits)")
	case c.From == "" && c.MessagingServiceSID == "" && c.WhatsAppFrom == "":
		return bad("a sender is required: from (SMS), whatsapp_from (WhatsApp) or messaging_service_sid")
	case strings.ContainsAny(c.From, "\r\n"):
		return bad("from must be one line")
	}
	if c.WhatsAppFrom != "" {
		if err := phone.CheckE164(c.WhatsAppFrom); err != nil {
			return bad("whatsapp_from: %v", err)
		}
	}
	if c.StatusCallbackURL != "" {
		u, err := url.Parse(c.StatusCallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return bad("status_callback_url %q must be an absolute http or https URL", c.StatusCallbackURL)
		}
	}
	if _, err := httpapi.BaseURL(c.BaseURL, DefaultBaseURL); err != nil {
		return bad("%v", err)
	}
	return nil
}

// Provider sends through one Twilio account. It is safe for concurrent use.
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
	base, _ := httpapi.BaseURL(cfg.BaseURL, DefaultBaseURL)
	return &Provider{
		cfg:    cfg,
		url:    base + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json",
		client: httpapi.Client(client),
	}, nil
}

// Name returns "twilio".
func (p *Provider) Name() string { return Name }

// form is the Create Message request for m, or why Twilio would refuse it.
func (p *Provider) form(m channel.Message) (url.Values, error) {
	f := url.Values{}
	switch {
	case m.Channel == "sms" && m.SMS != nil:
		if err := phone.CheckE164(m.SMS.To); err != nil {
			return nil, err
		}
		if strings.TrimSpace(m.SMS.Body) == "" {
			return nil, fmt.Errorf("the SMS has no body")
		}
		f.Set("To", m.SMS.To)
		f.Set("Body", m.SMS.Body)
		if err := p.sender(f, m.SMS.From, p.cfg.From, ""); err != nil {
			return nil, err
		}
	case m.Channel == "whatsapp" && m.WhatsApp != nil:
		w := m.WhatsApp
		if err := phone.CheckE164(w.To); err != nil {
			return nil, err
		}
		f.Set("To", "whatsapp:"+w.To)
		if err := p.sender(f, w.From, p.cfg.WhatsAppFrom, "whatsapp:"); err != nil {
			return nil, err
		}
		if err := whatsAppContent(f, w); err != nil {
			return nil, err
		}
	case m.Channel == "sms" || m.Channel == "whatsapp":
		return nil, fmt.Errorf("the %s message has no rendered content", m.Channel)
	default:
		return nil, fmt.Errorf("twilio sends sms and whatsapp messages, not %q", m.Channel)
	}
	if p.cfg.StatusCallbackURL != "" {
		f.Set("StatusCallback", callbackURL(p.cfg.StatusCallbackURL, m.Key))
	}
	return f, nil
}

// sender sets From (own, else def, with prefix) or, failing both, the
// Messaging Service.
func (p *Provider) sender(f url.Values, own, def, prefix string) error {
	from := own
	if from == "" {
		from = def
	}
	switch {
	case from != "":
		f.Set("From", prefix+from)
	case p.cfg.MessagingServiceSID != "":
		f.Set("MessagingServiceSid", p.cfg.MessagingServiceSID)
	default:
		return fmt.Errorf("no sender: the message names none and the account has no %s or messaging_service_sid", map[string]string{"": "from", "whatsapp:": "whatsapp_from"}[prefix])
	}
	return nil
}

// whatsAppContent sets a free-form Body or an approved template, which
// Twilio names by its Content SID; its parameters fill {{1}}, {{2}}…
func whatsAppContent(f url.Values, w *channel.WhatsApp) error {
	if w.Template == nil {
		if strings.TrimSpace(w.Body) == "" {
			return fmt.Errorf("the WhatsApp message has neither a body nor a template")
		}
		f.Set("Body", w.Body)
		return nil
	}
	if !contentSID.MatchString(w.Template.Name) {
		return fmt.Errorf("twilio names a WhatsApp template by its Content SID (HX and 32 hex digits), not %q", w.Template.Name)
	}
	f.Set("ContentSid", w.Template.Name)
	if len(w.Template.Params) > 0 {
		vars := make(map[string]string, len(w.Template.Params))
		for i, v := range w.Template.Params {
			vars[strconv.Itoa(i+1)] = v
		}
		b, _ := json.Marshal(vars)
		f.Set("ContentVariables", string(b))
	}
	return nil
}

// callbackURL is the status callback URL with the send's key added to its
// query.
func callbackURL(base, key string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + KeyParam + "=" + url.QueryEscape(key)
}

// Send creates one Message for m.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	form, err := p.form(m)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("twilio: %w", err))
	}
	req, err := httpapi.NewFormRequest(ctx, p.url, form)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("twilio: %w", err))
	}
	req.SetBasicAuth(p.cfg.AccountSID, p.cfg.AuthToken)
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// apiError is Twilio's error JSON.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// classify maps Twilio's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		var msg struct {
			SID string `json:"sid"`
		}
		if json.Unmarshal(resp.Body, &msg) == nil && msg.SID != "" {
			return channel.Result{Detail: "twilio message " + msg.SID}, nil
		}
		return channel.Result{Detail: "twilio accepted (HTTP " + strconv.Itoa(code) + ")"}, nil
	}
	var e apiError
	_ = json.Unmarshal(resp.Body, &e)
	err := fmt.Errorf("twilio answered HTTP %d%s", code, e.text())
	switch {
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case code >= 500:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	case e.Code == codeTooManyRequests || e.Code == codeQueueFull:
		return channel.Result{}, channel.Retry(err, channel.Backoff(attempt))
	}
	return channel.Result{}, channel.Permanent(err)
}

// text is ": <code> <message>", or "" when the body was not Twilio's
// error JSON. Other bodies are never shown.
func (e apiError) text() string {
	if e.Code == 0 && e.Message == "" {
		return ""
	}
	return ": error " + strconv.Itoa(e.Code) + " " + httpapi.Truncate(e.Message)
}

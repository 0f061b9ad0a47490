// Package metawhatsapp sends WhatsApp messages through Meta's WhatsApp
// Cloud API (POST /{version}/{phone-number-id}/messages on the Graph API,
// Bearer access token) and reads its webhooks (callback.go).
//
// A message is free-form text (type "text", only inside the 24-hour
// customer-service window) or an approved template (type "template", its
// body parameters filled in order).
//
// The send's key travels as biz_opaque_callback_data, which the Cloud API
// returns on the message's status webhooks; every status also names the
// message by its id (wamid…), which the send's detail records. The Cloud
// API accepts no idempotency key, so the provider is not a
// channel.Deduplicator.
//
// Outcomes:
//
//   - sent: 200 with a message id; the detail names it.
//   - retry: 429 or a rate-limit error (4, 80007, 130429, 131048, 131056),
//     after Retry-After or backoff; a temporary error (1, 2, 131016, 131057,
//     133004) with backoff; 500, 502, 503 with backoff; the request never
//     fully left.
//   - failed: a message the Cloud API would refuse; every other Graph API
//     error — 131026 undeliverable, 131047 outside the 24-hour window,
//     132000/132001 template parameters or name, 190 expired token, 10 and
//     200–299 permissions... —, with its code and message.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, a 504, or a 2xx without a message id.
package metawhatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
const Name = "metawhatsapp"

// DefaultBaseURL is the Graph API.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultAPIVersion is the Graph API version used when the config names
// none.
const DefaultAPIVersion = "v23.0"

// maxCallbackData is the Cloud API's limit on biz_opaque_callback_data.
const maxCallbackData = 512

// The Graph API error codes that mean "not now" rather than "never": rate
// limits and temporary unavailability. Every other code is permanent.
var retryCodes = map[int]bool{
	1:      true, // API unknown: possibly a temporary server error
	2:      true, // API service: temporary downtime or overload
	4:      true, // API too many calls (app rate limit)
	80007:  true, // WhatsApp Business Account rate limit
	130429: true, // Cloud API throughput rate limit
	131016: true, // service unavailable
	131048: true, // spam rate limit
	131056: true, // pair rate limit: too many messages to one recipient
	131057: true, // account in maintenance mode
	133004: true, // server temporarily unavailable
}

var (
	phoneNumberID = regexp.MustCompile(`^[0-9]{1,32}$`)
	apiVersion    = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
)

// Config is a WhatsApp Business phone number on the Cloud API.
type Config struct {
	// AccessToken is a system user's (or the app's) access token with the
	// whatsapp_business_messaging permission.
	AccessToken string `json:"access_token" secret:"true"`
	// PhoneNumberID is the sending business phone number's id (not the
	// number itself).
	PhoneNumberID string `json:"phone_number_id"`
	// AppSecret signs webhooks (X-Hub-Signature-256); required to read
	// status callbacks.
	AppSecret string `json:"app_secret,omitempty" secret:"true"`
	// VerifyToken is the token set on the app's webhook subscription,
	// echoed by Meta's verification request (VerifySubscription).
	VerifyToken string `json:"verify_token,omitempty" secret:"true"`
	// APIVersion is the Graph API version, DefaultAPIVersion when empty.
	APIVersion string `json:"api_version,omitempty"`
	// BaseURL is the Graph API's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	bad := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "metawhatsapp: "+format, args...)
	}
	switch {
	case strings.TrimSpace(c.AccessToken) == "":
		return bad("access_token is required (a token with the whatsapp_business_messaging permission)")
	case strings.ContainsAny(c.AccessToken, "\r\n \t"):
		return bad("access_token must not contain spaces or line breaks")
	case !phoneNumberID.MatchString(c.PhoneNumberID):
		return bad("phone_number_id must be the business phone number's id (digits), as WhatsApp Manager shows it")
	case c.APIVersion != "" && !apiVersion.MatchString(c.APIVersion):
		return bad("api_version %q must look like %s", c.APIVersion, DefaultAPIVersion)
	case c.VerifyToken != "" && c.AppSecret == "":
		return bad("verify_token without app_secret: webhooks cannot be verified without the app secret")
	}
	if _, err := httpapi.BaseURL(c.BaseURL, DefaultBaseURL); err != nil {
		return bad("%v", err)
	}
	return nil
}

// Provider sends through one business phone number. It is safe for
// concurrent use.
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
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	return &Provider{cfg: cfg, url: base + "/" + version + "/" + cfg.PhoneNumberID + "/messages", client: httpapi.Client(client)}, nil
}

// Name returns "metawhatsapp".
func (p *Provider) Name() string { return Name }

type text struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type component struct {
	Type       string      `json:"type"`
	Parameters []parameter `json:"parameters"`
}

type template struct {
	Name       string            `json:"name"`
	Language   map[string]string `json:"language"`
	Components []component       `json:"components,omitempty"`
}

type request struct {
	MessagingProduct string    `json:"messaging_product"`
	RecipientType    string    `json:"recipient_type"`
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Text             *text     `json:"text,omitempty"`
	Template         *template `json:"template,omitempty"`
	CallbackData     string    `json:"biz_opaque_callback_data,omitempty"`
}

// body is the send request for m, or why the Cloud API would refuse it.
func body(m channel.Message) (request, error) {
	if m.Channel != "whatsapp" {
		return request{}, fmt.Errorf("metawhatsapp sends whatsapp messages, not %q", m.Channel)
	}
	w := m.WhatsApp
	if w == nil {
		return request{}, fmt.Errorf("the whatsapp message has no rendered content")
	}
	if err := phone.CheckE164(w.To); err != nil {
		return request{}, err
	}
	if len(m.Key) > maxCallbackData {
		return request{}, fmt.Errorf("the send key is %d bytes, over the %d biz_opaque_callback_data allows", len(m.Key), maxCallbackData)
	}
	r := request{MessagingProduct: "whatsapp", RecipientType: "individual", To: w.To, CallbackData: m.Key}
	if w.Template == nil {
		if strings.TrimSpace(w.Body) == "" {
			return request{}, fmt.Errorf("the WhatsApp message has neither a body nor a template")
		}
		r.Type, r.Text = "text", &text{Body: w.Body}
		return r, nil
	}
	t := w.Template
	if t.Name == "" || t.Language == "" {
		return request{}, fmt.Errorf("a WhatsApp template needs its name and language (e.g. order_update, en_US)")
	}
	r.Type, r.Template = "template", &template{Name: t.Name, Language: map[string]string{"code": t.Language}}
	if len(t.Params) > 0 {
		c := component{Type: "body"}
		for _, v := range t.Params {
			c.Parameters = append(c.Parameters, parameter{Type: "text", Text: v})
		}
		r.Template.Components = []component{c}
	}
	return r, nil
}

// Send posts one message for m.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	b, err := body(m)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("metawhatsapp: %w", err))
	}
	req, err := httpapi.NewJSONRequest(ctx, p.url, b)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("metawhatsapp: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.AccessToken)
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// graphError is the Graph API's error object.
type graphError struct {
	Error struct {
		Message   string `json:"message"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// classify maps the Cloud API's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		var ok struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if json.Unmarshal(resp.Body, &ok) != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
			return channel.Result{}, channel.Ambiguous(fmt.Errorf("metawhatsapp answered HTTP %d without a message id", code))
		}
		return channel.Result{Detail: "whatsapp message " + ok.Messages[0].ID}, nil
	}
	var e graphError
	_ = json.Unmarshal(resp.Body, &e)
	err := fmt.Errorf("metawhatsapp answered HTTP %d%s", code, e.text())
	switch {
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case retryCodes[e.Error.Code]:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case code >= 500:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	}
	return channel.Result{}, channel.Permanent(err)
}

// text is ": error <code> <message> (<details>)", or "" when the body was
// not a Graph API error. Other bodies are never shown.
func (e graphError) text() string {
	if e.Error.Code == 0 && e.Error.Message == "" {
		return ""
	}
	s := ": error " + strconv.Itoa(e.Error.Code) + " " + e.Error.Message
	if d := e.Error.ErrorData.Details; d != "" {
		s += " (" + d + ")"
	}
	return httpapi.Truncate(s)
}

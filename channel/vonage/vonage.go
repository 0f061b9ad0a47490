// Package vonage sends SMS through the Vonage (formerly Nexmo) SMS API
// (POST https://rest.nexmo.com/sms/json, form-encoded, api_key and
// api_secret) and reads its delivery receipts (callback.go).
//
// The send's key travels as client-ref, which every delivery receipt of
// the message carries back. The SMS API accepts no idempotency key, so the
// provider is not a channel.Deduplicator.
//
// The SMS API answers 200 with a status per message part. Outcomes:
//
//   - sent: every part has status 0; the detail names the first part's
//     message-id.
//   - retry: status 1 (throttled), 5 (internal error) or 10 (too many
//     binds) with backoff; HTTP 429 after Retry-After or backoff; 500, 502,
//     503 with backoff; the request never fully left.
//   - failed: a message Vonage would refuse; any other status — 2/3
//     missing or invalid parameters, 4 bad credentials, 6 invalid message,
//     7 number barred, 8 account barred, 9 out of credit, 12 too long, 15
//     invalid sender, 29 non-whitelisted destination, 33 number
//     de-activated... —, with its error-text; a message only some parts of
//     which were accepted (sending again would repeat those parts); every
//     other HTTP 4xx and 3xx.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, a 504, or a 200 whose body names no part.
package vonage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
const Name = "vonage"

// DefaultBaseURL is the SMS API.
const DefaultBaseURL = "https://rest.nexmo.com"

// The SMS API's limits on client-ref and callback.
const (
	maxClientRef = 100
	maxCallback  = 100
)

// retryStatuses are the per-message statuses that mean "not now":
// throttled, internal error, too many binds.
var retryStatuses = map[string]bool{"1": true, "5": true, "10": true}

// Config is a Vonage account.
type Config struct {
	// APIKey and APISecret authenticate requests.
	APIKey    string `json:"api_key"`
	APISecret string `json:"api_secret" secret:"true"`
	// From is the default sender: a Vonage number (E.164, the "+" is
	// dropped) or an alphanumeric sender id of up to 11 characters. A
	// message's own From wins.
	From string `json:"from"`
	// StatusCallbackURL, when set, is sent with every message as its
	// delivery receipt URL (the SMS API's callback parameter, at most 100
	// characters with the callback token), overriding the dashboard's.
	StatusCallbackURL string `json:"status_callback_url,omitempty"`
	// SignatureSecret and SignatureMethod verify signed delivery receipts
	// (the dashboard's signature secret and method; Vonage support turns
	// signed webhooks on). SignatureMethod is md5hash (the default), md5,
	// sha1, sha256 or sha512 (the HMAC methods).
	SignatureSecret string `json:"signature_secret,omitempty" secret:"true"`
	SignatureMethod string `json:"signature_method,omitempty"`
	// CallbackToken protects the receipt URL of an account without signed
	// webhooks: a receipt is accepted only when its URL carries
	// ?kalcifer_token=<token>. It is added to StatusCallbackURL when that
	// is set; otherwise the dashboard's URL must carry it.
	CallbackToken string `json:"callback_token,omitempty" secret:"true"`
	// BaseURL is the API's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	bad := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "vonage: "+format, args...)
	}
	switch {
	case strings.TrimSpace(c.APIKey) == "" || strings.ContainsAny(c.APIKey, "\r\n \t"):
		return bad("api_key is required (the account's API key, without spaces)")
	case strings.TrimSpace(c.APISecret) == "":
		return bad("api_secret is required (the account's API secret)")
	case c.SignatureMethod != "" && hashes[c.SignatureMethod] == nil:
		return bad("signature_method %q must be md5hash, md5, sha1, sha256 or sha512", c.SignatureMethod)
	case c.SignatureMethod != "" && c.SignatureSecret == "":
		return bad("signature_method without signature_secret")
	case c.CallbackToken != "" && !tokenChars(c.CallbackToken):
		return bad("callback_token must be 16 to 64 letters, digits, '-' or '_'")
	}
	if err := checkSender(c.From, true); err != nil {
		return bad("from: %v", err)
	}
	if c.StatusCallbackURL != "" {
		u, err := url.Parse(c.StatusCallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return bad("status_callback_url %q must be an absolute http or https URL", c.StatusCallbackURL)
		}
		if n := len(c.callbackURL()); n > maxCallback {
			return bad("status_callback_url is %d characters with the callback token; Vonage takes at most %d", n, maxCallback)
		}
	}
	if _, err := httpapi.BaseURL(c.BaseURL, DefaultBaseURL); err != nil {
		return bad("%v", err)
	}
	return nil
}

// tokenChars reports whether s is a plausible callback token.
func tokenChars(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkSender accepts an E.164 number or an alphanumeric sender id of up
// to 11 characters.
func checkSender(s string, required bool) error {
	switch {
	case s == "":
		if required {
			return fmt.Errorf("a sender is required (a Vonage number or an alphanumeric sender id)")
		}
		return nil
	case strings.HasPrefix(s, "+"):
		return phone.CheckE164(s)
	case len(s) > 11 || strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && r != '\r' && r != '\n' }) != "":
		return fmt.Errorf("sender %q must be a number in E.164 form or up to 11 ASCII characters", s)
	}
	return nil
}

// callbackURL is the receipt URL sent with each message: the configured
// URL with the callback token, unless receipts are signed.
func (c Config) callbackURL() string {
	if c.StatusCallbackURL == "" || c.CallbackToken == "" || c.SignatureSecret != "" {
		return c.StatusCallbackURL
	}
	sep := "?"
	if strings.Contains(c.StatusCallbackURL, "?") {
		sep = "&"
	}
	return c.StatusCallbackURL + sep + TokenParam + "=" + c.CallbackToken
}

// Provider sends through one Vonage account. It is safe for concurrent use.
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
	return &Provider{cfg: cfg, url: base + "/sms/json", client: httpapi.Client(client)}, nil
}

// Name returns "vonage".
func (p *Provider) Name() string { return Name }

// form is the send request for m, or why Vonage would refuse it.
func (p *Provider) form(m channel.Message) (url.Values, error) {
	if m.Channel != "sms" {
		return nil, fmt.Errorf("vonage sends sms messages, not %q", m.Channel)
	}
	s := m.SMS
	if s == nil {
		return nil, fmt.Errorf("the sms message has no rendered content")
	}
	if err := phone.CheckE164(s.To); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Body) == "" {
		return nil, fmt.Errorf("the SMS has no body")
	}
	if err := checkSender(s.From, false); err != nil {
		return nil, err
	}
	if len(m.Key) > maxClientRef {
		return nil, fmt.Errorf("the send key is %d characters, over the %d client-ref allows", len(m.Key), maxClientRef)
	}
	from := s.From
	if from == "" {
		from = p.cfg.From
	}
	f := url.Values{
		"api_key":    {p.cfg.APIKey},
		"api_secret": {p.cfg.APISecret},
		"from":       {strings.TrimPrefix(from, "+")},
		"to":         {strings.TrimPrefix(s.To, "+")},
		"text":       {s.Body},
		"type":       {"text"},
		"client-ref": {m.Key},
	}
	if !gsm7(s.Body) {
		f.Set("type", "unicode")
	}
	if cb := p.cfg.callbackURL(); cb != "" {
		f.Set("callback", cb)
	}
	return f, nil
}

// Send posts m's SMS once.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	form, err := p.form(m)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("vonage: %w", err))
	}
	req, err := httpapi.NewFormRequest(ctx, p.url, form)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("vonage: %w", err))
	}
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// answer is the SMS API's JSON answer.
type answer struct {
	Messages []struct {
		MessageID string `json:"message-id"`
		Status    string `json:"status"`
		ErrorText string `json:"error-text"`
	} `json:"messages"`
	// Title and Detail are the RFC 7807 problem some HTTP errors carry.
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// classify maps the SMS API's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	var a answer
	parsed := json.Unmarshal(resp.Body, &a) == nil
	if code < 200 || code > 299 {
		err := fmt.Errorf("vonage answered HTTP %d%s", code, a.problem())
		switch {
		case code == http.StatusTooManyRequests:
			return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
		case code >= 500:
			return channel.Result{}, httpapi.ServerError(err, code, attempt)
		}
		return channel.Result{}, channel.Permanent(err)
	}
	if !parsed || len(a.Messages) == 0 {
		return channel.Result{}, channel.Ambiguous(fmt.Errorf("vonage answered HTTP %d without message statuses", code))
	}
	accepted := 0
	failed := -1
	for i, m := range a.Messages {
		if m.Status == "0" {
			accepted++
		} else if failed < 0 {
			failed = i
		}
	}
	if failed < 0 {
		detail := "vonage message " + a.Messages[0].MessageID
		if n := len(a.Messages); n > 1 {
			detail += " (" + strconv.Itoa(n) + " parts)"
		}
		return channel.Result{Detail: detail}, nil
	}
	m := a.Messages[failed]
	err := fmt.Errorf("vonage refused the message: status %s %s", m.Status, httpapi.Truncate(m.ErrorText))
	if accepted > 0 {
		return channel.Result{}, channel.Permanent(fmt.Errorf("vonage accepted %d of %d parts, so sending again would repeat them: %w", accepted, len(a.Messages), err))
	}
	if retryStatuses[m.Status] {
		return channel.Result{}, channel.Retry(err, channel.Backoff(attempt))
	}
	return channel.Result{}, channel.Permanent(err)
}

// problem is ": <title>: <detail>" of an HTTP error's problem JSON, or "".
func (a answer) problem() string {
	switch {
	case a.Title != "" && a.Detail != "":
		return ": " + httpapi.Truncate(a.Title+": "+a.Detail)
	case a.Title != "":
		return ": " + httpapi.Truncate(a.Title)
	}
	return ""
}

// gsm7 reports whether s can be sent in the GSM 03.38 alphabet (its basic
// set and extension table); any other character needs type=unicode.
func gsm7(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune(gsmChars, r) {
			return false
		}
	}
	return true
}

const gsmChars = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà" +
	"\f^{}\\[~]|€"

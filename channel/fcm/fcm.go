// Package fcm sends push notifications through Firebase Cloud Messaging's
// HTTP v1 API (POST /v1/projects/{project_id}/messages:send), authorised by
// an OAuth2 access token that a Google service account obtains with a
// signed JWT (token.go).
//
// FCM accepts no idempotency key, so the provider is not a
// channel.Deduplicator: a send whose outcome is unknown stays ambiguous.
//
// Outcomes:
//
//   - sent: 200; the detail names FCM's message name.
//   - retry: 429 QUOTA_EXCEEDED after Retry-After, else backoff of at
//     least a minute (as FCM asks); 500 INTERNAL, 503 UNAVAILABLE and
//     other 5xx after Retry-After or backoff; the request never fully
//     left; the token endpoint unreachable, rate limited or failing.
//   - failed: a push without a token or content; 404 UNREGISTERED (the
//     token is dead: the detail says so); 400 INVALID_ARGUMENT; 403
//     SENDER_ID_MISMATCH or PERMISSION_DENIED; 401 THIRD_PARTY_AUTH_ERROR;
//     a 401 again after a fresh access token; the token endpoint refusing
//     the service account (invalid_grant, invalid_client...); every other
//     4xx and 3xx.
//   - ambiguous: a timeout or a connection dropped after the message
//     request was written, or a 504.
package fcm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "fcm"

const (
	// DefaultBaseURL is FCM's API.
	DefaultBaseURL = "https://fcm.googleapis.com"
	// DefaultTokenURI is Google's OAuth2 token endpoint.
	DefaultTokenURI = "https://oauth2.googleapis.com/token"
	// Scope is the OAuth2 scope that allows sending messages.
	Scope = "https://www.googleapis.com/auth/firebase.messaging"
)

// quotaDelay is the least FCM asks to wait after QUOTA_EXCEEDED when it
// names no Retry-After: "exponential backoff with a minimum initial delay
// of 1 minute".
const quotaDelay = time.Minute

// Config is a Firebase project's service account. The field names are
// those of the service account's JSON key file.
type Config struct {
	// ProjectID is the Firebase project's id.
	ProjectID string `json:"project_id"`
	// ClientEmail is the service account's address, the JWT's issuer.
	ClientEmail string `json:"client_email"`
	// PrivateKey is the service account's RSA key in PEM ("-----BEGIN
	// PRIVATE KEY-----..."); literal "\n" sequences are read as line
	// breaks, as in the key file's JSON.
	PrivateKey string `json:"private_key" secret:"true"`
	// PrivateKeyID names the key in the JWT header (kid); optional.
	PrivateKeyID string `json:"private_key_id,omitempty"`
	// TokenURI is the OAuth2 token endpoint, DefaultTokenURI when empty.
	TokenURI string `json:"token_uri,omitempty" endpoint:"true"`
	// BaseURL is FCM's address, DefaultBaseURL when empty.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error. It
// parses the private key.
func (c Config) Check() error {
	_, err := c.parse()
	return err
}

// parsed is a checked Config.
type parsed struct {
	sendURL  string
	tokenURI string
	signer   *assertionSigner
}

func (c Config) parse() (parsed, error) {
	fail := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "fcm: "+format, args...)
	}
	switch {
	case strings.TrimSpace(c.ProjectID) == "":
		return parsed{}, fail("project_id is required (the Firebase project's id)")
	case strings.ContainsAny(c.ProjectID, "/?#% \t\r\n"):
		return parsed{}, fail("project_id %q must be a project id such as my-app-1234", c.ProjectID)
	case !strings.Contains(c.ClientEmail, "@") || strings.ContainsAny(c.ClientEmail, " \t\r\n"):
		return parsed{}, fail("client_email must be the service account's address (…@….iam.gserviceaccount.com)")
	case strings.TrimSpace(c.PrivateKey) == "":
		return parsed{}, fail("private_key is required (the service account key's PEM)")
	}
	signer, err := newAssertionSigner(c)
	if err != nil {
		return parsed{}, fail("private_key: %v", err)
	}
	base, err := httpURL("base_url", c.BaseURL, DefaultBaseURL)
	if err != nil {
		return parsed{}, fail("%v", err)
	}
	tokenURI, err := httpURL("token_uri", c.TokenURI, DefaultTokenURI)
	if err != nil {
		return parsed{}, fail("%v", err)
	}
	return parsed{
		sendURL:  base + "/v1/projects/" + c.ProjectID + "/messages:send",
		tokenURI: tokenURI,
		signer:   signer,
	}, nil
}

// httpURL checks an http(s) URL without query or fragment and returns it
// without a trailing slash; def when s is empty.
func httpURL(field, s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s %q must be an http or https URL like %s", field, s, def)
	}
	return strings.TrimRight(s, "/"), nil
}

// Provider sends through one Firebase project. It is safe for concurrent
// use; its sends share one cached access token.
type Provider struct {
	url    string
	client *http.Client
	tokens *tokenSource
}

// New returns a provider for cfg, or cfg's problem. client may be nil (a
// default client); it is used without following redirects, for both the
// token endpoint and FCM.
func New(cfg Config, client *http.Client) (*Provider, error) {
	p, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	c := httpapi.Client(client)
	return &Provider{url: p.sendURL, client: c, tokens: newTokenSource(p.tokenURI, p.signer, c)}, nil
}

// Name returns "fcm".
func (p *Provider) Name() string { return Name }

type notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type message struct {
	Token        string            `json:"token"`
	Notification *notification     `json:"notification,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
}

type request struct {
	Message message `json:"message"`
}

// body is the messages:send request for push, or why it cannot be sent.
func body(push *channel.Push) (request, error) {
	switch {
	case push == nil:
		return request{}, fmt.Errorf("fcm: the send has no rendered push notification")
	case strings.TrimSpace(push.Token) == "":
		return request{}, fmt.Errorf("fcm: the push has no registration token")
	case push.Title == "" && push.Body == "" && len(push.Data) == 0:
		return request{}, fmt.Errorf("fcm: the push has no title, body or data")
	}
	m := message{Token: push.Token, Data: push.Data}
	if push.Title != "" || push.Body != "" {
		m.Notification = &notification{Title: push.Title, Body: push.Body}
	}
	return request{Message: m}, nil
}

// Send posts m's push to messages:send once; if FCM refuses the access
// token (401), it fetches a fresh one and posts once more.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	b, err := body(m.Push)
	if err != nil {
		return channel.Result{}, channel.Permanent(err)
	}
	token, err := p.tokens.get(ctx, "", m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	resp, err := p.post(ctx, b, token, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	if resp.Status == http.StatusUnauthorized && parseError(resp.Body).code != "THIRD_PARTY_AUTH_ERROR" {
		// FCM did not act on a request it could not authenticate: a
		// token revoked or expired early. Fetch another and try once.
		if token, err = p.tokens.get(ctx, token, m.Attempt); err != nil {
			return channel.Result{}, err
		}
		if resp, err = p.post(ctx, b, token, m.Attempt); err != nil {
			return channel.Result{}, err
		}
	}
	return classify(resp, time.Now(), m.Attempt)
}

func (p *Provider) post(ctx context.Context, b request, token string, attempt int) (*httpapi.Response, error) {
	req, err := httpapi.NewJSONRequest(ctx, p.url, b)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("fcm: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return httpapi.Do(p.client, req, Name, attempt)
}

// fcmError is FCM's error JSON: a google.rpc.Status whose details may
// hold an FcmError with FCM's own code.
type fcmError struct {
	status  string // the google.rpc status, e.g. NOT_FOUND
	code    string // FcmError.errorCode, e.g. UNREGISTERED
	message string
}

func parseError(b []byte) fcmError {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Details []struct {
				Type      string `json:"@type"`
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return fcmError{}
	}
	out := fcmError{status: e.Error.Status, message: e.Error.Message}
	for _, d := range e.Error.Details {
		if d.Type == "type.googleapis.com/google.firebase.fcm.v1.FcmError" && d.ErrorCode != "" {
			out.code = d.ErrorCode
		}
	}
	return out
}

// String is ": CODE: message" from FCM's error JSON, or "" when the body
// is not FCM's error JSON. Other bodies (a proxy's page) are never shown.
func (e fcmError) String() string {
	code := e.code
	if code == "" {
		code = e.status
	}
	switch {
	case code == "" && e.message == "":
		return ""
	case e.message == "":
		return ": " + code
	case code == "":
		return ": " + httpapi.Truncate(e.message)
	}
	return ": " + code + ": " + httpapi.Truncate(e.message)
}

// classify maps messages:send's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		var ok struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(resp.Body, &ok) == nil && ok.Name != "" {
			return channel.Result{Detail: "fcm message " + ok.Name}, nil
		}
		return channel.Result{Detail: fmt.Sprintf("fcm accepted (HTTP %d)", code)}, nil
	}
	e := parseError(resp.Body)
	err := fmt.Errorf("fcm answered HTTP %d%s", code, e)
	switch {
	case code == http.StatusNotFound && e.code == "UNREGISTERED":
		return channel.Result{}, channel.Permanent(fmt.Errorf("%w; the registration token is dead (the app was uninstalled or the token expired): stop sending to it", err))
	case code == http.StatusUnauthorized && e.code != "THIRD_PARTY_AUTH_ERROR":
		return channel.Result{}, channel.Permanent(fmt.Errorf("%w; a fresh access token was refused too: check that the service account may send with Firebase Cloud Messaging", err))
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, quotaDelay+channel.Backoff(attempt)))
	case code == http.StatusGatewayTimeout:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	case code >= 500:
		// FCM asks to honour Retry-After on UNAVAILABLE and INTERNAL.
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	}
	return channel.Result{}, channel.Permanent(err)
}

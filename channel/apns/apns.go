// Package apns sends push notifications through the Apple Push
// Notification service: HTTP/2 POST /3/device/{device token}, authorised
// by a provider token (an ES256 JWT made from the team's .p8 key, cached
// in token.go).
//
// Each request carries apns-id, a UUID derived from the send's key
// (MessageID), which APNs echoes and which names the notification in
// Apple's delivery log. APNs does not drop repeats of an apns-id, so the
// provider is not a channel.Deduplicator: a send whose outcome is unknown
// stays ambiguous.
//
// Outcomes:
//
//   - sent: 200; the detail names the apns-id (and apns-unique-id, which
//     the development environment adds).
//   - retry: 429 TooManyRequests or TooManyProviderTokenUpdates after
//     Retry-After or backoff; 500 InternalServerError, 503
//     ServiceUnavailable or Shutdown after Retry-After or backoff; 403
//     ExpiredProviderToken when the token cannot yet be replaced or a new
//     token is called expired too; the request never fully left. On 403
//     ExpiredProviderToken the provider first makes a new token and sends
//     once more.
//   - failed: a push without a hex device token or without title and body,
//     or with data that names "aps"; 410 Unregistered or ExpiredToken (the
//     device token is dead: the detail says so); 400 BadDeviceToken and
//     every other 400; 403 InvalidProviderToken and other 403s; 404, 405,
//     413 and every other 4xx and 3xx.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, or a 504 from a proxy.
package apns

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "apns"

// The APNs environments.
const (
	ProductionURL  = "https://api.push.apple.com"
	DevelopmentURL = "https://api.sandbox.push.apple.com"
)

const (
	// DefaultTTL is how long APNs keeps a notification for an offline
	// device when the config names no ttl.
	DefaultTTL = 24 * time.Hour
	// maxTTL bounds ttl; APNs stores notifications for a limited time.
	maxTTL = 30 * 24 * time.Hour
	// maxDeviceToken bounds a device token's length (64 hex digits today;
	// Apple warns the length may grow).
	maxDeviceToken = 200
)

// messageIDSpace is the UUID namespace of the apns-ids Kalcifer derives.
var messageIDSpace = uuid.MustParse("6f1d2c54-3b8e-4a7a-9e1c-0c5a4b8f2d17")

// appleID is a team or key id: ten upper-case letters and digits.
var appleID = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// MessageID is the apns-id of the send with key: a name-based (SHA-1)
// UUID, the same for every attempt of the send.
func MessageID(key string) string {
	return uuid.NewSHA1(messageIDSpace, []byte(key)).String()
}

// Config is an app's APNs token-based connection.
type Config struct {
	// TeamID is the Apple developer team's id; KeyID the auth key's id.
	TeamID string `json:"team_id"`
	KeyID  string `json:"key_id"`
	// PrivateKey is the auth key: the contents of AuthKey_<key id>.p8.
	PrivateKey string `json:"private_key" secret:"true"`
	// Topic is the app's bundle id (apns-topic).
	Topic string `json:"topic"`
	// Environment is "production" (the default) or "development" (the
	// sandbox, for builds signed with a development profile).
	Environment string `json:"environment,omitempty" endpoint:"true"`
	// Priority is apns-priority: 10 (the default) delivers at once, 5 and
	// 1 let the device save power.
	Priority int `json:"priority,omitempty"`
	// TTL is how long APNs keeps the notification for an offline device,
	// a Go duration such as "4h"; "0s" means deliver now or never. Empty
	// means DefaultTTL.
	TTL string `json:"ttl,omitempty"`
	// BaseURL overrides the environment's address (tests).
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
	base     string
	priority string
	ttl      time.Duration
	tokens   *tokenCache
}

func (c Config) parse() (parsed, error) {
	fail := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "apns: "+format, args...)
	}
	switch {
	case !appleID.MatchString(c.TeamID):
		return parsed{}, fail("team_id %q must be the 10-character Apple team id", c.TeamID)
	case !appleID.MatchString(c.KeyID):
		return parsed{}, fail("key_id %q must be the 10-character id of the APNs auth key", c.KeyID)
	case strings.TrimSpace(c.PrivateKey) == "":
		return parsed{}, fail("private_key is required (the contents of the AuthKey_%s.p8 file)", c.KeyID)
	case c.Topic == "" || strings.ContainsAny(c.Topic, " \t\r\n/"):
		return parsed{}, fail("topic %q must be the app's bundle id, such as com.example.app", c.Topic)
	}
	key, err := parseKey(c.PrivateKey)
	if err != nil {
		return parsed{}, fail("private_key: %v", err)
	}
	p := parsed{priority: "10", ttl: DefaultTTL, tokens: &tokenCache{key: key, teamID: c.TeamID, keyID: c.KeyID, now: time.Now}}
	switch c.Priority {
	case 0:
	case 1, 5, 10:
		p.priority = strconv.Itoa(c.Priority)
	default:
		return parsed{}, fail("priority %d must be 10, 5 or 1", c.Priority)
	}
	if c.TTL != "" {
		if p.ttl, err = time.ParseDuration(c.TTL); err != nil || p.ttl < 0 || p.ttl > maxTTL {
			return parsed{}, fail("ttl %q must be a duration between 0s and 720h, such as 4h", c.TTL)
		}
	}
	switch c.Environment {
	case "", "production":
		p.base = ProductionURL
	case "development":
		p.base = DevelopmentURL
	default:
		return parsed{}, fail("environment %q must be production or development", c.Environment)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return parsed{}, fail("base_url %q must be an https URL like %s", c.BaseURL, ProductionURL)
		}
		p.base = strings.TrimRight(c.BaseURL, "/")
	}
	return p, nil
}

// Provider sends through one app's APNs connection. It is safe for
// concurrent use; its sends share one provider token.
type Provider struct {
	cfg    parsed
	topic  string
	client *http.Client
}

// New returns a provider for cfg, or cfg's problem. client may be nil (a
// default client); it is used without following redirects, and always
// attempts HTTP/2, which APNs requires.
func New(cfg Config, client *http.Client) (*Provider, error) {
	p, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	c := httpapi.Client(client)
	// A transport with its own TLS config or dialer speaks HTTP/1.1 only,
	// unless told to try HTTP/2.
	if t, ok := c.Transport.(*http.Transport); ok && !t.ForceAttemptHTTP2 {
		t = t.Clone()
		t.ForceAttemptHTTP2 = true
		c.Transport = t
	}
	return &Provider{cfg: p, topic: cfg.Topic, client: c}, nil
}

// Name returns "apns".
func (p *Provider) Name() string { return Name }

// payload is the notification's JSON: the alert under "aps" and the
// custom data beside it.
func payload(push *channel.Push) ([]byte, error) {
	switch {
	case push == nil:
		return nil, fmt.Errorf("apns: the send has no rendered push notification")
	case push.Token == "" || len(push.Token) > maxDeviceToken || !isHex(push.Token):
		return nil, fmt.Errorf("apns: the device token %q is not a hexadecimal APNs device token", httpapi.Truncate(push.Token))
	case push.Title == "" && push.Body == "":
		return nil, fmt.Errorf("apns: the push has no title or body")
	}
	if _, ok := push.Data["aps"]; ok {
		return nil, fmt.Errorf(`apns: the push data must not name "aps", the key APNs reserves`)
	}
	alert := map[string]string{}
	if push.Title != "" {
		alert["title"] = push.Title
	}
	if push.Body != "" {
		alert["body"] = push.Body
	}
	doc := map[string]any{"aps": map[string]any{"alert": alert}}
	for k, v := range push.Data {
		doc[k] = v
	}
	return json.Marshal(doc)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Send posts m's push to APNs once; if APNs calls the provider token
// expired, it makes a new one and posts once more.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	body, err := payload(m.Push)
	if err != nil {
		return channel.Result{}, channel.Permanent(err)
	}
	token, _, err := p.cfg.tokens.get("")
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("apns: %w", err))
	}
	resp, err := p.post(ctx, m, body, token)
	if err != nil {
		return channel.Result{}, err
	}
	if resp.Status == http.StatusForbidden && parseError(resp.Body).Reason == "ExpiredProviderToken" {
		fresh, wait, err := p.cfg.tokens.get(token)
		if err != nil {
			return channel.Result{}, channel.Permanent(fmt.Errorf("apns: %w", err))
		}
		if fresh == "" {
			return channel.Result{}, channel.Retry(fmt.Errorf(
				"apns answered HTTP 403: ExpiredProviderToken for a token made less than 20 minutes ago, which APNs forbids replacing yet: check the server's clock"), wait)
		}
		if resp, err = p.post(ctx, m, body, fresh); err != nil {
			return channel.Result{}, err
		}
	}
	return classify(resp, time.Now(), m.Attempt)
}

func (p *Provider) post(ctx context.Context, m channel.Message, body []byte, token string) (*httpapi.Response, error) {
	req, err := httpapi.NewJSONRequest(ctx, p.cfg.base+"/3/device/"+m.Push.Token, json.RawMessage(body))
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("apns: %w", err))
	}
	h := req.Header
	h.Set("authorization", "bearer "+token)
	h.Set("apns-topic", p.topic)
	h.Set("apns-push-type", "alert")
	h.Set("apns-priority", p.cfg.priority)
	h.Set("apns-id", MessageID(m.Key))
	expiration := "0"
	if p.cfg.ttl > 0 {
		expiration = strconv.FormatInt(time.Now().Add(p.cfg.ttl).Unix(), 10)
	}
	h.Set("apns-expiration", expiration)
	return httpapi.Do(p.client, req, Name, m.Attempt)
}

// apnsError is APNs's error JSON.
type apnsError struct {
	Reason string `json:"reason"`
	// Timestamp is when the device token stopped being valid (410), in
	// milliseconds since the epoch.
	Timestamp int64 `json:"timestamp"`
}

func parseError(b []byte) apnsError {
	var e apnsError
	_ = json.Unmarshal(b, &e)
	e.Reason = httpapi.Truncate(e.Reason)
	return e
}

// hints say what a reason means for whoever reads the ledger.
var hints = map[string]string{
	"BadDeviceToken":         "the device token is invalid, or belongs to the other environment (production/development)",
	"DeviceTokenNotForTopic": "the device token belongs to another app than the topic",
	"BadTopic":               "the topic is not a bundle id this key may send to",
	"TopicDisallowed":        "the topic is not a bundle id this key may send to",
	"InvalidProviderToken":   "APNs refuses the provider token: check team_id, key_id and private_key",
	"MissingProviderToken":   "APNs saw no provider token",
	"PayloadTooLarge":        "the notification is larger than APNs allows (4 KB)",
	"ExpiredProviderToken":   "a freshly made provider token was called expired too: check the server's clock",
}

// classify maps APNs's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		detail := "apns accepted, apns-id " + resp.Header.Get("apns-id")
		if u := resp.Header.Get("apns-unique-id"); u != "" {
			detail += ", apns-unique-id " + u
		}
		return channel.Result{Detail: detail}, nil
	}
	e := parseError(resp.Body)
	msg := fmt.Sprintf("apns answered HTTP %d", code)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if h := hints[e.Reason]; h != "" {
		msg += "; " + h
	}
	err := errors.New(msg)
	switch {
	case code == http.StatusGone:
		since := ""
		if e.Timestamp > 0 {
			since = " since " + time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339)
		}
		return channel.Result{}, channel.Permanent(fmt.Errorf("%w; the device token is dead (no longer active for the topic%s): stop sending to it", err, since))
	case code == http.StatusForbidden && e.Reason == "ExpiredProviderToken":
		return channel.Result{}, channel.Retry(err, channel.Backoff(attempt))
	case code == http.StatusTooManyRequests:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	case code == http.StatusGatewayTimeout:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	case code >= 500:
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, channel.Backoff(attempt)))
	}
	return channel.Result{}, channel.Permanent(err)
}

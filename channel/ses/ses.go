// Package ses sends email through Amazon SES v2 SendEmail
// (POST /v2/email/outbound-emails), signed with AWS Signature Version 4
// (sigv4.go, written here rather than pulling in the AWS SDK).
//
// The send's key travels as the message tag "kalcifer_key", written with
// channel.KeyToken because tag values allow only letters, digits, '-' and
// '_'. SES publishes tags with every event a configuration set's event
// destination (SNS, EventBridge...) receives. SES accepts no idempotency
// key, so the provider is not a channel.Deduplicator.
//
// Outcomes:
//
//   - sent: 200; the detail names SES's MessageId.
//   - retry: 429 TooManyRequestsException or a throttling error, after
//     Retry-After or backoff (10 minutes when the daily quota is spent, as
//     SES advises); 500, 502, 503 with backoff; the request never fully
//     left.
//   - failed: MessageRejected, MailFromDomainNotVerifiedException,
//     AccountSuspendedException, SendingPausedException,
//     BadRequestException, NotFoundException, 403 (bad credentials or
//     signature), and every other 4xx and 3xx.
//   - ambiguous: a timeout or a connection dropped after the request was
//     written, or a 504.
package ses

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "ses"

// KeyTag is the message tag that carries the send's key (as a KeyToken).
const KeyTag = "kalcifer_key"

// maxTagValue is SES's limit on a tag value.
const maxTagValue = 256

// quotaDelay is how long to wait once the daily sending quota is spent:
// SES advises retrying after up to 10 minutes.
const quotaDelay = 10 * time.Minute

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Config is an SES account in one region.
type Config struct {
	// Region is the AWS region, e.g. eu-west-1.
	Region string `json:"region" endpoint:"true"`
	// AccessKeyID and SecretAccessKey are an IAM key allowed
	// ses:SendEmail; SessionToken is set for temporary credentials.
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key" secret:"true"`
	SessionToken    string `json:"session_token,omitempty" secret:"true"`
	// From and FromName are the default sender (a verified identity); an
	// email's own From wins.
	From     string `json:"from"`
	FromName string `json:"from_name,omitempty"`
	// ConfigurationSet names the configuration set whose event destination
	// will receive delivery events.
	ConfigurationSet string `json:"configuration_set,omitempty"`
	// BaseURL is the API's address; empty means
	// https://email.<region>.amazonaws.com.
	BaseURL string `json:"base_url,omitempty" endpoint:"true"`
	// SNSTopicARN is the SNS topic the configuration set's event
	// destination publishes to; callbacks from any other topic are refused
	// (anyone can make a topic and point it at the callback URL).
	// Without it, callbacks are refused (callback.go).
	SNSTopicARN string `json:"sns_topic_arn,omitempty"`
	// SNSHost, when set, is the only host signing certificates and
	// subscription confirmations are fetched from, instead of
	// sns.<region>.amazonaws.com: tests point it at a local TLS server.
	// It is never read from stored JSON.
	SNSHost string `json:"-"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	fail := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "ses: "+format, args...)
	}
	switch {
	case !regionPattern.MatchString(c.Region):
		return fail("region %q must be an AWS region such as eu-west-1", c.Region)
	case strings.TrimSpace(c.AccessKeyID) == "" || strings.TrimSpace(c.SecretAccessKey) == "":
		return fail("access_key_id and secret_access_key are required (an IAM key allowed ses:SendEmail)")
	case strings.ContainsAny(c.AccessKeyID+c.SecretAccessKey+c.SessionToken, "\r\n \t"):
		return fail("access_key_id, secret_access_key and session_token must not contain spaces or line breaks")
	case strings.ContainsAny(c.ConfigurationSet, "\r\n \t"):
		return fail("configuration_set %q must be a configuration set's name", c.ConfigurationSet)
	}
	if err := channel.CheckSender(c.From, c.FromName); err != nil {
		return fail("%v", err)
	}
	if _, err := c.baseURL(); err != nil {
		return fail("%v", err)
	}
	if c.SNSTopicARN != "" && !topicPattern.MatchString(c.SNSTopicARN) {
		return fail("sns_topic_arn %q must be an SNS topic ARN such as arn:aws:sns:%s:123456789012:ses-events", c.SNSTopicARN, c.Region)
	}
	return nil
}

func (c Config) baseURL() (string, error) {
	if c.BaseURL == "" {
		return "https://email." + c.Region + ".amazonaws.com", nil
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base_url %q must be an http or https URL like https://email.%s.amazonaws.com", c.BaseURL, c.Region)
	}
	return strings.TrimRight(c.BaseURL, "/"), nil
}

// Provider sends through one SES account. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	url    string
	creds  credentials
	client *http.Client
	certs  *certCache // SNS signing certificates (callback.go)
}

// New returns a provider for cfg, or cfg's problem. client may be nil (a
// default client); it is used without following redirects.
func New(cfg Config, client *http.Client) (*Provider, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	base, _ := cfg.baseURL()
	return &Provider{
		cfg: cfg, url: base + "/v2/email/outbound-emails", client: httpapi.Client(client),
		creds: credentials{cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken}, certs: snsCerts,
	}, nil
}

// Name returns "ses".
func (p *Provider) Name() string { return Name }

type nameValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type text struct {
	Data    string `json:"Data"`
	Charset string `json:"Charset"`
}

type body struct {
	Text *text `json:"Text,omitempty"`
	HTML *text `json:"Html,omitempty"`
}

type request struct {
	FromEmailAddress string `json:"FromEmailAddress"`
	Destination      struct {
		ToAddresses []string `json:"ToAddresses"`
	} `json:"Destination"`
	ReplyToAddresses []string `json:"ReplyToAddresses,omitempty"`
	Content          struct {
		Simple struct {
			Subject text        `json:"Subject"`
			Body    body        `json:"Body"`
			Headers []nameValue `json:"Headers,omitempty"`
		} `json:"Simple"`
	} `json:"Content"`
	EmailTags            []nameValue `json:"EmailTags"`
	ConfigurationSetName string      `json:"ConfigurationSetName,omitempty"`
}

func (p *Provider) body(m channel.Message) request {
	e := m.Email
	from, name := e.Sender(p.cfg.From, p.cfg.FromName)
	var r request
	r.FromEmailAddress = (&mail.Address{Name: name, Address: from}).String()
	r.Destination.ToAddresses = []string{e.To}
	if e.ReplyTo != "" {
		r.ReplyToAddresses = []string{e.ReplyTo}
	}
	s := &r.Content.Simple
	s.Subject = text{e.Subject, "UTF-8"}
	if e.Text != "" {
		s.Body.Text = &text{e.Text, "UTF-8"}
	}
	if e.HTML != "" {
		s.Body.HTML = &text{e.HTML, "UTF-8"}
	}
	for name, value := range e.Headers {
		s.Headers = append(s.Headers, nameValue{name, value})
	}
	r.EmailTags = []nameValue{{KeyTag, channel.KeyToken(m.Key)}}
	r.ConfigurationSetName = p.cfg.ConfigurationSet
	return r
}

// Send calls SendEmail once.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if err := m.Email.Check(); err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("ses: %w", err))
	}
	if len(channel.KeyToken(m.Key)) > maxTagValue {
		return channel.Result{}, channel.Permanent(fmt.Errorf("ses: the send key %q is too long for an SES message tag (shorten the node id)", m.Key))
	}
	req, err := httpapi.NewJSONRequest(ctx, p.url, p.body(m))
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("ses: %w", err))
	}
	payload, err := requestBody(req)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("ses: %w", err))
	}
	sign(req, payload, p.creds, p.cfg.Region, "ses", time.Now())
	resp, err := httpapi.Do(p.client, req, Name, m.Attempt)
	if err != nil {
		return channel.Result{}, err
	}
	return classify(resp, time.Now(), m.Attempt)
}

// requestBody returns a copy of req's body, for the signature.
func requestBody(req *http.Request) ([]byte, error) {
	b, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(b)
}

// Error types of SES's answers that are worth retrying.
var throttling = map[string]bool{
	"TooManyRequestsException": true, "ThrottlingException": true, "Throttling": true, "LimitExceededException": true,
}

// classify maps SES's answer to an outcome.
func classify(resp *httpapi.Response, now time.Time, attempt int) (channel.Result, error) {
	code := resp.Status
	if code >= 200 && code <= 299 {
		var ok struct {
			MessageID string `json:"MessageId"`
		}
		if json.Unmarshal(resp.Body, &ok) == nil && ok.MessageID != "" {
			return channel.Result{Detail: "ses message " + ok.MessageID}, nil
		}
		return channel.Result{Detail: "ses accepted (HTTP " + strconv.Itoa(code) + ")"}, nil
	}
	kind, msg := errorOf(resp)
	detail := ""
	if kind != "" || msg != "" {
		detail = " (" + strings.TrimPrefix(kind+": "+msg, ": ") + ")"
	}
	err := fmt.Errorf("ses answered HTTP %d%s", code, detail)
	switch {
	case code == http.StatusTooManyRequests || throttling[kind]:
		def := channel.Backoff(attempt)
		if strings.Contains(strings.ToLower(msg), "quota") {
			def = quotaDelay
		}
		return channel.Result{}, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), now, def))
	case code >= 500:
		return channel.Result{}, httpapi.ServerError(err, code, attempt)
	}
	return channel.Result{}, channel.Permanent(err)
}

// errorOf reads an error answer's type (the X-Amzn-ErrorType header, else
// the body's __type or code) and message. A body that is not AWS's error
// JSON yields no message: it may come from a proxy and is never shown.
func errorOf(resp *httpapi.Response) (kind, msg string) {
	var e struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(resp.Body, &e)
	kind = resp.Header.Get("X-Amzn-ErrorType")
	for _, k := range []string{kind, e.Type, e.Code} {
		if k != "" {
			kind = k
			break
		}
	}
	// "MessageRejected:http://internal.amazon.com/coral/..." and
	// "com.amazonaws.ses#MessageRejected" both name MessageRejected.
	kind, _, _ = strings.Cut(kind, ":")
	if i := strings.LastIndex(kind, "#"); i >= 0 {
		kind = kind[i+1:]
	}
	msg = e.Message
	if msg == "" {
		msg = e.MessageU
	}
	return httpapi.Truncate(kind), httpapi.Truncate(msg)
}

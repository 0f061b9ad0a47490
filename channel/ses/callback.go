package ses

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

var _ channel.CallbackReader = (*Provider)(nil)

// SES reports delivery events through a configuration set's event
// destination, an SNS topic whose HTTPS subscription is Kalcifer's callback
// URL. Every SNS message is signed by AWS (RSA; SHA1 for SignatureVersion
// 1, SHA256 for 2) with a certificate fetched from SigningCertURL — only
// over HTTPS from sns.<region>.amazonaws.com, the account's region, and
// cached — and it must come from the account's sns_topic_arn.

var topicPattern = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// snsMessage is an SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string
	MessageId        string
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
}

// signed is the string SNS signs: the message's fields, name and value on
// lines of their own, in a fixed order that depends on the type.
func (m snsMessage) signed() string {
	var b strings.Builder
	add := func(name, value string) { b.WriteString(name + "\n" + value + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageId)
	if m.Type == "Notification" {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// snsHost is the only host certificates and confirmations come from.
func (p *Provider) snsHost() string {
	if p.cfg.SNSHost != "" {
		return p.cfg.SNSHost
	}
	return "sns." + p.cfg.Region + ".amazonaws.com"
}

// snsURL checks that raw is an https URL on the SNS host.
func (p *Provider) snsURL(raw, what string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host != p.snsHost() || u.User != nil {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS message's %s is not an https URL on %s", what, p.snsHost())
	}
	return u.String(), nil
}

// ReadCallback verifies an SNS message (signature, certificate source,
// topic) and returns the SES events it carries. A SubscriptionConfirmation
// of the account's topic is confirmed at once by a GET of its SubscribeURL
// (checked like the certificate URL); it carries no status. url is unused.
func (p *Provider) ReadCallback(r *http.Request, body []byte, _ string) ([]channel.Status, error) {
	if p.cfg.SNSTopicARN == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: this account has no sns_topic_arn, so SNS messages cannot be checked: set the topic the configuration set publishes events to")
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "ses: the body is not an SNS message: %v", err)
	}
	if m.TopicArn != p.cfg.SNSTopicARN {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS message comes from topic %q, not the account's sns_topic_arn", m.TopicArn)
	}
	if err := p.verify(r.Context(), m); err != nil {
		return nil, err
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		return nil, p.confirm(r.Context(), m)
	case "Notification":
		return sesStatuses(m.Message)
	}
	return nil, nil // UnsubscribeConfirmation: nothing to do
}

// verify checks m's signature against its signing certificate.
func (p *Provider) verify(ctx context.Context, m snsMessage) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS message has SignatureVersion %q (1 or 2 expected)", m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS message's Signature is missing or not base64")
	}
	certURL, err := p.snsURL(m.SigningCertURL, "SigningCertURL")
	if err != nil {
		return err
	}
	cert, err := p.certs.get(ctx, p.client, certURL)
	if err != nil {
		return err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS signing certificate has no RSA key")
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(m.signed()))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(m.signed()))
		digest = d[:]
	}
	if rsa.VerifyPKCS1v15(key, hash, digest, sig) != nil {
		return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS message's signature does not match")
	}
	return nil
}

// confirm confirms the subscription of the account's topic.
func (p *Provider) confirm(ctx context.Context, m snsMessage) error {
	u, err := p.snsURL(m.SubscribeURL, "SubscribeURL")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("ses: confirm the SNS subscription: %w", err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("ses: confirm the SNS subscription: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ses: confirming the SNS subscription answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// certCache holds signing certificates by URL, until they expire.
type certCache struct {
	mu sync.Mutex
	m  map[string]*x509.Certificate
}

// snsCerts is shared by every SES provider: the callbacks route builds a
// provider per request, and SNS signing certificates are public, so one
// cache keeps an anonymous caller from making each request fetch one.
var snsCerts = &certCache{m: map[string]*x509.Certificate{}}

// maxCerts bounds the cache; SNS rotates its certificate rarely.
const maxCerts = 16

func (c *certCache) get(ctx context.Context, client *http.Client, u string) (*x509.Certificate, error) {
	c.mu.Lock()
	cert, ok := c.m[u]
	c.mu.Unlock()
	if ok && time.Now().Before(cert.NotAfter) {
		return cert, nil
	}
	cert, err := fetchCert(ctx, client, u)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCerts {
		clear(c.m)
	}
	c.m[u] = cert
	c.mu.Unlock()
	return cert, nil
}

func fetchCert(ctx context.Context, client *http.Client, u string) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("ses: fetch the SNS signing certificate: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ses: fetch the SNS signing certificate: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ses: fetch the SNS signing certificate: HTTP %d %v", resp.StatusCode, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS signing certificate is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS signing certificate does not parse: %v", err)
	}
	if time.Now().After(cert.NotAfter) || time.Now().Before(cert.NotBefore) {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "ses: the SNS signing certificate is not valid now")
	}
	return cert, nil
}

// sesEvent is an SES event publishing record (eventType), or an older
// identity notification (notificationType).
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID string              `json:"messageId"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
	Delivery *struct {
		Timestamp    time.Time `json:"timestamp"`
		SMTPResponse string    `json:"smtpResponse"`
	} `json:"delivery"`
	Bounce *struct {
		Timestamp         time.Time `json:"timestamp"`
		BounceType        string    `json:"bounceType"`
		BounceSubType     string    `json:"bounceSubType"`
		BouncedRecipients []struct {
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"complaint"`
	Open *struct {
		Timestamp time.Time `json:"timestamp"`
	} `json:"open"`
	Click *struct {
		Timestamp time.Time `json:"timestamp"`
		Link      string    `json:"link"`
	} `json:"click"`
	Reject *struct {
		Reason string `json:"reason"`
	} `json:"reject"`
}

// sesStatuses reads the SES event an SNS notification carries.
func sesStatuses(message string) ([]channel.Status, error) {
	var e sesEvent
	if err := json.Unmarshal([]byte(message), &e); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "ses: the SNS notification does not carry an SES event: %v", err)
	}
	s := channel.Status{MessageID: e.Mail.MessageID}
	if tags := e.Mail.Tags[KeyTag]; len(tags) > 0 {
		if key, err := base64.RawURLEncoding.DecodeString(tags[0]); err == nil {
			s.Key = string(key)
		}
	}
	kind := e.EventType
	if kind == "" {
		kind = e.NotificationType
	}
	switch {
	case kind == "Delivery" && e.Delivery != nil:
		s.Event, s.At, s.Detail = channel.StatusDelivered, e.Delivery.Timestamp, e.Delivery.SMTPResponse
	case kind == "Bounce" && e.Bounce != nil:
		s.Event, s.At = channel.StatusBounced, e.Bounce.Timestamp
		s.Detail = e.Bounce.BounceType + "/" + e.Bounce.BounceSubType
		if len(e.Bounce.BouncedRecipients) > 0 && e.Bounce.BouncedRecipients[0].DiagnosticCode != "" {
			s.Detail += ": " + e.Bounce.BouncedRecipients[0].DiagnosticCode
		}
	case kind == "Complaint" && e.Complaint != nil:
		s.Event, s.At = channel.StatusComplained, e.Complaint.Timestamp
	case kind == "Open" && e.Open != nil:
		s.Event, s.At = channel.StatusOpened, e.Open.Timestamp
	case kind == "Click" && e.Click != nil:
		s.Event, s.At, s.URL = channel.StatusClicked, e.Click.Timestamp, e.Click.Link
	case kind == "Reject" && e.Reject != nil:
		s.Event, s.Detail = channel.StatusFailed, e.Reject.Reason
	default:
		return nil, nil // Send, DeliveryDelay, Rendering Failure…: not a delivery status
	}
	return []channel.Status{s}, nil
}

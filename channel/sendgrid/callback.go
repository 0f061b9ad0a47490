package sendgrid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

var _ channel.CallbackReader = (*Provider)(nil)

// The Signed Event Webhook's headers.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// MaxCallbackAge is how far a signed request's timestamp may be from now.
// A request recorded and replayed later is refused once it is older.
const MaxCallbackAge = 10 * time.Minute

// verificationKey parses the Signed Event Webhook's public key as SendGrid
// shows it: base64 of the DER SubjectPublicKeyInfo of a P-256 key.
func verificationKey(s string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("webhook_verification_key must be the base64 public key SendGrid shows for the Signed Event Webhook")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("webhook_verification_key is not a public key: %v", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("webhook_verification_key must be an ECDSA P-256 key")
	}
	return ec, nil
}

// event is one event of the Event Webhook. Custom arguments arrive as
// top-level fields, among them KeyArg.
type event struct {
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	MessageID string `json:"sg_message_id"`
	URL       string `json:"url"`
	Reason    string `json:"reason"`
	Type      string `json:"type"`
	Key       string `json:"kalcifer_key"`
}

// statuses maps SendGrid's events to delivery statuses. "processed" (SendGrid
// accepted the message, which the send already recorded) and "deferred"
// (it will try again) are not statuses and are left out.
var statuses = map[string]string{
	"delivered":         channel.StatusDelivered,
	"open":              channel.StatusOpened,
	"click":             channel.StatusClicked,
	"bounce":            channel.StatusBounced,
	"dropped":           channel.StatusFailed,
	"spamreport":        channel.StatusComplained,
	"unsubscribe":       channel.StatusUnsubscribed,
	"group_unsubscribe": channel.StatusUnsubscribed,
}

// ReadCallback verifies a Signed Event Webhook request — an ECDSA P-256
// signature over the timestamp header followed by the raw body, against the
// account's webhook_verification_key, with a timestamp no further than
// MaxCallbackAge from now — and returns its statuses. url is not signed by
// SendGrid and is unused.
func (p *Provider) ReadCallback(r *http.Request, body []byte, _ string) ([]channel.Status, error) {
	if p.key == nil {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: this account has no webhook_verification_key, so its event webhook cannot be verified: turn on the Signed Event Webhook and set the key")
	}
	sig, ts := r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader)
	if sig == "" || ts == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: the request is not signed (%s and %s are required)", SignatureHeader, TimestampHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: %s %q is not a Unix time", TimestampHeader, ts)
	}
	if age := time.Since(time.Unix(secs, 0)); age > MaxCallbackAge || age < -MaxCallbackAge {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: the request's timestamp is more than %s away from now (a replay, or a clock far off)", MaxCallbackAge)
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: %s is not base64", SignatureHeader)
	}
	digest := sha256.Sum256(append([]byte(ts), body...))
	if !ecdsa.VerifyASN1(p.key, digest[:], der) {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "sendgrid: the signature does not match the body and the account's webhook_verification_key")
	}
	var events []event
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "sendgrid: the event webhook body is not a JSON array of events: %v", err)
	}
	var out []channel.Status
	for _, e := range events {
		status, ok := statuses[e.Event]
		if !ok {
			continue
		}
		s := channel.Status{Key: e.Key, MessageID: e.MessageID, Event: status, Detail: e.Reason}
		if e.Timestamp > 0 {
			s.At = time.Unix(e.Timestamp, 0).UTC()
		}
		if status == channel.StatusClicked {
			s.URL = e.URL
		}
		if e.Event == "bounce" && e.Type == "blocked" {
			s.Detail = strings.TrimSpace("blocked: " + e.Reason)
		}
		out = append(out, s)
	}
	return out, nil
}

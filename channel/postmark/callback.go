package postmark

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

var _ channel.CallbackReader = (*Provider)(nil)

// webhook is one Postmark webhook post: a single JSON object whose
// RecordType names the event.
type webhook struct {
	RecordType      string         `json:"RecordType"`
	MessageID       string         `json:"MessageID"`
	Metadata        map[string]any `json:"Metadata"`
	DeliveredAt     string         `json:"DeliveredAt"`
	BouncedAt       string         `json:"BouncedAt"`
	ReceivedAt      string         `json:"ReceivedAt"`
	ChangedAt       string         `json:"ChangedAt"`
	Type            string         `json:"Type"`
	Description     string         `json:"Description"`
	Details         string         `json:"Details"`
	OriginalLink    string         `json:"OriginalLink"`
	SuppressSending bool           `json:"SuppressSending"`
}

// ReadCallback reads one Postmark webhook post. Postmark signs nothing;
// it sends the HTTP basic auth credentials written into the webhook URL
// (https://user:password@…/callbacks), which are checked in constant time
// against the account's webhook_username and webhook_password. Delivery,
// Bounce, SpamComplaint, Open, Click and SubscriptionChange (an
// unsubscribe: SuppressSending) become statuses; other record types are
// left out. url is unused.
func (p *Provider) ReadCallback(r *http.Request, body []byte, _ string) ([]channel.Status, error) {
	if p.cfg.WebhookUsername == "" || p.cfg.WebhookPassword == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "postmark: this account has no webhook_username and webhook_password, so its webhooks cannot be authenticated: set them and put them in the webhook URL")
	}
	user, pass, ok := r.BasicAuth()
	if !ok || !equal(user, p.cfg.WebhookUsername) || !equal(pass, p.cfg.WebhookPassword) {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "postmark: the webhook's basic auth credentials are missing or wrong")
	}
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "postmark: the webhook body is not a JSON object: %v", err)
	}
	key, _ := w.Metadata[KeyField].(string)
	s := channel.Status{Key: key, MessageID: w.MessageID}
	var at string
	switch w.RecordType {
	case "Delivery":
		s.Event, at = channel.StatusDelivered, w.DeliveredAt
		s.Detail = w.Details
	case "Bounce":
		s.Event, at = channel.StatusBounced, w.BouncedAt
		s.Detail = strings.TrimPrefix(strings.TrimSpace(w.Type+": "+w.Description), ":")
	case "SpamComplaint":
		s.Event, at = channel.StatusComplained, w.BouncedAt
	case "Open":
		s.Event, at = channel.StatusOpened, w.ReceivedAt
	case "Click":
		s.Event, at, s.URL = channel.StatusClicked, w.ReceivedAt, w.OriginalLink
	case "SubscriptionChange":
		if !w.SuppressSending {
			return nil, nil // a resubscription: not a delivery status
		}
		s.Event, at = channel.StatusUnsubscribed, w.ChangedAt
	default:
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		s.At = t.UTC()
	}
	return []channel.Status{s}, nil
}

// equal compares two secrets in constant time (of their hashes, so that
// their lengths do not show either).
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

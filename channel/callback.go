package channel

import (
	"net/http"
	"net/url"
	"time"
)

// Status is one delivery status a provider reported through its callback
// (its event webhook): the send it is about and what happened to it.
type Status struct {
	// Key is the send's idempotency key, as the provider carried it back
	// (custom args, metadata, a tag, a Message-ID). Empty when the provider
	// only gave its own message id.
	Key string
	// MessageID is the provider's id of the message, when it gave one.
	MessageID string
	// Event is what happened, one of the Status* constants.
	Event string
	// At is when it happened, as the provider says; zero means now.
	At time.Time
	// URL is the link a click event followed.
	URL string
	// Detail is the provider's reason (a bounce's SMTP reply, an error
	// code), for the ledger; never shown as more than text.
	Detail string
}

// The delivery events. The engine turns each into a customer event named
// after the send's channel and the event, e.g. "email_opened" or
// "sms_delivered".
const (
	StatusDelivered    = "delivered"
	StatusOpened       = "opened"
	StatusClicked      = "clicked"
	StatusBounced      = "bounced"
	StatusFailed       = "failed"
	StatusComplained   = "complained"
	StatusUnsubscribed = "unsubscribed"
	StatusRead         = "read" // WhatsApp read receipts
)

// CallbackReader is implemented by providers whose delivery statuses
// arrive on Kalcifer's callback URL (/api/v1/providers/{id}/callbacks).
type CallbackReader interface {
	// ReadCallback checks that the request comes from the provider (its
	// signature, against the account's verification secret; url is the
	// callback URL as the provider was told it, which some signatures
	// cover) and returns the statuses it carries. An error means the
	// request is refused (401 when it is not authentic, 400 when it does
	// not parse); statuses the reader does not know are left out, never
	// an error.
	ReadCallback(r *http.Request, body []byte, url string) ([]Status, error)
}

// SubscriptionVerifier is implemented by providers that confirm a callback
// URL with a GET handshake before they post to it (Meta's hub.challenge).
type SubscriptionVerifier interface {
	// VerifySubscription returns the text to answer the handshake with,
	// and whether the request carries the account's verification token.
	VerifySubscription(query url.Values) (challenge string, ok bool)
}

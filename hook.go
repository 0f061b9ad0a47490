package kalcifer

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Outgoing webhook event types (seed §3.3): what a webhook subscription
// may ask to hear about.
const (
	HookCustomerEntered     = "customer.entered"
	HookCustomerGoalReached = "customer.goal_reached"
	HookCustomerExited      = "customer.exited"
	HookInstanceFailed      = "instance.failed"
	HookMessageFailed       = "message.failed"
	HookMigrationCompleted  = "migration.completed"
	HookMigrationPaused     = "migration.paused"
	HookAlertFired          = "alert.fired"
	HookAlertResolved       = "alert.resolved"
)

// HookEventTypes lists every outgoing webhook event type.
var HookEventTypes = []string{HookCustomerEntered, HookCustomerGoalReached, HookCustomerExited, HookInstanceFailed,
	HookMessageFailed, HookMigrationCompleted, HookMigrationPaused, HookAlertFired, HookAlertResolved}

// HookEvent is one outgoing webhook's body: seed §3.3's payload, with an id
// that stays the same on every attempt and redelivery, so that receivers
// drop repeats.
type HookEvent struct {
	ID         string         `json:"id"`
	Type       string         `json:"event_type"`
	TenantID   string         `json:"-"`
	JourneyID  string         `json:"journey_id"`
	InstanceID string         `json:"instance_id"`
	CustomerID string         `json:"customer_id"`
	NodeID     string         `json:"node_id"`
	Data       map[string]any `json:"data"`
	Timestamp  time.Time      `json:"timestamp"`
}

// Payload is the JSON body the receiver gets.
func (e *HookEvent) Payload() ([]byte, error) {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return json.Marshal(e)
}

// WebhookSubscription sends a tenant's events of the listed types (of one
// journey, when JourneyID is set) to URL, signed with its secret.
type WebhookSubscription struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"-"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	JourneyID   string    `json:"journey_id,omitempty"`
	Description string    `json:"description,omitempty"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Wants reports whether the subscription takes an event of type typ about
// journey journeyID ("" for events of no journey).
func (s *WebhookSubscription) Wants(typ, journeyID string) bool {
	if !s.Active || !slices.Contains(s.Events, typ) {
		return false
	}
	return s.JourneyID == "" || s.JourneyID == journeyID
}

// MaxHookURLLen and MaxHookDescriptionLen bound a subscription's fields.
const (
	MaxHookURLLen         = 2048
	MaxHookDescriptionLen = 500
)

// Validate checks a subscription's fields, naming the one at fault.
func (s *WebhookSubscription) Validate() error {
	if len(s.URL) > MaxHookURLLen {
		return Errorf(EUNPROCESSABLE, "url has at most %d characters", MaxHookURLLen)
	}
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		return Errorf(EUNPROCESSABLE, "url is required")
	case err != nil:
		return Errorf(EUNPROCESSABLE, "url %q is not a URL: %v", s.URL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return Errorf(EUNPROCESSABLE, "url %q: the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return Errorf(EUNPROCESSABLE, "url %q has no host", u.Redacted())
	case u.User != nil:
		return Errorf(EUNPROCESSABLE, "url %q carries a user name or password: receivers verify the signature instead", u.Redacted())
	}
	if len(s.Events) == 0 {
		return Errorf(EUNPROCESSABLE, "events is required: one or more of %s", strings.Join(HookEventTypes, ", "))
	}
	seen := map[string]bool{}
	for i, e := range s.Events {
		if !slices.Contains(HookEventTypes, e) {
			return Errorf(EUNPROCESSABLE, "events[%d]: unknown event type %q: use %s", i, e, strings.Join(HookEventTypes, ", "))
		}
		if seen[e] {
			return Errorf(EUNPROCESSABLE, "events[%d]: %q is listed twice", i, e)
		}
		seen[e] = true
	}
	if n := utf8.RuneCountInString(s.Description); n > MaxHookDescriptionLen {
		return Errorf(EUNPROCESSABLE, "description has at most %d characters; this one has %d", MaxHookDescriptionLen, n)
	}
	return nil
}

// NewHookSecret returns a fresh signing secret for a subscription: "whsec_"
// and 256 random bits in unpadded base64url.
func NewHookSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("kalcifer: crypto/rand failed: " + err.Error())
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// HookDeliveryStatus is where one delivery of an event to a subscription is.
type HookDeliveryStatus string

// Delivery statuses: pending (due at NextAttemptAt) → delivering (claimed,
// its request under way) → delivered, or back to pending for a retry, or
// failed (given up, or refused for good).
const (
	HookPending    HookDeliveryStatus = "pending"
	HookDelivering HookDeliveryStatus = "delivering"
	HookDelivered  HookDeliveryStatus = "delivered"
	HookFailed     HookDeliveryStatus = "failed"
)

// HookDelivery is one event on its way to one subscription: a row of the
// subscription's delivery log.
type HookDelivery struct {
	ID             string             `json:"id"`
	SubscriptionID string             `json:"subscription_id"`
	EventID        string             `json:"event_id"`
	EventType      string             `json:"event_type"`
	Status         HookDeliveryStatus `json:"status"`
	Attempts       int                `json:"attempts"`
	ResponseCode   int                `json:"response_code,omitempty"`
	LastError      string             `json:"last_error,omitempty"`
	// RedeliveryOf is the delivery this one repeats (POST …/redeliver).
	RedeliveryOf  string          `json:"redelivery_of,omitempty"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	DeliveredAt   *time.Time      `json:"delivered_at,omitempty"`
}

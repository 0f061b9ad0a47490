package kalcifer

import (
	"encoding/json"
	"time"
)

// InstanceStatus is where a journey instance is.
type InstanceStatus string

// Instance statuses. Active and paused instances are "in" the journey.
const (
	InstanceActive    InstanceStatus = "active"    // at least one path waits
	InstancePaused    InstanceStatus = "paused"    // held by an operator; wakes are deferred
	InstanceCompleted InstanceStatus = "completed" // every path ended
	InstanceExited    InstanceStatus = "exited"    // journey_exit, a goal with exit, exit criteria, or forced
	InstanceFailed    InstanceStatus = "failed"    // a node failed; Reason says why
)

// Ended reports whether the instance is over.
func (s InstanceStatus) Ended() bool {
	return s == InstanceCompleted || s == InstanceExited || s == InstanceFailed
}

// Instance is one customer's run through one journey version. State is the
// engine's own record of its paths, kept opaque here.
type Instance struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"`
	JourneyID  string          `json:"journey_id"`
	Version    int             `json:"version"`
	CustomerID string          `json:"customer_id"`
	Status     InstanceStatus  `json:"status"`
	State      json.RawMessage `json:"state"`
	Reason     string          `json:"reason,omitempty"`
	// Nodes are the nodes the instance's paths are at.
	Nodes       []string   `json:"nodes"`
	StepCount   int        `json:"step_count"`
	LockVersion int        `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
}

// Event is a customer event: what the API accepts and the engine routes.
type Event struct {
	ID         string          `json:"id"`                  // server-assigned
	ClientID   string          `json:"client_id,omitempty"` // the sender's id; repeats are ignored
	TenantID   string          `json:"-"`
	CustomerID string          `json:"customer_id"`
	Type       string          `json:"event_type"`
	Data       json.RawMessage `json:"data,omitempty"`
	OccurredAt time.Time       `json:"timestamp"`
	ReceivedAt time.Time       `json:"received_at"`
	// JourneyID, when set, limits entries to that journey (webhook entry,
	// manual trigger); waits and exit criteria still see the event.
	JourneyID string `json:"journey_id,omitempty"`
}

// Customer is a profile: free-form attributes and tags.
type Customer struct {
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
	Tags       []string       `json:"tags"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
	// FirstSeenAt and LastSeenAt are the earliest and latest timestamps of
	// the customer's events and identify calls; nil until one arrived.
	FirstSeenAt *time.Time `json:"first_seen_at,omitempty"`
	LastSeenAt  *time.Time `json:"last_seen_at,omitempty"`
}

// AliasResult answers a merge of one customer id into another (Segment's
// alias).
type AliasResult struct {
	// Customer is the surviving profile, after the merge.
	Customer *Customer `json:"customer"`
	// PreviousID is the id merged away, now an alias of Customer.
	PreviousID string `json:"previous_id"`
	// Merged is false when PreviousID was an alias of Customer already:
	// nothing changed.
	Merged bool `json:"merged"`
	// ExitedInstances are the merged customer's instances that were
	// exited because the survivor was in the same journey.
	ExitedInstances []string `json:"exited_instances"`
}

// WaitKind names what a blocked path waits for.
type WaitKind string

// The things a path can wait for.
const (
	WaitTimer WaitKind = "timer" // a point in time
	WaitEvent WaitKind = "event" // a customer event, or its timeout
	WaitSend  WaitKind = "send"  // the outcome of a channel send
)

// Wait is a blocked path's registration: indexed so that its timer, event or
// send outcome finds the instance. An event wait with a DueAt times out then.
type Wait struct {
	Kind      WaitKind       `json:"kind"`
	DueAt     *time.Time     `json:"due_at,omitempty"`
	EventType string         `json:"event_type,omitempty"`
	Filter    map[string]any `json:"filter,omitempty"`
	SendKey   string         `json:"send_key,omitempty"`
}

// Step records one node execution in an instance's history.
type Step struct {
	Seq     int       `json:"seq"`
	Version int       `json:"version"`
	PathID  int       `json:"path_id"`
	NodeID  string    `json:"node_id"`
	Type    string    `json:"type"`
	Visit   int       `json:"visit"`
	Result  string    `json:"result"` // branch taken, "waiting", "ended", "exited", "failed"
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// SendStatus is where a send is in the ledger.
type SendStatus string

// Send statuses. A send completes at most once: pending → sending → one of
// sent, logged, failed, ambiguous, skipped. A send whose call never began goes
// back to pending; ambiguous (the request may have arrived) is retried only
// when the receiver drops repeats of its key. Capped and skipped sends never
// leave.
const (
	SendPending SendStatus = "pending"
	SendSending SendStatus = "sending"
	SendSent    SendStatus = "sent"
	// SendLogged is a send the dry-run log provider recorded instead of
	// delivering: nobody received it.
	SendLogged    SendStatus = "logged"
	SendFailed    SendStatus = "failed"
	SendAmbiguous SendStatus = "ambiguous"
	SendCapped    SendStatus = "capped"
	// SendSkipped is a send to a customer who unsubscribed from its
	// channel: never sent, and the path goes on.
	SendSkipped SendStatus = "skipped"
)

// Send is one message in the ledger, keyed by instance, node and visit.
type Send struct {
	Key        string         `json:"key"`
	TenantID   string         `json:"tenant_id"`
	JourneyID  string         `json:"journey_id"`
	Version    int            `json:"version"`
	InstanceID string         `json:"instance_id"`
	PathID     int            `json:"path_id"`
	NodeID     string         `json:"node_id"`
	NodeType   string         `json:"node_type"`
	CustomerID string         `json:"customer_id"`
	Channel    string         `json:"channel"`
	Config     map[string]any `json:"config"`
	// Target is where the send goes, for per-target concurrency limits: a
	// webhook's host, or the provider a node names.
	Target string `json:"target,omitempty"`
	// Provider is the provider the send went through: the tenant's
	// account's name, or the server provider's; set with its outcome.
	Provider string `json:"provider,omitempty"`
	// TemplateID and TemplateVersion are the template the message was
	// rendered from and its version at send time; empty and 0 for inline
	// content.
	TemplateID      string     `json:"template_id,omitempty"`
	TemplateVersion int        `json:"template_version,omitempty"`
	Status          SendStatus `json:"status"`
	Attempts        int        `json:"attempts"`
	Detail          string     `json:"detail,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	CompletedAt     *time.Time `json:"completed_at,omitempty"`
	// Delivery is the furthest delivery status the provider reported for
	// the message (a channel.Status* event: delivered, opened, clicked,
	// bounced…), "" before any; DeliveryAt is when, DeliveryDetail the
	// provider's reason.
	Delivery       string     `json:"delivery,omitempty"`
	DeliveryAt     *time.Time `json:"delivery_at,omitempty"`
	DeliveryDetail string     `json:"delivery_detail,omitempty"`
}

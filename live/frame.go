package live

import (
	"encoding/json"
	"time"
)

// Frame is one message of the socket protocol, Phoenix's channel shape:
// pushes carry a null ref, replies the ref of the message they answer
// (whatever JSON the client chose: a string, a number).
type Frame struct {
	Topic   string          `json:"topic"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Ref     json.RawMessage `json:"ref"`
}

// The events of the protocol (docs/LIVE.md).
const (
	EventJoin      = "phx_join"
	EventLeave     = "phx_leave"
	EventReply     = "phx_reply"
	EventHeartbeat = "heartbeat"

	EventNodeCounts    = "node_counts"
	EventVersionCounts = "version_counts"
	EventJourneyStats  = "journey_stats"
	EventInstanceEvent = "instance_event"
	EventStepExecuted  = "step_executed"
	EventStateChanged  = "state_changed"
)

// InstanceEvent is the payload of instance_event: one step of an instance
// of the journey.
type InstanceEvent struct {
	InstanceID string    `json:"instance_id"`
	CustomerID string    `json:"customer_id"`
	Version    int       `json:"version"`
	NodeID     string    `json:"node_id"`
	Type       string    `json:"type"`
	Result     string    `json:"result"`
	At         time.Time `json:"at"`
}

// StepExecuted is the payload of step_executed on an instance's topic.
type StepExecuted struct {
	NodeID    string    `json:"node_id"`
	Type      string    `json:"type"`
	Result    string    `json:"result"`
	Timestamp time.Time `json:"timestamp"`
}

// StateChanged is the payload of state_changed on an instance's topic.
type StateChanged struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// JourneyStats is the payload of journey_stats: the journey's instances
// per status.
type JourneyStats struct {
	Active    int `json:"active"`
	Paused    int `json:"paused"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Exited    int `json:"exited"`
}

// VersionCounts is the payload of version_counts, sent with every
// node_counts from the same query: the running customers in all and per
// version, and per version the customers at each node.
type VersionCounts struct {
	Customers int                     `json:"customers"`
	Versions  map[string]VersionNodes `json:"versions"`
}

// VersionNodes is one version's entry in VersionCounts.
type VersionNodes struct {
	Customers int            `json:"customers"`
	Nodes     map[string]int `json:"nodes"`
}

// Encode returns the JSON of a frame; payload is marshalled (nil: {}).
// ref is nil for a push.
func Encode(topic, event string, payload any, ref json.RawMessage) []byte {
	p := json.RawMessage("{}")
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			panic("live: unencodable payload: " + err.Error()) // the payloads are this package's types
		}
		p = b
	}
	b, _ := json.Marshal(Frame{Topic: topic, Event: event, Payload: p, Ref: ref})
	return b
}

// Reply encodes a phx_reply to the message with ref on topic: status "ok"
// or "error", with response.
func Reply(topic string, ref json.RawMessage, ok bool, response any) []byte {
	status := "ok"
	if !ok {
		status = "error"
	}
	if response == nil {
		response = struct{}{}
	}
	return Encode(topic, EventReply, map[string]any{"status": status, "response": response}, ref)
}

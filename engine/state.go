package engine

import (
	"encoding/json"
	"time"
)

// State is what an instance remembers between runs. It is stored as JSON on
// the instance row.
type State struct {
	// Paths are the instance's live positions; parallel branches make more
	// than one. The instance ends when none is left.
	Paths []Path `json:"paths"`
	// NextPath numbers the next path made by a fork.
	NextPath int `json:"next_path"`
	// Visits counts arrivals per node ID; the count is part of a send's
	// idempotency key, so a node reached twice sends twice, and a node
	// re-run after a crash sends once.
	Visits map[string]int `json:"visits,omitempty"`
	// Vars holds what nodes decided: A/B variants, goals reached.
	Vars map[string]string `json:"vars,omitempty"`
	// Event is the event that started the instance, if any.
	Event *Event `json:"event,omitempty"`
}

// Path is one position in the graph.
type Path struct {
	ID    int    `json:"id"`
	Node  string `json:"node"`
	Visit int    `json:"visit"`
	// Wait is what the path is blocked on; nil while it can move.
	Wait *Wait `json:"wait,omitempty"`
}

// WaitKind names what a blocked path waits for.
type WaitKind string

// The things a path can wait for.
const (
	WaitTimer WaitKind = "timer" // a point in time
	WaitEvent WaitKind = "event" // a customer event, or its timeout
	WaitSend  WaitKind = "send"  // the outcome of a channel send
)

// Wait is a blocked path's registration: the runtime indexes it so that the
// timer, event or send result finds the instance.
type Wait struct {
	Kind      WaitKind       `json:"kind"`
	DueAt     *time.Time     `json:"due_at,omitempty"`
	EventType string         `json:"event_type,omitempty"`
	Filter    map[string]any `json:"filter,omitempty"`
	SendKey   string         `json:"send_key,omitempty"`
}

// Event is a customer event as the engine sees it.
type Event struct {
	ID        string          `json:"id,omitempty"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
}

// Customer is the profile nodes read and change.
type Customer struct {
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
	Tags       []string       `json:"tags"`
}

// clone returns a deep-enough copy of s for Run to change without touching
// the caller's value.
func (s State) clone() State {
	c := s
	c.Paths = append([]Path(nil), s.Paths...)
	c.Visits = make(map[string]int, len(s.Visits)+1)
	for k, v := range s.Visits {
		c.Visits[k] = v
	}
	if s.Vars != nil {
		c.Vars = make(map[string]string, len(s.Vars))
		for k, v := range s.Vars {
			c.Vars[k] = v
		}
	}
	return c
}

// clone copies c so that a run can change the profile it sees without
// changing the caller's; a nil customer becomes an empty one.
func (c *Customer) clone() *Customer {
	if c == nil {
		return &Customer{Attributes: map[string]any{}}
	}
	out := &Customer{ID: c.ID, Tags: append([]string(nil), c.Tags...), Attributes: make(map[string]any, len(c.Attributes))}
	for k, v := range c.Attributes {
		out.Attributes[k] = v
	}
	return out
}

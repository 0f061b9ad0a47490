package engine

import (
	"encoding/json"
	"time"

	"github.com/kalcifer/kalcifer"
)

// State is what an instance remembers between runs. It is stored as JSON on
// the instance row, written and read by the hand-made codec in statecodec.go.
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
	// Data is instance.data: what custom_code nodes returned, merged key by
	// key. A run replaces the map, never changes it in place, so clone
	// shares it.
	Data map[string]any `json:"data,omitempty"`
	// data is instance.data as the row held it, while Data is nil: read
	// with instanceData, replaced with setData.
	data json.RawMessage
	// Event is the event that started the instance, if any.
	Event *kalcifer.Event `json:"event,omitempty"`
	// FailedSends counts sends that failed on nodes without a failed
	// branch, and LastFailure says what the last one was: the instance's
	// reason shows them.
	FailedSends int    `json:"failed_sends,omitempty"`
	LastFailure string `json:"last_failure,omitempty"`
}

// Path is one position in the graph.
type Path struct {
	ID    int    `json:"id"`
	Node  string `json:"node"`
	Visit int    `json:"visit"`
	// Wait is what the path is blocked on; nil while it can move.
	Wait *kalcifer.Wait `json:"wait,omitempty"`
	// Since is when the path began waiting: a live migration measures a
	// changed wait from it.
	Since time.Time `json:"since,omitzero"`
	// Enter marks a path a live migration placed before Node: when its
	// timer fires it enters Node rather than leaving it.
	Enter bool `json:"enter,omitempty"`
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

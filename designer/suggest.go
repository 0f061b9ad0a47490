package designer

import "github.com/kalcifer/kalcifer/graph"

// NodeStats is what analytics counted at one node of a journey version: the
// input of suggestions (seed FR-1.7).
type NodeStats struct {
	// Entered counts customers who reached the node.
	Entered int `json:"entered"`
	// Sent and Failed count a channel node's delivered and failed messages.
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// EventReceived and TimedOut count how a wait_for_event node ended.
	EventReceived int `json:"event_received"`
	TimedOut      int `json:"timed_out"`
	// Exited counts customers who left the journey while at the node (exit
	// criteria met during a wait, for instance).
	Exited int `json:"exited"`
}

// Suggestion is one proposed improvement of a journey: what and why in
// Description, the whole proposed graph (valid) and its difference from the
// current one.
type Suggestion struct {
	// Type names the rule that made it, e.g. "sms_reminder" or "frequency_cap".
	Type        string       `json:"type"`
	Description string       `json:"description"`
	Graph       *graph.Graph `json:"graph"`
	Diff        graph.Diff   `json:"proposed_diff"`
}

// Package designer turns plain language and campaign documents into journey
// graphs, refines them through conversation, explains them and suggests
// improvements (seed FR-1.*).
//
// Two engines sit behind the Designer interface: the built-in offline
// designer (designer/offline, the default: data stays home) and LLM
// providers (designer/llm: Anthropic Messages, OpenAI-compatible Chat
// Completions, Ollama). designer/document reads CSV, XLSX, DOCX and PDF plans.
// Whatever the engine, a Result's graph has passed graph.Validate: callers
// get a valid graph or an error saying what was wrong.
//
// Service is how the API uses the designer: conversations (saved in the
// store), applying them to journeys, explanations, suggestions, uploaded
// plans, and each tenant's choice of engine. It never names a concrete
// designer: cmd/kalcifer hands it the offline designer and the LLM
// providers, so this package imports neither (they import it).
package designer

import (
	"context"

	"github.com/kalcifer/kalcifer/graph"
)

// Request is one turn of a design conversation.
type Request struct {
	// Message is what the user wrote (or a document rendered to text).
	Message string
	// Current is the graph being refined; nil to design a new journey.
	Current *graph.Graph
	// History holds the conversation's earlier turns, oldest first.
	History []Turn
}

// Turn is one message of a conversation.
type Turn struct {
	Role string `json:"role"` // "user" or "assistant"
	Text string `json:"text"`
}

// Result is a designed or refined journey.
type Result struct {
	Graph             *graph.Graph `json:"graph"`
	Explanation       string       `json:"explanation"`
	FollowUpQuestions []string     `json:"follow_up_questions"`
	// Unrecognized lists the sentences of the request the designer did not
	// understand and left out of the graph.
	Unrecognized []string `json:"unrecognized"`
	// Sources says which part of Request.Message each node (or journey
	// setting) was read from, so an editor can highlight it.
	Sources []Source `json:"sources,omitempty"`
	// Diff is what changed from Request.Current (nil when there was none).
	Diff *graph.Diff `json:"diff,omitempty"`
	// Engine names who designed it: "offline" or the provider's name.
	Engine string `json:"engine"`
}

// Source is where a node of the designed graph, or a journey setting
// (Part "exit_criteria", "frequency_cap"), came from: Text is
// Request.Message[Start:End], byte offsets.
type Source struct {
	NodeID string `json:"node_id,omitempty"`
	Part   string `json:"part,omitempty"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Text   string `json:"text"`
}

// Event is a piece of progress while a Result is being made, for streaming:
// Type "delta" carries model text as it arrives, "status" a short note such
// as "repairing: 2 problems".
type Event struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Designer designs and explains journeys. emit may be nil.
type Designer interface {
	Design(ctx context.Context, req Request, emit func(Event)) (*Result, error)
	Explain(ctx context.Context, g *graph.Graph) (string, error)
	Name() string
}

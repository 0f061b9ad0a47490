package kalcifer

import (
	"time"

	"github.com/kalcifer/kalcifer/graph"
)

// Conversation is an AI designer conversation: the journey graph it has
// designed so far and what was said.
type Conversation struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// JourneyID is the journey the conversation refines, if any.
	JourneyID string             `json:"journey_id,omitempty"`
	Graph     *graph.Graph       `json:"graph"`
	Turns     []ConversationTurn `json:"turns"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// ConversationTurn is one message of a conversation.
type ConversationTurn struct {
	Role string    `json:"role"` // "user" or "assistant"
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// AI designer providers.
const (
	AIOffline   = "offline"
	AIAnthropic = "anthropic"
	AIOpenAI    = "openai"
	AIOllama    = "ollama"
)

// AISettings choose a tenant's AI designer: the built-in offline designer
// or an LLM provider. The API key is never shown again once stored.
type AISettings struct {
	Provider   string    `json:"provider"`
	BaseURL    string    `json:"base_url,omitempty"`
	Model      string    `json:"model,omitempty"`
	APIKey     string    `json:"api_key,omitempty"`
	HasAPIKey  bool      `json:"has_api_key"`
	MaxRepairs int       `json:"max_repairs,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

package channel

import "context"

// Message is one send, as the engine hands it to a provider.
type Message struct {
	// Key is the send's idempotency key, unique per (instance, node, visit).
	// Providers that accept an idempotency key must be given this one.
	Key        string
	TenantID   string
	JourneyID  string
	Version    int
	InstanceID string
	NodeID     string
	// NodeType is the node's type, e.g. "send_email" or "call_webhook".
	NodeType string
	// Channel is "email", "sms", "push", "whatsapp" or "webhook".
	Channel string
	// Config is the node's config, e.g. {"url": ..., "method": "POST"} or
	// {"template_id": ..., "provider": "log"}.
	Config map[string]any
	// Customer holds the profile attributes plus "id" and "tags".
	Customer map[string]any
	// Event is the event that started the instance, as {"type",
	// "timestamp", "data"}, or nil.
	Event map[string]any
	// Attempt counts the tries of this send, 1 for the first.
	Attempt int
	// Email is the rendered email of an email send; nil for other channels.
	// Email providers fail a send without one permanently.
	Email *Email
	// SMS, WhatsApp and Push are the rendered message of a send on those
	// channels (content.go); nil for other channels.
	SMS      *SMS
	WhatsApp *WhatsApp
	Push     *Push
}

// Result describes an accepted send for the ledger, e.g. the provider's
// message id or "HTTP 200".
type Result struct {
	Detail string
}

// Provider delivers messages of one or more channels.
//
// Send reports failures with the errors of this package so the engine knows
// whether it may try again: Retry when the provider certainly did not act,
// Permanent when trying again is pointless, and anything else (Ambiguous, or
// any other error) when the request may have been acted on.
type Provider interface {
	// Name identifies the provider in node configs ("provider": "log").
	Name() string
	Send(ctx context.Context, m Message) (Result, error)
}

// Deduplicator is implemented by providers whose receiver drops repeats of
// a message's Key (webhooks that honour Idempotency-Key, providers that
// accept one). A send whose outcome is unknown — a timeout, a crash during
// the call — is then sent again with the same key instead of being given up
// as ambiguous.
type Deduplicator interface {
	Deduplicates(m Message) bool
}

// Deduplicates reports whether p's receiver drops repeats of m.Key.
func Deduplicates(p Provider, m Message) bool {
	d, ok := p.(Deduplicator)
	return ok && d.Deduplicates(m)
}

// DryRunner is implemented by providers that record messages instead of
// delivering them, such as the log provider. Their sends are "logged", never
// "sent", and activating a journey that uses them answers a warning.
type DryRunner interface {
	DryRun() bool
}

// IsDryRun reports whether p only records messages.
func IsDryRun(p Provider) bool {
	d, ok := p.(DryRunner)
	return ok && d.DryRun()
}

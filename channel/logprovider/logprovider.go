package logprovider

import (
	"context"
	"log/slog"

	"github.com/kalcifer/kalcifer/channel"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider's name in node configs and the registry.
const Name = "log"

// Provider logs messages. It is safe for concurrent use.
type Provider struct {
	log *slog.Logger
}

// New returns a provider logging to log, or to slog.Default() if log is nil.
func New(log *slog.Logger) *Provider {
	if log == nil {
		log = slog.Default()
	}
	return &Provider{log: log}
}

// Name returns "log".
func (p *Provider) Name() string { return Name }

// DryRun reports true: messages are recorded, not delivered, so the engine
// marks them "logged" rather than "sent".
func (p *Provider) DryRun() bool { return true }

// Deduplicates reports true: logging a message twice delivers nothing twice.
func (p *Provider) Deduplicates(channel.Message) bool { return true }

// Send logs m at info level. The engine records the send as "logged".
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	p.log.InfoContext(ctx, "message logged, not delivered (log provider)",
		"key", m.Key, "channel", m.Channel, "node", m.NodeID, "customer", m.Customer["id"])
	return channel.Result{Detail: "logged"}, nil
}

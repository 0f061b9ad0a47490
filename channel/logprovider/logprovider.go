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

// Send logs m at info level and reports it sent.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	p.log.InfoContext(ctx, "message sent to log provider",
		"key", m.Key, "channel", m.Channel, "node", m.NodeID, "customer", m.Customer["id"])
	return channel.Result{Detail: "logged"}, nil
}

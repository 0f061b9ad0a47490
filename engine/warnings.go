package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/graph"
)

// Warnings lists what a graph's channel nodes will meet when it runs for
// tenantID: messages a dry-run provider only records, and providers that do
// not exist (a "provider" naming no account of the tenant and no server
// provider). A channel with a default account of the tenant is delivered
// by it. The tenant's accounts are read afresh. Activation and publishing
// answer the warnings; nothing is refused.
func (rt *Runtime) Warnings(tenantID string, g *graph.Graph) []kalcifer.Warning {
	var out []kalcifer.Warning
	for _, n := range g.Nodes {
		if !graph.IsChannel(n.Type) {
			continue
		}
		var config map[string]any
		_ = json.Unmarshal(n.Config, &config) // the graph was validated
		m := channel.Message{TenantID: tenantID, NodeID: n.ID, NodeType: n.Type, Channel: ChannelOf(n.Type), Config: config}
		p, acct, err := rt.resolve(context.Background(), m, true)
		switch {
		case err != nil:
			out = append(out, kalcifer.Warning{NodeID: n.ID, Message: "its messages will fail: " + err.Error()})
		case channel.IsDryRun(p) && acct != nil:
			out = append(out, kalcifer.Warning{NodeID: n.ID,
				Message: "messages are recorded, not delivered: provider account " + acct.Name + " is of type log, which only logs them"})
		case channel.IsDryRun(p):
			out = append(out, kalcifer.Warning{NodeID: n.ID,
				Message: "messages are recorded, not delivered: configure a provider account for " + m.Channel +
					" (POST /api/v1/providers) or name one in the node (the " + p.Name() + " provider only logs them)"})
		}
	}
	return append(out, rt.contentWarnings(tenantID, g)...)
}

// contentWarnings lists channel nodes whose template_id names no template
// of the tenant (or one of another channel), and email nodes that will go
// out without an unsubscribe link because the server has no public URL.
func (rt *Runtime) contentWarnings(tenantID string, g *graph.Graph) []kalcifer.Warning {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := rt.st.TemplateWarnings(ctx, tenantID, g)
	if err != nil {
		rt.log.Error("checking the templates of a journey failed", "err", err)
		out = append(out, kalcifer.Warning{Message: "its templates could not be checked: " + err.Error()})
	}
	if rt.renderer.publicURL != "" {
		return out
	}
	for _, n := range g.Nodes {
		if n.Type == graph.TypeSendEmail {
			out = append(out, kalcifer.Warning{NodeID: n.ID, Message: "its emails go out without an unsubscribe link or " +
				"List-Unsubscribe header: set KALCIFER_PUBLIC_URL to the server's public address to add them"})
		}
	}
	return out
}

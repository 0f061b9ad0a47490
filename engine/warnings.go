package engine

import (
	"encoding/json"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/graph"
)

// Warnings lists what a graph's channel nodes will meet when it runs for
// tenantID: messages a dry-run provider only records, and providers that do
// not exist. Activation and publishing answer them; nothing is refused.
func (rt *Runtime) Warnings(tenantID string, g *graph.Graph) []kalcifer.Warning {
	var out []kalcifer.Warning
	for _, n := range g.Nodes {
		if !graph.IsChannel(n.Type) {
			continue
		}
		var config map[string]any
		_ = json.Unmarshal(n.Config, &config) // the graph was validated
		m := channel.Message{TenantID: tenantID, NodeID: n.ID, NodeType: n.Type, Channel: ChannelOf(n.Type), Config: config}
		p, err := rt.cfg.Providers.For(m)
		switch {
		case err != nil:
			out = append(out, kalcifer.Warning{NodeID: n.ID, Message: "its messages will fail: " + err.Error()})
		case channel.IsDryRun(p):
			out = append(out, kalcifer.Warning{NodeID: n.ID,
				Message: "messages are recorded, not delivered: configure a provider (the " + p.Name() + " provider only logs them)"})
		}
	}
	return out
}

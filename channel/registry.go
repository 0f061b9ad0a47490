package channel

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Registry picks the provider of each message. It is built once at start-up
// and never changes, so it is safe for concurrent use.
type Registry struct {
	byName    map[string]Provider
	byChannel map[string]Provider
}

// NewRegistry returns a registry with a default provider per channel
// (channel name → provider, e.g. "email" → the log provider) and further
// providers that nodes may name in their "provider" config. Default
// providers can be named too. It panics if two named providers share a
// name, or if a provider is nil: both are wiring mistakes.
func NewRegistry(defaults map[string]Provider, named ...Provider) *Registry {
	r := &Registry{byName: map[string]Provider{}, byChannel: map[string]Provider{}}
	for _, p := range named {
		if p == nil {
			panic("channel: nil provider")
		}
		if _, dup := r.byName[p.Name()]; dup {
			panic(fmt.Sprintf("channel: two providers named %q", p.Name()))
		}
		r.byName[p.Name()] = p
	}
	for ch, p := range defaults {
		if p == nil {
			panic(fmt.Sprintf("channel: nil default provider for channel %q", ch))
		}
		r.byChannel[ch] = p
		if _, ok := r.byName[p.Name()]; !ok {
			r.byName[p.Name()] = p
		}
	}
	return r
}

// For returns the provider for m: the one named by m.Config["provider"]
// when set, else the default of m.Channel. The error names what was asked
// for and lists what is registered; the engine records it on the send.
func (r *Registry) For(m Message) (Provider, error) {
	if v, ok := m.Config["provider"]; ok && v != nil && v != "" {
		name, ok := v.(string)
		if !ok {
			return nil, Permanent(fmt.Errorf("node %s: config provider must be a string, got %T", m.NodeID, v))
		}
		if p, ok := r.byName[name]; ok {
			return p, nil
		}
		return nil, Permanent(fmt.Errorf("node %s: no provider named %q (registered: %s)",
			m.NodeID, name, list(r.byName)))
	}
	if p, ok := r.byChannel[m.Channel]; ok {
		return p, nil
	}
	return nil, Permanent(fmt.Errorf("node %s: no default provider for channel %q (channels with one: %s)",
		m.NodeID, m.Channel, list(r.byChannel)))
}

// list names a map's keys, sorted, for error messages.
func list(m map[string]Provider) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

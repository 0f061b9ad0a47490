package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// DefaultAccountsTTL is how long the engine uses what it read of a tenant's
// provider accounts before reading them again: a change made on any
// replica reaches every replica's sends within it.
const DefaultAccountsTTL = 5 * time.Second

// accounts finds a send's provider among its tenant's provider accounts and
// keeps each account's built provider until the account changes.
type accounts struct {
	rt *Runtime

	mu      sync.Mutex
	tenants map[string]tenantAccounts
	built   map[string]builtProvider // account id →
}

// tenantAccounts is what was read of one tenant's accounts, and when.
type tenantAccounts struct {
	read time.Time
	list []*kalcifer.ProviderAccount
}

// builtProvider is an account's provider as built from one revision.
type builtProvider struct {
	revision int
	provider channel.Provider
	err      error
}

func newAccounts(rt *Runtime) *accounts {
	return &accounts{rt: rt, tenants: map[string]tenantAccounts{}, built: map[string]builtProvider{}}
}

// of returns the tenant's accounts, read again when older than the TTL or
// when fresh is set.
func (a *accounts) of(ctx context.Context, tenantID string, fresh bool) ([]*kalcifer.ProviderAccount, error) {
	now := a.rt.clock.Now()
	a.mu.Lock()
	t, ok := a.tenants[tenantID]
	a.mu.Unlock()
	if ok && !fresh && now.Sub(t.read) < a.rt.cfg.AccountsTTL && !now.Before(t.read) {
		return t.list, nil
	}
	list, err := a.rt.st.TenantProviderAccounts(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.tenants[tenantID] = tenantAccounts{read: now, list: list}
	a.mu.Unlock()
	return list, nil
}

// provider builds acct's provider, or returns the one built from its
// current revision. A driver that is told where to report statuses (Twilio)
// reports them to the account's callback route when its config names no
// other URL and the server has a public URL.
func (a *accounts) provider(acct *kalcifer.ProviderAccount) (channel.Provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b, ok := a.built[acct.ID]; ok && b.revision == acct.Revision {
		return b.provider, b.err
	}
	p, err := a.rt.cfg.Accounts.Build(acct.Type, acct.Config, acct.Secrets, channel.CallbackURL(a.rt.cfg.PublicURL, acct.ID))
	if err != nil {
		err = channel.Permanent(fmt.Errorf("provider account %q (%s) cannot be used: %v", acct.Name, acct.ID, err))
	}
	a.built[acct.ID] = builtProvider{revision: acct.Revision, provider: p, err: err}
	return p, err
}

// resolve returns m's provider: the tenant's account the node's "provider"
// names (by id or name), else a server provider of that name, else the
// tenant's default account for the channel, else the server's default for
// it. acct is the account used, nil for a server provider. Errors are
// Permanent: the send fails, naming what was asked for.
func (rt *Runtime) resolve(ctx context.Context, m channel.Message, fresh bool) (channel.Provider, *kalcifer.ProviderAccount, error) {
	ref, named := m.Config["provider"].(string)
	if v := m.Config["provider"]; v != nil && !named {
		return nil, nil, channel.Permanent(fmt.Errorf("node %s: config provider must be a string, got %T", m.NodeID, v))
	}
	if rt.cfg.Accounts != nil && m.TenantID != "" {
		list, err := rt.accounts.of(ctx, m.TenantID, fresh)
		if err != nil {
			// Not the send's fault: it is tried again (Retry) later.
			return nil, nil, channel.Retry(fmt.Errorf("read the provider accounts: %w", err), 0)
		}
		for _, acct := range list {
			if ref != "" && (acct.ID == ref || acct.Name == ref) ||
				ref == "" && acct.IsDefault && string(acct.Channel) == m.Channel {
				if string(acct.Channel) != m.Channel {
					return nil, nil, channel.Permanent(fmt.Errorf("node %s: provider account %q serves %s, not %s",
						m.NodeID, ref, acct.Channel, m.Channel))
				}
				p, err := rt.accounts.provider(acct)
				return p, acct, err
			}
		}
	}
	p, err := rt.cfg.Providers.For(m)
	if err != nil && ref != "" {
		return nil, nil, channel.Permanent(fmt.Errorf("node %s: provider %q names no provider account of this tenant and no server provider (%v)",
			m.NodeID, ref, err))
	}
	return p, nil, err
}

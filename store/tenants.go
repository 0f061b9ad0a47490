package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer"
)

// CreateTenant adds a tenant; ECONFLICT when it exists already.
func (s *Store) CreateTenant(ctx context.Context, actor, id string) (kalcifer.Tenant, error) {
	if err := kalcifer.ValidateTenantID(id); err != nil {
		return kalcifer.Tenant{}, err
	}
	t := kalcifer.Tenant{ID: id, CreatedAt: s.now()}
	err := s.b.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, t.ID, micros(t.CreatedAt)); err != nil {
			if s.b.IsUniqueViolation(err) {
				return kalcifer.Errorf(kalcifer.ECONFLICT, "tenant %q exists already", id)
			}
			return err
		}
		// The webhook signing secret is made with the tenant, so that a
		// server reads it at start (LoadWebhookSecrets) rather than in the
		// middle of the tenant's first webhook calls.
		if _, err := tx.Exec(ctx, `INSERT INTO tenant_secrets (tenant_id, webhook_secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO NOTHING`, t.ID, s.seal(colWebhookSecret, t.ID, kalcifer.RandomToken(43)), micros(t.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, id, actor, "tenant.create", "tenant", id, nil)
	})
	if err != nil {
		return kalcifer.Tenant{}, fmt.Errorf("create tenant %s: %w", id, err)
	}
	return t, nil
}

// EnsureTenant creates the tenant unless it exists; created tells which.
func (s *Store) EnsureTenant(ctx context.Context, actor, id string) (t kalcifer.Tenant, created bool, err error) {
	t, err = s.GetTenant(ctx, id)
	if err == nil {
		return t, false, nil
	}
	if kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
		return t, false, err
	}
	t, err = s.CreateTenant(ctx, actor, id)
	if kalcifer.ErrorCode(err) == kalcifer.ECONFLICT { // created meanwhile by another replica
		t, err = s.GetTenant(ctx, id)
		return t, false, err
	}
	return t, err == nil, err
}

// GetTenant returns one tenant.
func (s *Store) GetTenant(ctx context.Context, id string) (kalcifer.Tenant, error) {
	var createdAt int64
	err := s.b.Q().QueryRow(ctx, `SELECT created_at FROM tenants WHERE id = $1`, id).Scan(&createdAt)
	if err != nil {
		return kalcifer.Tenant{}, notFound(err, "tenant %q not found", id)
	}
	return kalcifer.Tenant{ID: id, CreatedAt: fromMicros(createdAt)}, nil
}

// ListTenants returns every tenant, by name.
func (s *Store) ListTenants(ctx context.Context) ([]kalcifer.Tenant, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT id, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []kalcifer.Tenant
	for rows.Next() {
		var t kalcifer.Tenant
		var createdAt int64
		if err := rows.Scan(&t.ID, &createdAt); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		t.CreatedAt = fromMicros(createdAt)
		out = append(out, t)
	}
	return out, rows.Err()
}

// WebhookSecret returns the secret a tenant's outgoing webhooks are signed
// with, making it on first use. It is stored sealed.
//
// Secrets never change once made, so each is read once per process: the
// webhook provider asks for it on every send. Reads of secrets not yet
// cached are made one at a time, so the first calls to a tenant's
// webhooks do not each take a connection to read the same row.
func (s *Store) WebhookSecret(ctx context.Context, tenantID string) ([]byte, error) {
	if secret, ok := s.webhookSecrets.Load(tenantID); ok {
		return secret.([]byte), nil
	}
	s.webhookSecretsMu.Lock()
	defer s.webhookSecretsMu.Unlock()
	if secret, ok := s.webhookSecrets.Load(tenantID); ok {
		return secret.([]byte), nil
	}
	secret, err := s.webhookSecret(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s.webhookSecrets.Store(tenantID, secret)
	return secret, nil
}

// LoadWebhookSecrets reads every tenant's webhook secret into the cache
// WebhookSecret answers from, in one query, and returns how many it read.
// The server calls it before its engine starts: a webhook call begins only
// once its send is marked in flight, and a call that first waited for the
// database (the first calls after a restart, on a busy connection pool)
// could be cut short by a crash before its request left — a send in doubt
// that its receiver never got.
func (s *Store) LoadWebhookSecrets(ctx context.Context) (int, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT tenant_id, webhook_secret FROM tenant_secrets`)
	if err != nil {
		return 0, fmt.Errorf("read webhook secrets: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tenantID, stored string
		if err := rows.Scan(&tenantID, &stored); err != nil {
			return n, fmt.Errorf("read webhook secrets: %w", err)
		}
		secret, err := s.open(colWebhookSecret, tenantID, stored)
		if err != nil {
			continue // WebhookSecret reports it where the secret is needed
		}
		s.webhookSecrets.Store(tenantID, []byte(secret))
		n++
	}
	return n, rows.Err()
}

func (s *Store) webhookSecret(ctx context.Context, tenantID string) ([]byte, error) {
	var stored string
	err := s.b.Q().QueryRow(ctx, `SELECT webhook_secret FROM tenant_secrets WHERE tenant_id = $1`, tenantID).Scan(&stored)
	if errors.Is(err, ErrNoRows) {
		fresh := s.seal(colWebhookSecret, tenantID, kalcifer.RandomToken(43))
		if _, err := s.b.Q().Exec(ctx, `INSERT INTO tenant_secrets (tenant_id, webhook_secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id) DO NOTHING`, tenantID, fresh, micros(s.now())); err != nil {
			return nil, fmt.Errorf("make webhook secret of %s: %w", tenantID, err)
		}
		// Read back: a concurrent first use may have won.
		err = s.b.Q().QueryRow(ctx, `SELECT webhook_secret FROM tenant_secrets WHERE tenant_id = $1`, tenantID).Scan(&stored)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook secret of %s: %w", tenantID, err)
	}
	secret, err := s.open(colWebhookSecret, tenantID, stored)
	if err != nil {
		return nil, err
	}
	return []byte(secret), nil
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// MaxProviderNameLen bounds a provider account's name, in characters.
const MaxProviderNameLen = 200

// MaxProviderAccounts bounds what TenantProviderAccounts reads: the accounts
// a tenant's sends can name.
const MaxProviderAccounts = 1000

const providerColumns = `id, tenant_id, name, type, channel, config, secrets, secrets_set, is_default, revision, created_at, updated_at`

// checkProviderName refuses an empty or overlong name, and one that could
// be taken for an account id (channel nodes name an account by either).
func checkProviderName(name string) error {
	var msg string
	switch {
	case strings.TrimSpace(name) == "":
		msg = "must not be empty"
	case len([]rune(name)) > MaxProviderNameLen:
		msg = fmt.Sprintf("must be at most %d characters", MaxProviderNameLen)
	case strings.HasPrefix(name, "prv_"):
		msg = `must not start with "prv_", which provider account ids start with`
	default:
		return nil
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "provider account name " + msg,
		Details: []kalcifer.Detail{{Field: "name", Message: msg}}}
}

func providerNameTaken(name string) error {
	return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("a provider account named %q exists already", name),
		Details: []kalcifer.Detail{{Field: "name", Message: "is taken"}}}
}

// sealSecrets is the stored form of an account's credentials: their JSON,
// sealed as one value bound to the account's id.
func (s *Store) sealSecrets(id string, secrets map[string]string) (sealed, names string, err error) {
	keys := []string{}
	for k, v := range secrets {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	rawNames, _ := json.Marshal(keys)
	if len(keys) == 0 {
		return "", string(rawNames), nil
	}
	raw, err := json.Marshal(secrets)
	if err != nil {
		return "", "", fmt.Errorf("encode credentials: %w", err)
	}
	return s.seal(colProviderSecrets, id, string(raw)), string(rawNames), nil
}

// CreateProviderAccount stores a as a new account of a.TenantID, filling in
// its ID, revision and times. a.Config and a.Secrets must have been checked
// against the account's driver (channel.Catalog.Prepare). Made the
// default, it takes over from the channel's previous default.
func (s *Store) CreateProviderAccount(ctx context.Context, actor string, a *kalcifer.ProviderAccount) error {
	if err := checkProviderName(a.Name); err != nil {
		return err
	}
	if !a.Channel.Valid() {
		return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: fmt.Sprintf("channel %q is invalid: use email, sms, whatsapp or push", a.Channel),
			Details: []kalcifer.Detail{{Field: "channel", Message: "is invalid"}}}
	}
	now := s.now()
	a.ID, a.Revision, a.CreatedAt, a.UpdatedAt = kalcifer.NewID("prv"), 1, now, now
	sealed, names, err := s.sealSecrets(a.ID, a.Secrets)
	if err != nil {
		return err
	}
	_ = json.Unmarshal([]byte(names), &a.SecretsSet)
	return s.b.WithTx(ctx, func(tx Tx) error {
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.TenantID, a.Channel); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO provider_accounts (`+providerColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, a.ID, a.TenantID, a.Name, a.Type, string(a.Channel),
			string(configOrEmpty(a.Config)), sealed, names, boolInt(a.IsDefault), a.Revision, micros(now))
		if s.b.IsUniqueViolation(err) {
			return providerNameTaken(a.Name)
		}
		if err != nil {
			return fmt.Errorf("insert provider account: %w", err)
		}
		return s.audit(ctx, tx, a.TenantID, actor, "provider.create", "provider", a.ID, auditOf(a))
	})
}

// auditOf is what an account's audit row says: never its credentials,
// only which are set.
func auditOf(a *kalcifer.ProviderAccount) map[string]any {
	return map[string]any{"name": a.Name, "type": a.Type, "channel": string(a.Channel), "is_default": a.IsDefault,
		"secrets_set": a.SecretsSet}
}

func configOrEmpty(c json.RawMessage) json.RawMessage {
	if len(c) == 0 {
		return json.RawMessage(`{}`)
	}
	return c
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// clearDefault makes no account the default of the tenant's channel.
func clearDefault(ctx context.Context, tx Tx, tenantID string, ch kalcifer.Channel) error {
	_, err := tx.Exec(ctx, `UPDATE provider_accounts SET is_default = 0 WHERE tenant_id = $1 AND channel = $2 AND is_default = 1`,
		tenantID, string(ch))
	if err != nil {
		return fmt.Errorf("clear the default %s provider: %w", ch, err)
	}
	return nil
}

// scanProvider reads an account; with open, its credentials too.
func (s *Store) scanProvider(r Row, open bool) (*kalcifer.ProviderAccount, error) {
	var a kalcifer.ProviderAccount
	var ch, config, sealed, names string
	var isDefault int
	var created, updated int64
	if err := r.Scan(&a.ID, &a.TenantID, &a.Name, &a.Type, &ch, &config, &sealed, &names, &isDefault, &a.Revision,
		&created, &updated); err != nil {
		return nil, err
	}
	a.Channel, a.Config, a.IsDefault = kalcifer.Channel(ch), json.RawMessage(config), isDefault == 1
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := jsonUnmarshal(names, &a.SecretsSet); err != nil {
		return nil, fmt.Errorf("decode provider account %s: %w", a.ID, err)
	}
	if open {
		plain, err := s.open(colProviderSecrets, a.ID, sealed)
		if err != nil {
			return nil, err
		}
		a.Secrets = map[string]string{}
		if plain != "" {
			if err := jsonUnmarshal(plain, &a.Secrets); err != nil {
				return nil, fmt.Errorf("decode credentials of provider account %s: %w", a.ID, err)
			}
		}
	}
	return &a, nil
}

// GetProviderAccount returns one of the tenant's accounts, named by its id
// or its name, with its credentials; ENOTFOUND for another tenant's.
func (s *Store) GetProviderAccount(ctx context.Context, tenantID, ref string) (*kalcifer.ProviderAccount, error) {
	return s.getProvider(ctx, s.b.Q(), tenantID, ref)
}

func (s *Store) getProvider(ctx context.Context, q Querier, tenantID, ref string) (*kalcifer.ProviderAccount, error) {
	a, err := s.scanProvider(q.QueryRow(ctx, `SELECT `+providerColumns+` FROM provider_accounts
		WHERE tenant_id = $1 AND (id = $2 OR name = $2)`, tenantID, ref), true)
	if err != nil {
		return nil, notFound(err, "provider account %q not found", ref)
	}
	return a, nil
}

// ProviderAccountByID returns the account with id whatever its tenant (its
// TenantID says whose it is), with its credentials; ENOTFOUND when there is
// none. Only the public callback route uses it: the provider's signature,
// checked with the account's credentials, is what authenticates the
// request, and the account's tenant is the one its statuses are recorded
// for.
func (s *Store) ProviderAccountByID(ctx context.Context, id string) (*kalcifer.ProviderAccount, error) {
	a, err := s.scanProvider(s.b.Q().QueryRow(ctx, `SELECT `+providerColumns+` FROM provider_accounts WHERE id = $1`, id), true)
	if err != nil {
		return nil, notFound(err, "provider account %q not found", id)
	}
	return a, nil
}

// ListProviderAccounts returns one page of the tenant's accounts, newest
// first, without credentials.
func (s *Store) ListProviderAccounts(ctx context.Context, f kalcifer.ProviderAccountFilter) (kalcifer.Page[*kalcifer.ProviderAccount], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	page := kalcifer.Page[*kalcifer.ProviderAccount]{Data: []*kalcifer.ProviderAccount{}}
	rows, err := s.b.Q().Query(ctx, `SELECT `+providerColumns+` FROM provider_accounts
		WHERE tenant_id = $1 AND ($2 = '' OR channel = $2) AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.TenantID, string(f.Channel), f.Cursor, limit+1)
	if err != nil {
		return page, fmt.Errorf("list provider accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := s.scanProvider(rows, false)
		if err != nil {
			return page, fmt.Errorf("list provider accounts: %w", err)
		}
		page.Data = append(page.Data, a)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list provider accounts: %w", err)
	}
	return pageOf(page.Data, limit, func(a *kalcifer.ProviderAccount) string { return a.ID }), nil
}

// TenantProviderAccounts returns every account of the tenant (up to
// MaxProviderAccounts) with its credentials: what the engine resolves a
// send's provider among.
func (s *Store) TenantProviderAccounts(ctx context.Context, tenantID string) ([]*kalcifer.ProviderAccount, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+providerColumns+` FROM provider_accounts WHERE tenant_id = $1 ORDER BY id LIMIT $2`,
		tenantID, MaxProviderAccounts)
	if err != nil {
		return nil, fmt.Errorf("read provider accounts of %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*kalcifer.ProviderAccount
	for rows.Next() {
		a, err := s.scanProvider(rows, true)
		if err != nil {
			return nil, fmt.Errorf("read provider accounts of %s: %w", tenantID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateProviderAccountParams are an account change's arguments.
type UpdateProviderAccountParams struct {
	Actor    string
	TenantID string
	ID       string
	// Revision is the revision the change was prepared from: a change
	// made meanwhile makes this one a conflict.
	Revision int
	Name     string
	// Config and Secrets replace the stored ones; they were checked
	// against the account's driver.
	Config    json.RawMessage
	Secrets   map[string]string
	IsDefault bool
}

// UpdateProviderAccount replaces an account's name, config, credentials
// and default flag, and moves its revision on.
func (s *Store) UpdateProviderAccount(ctx context.Context, p UpdateProviderAccountParams) (*kalcifer.ProviderAccount, error) {
	if err := checkProviderName(p.Name); err != nil {
		return nil, err
	}
	var out *kalcifer.ProviderAccount
	err := s.b.WithTx(ctx, func(tx Tx) error {
		a, err := s.getProvider(ctx, tx, p.TenantID, p.ID)
		if err != nil {
			return err
		}
		if a.ID != p.ID || a.Revision != p.Revision {
			return kalcifer.Errorf(kalcifer.ECONFLICT, "provider account %q was changed by someone else meanwhile; read it again and retry", p.ID)
		}
		sealed, names, err := s.sealSecrets(a.ID, p.Secrets)
		if err != nil {
			return err
		}
		if p.IsDefault && !a.IsDefault {
			if err := clearDefault(ctx, tx, a.TenantID, a.Channel); err != nil {
				return err
			}
		}
		a.Name, a.Config, a.Secrets, a.IsDefault, a.UpdatedAt = p.Name, configOrEmpty(p.Config), p.Secrets, p.IsDefault, s.now()
		a.SecretsSet = nil
		_ = json.Unmarshal([]byte(names), &a.SecretsSet)
		n, err := tx.Exec(ctx, `UPDATE provider_accounts SET name = $1, config = $2, secrets = $3, secrets_set = $4, is_default = $5,
			revision = revision + 1, updated_at = $6 WHERE tenant_id = $7 AND id = $8 AND revision = $9`,
			a.Name, string(a.Config), sealed, names, boolInt(a.IsDefault), micros(a.UpdatedAt), a.TenantID, a.ID, a.Revision)
		if s.b.IsUniqueViolation(err) {
			return providerNameTaken(a.Name)
		}
		if err != nil {
			return fmt.Errorf("update provider account %s: %w", a.ID, err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ECONFLICT, "provider account %q was changed by someone else meanwhile; read it again and retry", a.ID)
		}
		a.Revision++
		out = a
		return s.audit(ctx, tx, a.TenantID, p.Actor, "provider.update", "provider", a.ID, auditOf(a))
	})
	return out, err
}

// DeleteProviderAccount removes one of the tenant's accounts. Sends of nodes
// that name it fail from then on, naming it.
func (s *Store) DeleteProviderAccount(ctx context.Context, actor, tenantID, id string) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		a, err := s.getProvider(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if a.ID != id {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "provider account %q not found", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM provider_accounts WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return fmt.Errorf("delete provider account %s: %w", id, err)
		}
		return s.audit(ctx, tx, tenantID, actor, "provider.delete", "provider", id, map[string]any{"name": a.Name})
	})
}

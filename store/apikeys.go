package store

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
)

// CreateAPIKeyParams describes a new key. Secret is the key itself; only its
// keyed hash is stored. Leave it empty to have one generated.
type CreateAPIKeyParams struct {
	TenantID string
	Name     string
	Role     kalcifer.Role
	Secret   string
}

// MinAPIKeyLength is the shortest key secret accepted when one is chosen
// rather than generated (KALCIFER_ADMIN_API_KEY).
const MinAPIKeyLength = 32

// CreateAPIKey stores a new key for an existing tenant and returns it with
// its secret, which is never available again.
func (s *Store) CreateAPIKey(ctx context.Context, actor string, p CreateAPIKeyParams) (kalcifer.APIKey, string, error) {
	if !p.Role.Valid() {
		return kalcifer.APIKey{}, "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "role %q is invalid: use viewer, editor, admin or ingest", p.Role)
	}
	if p.Secret != "" && len(p.Secret) < MinAPIKeyLength {
		return kalcifer.APIKey{}, "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "an API key must be at least %d characters long", MinAPIKeyLength)
	}
	name := strings.TrimSpace(p.Name)
	if name == "" {
		name = string(p.Role) + " key"
	}
	// A generated key's lookup id may, rarely, be taken: make another.
	for attempt := 1; ; attempt++ {
		secret := p.Secret
		if secret == "" {
			secret = kalcifer.NewAPIKeySecret()
		}
		k, err := s.createAPIKey(ctx, actor, p.TenantID, name, p.Role, secret)
		if kalcifer.ErrorCode(err) == kalcifer.ECONFLICT && p.Secret == "" && attempt < 3 {
			continue
		}
		if err != nil {
			return kalcifer.APIKey{}, "", fmt.Errorf("create api key: %w", err)
		}
		return k, secret, nil
	}
}

func (s *Store) createAPIKey(ctx context.Context, actor, tenantID, name string, role kalcifer.Role, secret string) (kalcifer.APIKey, error) {
	k := kalcifer.APIKey{
		ID:        kalcifer.NewID("key"),
		TenantID:  tenantID,
		Name:      name,
		Role:      role,
		Hash:      s.apiKeyHash(secret),
		CreatedAt: s.now(),
	}
	var lookup any // NULL for keys without a lookup id
	if id, ok := kalcifer.APIKeyLookup(secret); ok {
		lookup, k.Prefix = id, "kal_"+id
	}
	err := s.b.WithTx(ctx, func(tx Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1`, k.TenantID).Scan(&one); err != nil {
			return notFound(err, "tenant %q not found", k.TenantID)
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, tenant_id, name, role, prefix, hash, hash_scheme, lookup, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			k.ID, k.TenantID, k.Name, string(k.Role), k.Prefix, k.Hash, hashPepper, lookup, micros(k.CreatedAt))
		if err != nil {
			if s.b.IsUniqueViolation(err) {
				return kalcifer.Errorf(kalcifer.ECONFLICT, "that API key exists already")
			}
			return err
		}
		return s.audit(ctx, tx, k.TenantID, actor, "api_key.create", "api_key", k.ID,
			map[string]any{"name": k.Name, "role": k.Role, "prefix": k.Prefix})
	})
	return k, err
}

// EnsureAPIKey makes sure a key with this secret exists, creating it as
// described when it does not. Used to seed KALCIFER_ADMIN_API_KEY.
func (s *Store) EnsureAPIKey(ctx context.Context, actor string, p CreateAPIKeyParams) (kalcifer.APIKey, error) {
	k, err := s.keyBySecret(ctx, p.Secret)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, ErrNoRows) {
		return kalcifer.APIKey{}, err
	}
	k, _, err = s.CreateAPIKey(ctx, actor, p)
	return k, err
}

// Authenticate returns who holds the key secret, or EUNAUTHORIZED for an
// unknown or revoked key.
func (s *Store) Authenticate(ctx context.Context, secret string) (kalcifer.Principal, error) {
	hash := s.apiKeyHash(secret)
	if p, ok := s.keys.get(hash); ok {
		return p, nil
	}
	k, err := s.keyBySecret(ctx, secret)
	if errors.Is(err, ErrNoRows) || (err == nil && k.RevokedAt != nil) {
		return kalcifer.Principal{}, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "invalid API key")
	}
	if err != nil {
		return kalcifer.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	p := kalcifer.Principal{TenantID: k.TenantID, KeyID: k.ID, Role: k.Role}
	s.keys.put(hash, p)
	return p, nil
}

// keyCache remembers valid keys for a few seconds, so that a busy client
// does not cost a database read per request. A key revoked through this
// process stops working at once; through another replica, within keyTTL.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	p       kalcifer.Principal
	expires time.Time
}

const keyTTL = 5 * time.Second

// maxCachedKeys bounds the cache; past it, the cache starts afresh.
const maxCachedKeys = 10_000

func (c *keyCache) get(hash string) (kalcifer.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[hash]
	if !ok || time.Now().After(k.expires) {
		return kalcifer.Principal{}, false
	}
	return k.p, true
}

func (c *keyCache) put(hash string, p kalcifer.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedKeys {
		c.m = map[string]cachedKey{}
	}
	c.m[hash] = cachedKey{p: p, expires: time.Now().Add(keyTTL)}
}

func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = map[string]cachedKey{}
}

// ListAPIKeys returns a tenant's keys, newest first, without their secrets.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]kalcifer.APIKey, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = $1 ORDER BY id DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []kalcifer.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey makes a key unusable from now on.
func (s *Store) RevokeAPIKey(ctx context.Context, actor, tenantID, id string) error {
	defer s.keys.clear() // after the commit, so a lookup racing it does not keep the key cached
	return s.b.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL`,
			micros(s.now()), tenantID, id)
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "API key %q not found", id)
		}
		return s.audit(ctx, tx, tenantID, actor, "api_key.revoke", "api_key", id, nil)
	})
}

const apiKeyColumns = `id, tenant_id, name, role, prefix, hash, created_at, revoked_at`

// keyBySecret finds the key whose secret this is, or ErrNoRows. A key with a
// lookup id is found by it and its hash compared in constant time; any
// other (a chosen or older key) is found by its hash, which only the holder
// of the pepper can compute.
func (s *Store) keyBySecret(ctx context.Context, secret string) (kalcifer.APIKey, error) {
	hash := s.apiKeyHash(secret)
	id, ok := kalcifer.APIKeyLookup(secret)
	if !ok {
		return scanAPIKey(s.b.Q().QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1 AND hash_scheme = $2`, hash, hashPepper))
	}
	k, err := scanAPIKey(s.b.Q().QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE lookup = $1 AND hash_scheme = $2`, id, hashPepper))
	if err != nil {
		return kalcifer.APIKey{}, err
	}
	if !hmac.Equal([]byte(k.Hash), []byte(hash)) {
		return kalcifer.APIKey{}, ErrNoRows
	}
	return k, nil
}

func scanAPIKey(r Row) (kalcifer.APIKey, error) {
	var k kalcifer.APIKey
	var role string
	var createdAt int64
	var revokedAt *int64
	if err := r.Scan(&k.ID, &k.TenantID, &k.Name, &role, &k.Prefix, &k.Hash, &createdAt, &revokedAt); err != nil {
		return kalcifer.APIKey{}, err
	}
	k.Role = kalcifer.Role(role)
	k.CreatedAt = fromMicros(createdAt)
	k.RevokedAt = fromNullMicros(revokedAt)
	return k, nil
}

package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
)

// The suite's keys: every store starts with oldKey; rotation tests add
// newKey in front of it. The pepper is the same throughout, as it is across
// rotations.
var (
	oldKey = secrets.Key{ID: "old", Secret: bytes.Repeat([]byte{1}, secrets.KeySize)}
	newKey = secrets.Key{ID: "new", Secret: bytes.Repeat([]byte{2}, secrets.KeySize)}
	pepper = bytes.Repeat([]byte{3}, secrets.KeySize)
)

func testKeyring(t *testing.T, keys ...secrets.Key) *secrets.Keyring {
	t.Helper()
	k, err := secrets.New(keys, pepper, "the test keyring")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// raw reads one column of one row as the database holds it.
func raw(t *testing.T, s *store.Store, query string, args ...any) string {
	t.Helper()
	var v string
	must(t, s.Backend().Q().QueryRow(context.Background(), query, args...).Scan(&v))
	return v
}

func exec(t *testing.T, s *store.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.Backend().Q().Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Credentials are sealed in the database: the raw column holds no
// plaintext, and a sealed value moved to another row does not open.
func testSealedColumns(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.SetAISettings(ctx, actor, "default", &kalcifer.AISettings{Provider: kalcifer.AIAnthropic, APIKey: "sk-ant-very-secret"}, false))
	stored := raw(t, s, `SELECT api_key FROM tenant_ai_settings WHERE tenant_id = 'default'`)
	if strings.Contains(stored, "sk-ant") || !strings.HasPrefix(stored, "enc:v1:old:") {
		t.Fatalf("stored AI key = %q, want it sealed under key old", stored)
	}
	a, err := s.AISettings(ctx, "default")
	must(t, err)
	if a.APIKey != "sk-ant-very-secret" {
		t.Fatalf("AI key read back = %q", a.APIKey)
	}
	secret, err := s.WebhookSecret(ctx, "default")
	must(t, err)
	stored = raw(t, s, `SELECT webhook_secret FROM tenant_secrets WHERE tenant_id = 'default'`)
	if strings.Contains(stored, string(secret)) || !strings.HasPrefix(stored, "enc:v1:old:") {
		t.Fatalf("stored webhook secret = %q, want it sealed", stored)
	}
	// Copied into another tenant's row, the value does not open there.
	_, err = s.CreateTenant(ctx, actor, "mallory")
	must(t, err)
	must(t, s.SetAISettings(ctx, actor, "mallory", &kalcifer.AISettings{Provider: kalcifer.AIAnthropic, APIKey: "sk-mallory"}, false))
	exec(t, s, `UPDATE tenant_ai_settings SET api_key = (SELECT api_key FROM tenant_ai_settings WHERE tenant_id = 'default') WHERE tenant_id = 'mallory'`)
	if _, err := s.AISettings(ctx, "mallory"); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("a value swapped between rows: %v, want it refused", err)
	}
	// The audit rows never hold the key.
	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default"})
	must(t, err)
	for _, e := range page.Data {
		if strings.Contains(string(e.Data), "sk-ant") {
			t.Fatalf("audit row holds the key: %s", e.Data)
		}
	}
}

// Rows written in plaintext by an older Kalcifer are sealed by the start-up
// pass, once.
func testSealPlaintext(t *testing.T, s *store.Store) {
	ctx := context.Background()
	exec(t, s, `INSERT INTO tenant_ai_settings (tenant_id, provider, api_key, updated_at) VALUES ('default', 'openai', 'sk-legacy-plain', 1)`)
	exec(t, s, `DELETE FROM tenant_secrets WHERE tenant_id = 'default'`) // made with the tenant
	exec(t, s, `INSERT INTO tenant_secrets (tenant_id, webhook_secret, created_at) VALUES ('default', 'whsec-legacy-plain', 1)`)
	if _, err := s.AISettings(ctx, "default"); err == nil || !strings.Contains(err.Error(), "unsealed") {
		t.Fatalf("reading a plaintext value: %v, want it refused", err)
	}
	r, err := s.SealAtRest(ctx)
	must(t, err)
	if r.Sealed != 2 {
		t.Fatalf("sealed %d values, want 2", r.Sealed)
	}
	for _, q := range []string{`SELECT api_key FROM tenant_ai_settings WHERE tenant_id = 'default'`,
		`SELECT webhook_secret FROM tenant_secrets WHERE tenant_id = 'default'`} {
		if v := raw(t, s, q); strings.Contains(v, "legacy-plain") || !strings.HasPrefix(v, "enc:v1:old:") {
			t.Fatalf("%s = %q after the start-up pass", q, v)
		}
	}
	a, err := s.AISettings(ctx, "default")
	must(t, err)
	secret, err := s.WebhookSecret(ctx, "default")
	must(t, err)
	if a.APIKey != "sk-legacy-plain" || string(secret) != "whsec-legacy-plain" {
		t.Fatalf("after sealing: %q, %q", a.APIKey, secret)
	}
	if r, err = s.SealAtRest(ctx); err != nil || r.Sealed != 0 {
		t.Fatalf("second pass sealed %d (%v), want 0", r.Sealed, err)
	}
}

// Rotation re-seals every value under the new key in batches; old values
// open while it runs; afterwards a keyring without the new key names it.
func testRotation(t *testing.T, s *store.Store) {
	ctx := context.Background()
	tenants := []string{"default", "t1", "t2", "t3", "t4"}
	for _, id := range tenants[1:] {
		_, err := s.CreateTenant(ctx, actor, id)
		must(t, err)
	}
	for _, id := range tenants {
		must(t, s.SetAISettings(ctx, actor, id, &kalcifer.AISettings{Provider: kalcifer.AIOpenAI, APIKey: "sk-" + id}, false))
		_, err := s.WebhookSecret(ctx, id)
		must(t, err)
	}
	_, apiKey, err := s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Role: kalcifer.RoleViewer})
	must(t, err)

	rotated := store.New(s.Backend(), kalcifer.SystemClock{}, testKeyring(t, newKey, oldKey))
	// During the rotation: one tenant re-sealed, the others still under the
	// old key, all readable.
	must(t, rotated.SetAISettings(ctx, actor, "t1", &kalcifer.AISettings{Provider: kalcifer.AIOpenAI, APIKey: "sk-t1"}, false))
	for _, id := range tenants {
		a, err := rotated.AISettings(ctx, id)
		must(t, err)
		if a.APIKey != "sk-"+id {
			t.Fatalf("during rotation %s reads %q", id, a.APIKey)
		}
	}
	usage, err := rotated.KeyUsage(ctx)
	must(t, err)
	if usage["old"] != 9 || usage["new"] != 1 {
		t.Fatalf("usage before reseal = %v", usage)
	}
	var progress []int
	n, err := rotated.Reseal(ctx, 2, func(_ string, done int) { progress = append(progress, done) })
	must(t, err)
	if n != 9 || len(progress) < 4 || progress[len(progress)-1] != 9 {
		t.Fatalf("resealed %d with progress %v, want 9 in batches of 2", n, progress)
	}
	if usage, _ = rotated.KeyUsage(ctx); usage["old"] != 0 || usage["new"] != 10 {
		t.Fatalf("usage after reseal = %v", usage)
	}
	// Again: nothing left to do.
	if n, err = rotated.Reseal(ctx, 2, nil); err != nil || n != 0 {
		t.Fatalf("second reseal: %d %v", n, err)
	}
	for _, id := range tenants {
		a, err := rotated.AISettings(ctx, id)
		must(t, err)
		if a.APIKey != "sk-"+id || !strings.HasPrefix(raw(t, rotated, `SELECT api_key FROM tenant_ai_settings WHERE tenant_id = $1`, id), "enc:v1:new:") {
			t.Fatalf("after rotation %s reads %q", id, a.APIKey)
		}
	}
	// The pepper did not change: API keys still work.
	if _, err := rotated.Authenticate(ctx, apiKey); err != nil {
		t.Fatalf("API key after rotation: %v", err)
	}
	// A keyring that lacks the new key says which key it needs.
	stale := store.New(s.Backend(), kalcifer.SystemClock{}, testKeyring(t, oldKey))
	_, err = stale.AISettings(ctx, "t2")
	if !errors.Is(err, secrets.ErrUnknownKey) || !strings.Contains(err.Error(), `"new"`) {
		t.Fatalf("reading with a keyring that lacks the key: %v", err)
	}
	if _, err := stale.SealAtRest(ctx); err == nil || !strings.Contains(err.Error(), `"new" (10 values)`) {
		t.Fatalf("start with a keyring that lacks the key: %v", err)
	}
}

// Keys are found by their lookup id and stored as a keyed hash; neither the
// secret nor its start is kept.
func testAPIKeyScheme(t *testing.T, s *store.Store) {
	ctx := context.Background()
	k, secret, err := s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Role: kalcifer.RoleEditor})
	must(t, err)
	lookup, ok := kalcifer.APIKeyLookup(secret)
	if !ok || k.Prefix != "kal_"+lookup {
		t.Fatalf("key %q has prefix %q", secret, k.Prefix)
	}
	sum := sha256.Sum256([]byte(secret))
	hash := raw(t, s, `SELECT hash FROM api_keys WHERE id = $1`, k.ID)
	if hash == hex.EncodeToString(sum[:]) || strings.Contains(hash, secret[13:]) {
		t.Fatalf("stored hash %q is the plain SHA-256 or holds the secret", hash)
	}
	if got := raw(t, s, `SELECT lookup FROM api_keys WHERE id = $1`, k.ID); got != lookup {
		t.Fatalf("stored lookup = %q, want %q", got, lookup)
	}
	// The right lookup id with another secret is refused.
	forged := secret[:13] + strings.Repeat("0", len(secret)-13)
	_, err = s.Authenticate(ctx, forged)
	wantCode(t, err, kalcifer.EUNAUTHORIZED)
	// A key with the same secret under another pepper does not work.
	other, err := secrets.New([]secrets.Key{oldKey}, bytes.Repeat([]byte{9}, secrets.KeySize), "another pepper")
	must(t, err)
	_, err = store.New(s.Backend(), kalcifer.SystemClock{}, other).Authenticate(ctx, secret)
	wantCode(t, err, kalcifer.EUNAUTHORIZED)
	// A chosen key (KALCIFER_ADMIN_API_KEY) has no lookup id nor prefix.
	chosen := "chosen-admin-key-0123456789abcdef"
	a, err := s.EnsureAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Role: kalcifer.RoleAdmin, Secret: chosen})
	must(t, err)
	if a.Prefix != "" {
		t.Fatalf("chosen key prefix = %q, want none", a.Prefix)
	}
	if p, err := s.Authenticate(ctx, chosen); err != nil || p.KeyID != a.ID {
		t.Fatalf("chosen key: %+v %v", p, err)
	}
	_, _, err = s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Role: kalcifer.RoleAdmin, Secret: "short-but-16-chars"})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
}

// Keys stored as plain SHA-256 by an older Kalcifer keep working: the
// start-up pass re-hashes them under the pepper and drops the start of the
// secret they kept as prefix.
func testLegacyAPIKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	secret := "kal_" + strings.Repeat("7", 44) // the old format
	sum := sha256.Sum256([]byte(secret))
	exec(t, s, `INSERT INTO api_keys (id, tenant_id, name, role, prefix, hash, created_at) VALUES ('key_legacy', 'default', 'old', 'editor', $1, $2, 1)`,
		secret[:12], hex.EncodeToString(sum[:]))
	exec(t, s, `INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id, data, created_at)
		VALUES ('aud_legacy', 'default', 'cli', 'api_key.create', 'api_key', 'key_legacy', '{"name":"old","prefix":"`+secret[:12]+`"}', 1)`)
	r, err := s.SealAtRest(ctx)
	must(t, err)
	if r.UpgradedKeys != 1 {
		t.Fatalf("upgraded %d keys, want 1", r.UpgradedKeys)
	}
	p, err := s.Authenticate(ctx, secret)
	must(t, err)
	if p.KeyID != "key_legacy" || p.Role != kalcifer.RoleEditor {
		t.Fatalf("legacy key = %+v", p)
	}
	if h := raw(t, s, `SELECT hash FROM api_keys WHERE id = 'key_legacy'`); h == hex.EncodeToString(sum[:]) {
		t.Fatal("the legacy key is still stored as plain SHA-256")
	}
	keys, err := s.ListAPIKeys(ctx, "default")
	must(t, err)
	for _, k := range keys {
		if k.ID == "key_legacy" && k.Prefix != "" {
			t.Fatalf("legacy key still shows prefix %q", k.Prefix)
		}
	}
	if data := raw(t, s, `SELECT data FROM audit_log WHERE id = 'aud_legacy'`); strings.Contains(data, secret[:12]) || !strings.Contains(data, `"old"`) {
		t.Fatalf("audit row after upgrade = %s", data)
	}
	// Idempotent: a second start changes nothing and the key still works.
	if r, err = s.SealAtRest(ctx); err != nil || r.UpgradedKeys != 0 {
		t.Fatalf("second pass: %+v %v", r, err)
	}
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatalf("legacy key after the second pass: %v", err)
	}
}

// A tenant's webhook secret is made with the tenant, and a server reads
// every one before its engine starts, so that no webhook call waits for
// the database after its send was marked in flight.
func testWebhookSecretsAtStart(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.CreateTenant(ctx, actor, "acme")
	must(t, err)
	if stored := raw(t, s, `SELECT webhook_secret FROM tenant_secrets WHERE tenant_id = 'acme'`); !strings.HasPrefix(stored, "enc:v1:old:") {
		t.Fatalf("the new tenant's webhook secret is stored as %q, want it made sealed", stored)
	}
	// A process that has not asked for it yet (a restart) reads it at start.
	fresh := store.New(s.Backend(), kalcifer.SystemClock{}, testKeyring(t, oldKey)) // not closed: it shares s's backend
	n, err := fresh.LoadWebhookSecrets(ctx)
	must(t, err)
	if n < 1 {
		t.Fatalf("LoadWebhookSecrets read %d secrets, want the new tenant's", n)
	}
	want, err := s.WebhookSecret(ctx, "acme")
	must(t, err)
	// From here on the row cannot be read: the answer must come from what
	// was loaded.
	exec(t, s, `DELETE FROM tenant_secrets WHERE tenant_id = 'acme'`)
	got, err := fresh.WebhookSecret(ctx, "acme")
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("the loaded secret differs from the stored one")
	}
}

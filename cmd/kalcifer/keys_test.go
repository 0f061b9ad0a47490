package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// The base URL is never called; a public name passes the private-network guard.
const aiSettings = `{"provider":"openai","base_url":"https://llm.example.com/v1","model":"m","api_key":"sk-rotate-me"}`

// secretsOf writes an AI key and makes the webhook secret through the API
// and returns the webhook secret.
func secretsOf(t *testing.T, c client) string {
	t.Helper()
	c.do("PUT", "/api/v1/ai/settings", adminKey, aiSettings, 200, nil)
	var ws struct{ Secret string }
	c.do("GET", "/api/v1/webhook-secret", adminKey, "", 200, &ws)
	return ws.Secret
}

// wantAIKey checks that m opens the stored AI key.
func wantAIKey(t *testing.T, m *Main) {
	t.Helper()
	a, err := m.Store.AISettings(context.Background(), "default")
	if err != nil || a.APIKey != "sk-rotate-me" {
		t.Fatalf("AI key = %+v, %v", a, err)
	}
}

// With the key file, rotate adds a key and re-seals under it while a server
// runs with the keys from before; the server keeps reading, and after a
// restart everything still opens and every API key still works.
func TestKeysRotateKeyFile(t *testing.T) {
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_ALLOW_PRIVATE_NETWORKS": "true"} // the stored AI base URL is 127.0.0.1
	m := start(t, env, io.Discard)
	c := client{t: t, base: "http://" + m.Addr().String()}
	webhook := secretsOf(t, c)
	var viewer struct{ Secret string }
	c.do("POST", "/api/v1/api-keys", adminKey, `{"role":"viewer"}`, 201, &viewer)
	oldID := m.Store.Keyring().ActiveID()

	code, out, errOut := cli(env, "keys", "rotate", "--batch", "1")
	if code != 0 || !strings.Contains(out, "is now active in "+filepath.Join(env["KALCIFER_DATA_DIR"], "encryption.key")) ||
		!strings.Contains(out, "tenant_ai_settings.api_key: 1 re-sealed so far") || !strings.Contains(out, "2 secrets re-sealed under key k") ||
		!strings.Contains(out, "no longer used: "+oldID+";") {
		t.Fatalf("rotate: %d\n%s\n%s", code, out, errOut)
	}
	raw, err := os.ReadFile(filepath.Join(env["KALCIFER_DATA_DIR"], "encryption.key"))
	if err != nil || strings.Count(string(raw), `"id"`) != 2 {
		t.Fatalf("key file after rotate: %s %v", raw, err)
	}
	// The running server, whose keys are from before, opens values sealed
	// under the new key: it reads the key file again.
	wantAIKey(t, m)
	m.Close()

	m = start(t, env, io.Discard)
	defer m.Close()
	c.base = "http://" + m.Addr().String()
	if got := secretsOf(t, c); got != webhook {
		t.Fatalf("webhook secret after rotation = %q, want %q", got, webhook)
	}
	wantAIKey(t, m)
	c.do("GET", "/api/v1/journeys", viewer.Secret, "", 200, nil)
	if m.Store.Keyring().ActiveID() == oldID {
		t.Fatal("the old key is still active after the restart")
	}
}

// With KALCIFER_ENCRYPTION_KEY the operator puts the new key first and runs
// rotate; afterwards the old key may go, and a server without the new key
// refuses to start, naming it.
func TestKeysRotateEnv(t *testing.T) {
	env := map[string]string{"KALCIFER_DATABASE_URL": pgtest.URL(t), "KALCIFER_ENCRYPTION_KEY": "k1:" + testKey1,
		"KALCIFER_API_KEY_PEPPER": testPepper, "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_ALLOW_PRIVATE_NETWORKS": "true"} // the stored AI base URL is 127.0.0.1
	m := start(t, env, io.Discard)
	c := client{t: t, base: "http://" + m.Addr().String()}
	webhook := secretsOf(t, c)
	m.Close()

	env["KALCIFER_ENCRYPTION_KEY"] = "k2:" + testKey2 + ", k1:" + testKey1
	m = start(t, env, io.Discard)
	wantAIKey(t, m) // sealed under k1, opened while k2 is active
	code, out, errOut := cli(env, "keys", "rotate")
	if code != 0 || !strings.Contains(out, "re-sealing stored secrets under key k2 (KALCIFER_ENCRYPTION_KEY)") ||
		!strings.Contains(out, "2 secrets re-sealed under key k2") || !strings.Contains(out, "no longer used: k1;") {
		t.Fatalf("rotate: %d\n%s\n%s", code, out, errOut)
	}
	wantAIKey(t, m)
	m.Close()

	env["KALCIFER_ENCRYPTION_KEY"] = "k2:" + testKey2
	m = start(t, env, io.Discard)
	c.base = "http://" + m.Addr().String()
	if got := secretsOf(t, c); got != webhook {
		t.Fatalf("webhook secret after rotation = %q, want %q", got, webhook)
	}
	m.Close()

	env["KALCIFER_ENCRYPTION_KEY"] = "k1:" + testKey1
	cfg, err := LoadConfig(envOf(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	stale := &Main{Config: cfg, Logger: slog.New(slog.DiscardHandler), Out: io.Discard}
	if err := stale.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `"k2" (`) {
		stale.Close()
		t.Fatalf("start without the key in use: %v, want a refusal naming k2", err)
	}
}

// A database written by an older Kalcifer — credentials in plaintext, an
// API key as bare SHA-256 with the start of its secret as prefix — is
// brought up to date on start: the key works, lists no prefix, and the
// credentials are sealed.
func TestStartSealsOlderRows(t *testing.T) {
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}
	start(t, env, io.Discard).Close()

	ctx := context.Background()
	b, err := sqlite.Open(ctx, env["KALCIFER_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	old := "kal_" + strings.Repeat("q", 44)
	sum := sha256.Sum256([]byte(old))
	for _, q := range []string{
		`INSERT INTO tenant_ai_settings (tenant_id, provider, base_url, model, api_key, updated_at)
			VALUES ('default', 'openai', 'https://llm.example.invalid/v1', 'm', 'sk-rotate-me', 1)`,
		`DELETE FROM tenant_secrets WHERE tenant_id = 'default'`, // made with the tenant; an older Kalcifer's was plaintext
		`INSERT INTO tenant_secrets (tenant_id, webhook_secret, created_at) VALUES ('default', 'whsec-from-before', 1)`,
		`INSERT INTO api_keys (id, tenant_id, name, role, prefix, hash, created_at)
			VALUES ('key_old', 'default', 'old', 'viewer', '` + old[:12] + `', '` + hex.EncodeToString(sum[:]) + `', 1)`,
	} {
		if _, err := b.Q().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	b.Close()

	m := start(t, env, io.Discard)
	defer m.Close()
	c := client{t: t, base: "http://" + m.Addr().String()}
	var keys struct{ Data []map[string]any }
	c.do("GET", "/api/v1/api-keys", old, "", 403, nil) // a viewer: it authenticates
	c.do("GET", "/api/v1/api-keys", adminKey, "", 200, &keys)
	for _, k := range keys.Data {
		if k["id"] == "key_old" && k["prefix"] != nil {
			t.Fatalf("the old key still shows prefix %v", k["prefix"])
		}
	}
	var ws struct{ Secret string }
	c.do("GET", "/api/v1/webhook-secret", adminKey, "", 200, &ws)
	if ws.Secret != "whsec-from-before" {
		t.Fatalf("webhook secret = %q", ws.Secret)
	}
	wantAIKey(t, m)
	usage, err := m.Store.KeyUsage(ctx)
	if err != nil || usage[""] != 0 || usage[m.Store.Keyring().ActiveID()] != 2 {
		t.Fatalf("usage after start = %v %v, want both sealed", usage, err)
	}
}

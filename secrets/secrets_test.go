package secrets

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(fill), n)))
}

func TestSealOpen(t *testing.T) {
	k := Generate()
	ad := []byte("tenant_ai_settings.api_key:acme")
	sealed := k.Seal([]byte("sk-live-123"), ad)
	if !strings.HasPrefix(sealed, "enc:v1:"+k.ActiveID()+":") || strings.Contains(sealed, "sk-live") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := k.Seal([]byte("sk-live-123"), ad); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce must be random")
	}
	plain, err := k.Open(sealed, ad)
	if err != nil || string(plain) != "sk-live-123" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	if id, ok := KeyID(sealed); !ok || id != k.ActiveID() || !IsSealed(sealed) || IsSealed("sk-live-123") {
		t.Fatalf("KeyID = %q %v", id, ok)
	}
}

func TestOpenRefuses(t *testing.T) {
	k := Generate()
	ad := []byte("tenant_secrets.webhook_secret:acme")
	sealed := k.Seal([]byte("whsec"), ad)
	id, body, _ := split(sealed)
	raw, _ := base64.StdEncoding.DecodeString(body)
	raw[len(raw)-1] ^= 1
	tampered := SealedPrefix(id) + base64.StdEncoding.EncodeToString(raw)

	other := Generate()
	cases := map[string]struct {
		k      *Keyring
		sealed string
		ad     string
		want   string
	}{
		"tampered":        {k, tampered, string(ad), "does not open"},
		"other row":       {k, sealed, "tenant_secrets.webhook_secret:evil", "does not open"},
		"other column":    {k, sealed, "tenant_ai_settings.api_key:acme", "does not open"},
		"truncated":       {k, sealed[:len(sealed)-30], string(ad), "damaged"},
		"not base64":      {k, SealedPrefix(id) + "!!!", string(ad), "damaged"},
		"plaintext":       {k, "whsec", string(ad), "not a sealed value"},
		"unknown key id":  {other, sealed, string(ad), `sealed under key "` + id + `"`},
		"relabelled copy": {k, strings.Replace(sealed, id, "k1", 1), string(ad), `key "k1"`},
	}
	for name, c := range cases {
		_, err := c.k.Open(c.sealed, []byte(c.ad))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, c.want)
		}
	}
	if _, err := other.Open(sealed, ad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: %v does not wrap ErrUnknownKey", err)
	}
}

func TestOldKeysStillOpen(t *testing.T) {
	old := Key{ID: "old", Secret: []byte(strings.Repeat("a", 32))}
	pepper := []byte(strings.Repeat("p", 32))
	k1, err := New([]Key{old}, pepper, "test")
	if err != nil {
		t.Fatal(err)
	}
	sealed := k1.Seal([]byte("v"), nil)
	k2, err := New([]Key{{ID: "new", Secret: []byte(strings.Repeat("b", 32))}, old}, pepper, "test")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := k2.Open(sealed, nil); err != nil || string(p) != "v" {
		t.Fatalf("old value under the new ring: %q %v", p, err)
	}
	if id, _ := KeyID(k2.Seal([]byte("v"), nil)); id != "new" {
		t.Fatalf("sealed under %q, want the active key", id)
	}
	if k1.MAC([]byte("x")) != k2.MAC([]byte("x")) {
		t.Fatal("the MAC changed with the keys")
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys("k2:" + b64(32, 'b') + ", k1:" + b64(32, 'a'))
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	bare, err := ParseKeys(b64(32, 'a'))
	if err != nil || len(bare) != 1 || !strings.HasPrefix(bare[0].ID, "fp-") || len(bare[0].ID) != 11 {
		t.Fatalf("bare = %+v, %v", bare, err)
	}
	for in, want := range map[string]string{
		"k1:" + b64(16, 'a'):                         "16 bytes",
		"k1:not*base64":                              "not valid base64",
		"bad id:" + b64(32, 'a'):                     "invalid",
		"k1:" + b64(32, 'a') + ",k1:" + b64(32, 'b'): "twice",
		b64(32, 'a') + "," + b64(32, 'b'):            "no id",
	} {
		if _, err := ParseKeys(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
	if _, err := ParsePepper(b64(31, 'p')); err == nil {
		t.Error("a 31-byte pepper was accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "encryption.key")
	k, created, err := OpenFile(path, nil)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	sealed := k.Seal([]byte("v"), nil)
	mac := k.MAC([]byte("x"))

	again, created, err := OpenFile(path, nil)
	if err != nil || created || again.ActiveID() != k.ActiveID() || again.MAC([]byte("x")) != mac {
		t.Fatalf("reopen: %v %v", created, err)
	}

	newID, err := RotateFile(path)
	if err != nil || newID == k.ActiveID() {
		t.Fatalf("rotate: %q %v", newID, err)
	}
	// A keyring made before the rotation reads the file again on meeting
	// the new key id.
	rotated, _, err := OpenFile(path, nil)
	if err != nil || rotated.ActiveID() != newID || len(rotated.IDs()) != 2 || rotated.MAC([]byte("x")) != mac {
		t.Fatalf("after rotate: %v %v", rotated.IDs(), err)
	}
	if p, err := rotated.Open(sealed, nil); err != nil || string(p) != "v" {
		t.Fatalf("old value after rotate: %v", err)
	}
	if p, err := k.Open(rotated.Seal([]byte("w"), nil), nil); err != nil || string(p) != "w" {
		t.Fatalf("a keyring from before the rotation opens a new value: %v", err)
	}

	os.WriteFile(path, []byte(`{"pepper":"`+b64(32, 'p')+`","keys":[{"id":"k1","key":"`+b64(8, 'a')+`"}]}`), 0o600)
	if _, _, err := OpenFile(path, nil); err == nil || !strings.Contains(err.Error(), `key "k1"`) || !strings.Contains(err.Error(), "8 bytes") {
		t.Fatalf("short key in file: %v", err)
	}
	os.WriteFile(path, []byte(`{`), 0o600)
	if _, _, err := OpenFile(path, nil); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("broken file: %v", err)
	}
}

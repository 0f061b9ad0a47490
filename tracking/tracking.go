// Package tracking is Kalcifer's own open and click tracking, for email
// sent where no provider reports opens (SMTP): a 1×1 pixel and redirecting
// links whose tokens are signed, so that nobody can forge an open, a click
// or a redirect.
//
// A token carries the tenant, the send's key and, for a click, the target
// URL, as base64url JSON, followed by an HMAC-SHA256 (truncated to 128 bits)
// over the token's kind and that payload. The HMAC key is derived from the
// keyring's API key pepper (Key), which never changes when encryption keys
// rotate, so links in emails already sent keep working. The public routes
// that read the tokens are GET /t/o/{token} and GET /t/c/{token} (api/tracking.go).
//
// It imports only secrets, x/net/html and the standard library.
package tracking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/kalcifer/kalcifer/secrets"
)

// The routes' path prefixes, under Kalcifer's public URL.
const (
	OpenPath  = "/t/o/"
	ClickPath = "/t/c/"
)

// The kinds of token. A token of one kind is never accepted as the other.
const (
	Open  = "o"
	Click = "c"
)

// macSize is how many bytes of the HMAC a token keeps.
const macSize = 16

// maxToken bounds the tokens Parse reads (a long target URL makes a long
// token; browsers and mail clients cope with far longer ones).
const maxToken = 8 << 10

// Key derives the tracking key from the keyring: an HMAC of a fixed label
// under the API key pepper, so it is distinct from every API key hash.
func Key(k *secrets.Keyring) []byte {
	b, _ := hex.DecodeString(k.MAC([]byte("kalcifer tracking links v1")))
	return b
}

// Link is what a token says: whose send was opened or clicked, and where
// a click goes.
type Link struct {
	TenantID string `json:"t"`
	Key      string `json:"k"`
	URL      string `json:"u,omitempty"`
}

// Signer makes and checks tokens with one key. It is safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a signer over key (see Key).
func NewSigner(key []byte) *Signer { return &Signer{key: key} }

// Token signs l as a token of kind (Open or Click).
func (s *Signer) Token(kind string, l Link) string {
	raw, _ := json.Marshal(l) // strings only: cannot fail
	payload := base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(kind, payload))
}

func (s *Signer) mac(kind, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(kind + "." + payload))
	return m.Sum(nil)[:macSize]
}

// ErrInvalid is returned for a token that was not made by this signer for
// that kind, or was changed.
var ErrInvalid = errors.New("tracking: invalid token")

// Parse checks a token of kind and returns its link. A click's URL is
// checked again to be an absolute http(s) URL, so even a signed token can
// never redirect anywhere else.
func (s *Signer) Parse(kind, token string) (Link, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxToken {
		return Link{}, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(kind, payload)) {
		return Link{}, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Link{}, ErrInvalid
	}
	var l Link
	if err := json.Unmarshal(raw, &l); err != nil || l.TenantID == "" || l.Key == "" {
		return Link{}, ErrInvalid
	}
	if kind == Click && !trackable(l.URL) {
		return Link{}, ErrInvalid
	}
	if kind == Open && l.URL != "" {
		return Link{}, ErrInvalid
	}
	return l, nil
}

// trackable reports whether a link is an absolute http(s) URL, the only
// links Rewrite rewrites and a click may redirect to.
func trackable(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

package kalcifer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// WebhookToken lets an outside system enrol customers through one journey's
// webhook_entry, and do nothing else: it is not a tenant key. Only the
// SHA-256 hash of its secret is stored; the secret is shown once, when the
// token is made.
type WebhookToken struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	JourneyID string     `json:"journey_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"` // the secret's first characters, to recognise it
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// WebhookTokenPrefix starts every webhook token secret, so that the webhook
// route tells a token from a tenant key without a second lookup.
const WebhookTokenPrefix = "kwh_"

// NewWebhookTokenSecret returns a fresh token secret: WebhookTokenPrefix and
// 256 random bits in unpadded base64url.
func NewWebhookTokenSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("kalcifer: crypto/rand failed: " + err.Error())
	}
	return WebhookTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// IsWebhookTokenSecret reports whether secret has the form of a webhook
// token (it may still be unknown or revoked).
func IsWebhookTokenSecret(secret string) bool {
	return strings.HasPrefix(secret, WebhookTokenPrefix)
}

// HashWebhookToken returns the stored form of a token secret. The secret
// holds 256 random bits, so a fast unsalted hash leaves nothing to
// brute-force, and it lets a request find its token by one indexed lookup.
func HashWebhookToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// WebhookTokenPrefixOf returns the part of a secret kept in clear: the
// prefix and six characters.
func WebhookTokenPrefixOf(secret string) string {
	return secret[:min(len(secret), len(WebhookTokenPrefix)+6)]
}

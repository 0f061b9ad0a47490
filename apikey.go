package kalcifer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Role is what an API key may do. Viewer, editor and admin are ordered: each
// may do everything the roles below it may. Ingest stands outside that order:
// it may only send events, batches and webhook entries, on the routes that
// name it, and may read nothing.
type Role string

// The ranked roles, lowest first, then ingest.
const (
	RoleViewer Role = "viewer" // read anything of its tenant
	RoleEditor Role = "editor" // also create and change journeys, send events
	RoleAdmin  Role = "admin"  // also manage keys and tenant settings
	RoleIngest Role = "ingest" // only send events, batches and webhook entries
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0 // ingest, and unknown roles: outside the order
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r.rank() > 0 || r == RoleIngest }

// Allows reports whether a key with role r may act where the ranked role
// need is required. It compares ranks only, so ingest allows nothing and is
// allowed nowhere through it: the routes open to ingest keys name the role
// themselves.
func (r Role) Allows(need Role) bool {
	return r.rank() > 0 && need.rank() > 0 && r.rank() >= need.rank()
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", Errorf(EUNPROCESSABLE, "role %q is invalid: use viewer, editor, admin or ingest", s)
	}
	return r, nil
}

// APIKey is a credential scoped to one tenant. Only the SHA-256 hash of the
// secret is stored; the secret itself is shown once, when it is made.
type APIKey struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Prefix    string     `json:"prefix"` // first characters of the secret, to recognise it
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewAPIKeySecret returns a fresh random key secret, "kal_" and 43 characters
// of base32 (215 bits of entropy).
func NewAPIKeySecret() string {
	var b [27]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("kalcifer: crypto/rand failed: " + err.Error())
	}
	out := make([]byte, 0, 4+44)
	out = append(out, "kal_"...)
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, crockford[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, crockford[(acc<<(5-bits))&31])
	}
	return string(out)
}

// HashAPIKey returns the stored form of a key secret. Secrets are long and
// random, so a fast hash is enough: there is nothing to brute-force.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// APIKeyPrefix returns the part of a secret kept in clear to recognise it.
func APIKeyPrefix(secret string) string {
	if len(secret) <= 12 {
		return secret[:len(secret)/2]
	}
	return secret[:12]
}

// Principal is who is calling: the tenant and role of an API key, or of a
// signed-in user's token.
type Principal struct {
	TenantID string
	KeyID    string // the API key's ID; empty for a token user
	Subject  string // a token user's sub claim; empty for an API key
	Role     Role
}

// Actor names the principal in the audit log: "key:<id>" for an API key,
// "jwt:<sub>" for a token user.
func (p Principal) Actor() string {
	if p.Subject != "" {
		return "jwt:" + p.Subject
	}
	return fmt.Sprintf("key:%s", p.KeyID)
}

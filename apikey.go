package kalcifer

import (
	"crypto/rand"
	"fmt"
	"strings"
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

// APIKey is a credential scoped to one tenant. Only a keyed hash of the
// secret is stored (HMAC-SHA256 under the server's pepper); the secret itself
// is shown once, when it is made.
type APIKey struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	// Prefix is the non-secret start of the key, "kal_<lookup id>", to
	// recognise it by. Keys Kalcifer did not make (KALCIFER_ADMIN_API_KEY)
	// and keys made before lookup ids have none: their ID names them.
	Prefix    string     `json:"prefix,omitempty"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// API keys are "kal_", a lookup id, "_", then the secret part. The lookup id
// is not secret: the store finds the key by it and then compares hashes in
// constant time.
const (
	apiKeyLookupLen = 8  // 40 bits: unique enough to find a row
	apiKeySecretLen = 43 // 215 bits of entropy
)

// NewAPIKeySecret returns a fresh random key, "kal_<8-char lookup id>_<43
// characters>" in lower-case Crockford base32.
func NewAPIKeySecret() string {
	return "kal_" + RandomToken(apiKeyLookupLen) + "_" + RandomToken(apiKeySecretLen)
}

// APIKeyLookup returns the lookup id of a key made by NewAPIKeySecret; ok is
// false for any other text (a key chosen by an operator, a key made before
// lookup ids).
func APIKeyLookup(secret string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(secret, "kal_")
	if !ok || len(rest) != apiKeyLookupLen+1+apiKeySecretLen || rest[apiKeyLookupLen] != '_' {
		return "", false
	}
	id = rest[:apiKeyLookupLen]
	for _, c := range id + rest[apiKeyLookupLen+1:] {
		if !strings.ContainsRune(crockford, c) {
			return "", false
		}
	}
	return id, true
}

// RandomToken returns n random characters of lower-case Crockford base32
// (5 bits of entropy each).
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("kalcifer: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b)
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

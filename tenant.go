package kalcifer

import (
	"regexp"
	"time"
)

// DefaultTenantID is the tenant that exists from the first start.
const DefaultTenantID = "default"

var tenantIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Tenant is a workspace: every journey, customer and key belongs to exactly
// one, and no tenant ever sees another's data. Its ID is its name.
type Tenant struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// ValidateTenantID reports whether id can name a tenant: lower-case letters,
// digits, '-' and '_', starting with a letter or digit, at most 63 long.
func ValidateTenantID(id string) error {
	if !tenantIDPattern.MatchString(id) {
		return Errorf(EUNPROCESSABLE, "tenant name %q is invalid: use 1-63 lower-case letters, digits, '-' or '_'", id)
	}
	return nil
}

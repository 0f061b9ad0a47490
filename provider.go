package kalcifer

import (
	"encoding/json"
	"time"
)

// ProviderAccount is one of a tenant's accounts with a message provider (a
// SendGrid key, an SMTP server...): the driver it uses (Type), the channel
// it serves, its config without credentials, and whether it is the
// tenant's default for that channel. Channel nodes name an account by id or
// name in their "provider" config; nodes naming none use the default.
type ProviderAccount struct {
	ID       string  `json:"id"`
	TenantID string  `json:"tenant_id"`
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Channel  Channel `json:"channel"`
	// Config holds the config's fields except its credentials.
	Config json.RawMessage `json:"config"`
	// SecretsSet names the credential fields that hold a value; their values
	// are never shown.
	SecretsSet []string `json:"secrets_set"`
	IsDefault  bool     `json:"is_default"`
	// Revision counts the account's changes, 1 when created: the engine
	// rebuilds its provider when it moves.
	Revision  int       `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Secrets are the credentials, sealed at rest; never encoded.
	Secrets map[string]string `json:"-"`
}

// ProviderAccountFilter selects a page of a tenant's provider accounts.
type ProviderAccountFilter struct {
	TenantID string
	Channel  Channel
	Limit    int
	Cursor   string
}

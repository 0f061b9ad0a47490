package kalcifer

import (
	"encoding/json"
	"time"
)

// AuditEntry records one configuration change: who did what to which
// resource, when, and the details of the change.
type AuditEntry struct {
	ID           string          `json:"id"`
	TenantID     string          `json:"tenant_id"`
	Actor        string          `json:"actor"`
	Action       string          `json:"action"` // e.g. "journey.create"
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Data         json.RawMessage `json:"data,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

// AuditFilter selects audit entries of one tenant, newest first.
type AuditFilter struct {
	TenantID     string
	ResourceType string
	ResourceID   string
	Limit        int
	Cursor       string
}

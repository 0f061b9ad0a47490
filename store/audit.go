package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kalcifer/kalcifer"
)

// audit writes one audit row in tx, so the record exists exactly when the
// change does.
func (s *Store) audit(ctx context.Context, tx Tx, tenantID, actor, action, resourceType, resourceID string, data any) error {
	var raw []byte
	if data != nil {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		kalcifer.NewID("aud"), tenantID, actor, action, resourceType, resourceID, nullJSON(raw), micros(s.now()))
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// ListAudit returns a tenant's audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f kalcifer.AuditFilter) (kalcifer.Page[kalcifer.AuditEntry], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	rows, err := s.b.Q().Query(ctx, `SELECT id, tenant_id, actor, action, resource_type, resource_id, data, created_at
		FROM audit_log
		WHERE tenant_id = $1
		  AND ($2 = '' OR resource_type = $2)
		  AND ($3 = '' OR resource_id = $3)
		  AND ($4 = '' OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.TenantID, f.ResourceType, f.ResourceID, f.Cursor, limit+1)
	if err != nil {
		return kalcifer.Page[kalcifer.AuditEntry]{}, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	page := kalcifer.Page[kalcifer.AuditEntry]{Data: []kalcifer.AuditEntry{}}
	for rows.Next() {
		var e kalcifer.AuditEntry
		var data *string
		var createdAt int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Actor, &e.Action, &e.ResourceType, &e.ResourceID, &data, &createdAt); err != nil {
			return page, fmt.Errorf("list audit: %w", err)
		}
		if data != nil {
			e.Data = json.RawMessage(*data)
		}
		e.CreatedAt = fromMicros(createdAt)
		page.Data = append(page.Data, e)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list audit: %w", err)
	}
	return pageOf(page.Data, limit, func(e kalcifer.AuditEntry) string { return e.ID }), nil
}

// nullJSON returns raw as a string parameter, or nil for SQL NULL.
func nullJSON(raw []byte) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

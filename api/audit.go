package api

import (
	"net/http"

	"github.com/kalcifer/kalcifer"
)

// listAudit serves the tenant's audit log, newest first.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListAudit(r.Context(), kalcifer.AuditFilter{
		TenantID:     principal(r).TenantID,
		ResourceType: q.Get("resource_type"),
		ResourceID:   q.Get("resource_id"),
		Limit:        limit,
		Cursor:       q.Get("cursor"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

package api

import (
	"net/http"

	"github.com/kalcifer/kalcifer"
)

// limitsResponse answers GET /limits.
type limitsResponse struct {
	TenantID string          `json:"tenant_id"`
	Limits   kalcifer.Limits `json:"limits"`
	Usage    kalcifer.Usage  `json:"usage"`
}

// getLimits shows the caller's tenant its effective limits and quotas (0:
// unlimited) and what it uses of the quotas now. Only the operator changes
// limits (kalcifer tenant limits), so a tenant cannot raise its own.
func (s *server) getLimits(w http.ResponseWriter, r *http.Request) {
	tenantID := principal(r).TenantID
	lim, err := s.store.Limits(r.Context(), tenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.Usage(r.Context(), tenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, limitsResponse{TenantID: tenantID, Limits: lim, Usage: u})
}

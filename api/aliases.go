package api

import "net/http"

// aliasRequest is the body of POST /customers/{id}/alias.
type aliasRequest struct {
	PreviousID string `json:"previous_id"`
}

// aliasCustomer merges previous_id (an anonymous visitor, say) into the
// customer of the path: see engine.Runtime.Alias. Repeating it changes
// nothing and answers the same customer with "merged": false.
func (s *server) aliasCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := customerParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req aliasRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	problems := append(checkID("id", id), checkID("previous_id", req.PreviousID)...)
	if len(problems) > 0 {
		s.writeError(w, r, unprocessable("the alias is invalid: "+describe(problems), problems))
		return
	}
	p := principal(r)
	// The route names a customer: it must exist (Segment's alias call,
	// for which a user may not be known yet, has no such rule).
	if _, err := s.store.GetCustomer(r.Context(), p.TenantID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.engine.Alias(r.Context(), p.TenantID, req.PreviousID, id, p.Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

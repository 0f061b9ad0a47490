package api

import (
	"net/http"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// recentEventTypesWindow is how far back GET /event-types looks.
const recentEventTypesWindow = 30 * 24 * time.Hour

// listEventTypes answers the event types the tenant received in the last
// 30 days, the most recently seen first: what an editor offers in its
// event pickers.
func (s *server) listEventTypes(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	since := time.Now().Add(-recentEventTypesWindow)
	types, err := s.store.RecentEventTypes(r.Context(), principal(r).TenantID, since, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"data": types})
}

// checkExpressionRequest is the body of POST /expressions/check.
type checkExpressionRequest struct {
	Expression *string `json:"expression"`
}

// expressionCheck answers whether a CEL expression would pass validation
// as a condition or exit criterion, and why not.
type expressionCheck struct {
	Valid bool   `json:"valid"`
	Error string `json:"error,omitempty"`
}

// checkExpression checks a CEL expression exactly as graph validation
// does (compiles over customer, event and journey, gives a bool, fits the
// cost limit), so that an editor can mark a field while it is typed
// rather than when the journey is saved. A bad expression is a 200 with
// valid false: the request itself was fine.
func (s *server) checkExpression(w http.ResponseWriter, r *http.Request) {
	var req checkExpressionRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Expression == nil {
		s.writeError(w, r, unprocessable("send the expression to check", []kalcifer.Detail{{Field: "expression", Message: "is required"}}))
		return
	}
	out := expressionCheck{Valid: true}
	if err := graph.CheckExpression(*req.Expression); err != nil {
		out = expressionCheck{Error: err.Error()}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

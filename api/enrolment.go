package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer/store"
)

// enrolment is the answer of GET /journeys/{id}/enrolment: the progress of
// each segment and scheduled entry of the journey.
type enrolment struct {
	JourneyID string            `json:"journey_id"`
	Entries   []*store.EntryRun `json:"entries"`
}

// getEnrolment serves how far the journey's segment and scheduled entries
// have gone: the pass running (or the last one), how many customers it
// walked and enrolled of how many, and when the next one starts. A
// journey without such entries, or not yet activated, has none.
func (s *server) getEnrolment(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	j, err := s.store.GetJourney(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	runs, err := s.store.EntryRuns(r.Context(), p.TenantID, j.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, enrolment{JourneyID: j.ID, Entries: runs})
}

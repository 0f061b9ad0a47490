package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// instanceStatuses are the values the status filter accepts.
var instanceStatuses = []kalcifer.InstanceStatus{
	kalcifer.InstanceActive, kalcifer.InstancePaused, kalcifer.InstanceCompleted,
	kalcifer.InstanceExited, kalcifer.InstanceFailed,
}

// listInstances serves one page of a journey's instances, newest first.
// The journey is looked up first, so that an unknown journey is a 404
// rather than an empty page.
func (s *server) listInstances(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version := 0
	if raw := q.Get("version"); raw != "" {
		if version, err = strconv.Atoi(raw); err != nil || version < 1 || strconv.Itoa(version) != raw {
			s.writeError(w, r, invalid("version", "version %q is invalid: use a positive integer such as 1", raw))
			return
		}
	}
	status := kalcifer.InstanceStatus(q.Get("status"))
	if status != "" && !slices.Contains(instanceStatuses, status) {
		s.writeError(w, r, invalid("status", "status %q is invalid: use active, paused, completed, exited or failed", status))
		return
	}
	p := principal(r)
	j, err := s.store.GetJourney(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListInstances(r.Context(), store.InstanceFilter{
		TenantID:   p.TenantID,
		JourneyID:  j.ID,
		CustomerID: q.Get("customer_id"),
		Version:    version,
		Status:     status,
		NodeID:     q.Get("node_id"),
		Limit:      limit,
		Cursor:     q.Get("cursor"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

// countInstancesByVersion serves how many of a journey's instances are in
// it (active or paused) per version, keyed "v1", "v2"…: what a migration
// between versions needs to know. Versions nobody is in are left out.
func (s *server) countInstancesByVersion(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	j, err := s.store.GetJourney(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	counts, err := s.store.CountByVersion(r.Context(), p.TenantID, j.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make(map[string]int, len(counts))
	for v, n := range counts {
		out["v"+strconv.Itoa(v)] = n
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// instanceDetail is an instance with its whole history: every step it took
// and every send it made, oldest first.
type instanceDetail struct {
	*kalcifer.Instance
	Steps []kalcifer.Step `json:"steps"`
	Sends []kalcifer.Send `json:"sends"`
}

// getInstance serves one instance with its steps and sends. The three reads
// are not one snapshot: an instance that moves meanwhile may show a step
// or send newer than its status.
func (s *server) getInstance(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	in, err := s.store.GetInstance(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	steps, err := s.store.InstanceSteps(r.Context(), in.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sends, err := s.store.ListSends(r.Context(), p.TenantID, in.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if steps == nil {
		steps = []kalcifer.Step{}
	}
	if sends == nil {
		sends = []kalcifer.Send{}
	}
	s.writeJSON(w, r, http.StatusOK, instanceDetail{Instance: in, Steps: steps, Sends: sends})
}

// controlInstance returns the handler of one instance command (pause,
// resume, exit). The engine answers 409, with the instance's status in
// error.state, when the command does not fit the instance's state.
func (s *server) controlInstance(cmd func(Engine, context.Context, string, string) (*kalcifer.Instance, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode(r, &struct{}{}); err != nil { // an empty object, or no body at all
			s.writeError(w, r, err)
			return
		}
		in, err := cmd(s.engine, r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if in.Nodes == nil {
			in.Nodes = []string{} // as the store reads it: an ended instance is at no node
		}
		s.writeJSON(w, r, http.StatusOK, in)
	}
}

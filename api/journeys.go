package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// createJourneyRequest is the body of POST /journeys. The graph is kept raw
// so that it is decoded by graph.Parse, like every other graph.
type createJourneyRequest struct {
	Name        string                    `json:"name"`
	Description string                    `json:"description"`
	Graph       json.RawMessage           `json:"graph"`
	Settings    *kalcifer.JourneySettings `json:"settings"`
}

func (s *server) createJourney(w http.ResponseWriter, r *http.Request) {
	var req createJourneyRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	j := &kalcifer.Journey{TenantID: p.TenantID, Name: req.Name, Description: req.Description}
	if req.Settings != nil {
		j.Settings = *req.Settings
	}
	if len(req.Graph) > 0 && !isNull(req.Graph) {
		g, err := parseGraph(req.Graph)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		j.Graph = g
	}
	if err := s.store.CreateJourney(r.Context(), p.Actor(), j); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/journeys/"+url.PathEscape(j.ID))
	s.writeJSON(w, r, http.StatusCreated, j)
}

func (s *server) listJourneys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := kalcifer.JourneyStatus(q.Get("status"))
	if status != "" && !status.Valid() {
		s.writeError(w, r, invalid("status", "status %q is invalid: use draft, active, paused or archived", status))
		return
	}
	page, err := s.store.ListJourneys(r.Context(), kalcifer.JourneyFilter{
		TenantID: principal(r).TenantID,
		Status:   status,
		Name:     q.Get("name"),
		Limit:    limit,
		Cursor:   q.Get("cursor"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) getJourney(w http.ResponseWriter, r *http.Request) {
	j, err := s.store.GetJourney(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, j)
}

// updateJourneyRequest is the body of PUT /journeys/{id}. Every field is
// optional and kept raw, so that an absent field (unchanged) can be told
// from an explicit null (refused).
type updateJourneyRequest struct {
	Name        json.RawMessage `json:"name"`
	Description json.RawMessage `json:"description"`
	Graph       json.RawMessage `json:"graph"`
	Settings    json.RawMessage `json:"settings"`
}

func (s *server) updateJourney(w http.ResponseWriter, r *http.Request) {
	var req updateJourneyRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	upd, err := req.update()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	j, err := s.store.UpdateJourney(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), upd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, j)
}

// update turns the present fields of the request into a JourneyUpdate.
func (req updateJourneyRequest) update() (kalcifer.JourneyUpdate, error) {
	var upd kalcifer.JourneyUpdate
	fields := []struct {
		name string
		raw  json.RawMessage
		dst  any
	}{
		{"name", req.Name, &upd.Name},
		{"description", req.Description, &upd.Description},
		{"settings", req.Settings, &upd.Settings},
	}
	for _, f := range fields {
		if len(f.raw) == 0 {
			continue
		}
		if isNull(f.raw) {
			return upd, nullError(f.name)
		}
		if err := unmarshalStrict(f.name, f.raw, f.dst); err != nil {
			return upd, err
		}
	}
	if len(req.Graph) > 0 {
		if isNull(req.Graph) {
			return upd, nullError("graph")
		}
		g, err := parseGraph(req.Graph)
		if err != nil {
			return upd, err
		}
		upd.Graph = g
	}
	return upd, nil
}

func (s *server) deleteJourney(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteJourney(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// transitionRequest is the optional body of the lifecycle routes; only
// activation, which publishes a version, takes a changelog.
type transitionRequest struct {
	Changelog string `json:"changelog"`
}

// transition returns the handler of one lifecycle action.
func (s *server) transition(action kalcifer.JourneyAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req transitionRequest
		var dst any = &req
		if action != kalcifer.ActionActivate {
			dst = &struct{}{} // an empty object, or no body at all
		}
		if _, err := decode(r, dst); err != nil {
			s.writeError(w, r, err)
			return
		}
		p := principal(r)
		j, err := s.store.TransitionJourney(r.Context(), store.TransitionJourneyParams{Actor: p.Actor(), TenantID: p.TenantID,
			JourneyID: chi.URLParam(r, "id"), Action: action, Changelog: req.Changelog, On: s.on()})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if action == kalcifer.ActionActivate && s.engine != nil {
			s.writeJSON(w, r, http.StatusOK, activated{j, s.engine.Warnings(p.TenantID, j.Graph)})
			return
		}
		s.writeJSON(w, r, http.StatusOK, j)
	}
}

// activated is the answer of an activation: the journey, and what its
// first customers will meet.
type activated struct {
	*kalcifer.Journey
	Warnings []kalcifer.Warning `json:"warnings,omitempty"`
}

// duplicateRequest is the optional body of POST /journeys/{id}/duplicate.
type duplicateRequest struct {
	Name string `json:"name"`
}

func (s *server) duplicateJourney(w http.ResponseWriter, r *http.Request) {
	var req duplicateRequest
	if _, err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	j, err := s.store.DuplicateJourney(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/journeys/"+url.PathEscape(j.ID))
	s.writeJSON(w, r, http.StatusCreated, j)
}

func (s *server) listVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.store.ListVersions(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[kalcifer.Version]{Data: vs})
}

func (s *server) getVersion(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r, "v")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ver, err := s.store.GetVersion(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, ver)
}

// parseLimit reads the limit query parameter: absent means the store's
// default; otherwise an integer from 1 to kalcifer.MaxPageLimit.
func parseLimit(q url.Values) (int, error) {
	raw := q.Get("limit")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > kalcifer.MaxPageLimit {
		return 0, invalid("limit", "limit %q is invalid: use an integer from 1 to %d", raw, kalcifer.MaxPageLimit)
	}
	return n, nil
}

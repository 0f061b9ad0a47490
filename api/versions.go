package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// createVersionRequest is the body of POST /journeys/{id}/versions.
type createVersionRequest struct {
	Graph     json.RawMessage `json:"graph"`
	Changelog string          `json:"changelog"`
}

// createVersion stores a new draft version of a journey.
func (s *server) createVersion(w http.ResponseWriter, r *http.Request) {
	var req createVersionRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if isNull(req.Graph) || len(req.Graph) == 0 {
		s.writeError(w, r, invalid("graph", "graph is required: the journey graph of the new version"))
		return
	}
	g, err := parseGraph(req.Graph)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	v, err := s.store.CreateVersion(r.Context(), store.CreateVersionParams{Actor: p.Actor(), TenantID: p.TenantID,
		JourneyID: chi.URLParam(r, "id"), Graph: g, Changelog: req.Changelog})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/journeys/%s/versions/%d", url.PathEscape(v.JourneyID), v.Version))
	s.writeJSON(w, r, http.StatusCreated, v)
}

// publishVersion publishes a draft version (rollback: makes an earlier
// published version current again) and starts the migration of running
// instances the request asks for. A dry run answers the plan (200).
func (s *server) publishVersion(rollback bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := versionParam(r, "v")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var req kalcifer.PublishRequest
		if _, err := decode(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.Strategy == "" && rollback {
			req.Strategy = kalcifer.StrategyMigrateAll
		}
		p := principal(r)
		plan, err := s.engine.Publish(r.Context(), store.PublishParams{Actor: p.Actor(), TenantID: p.TenantID,
			JourneyID: chi.URLParam(r, "id"), Version: v, Rollback: rollback, Request: req})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		status := http.StatusCreated
		if req.DryRun {
			status = http.StatusOK
		} else {
			w.Header().Set("Location", "/api/v1/migrations/"+url.PathEscape(plan.Migration.ID))
		}
		s.writeJSON(w, r, status, plan)
	}
}

// diffVersions answers what changed from version v to v2.
func (s *server) diffVersions(w http.ResponseWriter, r *http.Request) {
	v, err := versionParam(r, "v")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v2, err := versionParam(r, "v2")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant, journey := principal(r).TenantID, chi.URLParam(r, "id")
	a, err := s.store.GetVersion(r.Context(), tenant, journey, v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.store.GetVersion(r.Context(), tenant, journey, v2)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, versionDiff{From: v, To: v2, Diff: graph.Compare(&a.Graph, &b.Graph),
		Mapping: graph.ProposeMapping(&a.Graph, &b.Graph)})
}

// versionDiff is the answer of the diff route: the changes, and the node
// mapping a publish from v to v2 would propose.
type versionDiff struct {
	From int `json:"from_version"`
	To   int `json:"to_version"`
	graph.Diff
	Mapping graph.Mapping `json:"proposed_mapping"`
}

// versionParam reads a version number from the path.
func versionParam(r *http.Request, name string) (int, error) {
	raw := chi.URLParam(r, name)
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 || strconv.Itoa(v) != raw {
		return 0, invalid(name, "version %q is invalid: use a positive integer such as 1", raw)
	}
	return v, nil
}

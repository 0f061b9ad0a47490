package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

func (s *server) listMigrations(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListMigrations(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

// migrationDetail is a migration with the result of each of its batches.
type migrationDetail struct {
	*kalcifer.Migration
	Batches []kalcifer.MigrationBatch `json:"batches"`
}

func (s *server) getMigration(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.GetMigration(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	batches, err := s.store.MigrationBatches(r.Context(), m.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, migrationDetail{Migration: m, Batches: batches})
}

// controlMigration returns the handler of pause, resume and abort; the
// engine answers 409 with the migration's status when the command does not
// fit it.
func (s *server) controlMigration(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode(r, &struct{}{}); err != nil {
			s.writeError(w, r, err)
			return
		}
		p := principal(r)
		m, err := s.engine.ControlMigration(r.Context(), store.ControlMigrationParams{Actor: p.Actor(), TenantID: p.TenantID,
			MigrationID: chi.URLParam(r, "id"), Action: action})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, m)
	}
}

// rolloutMigration raises a gradual migration's rollout percentage.
func (s *server) rolloutMigration(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RolloutPercent int `json:"rollout_percent"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	m, err := s.engine.ControlMigration(r.Context(), store.ControlMigrationParams{Actor: p.Actor(), TenantID: p.TenantID,
		MigrationID: chi.URLParam(r, "id"), Action: "rollout", Percent: req.RolloutPercent})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, m)
}

func (s *server) listHeld(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant, id := principal(r).TenantID, chi.URLParam(r, "id")
	if _, err := s.store.GetMigration(r.Context(), tenant, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.HeldInstances(r.Context(), tenant, id, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) releaseHeld(w http.ResponseWriter, r *http.Request) {
	var req kalcifer.ReleaseRequest
	if _, err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.engine.ReleaseHeld(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

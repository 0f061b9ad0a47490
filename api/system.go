package api

import (
	"net/http"
	"time"

	"github.com/kalcifer/kalcifer/store"
)

// health is liveness: the process is up and serving. It touches nothing
// else, so an orchestrator never restarts Kalcifer for a database outage.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// ready is readiness: the database answers and is fully migrated.
func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ready(r.Context()); err != nil {
		s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}

// infoResponse is the body of GET /info.
type infoResponse struct {
	Version       string       `json:"version"`
	StartedAt     time.Time    `json:"started_at"`
	UptimeSeconds int64        `json:"uptime_seconds"`
	Store         string       `json:"store"`
	Counts        store.Counts `json:"counts"`
}

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	counts, err := s.store.Counts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, infoResponse{
		Version:       s.version,
		StartedAt:     s.startedAt.UTC(),
		UptimeSeconds: int64(time.Since(s.startedAt).Seconds()),
		Store:         s.store.Kind(),
		Counts:        counts,
	})
}

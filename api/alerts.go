package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
)

// alertRuleRequest is the body of POST /alert-rules and PUT
// /alert-rules/{id}: the rule's fields; active defaults to true.
type alertRuleRequest struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	JourneyID string  `json:"journey_id"`
	Subject   string  `json:"subject"`
	Channel   string  `json:"channel"`
	NodeID    string  `json:"node_id"`
	Window    string  `json:"window"`
	StuckFor  string  `json:"stuck_for"`
	Threshold float64 `json:"threshold"`
	MinCount  int     `json:"min_count"`
	Active    *bool   `json:"active"`
}

func (req alertRuleRequest) rule(tenantID string) *kalcifer.AlertRule {
	return &kalcifer.AlertRule{TenantID: tenantID, Name: req.Name, Kind: req.Kind, JourneyID: req.JourneyID,
		Subject: req.Subject, Channel: req.Channel, NodeID: req.NodeID, Window: req.Window, StuckFor: req.StuckFor,
		Threshold: req.Threshold, MinCount: req.MinCount, Active: req.Active == nil || *req.Active}
}

func (s *server) createAlertRule(w http.ResponseWriter, r *http.Request) {
	var req alertRuleRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	rule := req.rule(p.TenantID)
	if err := s.store.CreateAlertRule(r.Context(), p.Actor(), rule); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, rule)
}

func (s *server) replaceAlertRule(w http.ResponseWriter, r *http.Request) {
	var req alertRuleRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	rule := req.rule(p.TenantID)
	rule.ID = chi.URLParam(r, "id")
	if err := s.store.ReplaceAlertRule(r.Context(), p.Actor(), rule); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rule)
}

func (s *server) deleteAlertRule(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteAlertRule(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) getAlertRule(w http.ResponseWriter, r *http.Request) {
	rule, err := s.store.GetAlertRule(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rule)
}

func (s *server) listAlertRules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListAlertRules(r.Context(), principal(r).TenantID, limit, q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := q.Get("status")
	if status != "" && status != kalcifer.AlertFiring && status != kalcifer.AlertResolved {
		s.writeError(w, r, invalid("status", "status %q is invalid: use firing or resolved", status))
		return
	}
	page, err := s.store.ListAlerts(r.Context(), principal(r).TenantID, status, q.Get("rule_id"), limit, q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

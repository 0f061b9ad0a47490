package api

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// hookSubscriptionRequest is the body of POST /webhook-subscriptions. The
// secret is always generated.
type hookSubscriptionRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	JourneyID   string   `json:"journey_id"`
	Description string   `json:"description"`
	Active      *bool    `json:"active"`
}

// hookSubscriptionCreated carries the signing secret, shown this once.
type hookSubscriptionCreated struct {
	kalcifer.WebhookSubscription
	Secret string `json:"secret"`
}

func (s *server) createHookSubscription(w http.ResponseWriter, r *http.Request) {
	var req hookSubscriptionRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.checkHookURL(req.URL); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	sub := &kalcifer.WebhookSubscription{TenantID: p.TenantID, URL: req.URL, Events: req.Events, JourneyID: req.JourneyID,
		Description: req.Description, Active: req.Active == nil || *req.Active}
	secret, err := s.store.CreateHookSubscription(r.Context(), p.Actor(), sub)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusCreated, hookSubscriptionCreated{WebhookSubscription: *sub, Secret: secret})
}

// checkHookURL refuses, as soon as it is configured, a URL whose host is a
// literal internal address the outbound policy refuses; names are checked
// as each delivery connects.
func (s *server) checkHookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // Validate names the problem
	}
	if err := s.outbound.CheckHost(u.Hostname()); err != nil {
		return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "url: " + err.Error(),
			Details: []kalcifer.Detail{{Field: "url", Message: err.Error()}}}
	}
	return nil
}

func (s *server) listHookSubscriptions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListHookSubscriptions(r.Context(), principal(r).TenantID, limit, q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) getHookSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.store.GetHookSubscription(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sub)
}

func (s *server) updateHookSubscription(w http.ResponseWriter, r *http.Request) {
	var patch store.HookSubscriptionPatch
	if err := decodeRequired(r, &patch); err != nil {
		s.writeError(w, r, err)
		return
	}
	if patch.URL != nil {
		if err := s.checkHookURL(*patch.URL); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	p := principal(r)
	sub, err := s.store.UpdateHookSubscription(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), patch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sub)
}

func (s *server) deleteHookSubscription(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteHookSubscription(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listHookDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := q.Get("status")
	switch kalcifer.HookDeliveryStatus(status) {
	case "", kalcifer.HookPending, kalcifer.HookDelivering, kalcifer.HookDelivered, kalcifer.HookFailed:
	default:
		s.writeError(w, r, invalid("status", "status %q is invalid: use pending, delivering, delivered or failed", status))
		return
	}
	page, err := s.store.ListHookDeliveries(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), status, limit, q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) redeliverHook(w http.ResponseWriter, r *http.Request) {
	if _, err := decode(r, &struct{}{}); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	d, err := s.store.RedeliverHook(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), chi.URLParam(r, "did"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusAccepted, d)
}

package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

func (s *server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.store.ListAPIKeys(r.Context(), principal(r).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if keys == nil {
		keys = []kalcifer.APIKey{}
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[kalcifer.APIKey]{Data: keys})
}

// createAPIKeyRequest is the body of POST /api-keys. The key is always
// generated: a secret chosen by a client is a secret someone typed.
type createAPIKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createAPIKeyResponse carries the secret, shown this once and never again.
type createAPIKeyResponse struct {
	Key    kalcifer.APIKey `json:"key"`
	Secret string          `json:"secret"`
}

func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req createAPIKeyRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := kalcifer.ParseRole(req.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	key, secret, err := s.store.CreateAPIKey(r.Context(), p.Actor(), store.CreateAPIKeyParams{
		TenantID: p.TenantID, Name: req.Name, Role: role,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusCreated, createAPIKeyResponse{Key: key, Secret: secret})
}

func (s *server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.RevokeAPIKey(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookSecretResponse is the secret call_webhook requests are signed with.
type webhookSecretResponse struct {
	Secret string `json:"secret"`
}

// getWebhookSecret shows the tenant's webhook signing secret, so that
// receivers can verify X-Kalcifer-Signature.
func (s *server) getWebhookSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.store.WebhookSecret(r.Context(), principal(r).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, webhookSecretResponse{Secret: string(secret)})
}

package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
)

// createWebhookTokenRequest is the body of POST /journeys/{id}/webhook-tokens.
// The secret is always generated.
type createWebhookTokenRequest struct {
	Name string `json:"name"`
}

// createWebhookTokenResponse carries the secret, shown this once and never
// again.
type createWebhookTokenResponse struct {
	Token  kalcifer.WebhookToken `json:"token"`
	Secret string                `json:"secret"`
}

func (s *server) createWebhookToken(w http.ResponseWriter, r *http.Request) {
	var req createWebhookTokenRequest
	if _, err := decode(r, &req); err != nil { // the body is optional: {} or none names it "webhook token"
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	tok, secret, err := s.store.CreateWebhookToken(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusCreated, createWebhookTokenResponse{Token: tok, Secret: secret})
}

func (s *server) listWebhookTokens(w http.ResponseWriter, r *http.Request) {
	toks, err := s.store.ListWebhookTokens(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[kalcifer.WebhookToken]{Data: toks})
}

func (s *server) revokeWebhookToken(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	err := s.store.RevokeWebhookToken(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), chi.URLParam(r, "token_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// authenticateWebhook guards POST /webhooks/{journey_id}, which takes either
// a tenant key (editor, admin or ingest, checked by keyRoles) or a webhook
// token of that very journey. The credential comes as Authorization: Bearer
// (preferred) or, for senders that cannot set headers, as ?token= (a
// webhook token only: a URL ends up in proxy and server logs, and a token
// there can only enrol into one journey). A token is read from the store on
// every request, never cached, so a revoked one is refused at once. It runs
// after routing, when journey_id is known.
func (s *server) authenticateWebhook(keyRoles func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		byKey := s.authenticate(keyRoles(next))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret, err := webhookCredential(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if !kalcifer.IsWebhookTokenSecret(secret) {
				byKey.ServeHTTP(w, r)
				return
			}
			p, err := s.webhookTokenPrincipal(r.Context(), secret, chi.URLParam(r, "journey_id"))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, withPrincipal(r, p))
		})
	}
}

// webhookCredential returns the secret a webhook call carries: the bearer
// header, or a webhook token in ?token=, never both.
func webhookCredential(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	query := r.URL.Query().Get("token")
	switch {
	case query == "":
		return bearerToken(header)
	case header != "":
		return "", kalcifer.Errorf(kalcifer.EINVALID, "the request has both an Authorization header and a token query parameter: send the credential once, preferably in the header")
	case !kalcifer.IsWebhookTokenSecret(query):
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED,
			"the token query parameter takes only a webhook token (%s…); send an API key as Authorization: Bearer <key>", kalcifer.WebhookTokenPrefix)
	}
	return query, nil
}

// webhookTokenPrincipal checks a webhook token for journeyID and returns
// who calls with it: the token's tenant, acting as an ingest credential
// limited to this route and journey.
func (s *server) webhookTokenPrincipal(ctx context.Context, secret, journeyID string) (kalcifer.Principal, error) {
	tok, err := s.store.WebhookTokenBySecret(ctx, secret)
	if err != nil {
		return kalcifer.Principal{}, err
	}
	if tok.RevokedAt != nil {
		return kalcifer.Principal{}, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "webhook token %s… was revoked", tok.Prefix)
	}
	if tok.JourneyID != journeyID {
		return kalcifer.Principal{}, &kalcifer.Error{
			Code:    kalcifer.EFORBIDDEN,
			Message: "this webhook token belongs to another journey: it may only enrol customers into the journey it was made for",
			State:   map[string]any{"token_id": tok.ID, "journey_id": journeyID},
		}
	}
	return kalcifer.Principal{TenantID: tok.TenantID, KeyID: tok.ID, Role: kalcifer.RoleIngest}, nil
}

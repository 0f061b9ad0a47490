package api

import (
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// callbackResult is the answer to a provider's callback: how many statuses
// it carried and what became of them.
type callbackResult struct {
	Statuses int `json:"statuses"`
	kalcifer.DeliveryResult
}

// providerCallback reads a provider's delivery statuses, POST (and GET) on
// /api/v1/providers/{id}/callbacks. The route is public: no API key, since
// providers cannot send one. The account is found by its id alone, its
// provider checks the request's signature with the account's credentials,
// and the statuses are recorded for the account's tenant. A GET is a
// receipt sent that way (Vonage) or a subscription handshake (Meta's
// hub.challenge, answered as text). Rate limits do not apply: providers
// retry what is refused.
func (s *server) providerCallback(w http.ResponseWriter, r *http.Request) {
	// Read the body within the route's limit before anything else, so
	// that an oversized one is a 413 whatever the account.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if e, ok := bodyTooLarge(r, err); ok {
			s.writeError(w, r, e)
			return
		}
		s.writeError(w, r, kalcifer.Errorf(kalcifer.EINVALID, "could not read the request body: %v", err))
		return
	}
	ctx := r.Context()
	acct, err := s.store.ProviderAccountByID(ctx, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	callbackURL := channel.CallbackURL(s.publicURL, acct.ID)
	p, err := s.providers.Build(acct.Type, acct.Config, acct.Secrets, callbackURL)
	if err != nil {
		s.writeError(w, r, configProblem(err))
		return
	}
	if v, ok := p.(channel.SubscriptionVerifier); ok && r.Method == http.MethodGet && r.URL.Query().Has("hub.mode") {
		challenge, ok := v.VerifySubscription(r.URL.Query())
		if !ok {
			s.refuseCallback(w, r, acct, kalcifer.Errorf(kalcifer.EUNAUTHORIZED,
				"%s: the subscription request does not carry the account's verify_token", acct.Type))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, challenge)
		return
	}
	reader, ok := p.(channel.CallbackReader)
	if !ok {
		// Anyone may call this route: say nothing of the account.
		s.writeError(w, r, kalcifer.Errorf(kalcifer.ENOTFOUND, "this provider account takes no delivery callbacks"))
		return
	}
	statuses, err := reader.ReadCallback(r, body, callbackURL)
	if err != nil {
		s.refuseCallback(w, r, acct, err)
		return
	}
	res, err := s.engine.RecordDeliveries(ctx, acct.TenantID, acct.ID, statuses)
	if err != nil {
		s.writeError(w, r, err) // a 500: the provider sends it again
		return
	}
	s.writeJSON(w, r, http.StatusOK, callbackResult{Statuses: len(statuses), DeliveryResult: res})
}

// refuseCallback answers a callback that is not authentic (401) or does
// not parse (400), and logs why — the account and the reader's message,
// never the body — so that an operator can see a misconfigured webhook.
func (s *server) refuseCallback(w http.ResponseWriter, r *http.Request, acct *kalcifer.ProviderAccount, err error) {
	if code := kalcifer.ErrorCode(err); code == kalcifer.EUNAUTHORIZED || code == kalcifer.EINVALID {
		s.logger.WarnContext(r.Context(), "provider callback refused",
			"request_id", requestID(r.Context()), "tenant", acct.TenantID, "account", acct.ID, "type", acct.Type,
			"method", r.Method, "err", kalcifer.ErrorMessage(err))
	}
	s.writeError(w, r, err)
}

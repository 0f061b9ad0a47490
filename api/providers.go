package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/store"
)

// providerTestTimeout bounds the one send of POST /providers/{id}/test.
const providerTestTimeout = 30 * time.Second

// providerRequest is the body of POST /providers and PUT /providers/{id}.
// Credentials are fields of config; on PUT, credentials config leaves out
// keep their stored values, and type and channel cannot change.
type providerRequest struct {
	Name      *string          `json:"name"`
	Type      string           `json:"type"`
	Channel   kalcifer.Channel `json:"channel"`
	Config    json.RawMessage  `json:"config"`
	IsDefault *bool            `json:"is_default"`
}

// configProblem turns a driver's ConfigError into a 422 naming the field.
func configProblem(err error) error {
	var ce *channel.ConfigError
	if errors.As(err, &ce) {
		return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: ce.Message,
			Details: []kalcifer.Detail{{Field: ce.Field, Message: ce.Message}}}
	}
	if kalcifer.ErrorCode(err) == kalcifer.EUNPROCESSABLE {
		return err
	}
	// A driver's Check that did not say it was the config's fault.
	return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "config: %v", err)
}

func (s *server) createProvider(w http.ResponseWriter, r *http.Request) {
	var req providerRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Name == nil:
		s.writeError(w, r, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "name is required"))
		return
	case req.Type == "":
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "type is required: one of " + joinKinds(s.providers),
			Details: []kalcifer.Detail{{Field: "type", Message: "is required"}}})
		return
	case !req.Channel.Valid():
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: `channel is required: "email", "sms", "whatsapp" or "push"`,
			Details: []kalcifer.Detail{{Field: "channel", Message: "is invalid"}}})
		return
	}
	public, secrets, err := s.providers.Prepare(req.Type, string(req.Channel), req.Config, nil)
	if err != nil {
		s.writeError(w, r, configProblem(err))
		return
	}
	p := principal(r)
	a := &kalcifer.ProviderAccount{TenantID: p.TenantID, Name: *req.Name, Type: req.Type, Channel: req.Channel,
		Config: public, Secrets: secrets, IsDefault: req.IsDefault != nil && *req.IsDefault}
	if err := s.store.CreateProviderAccount(r.Context(), p.Actor(), a); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/providers/"+url.PathEscape(a.ID))
	s.writeJSON(w, r, http.StatusCreated, a)
}

func joinKinds(c *channel.Catalog) string { return strings.Join(c.Kinds(), ", ") }

func (s *server) listProviders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ch := kalcifer.Channel(q.Get("channel"))
	if ch != "" && !ch.Valid() {
		s.writeError(w, r, invalid("channel", "channel %q is invalid: use email, sms, whatsapp or push", ch))
		return
	}
	page, err := s.store.ListProviderAccounts(r.Context(), kalcifer.ProviderAccountFilter{
		TenantID: principal(r).TenantID, Channel: ch, Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

// providerByID reads the account the path's id names (by id only: names
// are for channel nodes).
func (s *server) providerByID(r *http.Request) (*kalcifer.ProviderAccount, error) {
	id := chi.URLParam(r, "id")
	a, err := s.store.GetProviderAccount(r.Context(), principal(r).TenantID, id)
	if err == nil && a.ID != id {
		err = kalcifer.Errorf(kalcifer.ENOTFOUND, "provider account %q not found", id)
	}
	return a, err
}

func (s *server) getProvider(w http.ResponseWriter, r *http.Request) {
	a, err := s.providerByID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

// updateProvider replaces an account's config (credentials left out stay),
// and its name and default flag when given.
func (s *server) updateProvider(w http.ResponseWriter, r *http.Request) {
	var req providerRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.providerByID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Type != "" && req.Type != a.Type:
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
			Message: "provider account " + a.ID + " is of type " + a.Type + " and cannot change type; create a new account",
			Details: []kalcifer.Detail{{Field: "type", Message: "cannot change"}}})
		return
	case req.Channel != "" && req.Channel != a.Channel:
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
			Message: "provider account " + a.ID + " serves " + string(a.Channel) + " and cannot change channel; create a new account",
			Details: []kalcifer.Detail{{Field: "channel", Message: "cannot change"}}})
		return
	}
	config := req.Config
	if config == nil {
		config = a.Config
	}
	public, secrets, err := s.providers.Prepare(a.Type, string(a.Channel), config, a.Secrets)
	if err != nil {
		s.writeError(w, r, configProblem(err))
		return
	}
	d, err := s.providers.Driver(a.Type)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := keptSecretsStayHome(a, d.Endpoints, public, req.Config); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := store.UpdateProviderAccountParams{Actor: principal(r).Actor(), TenantID: a.TenantID, ID: a.ID, Revision: a.Revision,
		Name: a.Name, Config: public, Secrets: secrets, IsDefault: a.IsDefault}
	if req.Name != nil {
		p.Name = *req.Name
	}
	if req.IsDefault != nil {
		p.IsDefault = *req.IsDefault
	}
	out, err := s.store.UpdateProviderAccount(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *server) deleteProvider(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteProviderAccount(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// providerTest is the answer of POST /providers/{id}/test: what became of
// the one message (sent, logged, failed, retry or ambiguous) and the
// provider's detail.
type providerTest struct {
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// testMessage is the fixed message a test sends to to on the account's
// channel; to must suit the channel.
func testMessage(a *kalcifer.ProviderAccount, to string) (channel.Message, error) {
	m := channel.Message{Key: kalcifer.NewID("test"), TenantID: a.TenantID, NodeID: "test", Channel: string(a.Channel), Attempt: 1,
		Config: map[string]any{}, Customer: map[string]any{}}
	const text = "This is a test message from Kalcifer: the provider account works."
	switch a.Channel {
	case kalcifer.ChannelEmail:
		if addr, err := mail.ParseAddress(to); err != nil || addr.Address != to {
			return m, invalid("to", "to %q must be a plain email address like ada@example.com", to)
		}
		m.Email = &channel.Email{To: to, Subject: "Kalcifer test message", Text: text}
	case kalcifer.ChannelSMS:
		m.SMS = &channel.SMS{To: to, Body: text}
	case kalcifer.ChannelWhatsApp:
		m.WhatsApp = &channel.WhatsApp{To: to, Body: text}
	case kalcifer.ChannelPush:
		m.Push = &channel.Push{Token: to, Title: "Kalcifer", Body: text}
	}
	return m, nil
}

// testProvider sends one fixed message through an account to the address
// the admin gives, and answers what happened.
func (s *server) testProvider(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To string `json:"to"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.To == "" {
		s.writeError(w, r, invalid("to", "to is required: the address (email, phone number or device token) to send the test message to"))
		return
	}
	a, err := s.providerByID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := testMessage(a, req.To)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.providers.Build(a.Type, a.Config, a.Secrets, channel.CallbackURL(s.publicURL, a.ID))
	if err != nil {
		s.writeError(w, r, configProblem(err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), providerTestTimeout)
	defer cancel()
	res, err := p.Send(ctx, m)
	out := providerTest{Detail: res.Detail}
	switch o, _ := channel.Classify(err); {
	case err == nil && channel.IsDryRun(p):
		out.Status = "logged"
	case err == nil:
		out.Status = "sent"
	default:
		out.Status, out.Detail = o.String(), err.Error()
	}
	s.logger.InfoContext(r.Context(), "provider account tested", "account", a.ID, "type", a.Type, "status", out.Status)
	s.writeJSON(w, r, http.StatusOK, out)
}

// keptSecretsStayHome refuses an update that points an account somewhere
// else while keeping its stored credentials: otherwise whoever may edit the
// account could send them to a server of their own (the test action would
// do it at once). Moving an account — changing one of its driver's
// endpoint fields — means sending its credentials again.
func keptSecretsStayHome(a *kalcifer.ProviderAccount, endpoints []string, public, requested json.RawMessage) error {
	if requested == nil || len(a.Secrets) == 0 {
		return nil
	}
	var before, after, given map[string]any
	if json.Unmarshal(a.Config, &before) != nil || json.Unmarshal(public, &after) != nil || json.Unmarshal(requested, &given) != nil {
		return nil // Prepare has checked both; nothing to compare
	}
	var moved []string
	for _, f := range endpoints {
		if fmt.Sprint(before[f]) != fmt.Sprint(after[f]) {
			moved = append(moved, f)
		}
	}
	if len(moved) == 0 {
		return nil
	}
	var missing []string
	for name := range a.Secrets {
		if _, ok := given[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	details := make([]kalcifer.Detail, len(missing))
	for i, name := range missing {
		details[i] = kalcifer.Detail{Field: "config." + name, Message: "required again when " + strings.Join(moved, ", ") + " changes"}
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Details: details,
		Message: fmt.Sprintf("changing %s sends this account's requests elsewhere, so its stored credentials are not kept: send %s again",
			strings.Join(moved, ", "), strings.Join(missing, ", "))}
}

package api

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/liquid"
	"github.com/kalcifer/kalcifer/store"
)

// templateRequest is the body of POST /templates and PUT /templates/{id}:
// a name, a channel and the content fields the channel takes.
type templateRequest struct {
	Name    *string           `json:"name"`
	Channel kalcifer.Channel  `json:"channel"`
	Subject string            `json:"subject"`
	HTML    string            `json:"html"`
	Text    string            `json:"text"`
	Body    string            `json:"body"`
	Title   string            `json:"title"`
	Data    map[string]string `json:"data"`
}

func (req templateRequest) content() kalcifer.TemplateContent {
	return kalcifer.TemplateContent{Subject: req.Subject, HTML: req.HTML, Text: req.Text, Body: req.Body, Title: req.Title, Data: req.Data}
}

func (s *server) createTemplate(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	t := &kalcifer.Template{TenantID: p.TenantID, Channel: req.Channel, TemplateContent: req.content()}
	if req.Name != nil {
		t.Name = *req.Name
	}
	if err := s.store.CreateTemplate(r.Context(), p.Actor(), t); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/templates/"+url.PathEscape(t.ID))
	s.writeJSON(w, r, http.StatusCreated, t)
}

func (s *server) listTemplates(w http.ResponseWriter, r *http.Request) {
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
	page, err := s.store.ListTemplates(r.Context(), kalcifer.TemplateFilter{
		TenantID: principal(r).TenantID, Channel: ch, Limit: limit, Cursor: q.Get("cursor"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) getTemplate(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.GetTemplate(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}

// updateTemplate replaces a template's content with the request's, as its
// next version. The name stays unless given; the channel cannot change.
func (s *server) updateTemplate(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	t, err := s.store.UpdateTemplate(r.Context(), store.UpdateTemplateParams{Actor: p.Actor(), TenantID: p.TenantID,
		TemplateID: chi.URLParam(r, "id"), Name: req.Name, Channel: req.Channel, Content: req.content()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}

func (s *server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteTemplate(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listTemplateVersions(w http.ResponseWriter, r *http.Request) {
	versions, err := s.store.TemplateVersions(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[*kalcifer.TemplateVersion]{Data: versions})
}

// previewRequest is the body of POST /templates/{id}/preview: whose data to
// render with (a stored customer, sample data, or the customer plus sample
// event, journey and instance), and optionally a draft of the content to
// render instead of the stored one.
type previewRequest struct {
	CustomerID string         `json:"customer_id"`
	Sample     *previewSample `json:"sample"`
	// Data is Sample under the name the design documents gave it first.
	Data     *previewSample            `json:"data"`
	Template *kalcifer.TemplateContent `json:"template"`
}

// previewSample is the data a template sees: each part as a JSON object.
type previewSample struct {
	Customer map[string]any `json:"customer"`
	Event    map[string]any `json:"event"`
	Journey  map[string]any `json:"journey"`
	Instance map[string]any `json:"instance"`
}

// preview is the answer of a preview: the rendered fields, and the required
// variables that were missing (a send would fail on them).
type preview struct {
	TemplateID string           `json:"template_id"`
	Version    int              `json:"version"`
	Channel    kalcifer.Channel `json:"channel"`
	kalcifer.TemplateContent
	Warnings []liquid.Warning `json:"warnings"`
}

func (s *server) previewTemplate(w http.ResponseWriter, r *http.Request) {
	var req previewRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	t, err := s.store.GetTemplate(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	vars, err := s.previewVars(r, p.TenantID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	content := t.TemplateContent
	if req.Template != nil {
		if err := s.templates.CheckContent(t.Channel, *req.Template); err != nil {
			s.writeError(w, r, err)
			return
		}
		content = *req.Template
	}
	out, warnings, err := s.templates.RenderContent(r.Context(), t.Channel, content, vars, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if warnings == nil {
		warnings = []liquid.Warning{}
	}
	s.writeJSON(w, r, http.StatusOK, preview{TemplateID: t.ID, Version: t.Version, Channel: t.Channel, TemplateContent: out, Warnings: warnings})
}

// previewVars builds what a preview's template sees from the request.
func (s *server) previewVars(r *http.Request, tenantID string, req previewRequest) (map[string]any, error) {
	sample := req.Sample
	switch {
	case req.Sample != nil && req.Data != nil:
		return nil, unprocessable("send sample or data, not both: they are the same", []kalcifer.Detail{{Field: "data", Message: "same as sample"}})
	case req.Data != nil:
		sample = req.Data
	}
	if sample == nil && req.CustomerID == "" {
		return nil, unprocessable("send customer_id, sample data, or both", []kalcifer.Detail{{Field: "customer_id", Message: "or sample is required"}})
	}
	if sample == nil {
		sample = &previewSample{}
	}
	vars := map[string]any{}
	for name, v := range map[string]map[string]any{"customer": sample.Customer, "event": sample.Event, "journey": sample.Journey, "instance": sample.Instance} {
		if v != nil {
			vars[name] = v
		}
	}
	if req.CustomerID != "" {
		if sample.Customer != nil {
			return nil, unprocessable("send customer_id or sample.customer, not both", []kalcifer.Detail{{Field: "sample.customer", Message: "customer_id gives the customer"}})
		}
		c, err := s.store.GetCustomer(r.Context(), tenantID, req.CustomerID)
		if kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
			return nil, unprocessable(kalcifer.ErrorMessage(err), []kalcifer.Detail{{Field: "customer_id", Message: "no such customer"}})
		}
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(c.Attributes)+2)
		for k, v := range c.Attributes {
			m[k] = v
		}
		m["id"], m["tags"] = c.ID, c.Tags
		vars["customer"] = m
	}
	return vars, nil
}

package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// segmentRequest is the body of POST /segments and PATCH /segments/{id}:
// the rule comes in its JSON form (rule) or its text form (rule_text), not
// both.
type segmentRequest struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Rule        json.RawMessage `json:"rule"`
	RuleText    *string         `json:"rule_text"`
}

// rule reads the request's rule, nil when it has none.
func (req segmentRequest) rule() (*segment.Rule, error) {
	switch {
	case len(req.Rule) > 0 && req.RuleText != nil:
		return nil, unprocessable("send rule (JSON) or rule_text, not both: they say the same thing",
			[]kalcifer.Detail{{Field: "rule_text", Message: "rule is given too"}})
	case len(req.Rule) > 0 && isNull(req.Rule):
		return nil, invalid("rule", "field %q must not be null", "rule")
	case len(req.Rule) > 0:
		return segment.ParseJSON("rule", req.Rule)
	case req.RuleText != nil:
		return segment.Parse("rule_text", *req.RuleText)
	}
	return nil, nil
}

func (s *server) createSegment(w http.ResponseWriter, r *http.Request) {
	var req segmentRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rule, err := req.rule()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rule == nil {
		s.writeError(w, r, unprocessable("a segment needs a rule: send rule (JSON) or rule_text",
			[]kalcifer.Detail{{Field: "rule", Message: "is required"}}))
		return
	}
	p := principal(r)
	sg := &segment.Segment{TenantID: p.TenantID, Rule: *rule}
	if req.Name != nil {
		sg.Name = *req.Name
	}
	if req.Description != nil {
		sg.Description = *req.Description
	}
	if err := s.store.CreateSegment(r.Context(), p.Actor(), sg); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/segments/"+url.PathEscape(sg.ID))
	s.writeJSON(w, r, http.StatusCreated, sg)
}

func (s *server) listSegments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.ListSegments(r.Context(), segment.Filter{TenantID: principal(r).TenantID, Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (s *server) getSegment(w http.ResponseWriter, r *http.Request) {
	sg, err := s.store.GetSegment(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sg)
}

// updateSegment changes the fields the request gives.
func (s *server) updateSegment(w http.ResponseWriter, r *http.Request) {
	var req segmentRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rule, err := req.rule()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	sg, err := s.store.UpdateSegment(r.Context(), store.UpdateSegmentParams{Actor: p.Actor(), TenantID: p.TenantID,
		SegmentID: chi.URLParam(r, "id"), Name: req.Name, Description: req.Description, Rule: rule})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sg)
}

func (s *server) deleteSegment(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.store.DeleteSegment(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// segmentCount is the answer of the count and estimate routes.
type segmentCount struct {
	SegmentID string `json:"segment_id,omitempty"`
	Count     int64  `json:"count"`
	// Rule and RuleText are the estimated rule in both forms, so that an
	// editor can turn one into the other.
	Rule     *segment.Rule `json:"rule,omitempty"`
	RuleText string        `json:"rule_text,omitempty"`
	// Status says where a saved segment's count comes from: "ready", its
	// stored members (as of BuiltAt's full pass and the changes since), or
	// "building", the live query while they are first built.
	Status  string     `json:"status,omitempty"`
	BuiltAt *time.Time `json:"built_at,omitempty"`
}

func (s *server) countSegment(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	size, err := s.store.SegmentSize(r.Context(), principal(r).TenantID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, segmentCount{SegmentID: id, Count: size.Count, Status: size.Status, BuiltAt: size.BuiltAt})
}

// estimateSegment counts the members of an unsaved rule.
func (s *server) estimateSegment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rule     json.RawMessage `json:"rule"`
		RuleText *string         `json:"rule_text"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rule, err := segmentRequest{Rule: req.Rule, RuleText: req.RuleText}.rule()
	if err == nil && rule == nil {
		err = unprocessable("send the rule to estimate, as rule (JSON) or rule_text", []kalcifer.Detail{{Field: "rule", Message: "is required"}})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.store.CountSegment(r.Context(), principal(r).TenantID, rule)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, segmentCount{Count: n, Rule: rule, RuleText: rule.String()})
}

// Preview sizes: the first customers of a segment, for a person to look at.
const (
	defaultPreview = 20
	maxPreview     = 100
)

// previewSegment serves the segment's first customers, in id order.
func (s *server) previewSegment(w http.ResponseWriter, r *http.Request) {
	n := defaultPreview
	if raw := r.URL.Query().Get("limit"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > maxPreview {
			s.writeError(w, r, invalid("limit", "limit %q is invalid: use an integer from 1 to %d", raw, maxPreview))
			return
		}
		n = v
	}
	p := principal(r)
	customers, _, err := s.store.SegmentPreview(r.Context(), p.TenantID, chi.URLParam(r, "id"), n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[*kalcifer.Customer]{Data: customers})
}

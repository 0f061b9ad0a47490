package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// customerParam returns the {id} of a customer route. Customer ids are the
// client's own and may hold any character, "/" included (sent as %2F); chi
// matches on the escaped path when the request had one, so the id is then
// still escaped.
func customerParam(r *http.Request) (string, error) {
	id := chi.URLParam(r, "id")
	if r.URL.RawPath == "" {
		return id, nil
	}
	u, err := url.PathUnescape(id)
	if err != nil {
		return "", invalid("id", "customer id %q is not a valid URL path segment", id)
	}
	return u, nil
}

func (s *server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := customerParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.store.GetCustomer(r.Context(), principal(r).TenantID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// patchCustomerRequest is the body of PATCH /customers/{id}/profile. Fields
// are kept raw so that an explicit null can be refused rather than read as
// "unchanged".
type patchCustomerRequest struct {
	Attributes json.RawMessage `json:"attributes"`
	AddTags    json.RawMessage `json:"add_tags"`
	RemoveTags json.RawMessage `json:"remove_tags"`
}

// profilePatch is a checked patchCustomerRequest, in the shape of
// store.PatchCustomerParams' fields: a nil value in Set removes the attribute.
type profilePatch struct {
	Set        map[string]any
	AddTags    []string
	RemoveTags []string
}

// patchCustomer changes a profile, creating it when the customer is new:
// attributes given are set (null removes one; others are kept), tags are
// removed and then added. It goes straight to the store; journeys see the
// new profile the next time they read it.
func (s *server) patchCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := customerParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req patchCustomerRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	patch, err := req.patch()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if problems := checkID("id", id); len(problems) > 0 {
		s.writeError(w, r, unprocessable("the customer id is invalid: "+describe(problems), problems))
		return
	}
	c, err := s.store.PatchCustomer(r.Context(), store.PatchCustomerParams{TenantID: principal(r).TenantID, CustomerID: id,
		Set: patch.Set, AddTags: patch.AddTags, RemoveTags: patch.RemoveTags})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// patch decodes and checks the request: type errors are EINVALID, the
// first one found; semantic problems are one EUNPROCESSABLE listing all.
func (req patchCustomerRequest) patch() (profilePatch, error) {
	var p profilePatch
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"attributes", req.Attributes}, {"add_tags", req.AddTags}, {"remove_tags", req.RemoveTags}} {
		if len(f.raw) > 0 && isNull(f.raw) {
			return p, invalid(f.name, "field %q must not be null: omit it to leave it unchanged", f.name)
		}
	}
	var problems []kalcifer.Detail
	if len(req.Attributes) > 0 {
		var attrs map[string]json.RawMessage
		if err := unmarshalStrict("attributes", req.Attributes, &attrs); err != nil {
			return p, err
		}
		p.Set = make(map[string]any, len(attrs))
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			field := "attributes." + k
			if d := checkID(field, k); len(d) > 0 {
				problems = append(problems, kalcifer.Detail{Field: field, Message: "attribute names must be 1 to 200 characters"})
				continue
			}
			if hasNULEscape(attrs[k]) {
				return p, invalid(field, "field %q must not contain NUL characters (\\u0000)", field)
			}
			v, err := attributeValue(attrs[k])
			if err != nil {
				return p, invalid(field, "field %q is invalid: %v", field, err)
			}
			p.Set[k] = v
		}
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *[]string
	}{{"add_tags", req.AddTags, &p.AddTags}, {"remove_tags", req.RemoveTags, &p.RemoveTags}} {
		if len(f.raw) == 0 {
			continue
		}
		if err := unmarshalStrict(f.name, f.raw, f.dst); err != nil {
			return p, err
		}
		for i, t := range *f.dst {
			problems = append(problems, checkID(fmt.Sprintf("%s[%d]", f.name, i), t)...)
		}
	}
	for i, t := range p.RemoveTags {
		if slices.Contains(p.AddTags, t) {
			problems = append(problems, kalcifer.Detail{Field: fmt.Sprintf("remove_tags[%d]", i),
				Message: fmt.Sprintf("tag %q is also in add_tags; say which you mean", t)})
		}
	}
	if len(problems) > 0 {
		return p, unprocessable("the profile change is invalid: "+describe(problems), problems)
	}
	return p, nil
}

// attributeValue decodes one attribute value; null is nil, which removes the
// attribute. Numbers stay json.Number, so that an id such as
// 12345678901234567890 is written to the store as sent, not rounded to a
// float64 on the way in.
func attributeValue(raw json.RawMessage) (any, error) {
	if isNull(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// customerJourneys serves the instances a customer is in (active or paused),
// newest first. It reads them all: a customer is in few journeys at once.
// An unknown customer is in none, so the answer is an empty list, not 404.
func (s *server) customerJourneys(w http.ResponseWriter, r *http.Request) {
	id, err := customerParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.store.CustomerInstances(r.Context(), principal(r).TenantID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[*kalcifer.Instance]{Data: out})
}

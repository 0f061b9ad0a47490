package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
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

// mergedHeader names, in the answer about an id merged into another
// customer, the customer answered for.
const mergedHeader = "Kalcifer-Merged-Into"

// customerFollowed returns the customer a route's {id} stands for: the
// customer it was merged into when it is an alias (saying so in the
// Kalcifer-Merged-Into header), else the id itself.
func (s *server) customerFollowed(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := customerParam(r)
	if err != nil {
		return "", err
	}
	into, err := s.store.AliasOf(r.Context(), principal(r).TenantID, id)
	if err != nil {
		return "", err
	}
	if into != id {
		w.Header().Set(mergedHeader, into)
	}
	return into, nil
}

func (s *server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := s.customerFollowed(w, r)
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
	if c.ID != id {
		w.Header().Set(mergedHeader, c.ID)
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
	id, err := s.customerFollowed(w, r)
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

// identifyRequest is the body of POST /customers and one line of an
// NDJSON import: a customer's id and what is known about them now.
type identifyRequest struct {
	ID         string          `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
	AddTags    json.RawMessage `json:"add_tags"`
	RemoveTags json.RawMessage `json:"remove_tags"`
	Timestamp  string          `json:"timestamp"`
}

// parseIdentity decodes and checks an identify (identifyRequest) from raw,
// a syntax-checked JSON object.
func parseIdentity(raw []byte) (store.Identity, error) {
	var req identifyRequest
	if err := unmarshalStrict("", raw, &req); err != nil {
		return store.Identity{}, err
	}
	patch, err := patchCustomerRequest{Attributes: req.Attributes, AddTags: req.AddTags, RemoveTags: req.RemoveTags}.patch()
	if err != nil {
		return store.Identity{}, err
	}
	in := store.Identity{CustomerID: req.ID, Attributes: patch.Set, AddTags: patch.AddTags, RemoveTags: patch.RemoveTags}
	if req.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, req.Timestamp)
		if err != nil {
			return in, invalid("timestamp", "field \"timestamp\" must be an RFC 3339 time such as 2024-05-01T12:00:00Z, not %q", req.Timestamp)
		}
		in.Timestamp = t
	}
	if problems := checkID("id", req.ID); len(problems) > 0 {
		return in, unprocessable("the customer id is invalid: "+describe(problems), problems)
	}
	return in, nil
}

// identifyCustomer creates a profile or merges into it: attributes merge
// key by key, nested objects included (null removes a key), tags are
// removed then added, and the timestamp (default now) widens the first
// and last seen times. 201 when the profile is new, 200 otherwise.
func (s *server) identifyCustomer(w http.ResponseWriter, r *http.Request) {
	body, err := readRequiredBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := parseIdentity(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, created, err := s.engine.Identify(r.Context(), principal(r).TenantID, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.writeJSON(w, r, status, c)
}

// attributePath matches the attribute paths GET /customers filters on:
// names of letters, digits, "_" and "-", joined by ".".
var attributePath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// listCustomers serves a page of the tenant's customers by id, filtered by
// attribute equalities (attr.plan=pro, attr.address.city=Lyon; numbers
// and booleans compare in their JSON form, so attr.seats=3 and
// attr.beta=true), a tag (tag=vip) and a saved segment's membership
// (segment=seg_…): together one segment rule (store.CustomerFilter.Rule).
func (s *server) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cursor, err := fromKeyCursor(q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := store.CustomerFilter{TenantID: principal(r).TenantID, Tag: q.Get("tag"), Segment: q.Get("segment"), Limit: limit, Cursor: cursor}
	for name, v := range q {
		if (name == "tag" || name == "segment" || strings.HasPrefix(name, "attr.")) && utf8.RuneCountInString(v[0]) > segment.MaxValueLen {
			s.writeError(w, r, invalid(name, "query parameter %q is longer than %d characters", name, segment.MaxValueLen))
			return
		}
		path, ok := strings.CutPrefix(name, "attr.")
		if !ok {
			continue
		}
		if !attributePath.MatchString(path) || len(path) > segment.MaxAttrLen {
			s.writeError(w, r, invalid(name, "query parameter %q is invalid: attribute names in a filter are letters, digits, _ and -, joined by . for nested ones", name))
			return
		}
		if f.Attributes == nil {
			f.Attributes = map[string]string{}
		}
		f.Attributes[path] = v[0]
	}
	page, err := s.store.ListCustomers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page.NextCursor = keyCursor(page.NextCursor)
	s.writeJSON(w, r, http.StatusOK, page)
}

// customerEvents serves a page of a customer's stored events, newest
// first. An unknown customer has none: the answer is an empty list.
func (s *server) customerEvents(w http.ResponseWriter, r *http.Request) {
	id, err := s.customerFollowed(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, err := parseLimit(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.CustomerEvents(r.Context(), principal(r).TenantID, id, limit, q.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

// eraseCustomer erases a customer for good (GDPR): their instances are
// exited, their profile, events and personal data in the history removed,
// and an audit entry that does not name them answers. Admins only: it is
// irreversible, and it destroys data other users' journeys relied on.
func (s *server) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := customerParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	// An erasure is irreversible: it does not follow an alias to a
	// customer the caller did not name.
	if into, err := s.store.AliasOf(r.Context(), p.TenantID, id); err != nil || into != id {
		if err == nil {
			err = &kalcifer.Error{Code: kalcifer.ECONFLICT, State: map[string]any{"merged_into": into},
				Message: fmt.Sprintf("%q was merged into customer %q: erase %q, which erases its aliases too", id, into, into)}
		}
		s.writeError(w, r, err)
		return
	}
	e, err := s.engine.EraseCustomer(r.Context(), p.TenantID, id, p.Actor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, e)
}

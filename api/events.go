package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
)

// Limits of the ingestion routes.
const (
	// MaxIDLen bounds client-chosen identifiers: event ids, customer ids
	// and event types.
	MaxIDLen = 200
	// MaxBatch bounds the events of POST /events/batch and the customers of
	// POST /journeys/{id}/trigger.
	MaxBatch = 1000
)

// eventRequest is one event as clients send it, alone (POST /events) or in
// a batch. The timestamp is kept a string so that a bad one is reported
// with its field name rather than as a time-parsing error.
type eventRequest struct {
	ID         string          `json:"id"`
	CustomerID string          `json:"customer_id"`
	EventType  string          `json:"event_type"`
	Data       json.RawMessage `json:"data"`
	Timestamp  string          `json:"timestamp"`
}

// eventResponse answers POST /events.
type eventResponse struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// ingestEvent stores one event. It answers only once the event is
// committed, so a 2xx means the event will be routed even if the server
// dies right after. A repeated client id answers 200 with the original id.
func (s *server) ingestEvent(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if err := decodeRequired(r, &raw); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := parseEvent("", raw, principal(r).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.limiter.takeEvents(r.Context(), ev.TenantID, 1); err != nil {
		s.writeError(w, r, err)
		return
	}
	dup, err := s.engine.Ingest(r.Context(), []*kalcifer.Event{ev})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusAccepted
	if dup[0] {
		status = http.StatusOK
	}
	s.writeJSON(w, r, status, eventResponse{ID: ev.ID, Duplicate: dup[0]})
}

// batchRequest is the body of POST /events/batch. The events are kept raw
// so that each is decoded under its own path ("events[3].customer_id").
type batchRequest struct {
	Events []json.RawMessage `json:"events"`
}

// batchResponse answers POST /events/batch. Accepted counts the events
// stored by this request, Duplicates those whose client id was already
// stored (or repeated earlier in the batch); IDs are in request order, a
// duplicate's being the original event's.
type batchResponse struct {
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	IDs        []string `json:"ids"`
}

// ingestBatch stores up to MaxBatch events in one transaction: either all
// are valid and stored, or the answer lists every problem and nothing is.
func (s *server) ingestBatch(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if n := len(req.Events); n == 0 || n > MaxBatch {
		s.writeError(w, r, unprocessable(fmt.Sprintf("a batch holds 1 to %d events; this one has %d", MaxBatch, n),
			[]kalcifer.Detail{{Field: "events", Message: fmt.Sprintf("must hold 1 to %d events", MaxBatch)}}))
		return
	}
	tenantID := principal(r).TenantID
	events := make([]*kalcifer.Event, len(req.Events))
	var malformed, bad []kalcifer.Detail
	nMalformed, nBad := 0, 0
	for i, raw := range req.Events {
		ev, err := parseEvent(fmt.Sprintf("events[%d]", i), raw, tenantID)
		if err != nil {
			var e *kalcifer.Error
			if !errors.As(err, &e) {
				s.writeError(w, r, err)
				return
			}
			if e.Code == kalcifer.EINVALID {
				malformed = append(malformed, e.Details...)
				nMalformed++
			} else {
				bad = append(bad, e.Details...)
				nBad++
			}
			continue
		}
		events[i] = ev
	}
	// A malformed event (wrong type, not an object) is a broken client: 400,
	// like any malformed body. Otherwise every semantic problem is listed.
	if len(malformed) > 0 {
		e := kalcifer.Errorf(kalcifer.EINVALID, "%d of %d events are malformed; nothing was stored", nMalformed, len(events))
		e.Details = malformed
		s.writeError(w, r, e)
		return
	}
	if len(bad) > 0 {
		s.writeError(w, r, unprocessable(fmt.Sprintf("%d of %d events are invalid; nothing was stored", nBad, len(events)), bad))
		return
	}
	// The whole batch fits the tenant's event budget, or none of it is taken.
	if err := s.limiter.takeEvents(r.Context(), tenantID, len(events)); err != nil {
		s.writeError(w, r, err)
		return
	}
	dup, err := s.engine.Ingest(r.Context(), events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := batchResponse{IDs: make([]string, len(events))}
	for i, ev := range events {
		res.IDs[i] = ev.ID
		if dup[i] {
			res.Duplicates++
		} else {
			res.Accepted++
		}
	}
	s.writeJSON(w, r, http.StatusAccepted, res)
}

// parseEvent decodes and checks one event; field is its path in the body
// ("" for a body that is the event). Type errors come back as one EINVALID
// error, semantic problems as one EUNPROCESSABLE error listing them all;
// either way Details names every field (with the path prefix).
func parseEvent(field string, raw json.RawMessage, tenantID string) (*kalcifer.Event, error) {
	var req eventRequest
	if err := unmarshalStrict(field, raw, &req); err != nil {
		return nil, err
	}
	ev := &kalcifer.Event{TenantID: tenantID, ClientID: req.ID, CustomerID: req.CustomerID, Type: req.EventType}
	data, err := objectField(join(field, "data"), req.Data)
	if err != nil {
		return nil, err
	}
	ev.Data = data
	if req.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, req.Timestamp)
		if err != nil {
			f := join(field, "timestamp")
			return nil, invalid(f, "field %q must be an RFC 3339 time such as 2024-05-01T12:00:00Z, not %q", f, req.Timestamp)
		}
		ev.OccurredAt = t.UTC()
	}

	var problems []kalcifer.Detail
	if req.ID != "" {
		problems = append(problems, checkLen(join(field, "id"), req.ID)...)
	}
	problems = append(problems, checkID(join(field, "customer_id"), req.CustomerID)...)
	problems = append(problems, checkID(join(field, "event_type"), req.EventType)...)
	if strings.HasPrefix(req.EventType, "$") {
		problems = append(problems, kalcifer.Detail{Field: join(field, "event_type"),
			Message: `must not start with "$", which marks the events Kalcifer makes itself`})
	}
	if len(problems) > 0 {
		what := "the event"
		if field != "" {
			what = field
		}
		return nil, unprocessable(what+" is invalid: "+describe(problems), problems)
	}
	return ev, nil
}

// objectField checks an optional field that must hold a JSON object;
// absent and null give nil.
func objectField(field string, raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return nil, invalid(field, "field %q must be an object", field)
	}
	if hasNULEscape(raw) {
		return nil, invalid(field, "field %q must not contain NUL characters (\\u0000)", field)
	}
	return raw, nil
}

// hasNULEscape reports whether JSON text holds a \u0000 escape (an
// unescaped backslash before it), the one way JSON carries a NUL, which
// PostgreSQL text cannot store.
func hasNULEscape(raw []byte) bool {
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		j += i
		slashes := 0
		for k := j - 1; k >= 0 && raw[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// checkID checks a required client-chosen identifier.
func checkID(field, v string) []kalcifer.Detail {
	if strings.TrimSpace(v) == "" {
		return []kalcifer.Detail{{Field: field, Message: "is required"}}
	}
	return checkLen(field, v)
}

// checkLen checks that v is at most MaxIDLen characters.
func checkLen(field, v string) []kalcifer.Detail {
	if strings.ContainsRune(v, 0) {
		return []kalcifer.Detail{{Field: field, Message: "must not contain NUL characters"}}
	}
	if utf8.RuneCountInString(v) > MaxIDLen {
		return []kalcifer.Detail{{Field: field, Message: fmt.Sprintf("must be at most %d characters", MaxIDLen)}}
	}
	return nil
}

// describe joins problems into one sentence for an error message.
func describe(problems []kalcifer.Detail) string {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.Field + " " + p.Message
	}
	return strings.Join(parts, "; ")
}

// unprocessable returns an EUNPROCESSABLE error listing every problem.
func unprocessable(message string, problems []kalcifer.Detail) *kalcifer.Error {
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: message, Details: problems}
}

// webhookRequest is the body of POST /webhooks/{journey_id}.
type webhookRequest struct {
	CustomerID string          `json:"customer_id"`
	Data       json.RawMessage `json:"data"`
}

// idResponse answers a route that stored one event.
type idResponse struct {
	ID string `json:"id"`
}

// webhook enrols one customer through a journey's webhook_entry node. The
// engine tells an unknown journey (404), one that is not active (409) and
// one without a webhook entry (422) apart.
func (s *server) webhook(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := objectField("data", req.Data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if problems := checkID("customer_id", req.CustomerID); len(problems) > 0 {
		s.writeError(w, r, unprocessable("the webhook call is invalid: "+describe(problems), problems))
		return
	}
	if err := s.limiter.takeEvents(r.Context(), principal(r).TenantID, 1); err != nil {
		s.writeError(w, r, err)
		return
	}
	ev, err := s.engine.Webhook(r.Context(), principal(r).TenantID, chi.URLParam(r, "journey_id"), req.CustomerID, data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusAccepted, idResponse{ID: ev.ID})
}

// triggerRequest is the body of POST /journeys/{id}/trigger.
type triggerRequest struct {
	CustomerIDs []string `json:"customer_ids"`
}

// triggerResponse answers POST /journeys/{id}/trigger: one stored enrolment
// event per customer, in request order.
type triggerResponse struct {
	Enrolled int      `json:"enrolled"`
	EventIDs []string `json:"event_ids"`
}

// trigger enrols customers in an active journey by hand. Each customer
// becomes a stored event; the engine enters them as it routes the events,
// so a customer already in a journey without re-entry is not entered twice.
func (s *server) trigger(w http.ResponseWriter, r *http.Request) {
	var req triggerRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if problems := checkCustomerIDs(req.CustomerIDs); len(problems) > 0 {
		s.writeError(w, r, unprocessable("customer_ids is invalid: "+describe(problems), problems))
		return
	}
	events, err := s.engine.Trigger(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), req.CustomerIDs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := triggerResponse{Enrolled: len(events), EventIDs: make([]string, len(events))}
	for i, ev := range events {
		res.EventIDs[i] = ev.ID
	}
	s.writeJSON(w, r, http.StatusAccepted, res)
}

// checkCustomerIDs checks the list of a trigger: 1 to MaxBatch valid ids,
// none repeated (a repeat is most likely a mistake in the list).
func checkCustomerIDs(ids []string) []kalcifer.Detail {
	if len(ids) == 0 || len(ids) > MaxBatch {
		return []kalcifer.Detail{{Field: "customer_ids", Message: fmt.Sprintf("must hold 1 to %d customer ids; it has %d", MaxBatch, len(ids))}}
	}
	var problems []kalcifer.Detail
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		field := fmt.Sprintf("customer_ids[%d]", i)
		problems = append(problems, checkID(field, id)...)
		if j, ok := seen[id]; ok {
			problems = append(problems, kalcifer.Detail{Field: field, Message: fmt.Sprintf("repeats customer_ids[%d]", j)})
			continue
		}
		seen[id] = i
	}
	return problems
}

package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// The Segment-compatible intake: the calls of Segment's HTTP Tracking API
// (identify, track, page, screen, group, alias, batch), at
// /api/v1/segment/<call> and at /v1/<call>, the paths Segment's SDKs use
// when given Kalcifer's address as their host. The write key is a Kalcifer
// API key (the ingest role is enough), sent as the user of HTTP basic auth.
// Docs: README "Sending data with Segment SDKs".

// Segment's limits: a call's body, a batch's body, and a batch's calls.
const (
	segmentCallBytes  = 32 << 10
	segmentBatchBytes = 500 << 10
	segmentBatchCalls = 2500
)

// The event types page and screen calls become.
const (
	EventPageViewed   = "page_viewed"
	EventScreenViewed = "screen_viewed"
)

// segmentCall is one call of the Segment spec. Only the fields Kalcifer
// uses are read; the others the spec and SDKs send (context, integrations,
// sentAt, _metadata…) are accepted and not stored, as documented.
type segmentCall struct {
	Type        string          `json:"type"`
	UserID      segmentID       `json:"userId"`
	AnonymousID segmentID       `json:"anonymousId"`
	PreviousID  segmentID       `json:"previousId"`
	GroupID     segmentID       `json:"groupId"`
	MessageID   string          `json:"messageId"`
	Event       string          `json:"event"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Properties  json.RawMessage `json:"properties"`
	Traits      json.RawMessage `json:"traits"`
	Timestamp   string          `json:"timestamp"`
	WriteKey    string          `json:"writeKey"`
}

// segmentID is an id the spec says is a string, which some SDKs send as a
// number.
type segmentID string

func (id *segmentID) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*id = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = segmentID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("must be a string")
	}
	*id = segmentID(n.String())
	return nil
}

// segmentBatch is the body of a batch call.
type segmentBatch struct {
	Batch    []json.RawMessage `json:"batch"`
	WriteKey string            `json:"writeKey"`
}

// segmentAnswer is what Segment answers; Kalcifer adds the calls of a batch
// it refused, which Segment only shows in its debugger.
type segmentAnswer struct {
	Success bool            `json:"success"`
	Errors  []segmentReject `json:"errors,omitempty"`
}

// segmentReject is a call of a batch that was refused, and why.
type segmentReject struct {
	Index     int    `json:"index"`
	MessageID string `json:"message_id,omitempty"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

type segmentKeyCtx struct{}

// authenticateSegment reads the write key of a Segment call: the user of
// HTTP basic auth (password empty), as Segment's SDKs send it; a bearer
// API key or token is accepted too. The key is then checked like any
// other.
func (s *server) authenticateSegment(next http.Handler) http.Handler {
	authenticated := s.authenticate(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			s.writeError(w, r, kalcifer.Errorf(kalcifer.EUNAUTHORIZED,
				"missing write key: send a Kalcifer API key as the HTTP basic auth user with an empty password (as Segment SDKs do), or as Authorization: Bearer <key>"))
			return
		}
		scheme, _, _ := strings.Cut(header, " ")
		if !strings.EqualFold(scheme, "Basic") {
			authenticated.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), segmentKeyCtx{}, "")))
			return
		}
		key, err := writeKey(header)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		r = r.Clone(context.WithValue(r.Context(), segmentKeyCtx{}, key))
		r.Header.Set("Authorization", "Bearer "+key)
		authenticated.ServeHTTP(w, r)
	})
}

// writeKey reads the write key of an "Authorization: Basic" header.
func writeKey(header string) (string, error) {
	_, enc, _ := strings.Cut(header, " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "malformed basic auth: the credentials are not base64")
	}
	user, password, ok := strings.Cut(string(raw), ":")
	switch {
	case !ok:
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "malformed basic auth: expected <write key>:<empty password>")
	case password != "":
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "basic auth takes the write key (a Kalcifer API key) as the user and an empty password; this one has a password")
	case user == "":
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "missing write key: send a Kalcifer API key as the basic auth user")
	}
	return user, nil
}

// checkWriteKey refuses a body whose writeKey is not the key the request
// authenticated with (SDKs send it in both places).
func checkWriteKey(r *http.Request, inBody string) error {
	if inBody == "" {
		return nil
	}
	if key, _ := r.Context().Value(segmentKeyCtx{}).(string); key != inBody {
		return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "the body's writeKey is not the key of the Authorization header: send one key")
	}
	return nil
}

// segmentCallOf serves one call type at /<call>.
func (s *server) segmentCallOf(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readRequiredBody(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		call, err := parseSegmentCall(body, typ)
		if err == nil {
			err = checkWriteKey(r, call.WriteKey)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		tenantID := principal(r).TenantID
		if err := s.limiter.takeEvents(r.Context(), tenantID, 1); err != nil {
			s.writeError(w, r, err)
			return
		}
		rejects, err := s.runSegment(r, []*segmentCall{call}, []int{0})
		if err == nil && len(rejects) > 0 {
			err = &kalcifer.Error{Code: rejects[0].Code, Message: rejects[0].Message}
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, segmentAnswer{Success: true})
	}
}

// segmentBatchCall serves /batch: each call is checked on its own; the
// valid ones are stored in order and the others listed in the answer, which
// is 200 as long as the body itself could be read (Segment's behaviour: a
// SDK must not retry a batch for the calls in it that can never succeed).
func (s *server) segmentBatchCall(w http.ResponseWriter, r *http.Request) {
	var req segmentBatch
	body, err := readRequiredBody(r)
	if err == nil {
		err = decodeLoose(body, &req)
	}
	if err == nil {
		err = checkWriteKey(r, req.WriteKey)
	}
	if err == nil && len(req.Batch) == 0 {
		err = invalid("batch", "field \"batch\" must hold at least one call")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var calls []*segmentCall
	var at []int // each call's index in the batch
	var rejects []segmentReject
	for i, raw := range req.Batch {
		field := fmt.Sprintf("batch[%d]", i)
		var call *segmentCall
		var err error
		switch {
		case i >= segmentBatchCalls:
			err = invalid(field, "a batch holds at most %d calls", segmentBatchCalls)
		case len(raw) > segmentCallBytes:
			err = invalid(field, "a call is at most %s", byteSize(segmentCallBytes))
		default:
			call, err = parseSegmentCall(raw, "")
		}
		if err != nil {
			rejects = append(rejects, reject(i, raw, err))
			continue
		}
		calls, at = append(calls, call), append(at, i)
	}
	tenantID := principal(r).TenantID
	if len(calls) > 0 {
		if err := s.limiter.takeEvents(r.Context(), tenantID, len(calls)); err != nil {
			s.writeError(w, r, err)
			return
		}
		refused, err := s.runSegment(r, calls, at)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rejects = append(rejects, refused...)
		slices.SortFunc(rejects, func(a, b segmentReject) int { return a.Index - b.Index })
	}
	if len(rejects) > 0 {
		s.logger.WarnContext(r.Context(), "segment batch calls refused", "request_id", requestID(r.Context()),
			"tenant_id", tenantID, "refused", len(rejects), "accepted", len(calls), "first", rejects[0].Message)
	}
	s.writeJSON(w, r, http.StatusOK, segmentAnswer{Success: true, Errors: rejects})
}

// reject describes a refused call of a batch.
func reject(i int, raw json.RawMessage, err error) segmentReject {
	var id struct {
		MessageID any `json:"messageId"`
	}
	_ = json.Unmarshal(raw, &id) // best effort: only to name the call
	msgID, _ := id.MessageID.(string)
	code, message := kalcifer.ErrorCode(err), kalcifer.ErrorMessage(err)
	return segmentReject{Index: i, MessageID: msgID, Code: code, Message: message}
}

// decodeLoose decodes a Segment payload, whose fields beyond those Kalcifer
// reads are the SDKs' to choose.
func decodeLoose(data []byte, dst any) error {
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(dst); err != nil {
		return decodeError("", err)
	}
	return nil
}

// parseSegmentCall decodes and checks one call; typ is the route's call
// type ("" in a batch, where each call names its own).
func parseSegmentCall(raw json.RawMessage, typ string) (*segmentCall, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "a call must be a JSON object")
	}
	var c segmentCall
	if err := decodeLoose(raw, &c); err != nil {
		return nil, err
	}
	switch {
	case typ != "" && c.Type != "" && c.Type != typ:
		return nil, invalid("type", "this route takes %s calls, not %q", typ, c.Type)
	case typ != "":
		c.Type = typ
	}
	var problems []kalcifer.Detail
	id := c.customer()
	switch c.Type {
	case "identify", "track", "page", "screen", "group":
		if id == "" {
			problems = append(problems, kalcifer.Detail{Field: "userId", Message: "a call needs a userId or an anonymousId"})
		} else {
			problems = append(problems, checkID(idField(&c), id)...)
		}
	case "alias":
		problems = append(problems, checkID("userId", string(c.UserID))...)
		problems = append(problems, checkID("previousId", string(c.PreviousID))...)
	case "":
		return nil, invalid("type", "a call of a batch needs a type: identify, track, page, screen, group or alias")
	default:
		return nil, invalid("type", "unknown call type %q: use identify, track, page, screen, group or alias", c.Type)
	}
	switch c.Type {
	case "track":
		problems = append(problems, checkID("event", c.Event)...)
		if strings.HasPrefix(c.Event, "$") {
			problems = append(problems, kalcifer.Detail{Field: "event", Message: `must not start with "$", which marks the events Kalcifer makes itself`})
		}
	case "group":
		problems = append(problems, checkID("groupId", string(c.GroupID))...)
	}
	if c.MessageID != "" {
		problems = append(problems, checkLen("messageId", c.MessageID)...)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"properties", c.Properties}, {"traits", c.Traits}} {
		if _, err := objectField(f.name, f.raw); err != nil {
			return nil, err
		}
	}
	if c.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, c.Timestamp); err != nil {
			problems = append(problems, kalcifer.Detail{Field: "timestamp", Message: fmt.Sprintf("must be an ISO 8601 time such as 2024-05-01T12:00:00.000Z, not %q", c.Timestamp)})
		}
	}
	if len(problems) > 0 {
		e := kalcifer.Errorf(kalcifer.EINVALID, "the %s call is invalid: %s", c.Type, describe(problems))
		e.Details = problems
		return nil, e
	}
	return &c, nil
}

// customer is the customer a call is about: its userId, else its
// anonymousId.
func (c *segmentCall) customer() string {
	if c.UserID != "" {
		return string(c.UserID)
	}
	return string(c.AnonymousID)
}

func idField(c *segmentCall) string {
	if c.UserID != "" {
		return "userId"
	}
	return "anonymousId"
}

// event maps a track, page or screen call to a Kalcifer event.
func (c *segmentCall) event(tenantID string) *kalcifer.Event {
	ev := &kalcifer.Event{TenantID: tenantID, ClientID: c.MessageID, CustomerID: c.customer()}
	if c.Timestamp != "" {
		t, _ := time.Parse(time.RFC3339Nano, c.Timestamp) // checked by parseSegmentCall
		ev.OccurredAt = t.UTC()
	}
	props, _ := objectField("properties", c.Properties) // checked too
	switch c.Type {
	case "track":
		ev.Type, ev.Data = c.Event, props
	case "page", "screen":
		ev.Type = EventPageViewed
		if c.Type == "screen" {
			ev.Type = EventScreenViewed
		}
		ev.Data = withNames(props, c.Name, c.Category)
	}
	return ev
}

// withNames adds a page's name and category to its properties, unless the
// properties hold their own.
func withNames(props json.RawMessage, name, category string) json.RawMessage {
	if name == "" && category == "" {
		return props
	}
	m := map[string]json.RawMessage{}
	if len(props) > 0 {
		_ = json.Unmarshal(props, &m) // an object: checked
	}
	for k, v := range map[string]string{"name": name, "category": category} {
		if _, ok := m[k]; !ok && v != "" {
			m[k], _ = json.Marshal(v)
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// identity maps an identify or group call to a profile identify: an
// identify's traits are the attributes; a group call sets group_id and
// merges its traits under group_traits. The call's timestamp is when the
// customer was seen.
func (c *segmentCall) identity() (store.Identity, error) {
	t, err := traits(c.Traits)
	if err != nil {
		return store.Identity{}, err
	}
	in := store.Identity{CustomerID: c.customer(), Attributes: t}
	if c.Type == "group" {
		in.Attributes = map[string]any{"group_id": string(c.GroupID)}
		if len(t) > 0 {
			in.Attributes["group_traits"] = t
		}
	}
	if c.Timestamp != "" {
		in.Timestamp, _ = time.Parse(time.RFC3339Nano, c.Timestamp) // checked by parseSegmentCall
	}
	return in, nil
}

// traits decodes a call's traits for the profile: numbers keep their
// digits (json.Number), null removes an attribute.
func traits(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 || isNull(raw) {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, invalid("traits", "field \"traits\" must be an object")
	}
	return out, nil
}

// runSegment carries out checked calls in order: events are stored
// together until a call that changes a profile, which runs after the
// events before it are stored. A call the engine refuses (an alias of an id
// merged into someone else) is returned among the refused, by its index in
// at; other errors stop the request, and the SDK's retry repeats nothing
// (events are deduplicated by messageId; profile changes and aliases are
// idempotent).
func (s *server) runSegment(r *http.Request, calls []*segmentCall, at []int) ([]segmentReject, error) {
	ctx := r.Context()
	p := principal(r)
	var pending []*kalcifer.Event
	var rejects []segmentReject
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		_, err := s.engine.Ingest(ctx, pending)
		pending = nil
		return err
	}
	for i, c := range calls {
		switch c.Type {
		case "track", "page", "screen":
			pending = append(pending, c.event(p.TenantID))
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		var err error
		switch c.Type {
		case "identify", "group":
			var in store.Identity
			if in, err = c.identity(); err == nil {
				_, _, err = s.engine.Identify(ctx, p.TenantID, in)
			}
		case "alias":
			_, err = s.engine.Alias(ctx, p.TenantID, string(c.PreviousID), string(c.UserID), p.Actor())
		}
		switch kalcifer.ErrorCode(err) {
		case "":
		case kalcifer.EINVALID, kalcifer.EUNPROCESSABLE, kalcifer.ECONFLICT:
			rejects = append(rejects, segmentReject{Index: at[i], MessageID: c.MessageID,
				Code: kalcifer.ErrorCode(err), Message: kalcifer.ErrorMessage(err)})
		default:
			return nil, err
		}
	}
	return rejects, flush()
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// The designer routes: HTTP around designer.Service, which holds the
// conversations' flow. Here are decoding, roles (in routes), streaming and
// the mapping of designer failures to statuses.

// startConversationRequest is the body of POST /ai/conversations.
type startConversationRequest struct {
	// JourneyID, when set, makes the conversation refine that journey's
	// graph (its draft, or its current version once active).
	JourneyID string `json:"journey_id"`
	Message   string `json:"message"`
}

func (s *server) startConversation(w http.ResponseWriter, r *http.Request) {
	var req startConversationRequest
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ex, err := s.designer.Start(r.Context(), principal(r).TenantID, req.JourneyID, req.Message)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.converse(w, r, ex)
}

func (s *server) continueConversation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message string `json:"message"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ex, err := s.designer.Continue(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"), req.Message)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.converse(w, r, ex)
}

func (s *server) getConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.designer.Conversation(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// checkText refuses a form field that no store can keep or that is too
// long: a NUL, invalid UTF-8, more than limit bytes.
func checkText(field, v string, limit int) error {
	switch {
	case len(v) > limit:
		return invalid(field, "%s is longer than %d KiB", field, limit>>10)
	case strings.ContainsRune(v, 0):
		return invalid(field, "%s contains a NUL character", field)
	case !utf8.ValidString(v):
		return invalid(field, "%s is not valid UTF-8", field)
	}
	return nil
}

// converse runs one designer turn and answers — streamed as server-sent
// events when the client asks for text/event-stream. Everything that could
// be refused before the designer starts was refused as plain JSON.
func (s *server) converse(w http.ResponseWriter, r *http.Request, ex *designer.Exchange) {
	if !wantsStream(r) {
		ans, err := ex.Run(r.Context(), nil)
		if err != nil {
			s.writeError(w, r, designError(err))
			return
		}
		s.writeJSON(w, r, http.StatusOK, ans)
		return
	}
	sse := newEventStream(w)
	ans, err := ex.Run(r.Context(), func(ev designer.Event) { sse.send(ev.Type, ev) })
	if err != nil {
		sse.fail(s.errorObject(r, designError(err)))
		return
	}
	sse.send("result", ans)
}

// designError turns a designer's failure into what the client sees: an
// LLM provider that failed is 502; a designer too slow, or a client gone,
// is 504. Other errors are already what the client sees.
func designError(err error) error {
	var f *designer.Failure
	switch {
	case !errors.As(err, &f):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return kalcifer.Errorf(codeTimeout, "the designer (%s) took too long: %v", f.Designer, f.Err)
	case errors.Is(err, context.Canceled):
		return kalcifer.Errorf(codeTimeout, "the request was cancelled")
	}
	return kalcifer.Errorf(codeUpstream, "the AI designer (%s) failed: %v", f.Designer, f.Err)
}

// upload reads a campaign plan (multipart field "file", optional
// "instructions") and designs the journey it describes.
func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		s.writeError(w, r, kalcifer.Errorf(codeUnsupportedMediaType, "send the plan as multipart/form-data with a \"file\" field"))
		return
	}
	var name, instructions string
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.writeError(w, r, bodyError(r, err))
			return
		}
		switch part.FormName() {
		case "file":
			name = part.FileName()
			if data, err = io.ReadAll(part); err != nil {
				s.writeError(w, r, bodyError(r, err))
				return
			}
		case "instructions":
			b, err := io.ReadAll(io.LimitReader(part, designer.MaxMessage+1))
			if err != nil {
				s.writeError(w, r, bodyError(r, err))
				return
			}
			instructions = string(b)
			if err := checkText("instructions", instructions, designer.MaxMessage); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		part.Close()
	}
	if data == nil {
		s.writeError(w, r, invalid("file", "the form has no \"file\" field: attach the campaign plan (CSV, XLSX, DOCX, PDF, TXT or MD)"))
		return
	}
	// Counted once the form is read, before the work: an unreadable
	// document still costs the reading.
	if err := s.store.ReserveUpload(r.Context(), principal(r).TenantID); err != nil {
		s.writeError(w, r, err)
		return
	}
	ex, err := s.designer.Upload(r.Context(), principal(r).TenantID, name, data, instructions)
	if errors.Is(err, designer.ErrUnsupportedFormat) {
		err = kalcifer.Errorf(codeUnsupportedMediaType, "%v", err)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.converse(w, r, ex)
}

func bodyError(r *http.Request, err error) error {
	if e, ok := bodyTooLarge(r, err); ok {
		return e
	}
	return kalcifer.Errorf(kalcifer.EINVALID, "could not read the upload: %v", err)
}

// journeyRef names a journey graph in a request: a journey (its current
// version, or version), or a graph given inline.
type journeyRef struct {
	JourneyID string          `json:"journey_id"`
	Version   int             `json:"version"`
	Graph     json.RawMessage `json:"graph"`
}

// resolve is the graph ref names; field is the request field blamed when
// ref names nothing.
func (s *server) resolve(ctx context.Context, tenantID string, ref journeyRef, field string) (*graph.Graph, error) {
	switch {
	case len(ref.Graph) > 0 && !isNull(ref.Graph):
		return parseGraph(ref.Graph)
	case ref.JourneyID != "":
		return s.designer.Graph(ctx, tenantID, designer.Ref{JourneyID: ref.JourneyID, Version: ref.Version})
	}
	return nil, invalid(field, "name a journey_id (and optionally a version) or give a graph")
}

// explain describes a journey in plain language.
func (s *server) explain(w http.ResponseWriter, r *http.Request) {
	var ref journeyRef
	if err := decodeRequired(r, &ref); err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r).TenantID
	g, err := s.resolve(r.Context(), tenant, ref, "journey_id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	text, engine, err := s.designer.Explain(r.Context(), tenant, designer.Ref{Graph: g})
	if err != nil {
		s.writeError(w, r, designError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"explanation": text, "engine": engine})
}

// suggest proposes improvements of a journey from what its customers did.
func (s *server) suggest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JourneyID string `json:"journey_id"`
		Version   int    `json:"version"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.JourneyID == "" {
		s.writeError(w, r, invalid("journey_id", "journey_id is required"))
		return
	}
	out, err := s.designer.Suggest(r.Context(), principal(r).TenantID, req.JourneyID, req.Version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// nodeMapping proposes how the nodes of one version map onto another's, as
// a publish would.
func (s *server) nodeMapping(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JourneyID  string          `json:"journey_id"`
		OldVersion json.RawMessage `json:"old_version"`
		NewVersion json.RawMessage `json:"new_version"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r).TenantID
	var graphs [2]*graph.Graph
	for i, raw := range []json.RawMessage{req.OldVersion, req.NewVersion} {
		field := [2]string{"old_version", "new_version"}[i]
		ref := journeyRef{JourneyID: req.JourneyID}
		var n int
		switch {
		case len(raw) == 0 || isNull(raw):
			s.writeError(w, r, invalid(field, "%s is required: a graph, or a version number with journey_id", field))
			return
		case json.Unmarshal(raw, &n) == nil:
			if req.JourneyID == "" || n < 1 {
				s.writeError(w, r, invalid(field, "%s as a number needs journey_id and a version from 1", field))
				return
			}
			ref.Version = n
		default:
			ref.Graph = raw
		}
		g, err := s.resolve(r.Context(), tenant, ref, field)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		graphs[i] = g
	}
	s.writeJSON(w, r, http.StatusOK, s.designer.NodeMapping(graphs[0], graphs[1]))
}

// applyConversation saves a conversation's graph: as a new draft version
// of its journey (or the draft graph of a journey never activated), or as a
// new draft journey when the conversation has none.
func (s *server) applyConversation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name      string `json:"name"`
		Changelog string `json:"changelog"`
	}
	if _, err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	a, err := s.designer.Apply(r.Context(), p.Actor(), p.TenantID, chi.URLParam(r, "id"), req.Name, req.Changelog)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case a.Version != nil:
		s.writeJSON(w, r, http.StatusCreated, map[string]any{"journey": a.Journey, "version": a.Version})
	case a.Created:
		s.writeJSON(w, r, http.StatusCreated, map[string]any{"journey": a.Journey})
	default:
		s.writeJSON(w, r, http.StatusOK, map[string]any{"journey": a.Journey})
	}
}

// --- AI settings ---

func (s *server) getAISettings(w http.ResponseWriter, r *http.Request) {
	a, err := s.designer.Settings(r.Context(), principal(r).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if a == nil {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"provider": "", "has_api_key": false,
			"note": "no settings: the server's default designer is used"})
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

func (s *server) putAISettings(w http.ResponseWriter, r *http.Request) {
	var a kalcifer.AISettings
	if err := decodeRequired(r, &a); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	stored, err := s.designer.SetSettings(r.Context(), p.Actor(), p.TenantID, a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, stored)
}

// --- server-sent events ---

// wantsStream reports whether the client asked for server-sent events.
func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// eventStream writes server-sent events, flushing each.
type eventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newEventStream(w http.ResponseWriter) *eventStream {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	es := &eventStream{w: w, rc: http.NewResponseController(w)}
	_ = es.rc.Flush()
	return es
}

// send writes one event; a client that left makes later writes fail
// silently, and the request's context ends the work.
func (es *eventStream) send(event string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		event = "error"
	}
	fmt.Fprintf(es.w, "event: %s\ndata: %s\n\n", event, data)
	_ = es.rc.Flush()
}

func (es *eventStream) fail(e errorObject) { es.send("error", errorBody{Error: e}) }

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/designer/document"
	"github.com/kalcifer/kalcifer/designer/offline"
	"github.com/kalcifer/kalcifer/graph"
)

// DesignerFor returns the AI designer a tenant uses (seed FR-1): an LLM
// provider it or the server configured, or the built-in offline designer.
type DesignerFor func(ctx context.Context, tenantID string) (designer.Designer, error)

// designerFor is the configured DesignerFor, or the offline designer for
// everyone.
func (s *server) designerFor(ctx context.Context, tenantID string) (designer.Designer, error) {
	if s.designers == nil {
		return offline.New(), nil
	}
	return s.designers(ctx, tenantID)
}

// designResponse is what the designer routes answer, as JSON or as the
// "result" event of a stream.
type designResponse struct {
	ConversationID string `json:"conversation_id,omitempty"`
	*designer.Result
	// DetectedSteps are the steps an uploaded plan was read as.
	DetectedSteps []document.Step `json:"detected_steps,omitempty"`
}

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
	if err := checkMessage(req.Message); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r)
	c := &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: p.TenantID, JourneyID: req.JourneyID}
	if req.JourneyID != "" {
		g, err := s.journeyGraph(r.Context(), p.TenantID, req.JourneyID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		c.Graph = g
	}
	s.converse(w, r, c, req.Message, nil)
}

func (s *server) continueConversation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message string `json:"message"`
	}
	if err := decodeRequired(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkMessage(req.Message); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.store.GetConversation(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.converse(w, r, c, req.Message, nil)
}

func (s *server) getConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.GetConversation(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// maxMessage bounds one designer message: a document rendered to text fits.
const maxMessage = 64 << 10

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

func checkMessage(m string) error {
	switch {
	case strings.TrimSpace(m) == "":
		return invalid("message", "message is required: describe the journey, or the change to make")
	case len(m) > maxMessage:
		return invalid("message", "message is longer than %d KiB", maxMessage>>10)
	case strings.ContainsRune(m, 0):
		return invalid("message", "message contains a NUL character")
	}
	return nil
}

// journeyGraph is the graph a conversation about a journey starts from: its
// current version once it has one, else its draft.
func (s *server) journeyGraph(ctx context.Context, tenantID, journeyID string) (*graph.Graph, error) {
	j, err := s.store.GetJourney(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	if j.CurrentVersion > 0 {
		v, err := s.store.GetVersion(ctx, tenantID, journeyID, j.CurrentVersion)
		if err != nil {
			return nil, err
		}
		return &v.Graph, nil
	}
	return j.Graph, nil
}

// converse runs one designer turn of conversation c, saves the conversation
// with its new graph, and answers — streamed as server-sent events when
// the client asks for text/event-stream.
func (s *server) converse(w http.ResponseWriter, r *http.Request, c *kalcifer.Conversation, message string, steps []document.Step) {
	d, err := s.designerFor(r.Context(), c.TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var history []designer.Turn
	for _, t := range c.Turns {
		history = append(history, designer.Turn{Role: t.Role, Text: t.Text})
	}
	req := designer.Request{Message: message, Current: c.Graph, History: history}

	stream := wantsStream(r)
	var sse *eventStream
	var emit func(designer.Event)
	if stream {
		sse = newEventStream(w)
		emit = func(ev designer.Event) { sse.send(ev.Type, ev) }
	}
	res, err := d.Design(r.Context(), req, emit)
	if err == nil {
		err = checkResult(res)
	}
	if err != nil {
		err = designError(d, err)
		if stream {
			sse.fail(s.errorObject(r, err))
			return
		}
		s.writeError(w, r, err)
		return
	}
	if c.Graph != nil && res.Diff == nil {
		diff := graph.Compare(c.Graph, res.Graph)
		res.Diff = &diff
	}
	if res.FollowUpQuestions == nil {
		res.FollowUpQuestions = []string{}
	}
	if res.Unrecognized == nil {
		res.Unrecognized = []string{}
	}
	now := time.Now().UTC()
	c.Graph = res.Graph
	c.Turns = append(c.Turns, kalcifer.ConversationTurn{Role: "user", Text: message, At: now},
		kalcifer.ConversationTurn{Role: "assistant", Text: res.Explanation, At: now})
	if err := s.store.SaveConversation(r.Context(), c); err != nil {
		if stream {
			sse.fail(s.errorObject(r, err))
			return
		}
		s.writeError(w, r, err)
		return
	}
	out := designResponse{ConversationID: c.ID, Result: res, DetectedSteps: steps}
	if stream {
		sse.send("result", out)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// checkResult is the last guard of the promise that the API never returns
// an invalid graph, whatever the designer.
func checkResult(res *designer.Result) error {
	if res == nil || res.Graph == nil {
		return errors.New("the designer returned no journey")
	}
	if err := kalcifer.ValidateGraph(res.Graph); err != nil {
		var e *kalcifer.Error
		if errors.As(err, &e) {
			e.Message = "the designer produced an invalid journey: " + e.Message
		}
		return err
	}
	return nil
}

// designError turns what a designer returned into what the client sees:
// the offline designer's errors say what it did not understand (422); an
// LLM provider's that it failed (502); a client gone or too slow is 504.
func designError(d designer.Designer, err error) error {
	var e *kalcifer.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		return kalcifer.Errorf(codeTimeout, "the designer (%s) took too long: %v", d.Name(), err)
	case errors.Is(err, context.Canceled):
		return kalcifer.Errorf(codeTimeout, "the request was cancelled")
	case d.Name() == offline.New().Name():
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%s", err.Error())
	}
	return kalcifer.Errorf(codeUpstream, "the AI designer (%s) failed: %v", d.Name(), err)
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
			s.writeError(w, r, bodyError(err))
			return
		}
		switch part.FormName() {
		case "file":
			name = part.FileName()
			if data, err = io.ReadAll(part); err != nil {
				s.writeError(w, r, bodyError(err))
				return
			}
		case "instructions":
			b, err := io.ReadAll(io.LimitReader(part, maxMessage+1))
			if err != nil {
				s.writeError(w, r, bodyError(err))
				return
			}
			instructions = string(b)
			if err := checkText("instructions", instructions, maxMessage); err != nil {
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
	doc, err := document.Read(name, data)
	if err != nil {
		code := kalcifer.EUNPROCESSABLE
		switch {
		case errors.Is(err, document.ErrTooLarge):
			code = kalcifer.ETOOLARGE
		case errors.Is(err, document.ErrUnsupported):
			code = codeUnsupportedMediaType
		}
		s.writeError(w, r, kalcifer.Errorf(code, "%v", err))
		return
	}
	message := doc.Prompt()
	if strings.TrimSpace(instructions) != "" {
		message = strings.TrimSpace(instructions) + "\n" + message
	}
	switch {
	case strings.TrimSpace(message) == "":
		s.writeError(w, r, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "nothing in %s reads as a journey step", name))
		return
	case len(message) > maxMessage:
		s.writeError(w, r, kalcifer.Errorf(kalcifer.ETOOLARGE, "%s reads as %d KiB of plan; the designer takes at most %d KiB: split the plan",
			name, len(message)>>10, maxMessage>>10))
		return
	}
	c := &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: principal(r).TenantID}
	steps := doc.Steps
	if steps == nil {
		steps = []document.Step{}
	}
	s.converse(w, r, c, message, steps)
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
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

func (s *server) resolve(ctx context.Context, tenantID string, ref journeyRef, field string) (*graph.Graph, error) {
	switch {
	case len(ref.Graph) > 0 && !isNull(ref.Graph):
		return parseGraph(ref.Graph)
	case ref.JourneyID != "" && ref.Version > 0:
		v, err := s.store.GetVersion(ctx, tenantID, ref.JourneyID, ref.Version)
		if err != nil {
			return nil, err
		}
		return &v.Graph, nil
	case ref.JourneyID != "":
		g, err := s.journeyGraph(ctx, tenantID, ref.JourneyID)
		if err == nil && g.Empty() {
			err = kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "journey %q has no graph yet", ref.JourneyID)
		}
		return g, err
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
	d, err := s.designerFor(r.Context(), tenant)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	text, err := d.Explain(r.Context(), g)
	if err != nil {
		s.writeError(w, r, designError(d, err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"explanation": text, "engine": d.Name()})
}

// suggest proposes improvements of a journey from what its customers did so
// far, on every version (store.NodeCounts says how versions are combined),
// each with the proposed graph and its diff.
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
	tenant := principal(r).TenantID
	j, err := s.store.GetJourney(r.Context(), tenant, req.JourneyID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version := req.Version
	if version == 0 {
		version = j.CurrentVersion
	}
	if version == 0 {
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the journey has not run yet: activate it first, suggestions come from what customers did",
			State: map[string]any{"status": string(j.Status)}})
		return
	}
	v, err := s.store.GetVersion(r.Context(), tenant, j.ID, version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	counts, err := s.store.NodeCounts(r.Context(), tenant, j.ID, version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stats := map[string]designer.NodeStats{}
	for _, n := range v.Graph.Nodes {
		c := counts[n.ID]
		if c == nil {
			stats[n.ID] = designer.NodeStats{}
			continue
		}
		st := designer.NodeStats{Entered: c.Entered, Exited: c.Results["exited"],
			Sent: c.Sends[kalcifer.SendSent] + c.Sends[kalcifer.SendLogged], Failed: c.Sends[kalcifer.SendFailed] + c.Sends[kalcifer.SendAmbiguous]}
		if n.Type == "wait_for_event" {
			branches, _ := graph.BranchesOf(n) // [event branch, timeout branch]
			st.EventReceived, st.TimedOut = c.Results[branches[0]], c.Results[branches[1]]
		}
		stats[n.ID] = st
	}
	suggestions := offline.Suggest(&v.Graph, stats)
	if suggestions == nil {
		suggestions = []designer.Suggestion{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"journey_id": j.ID, "version": version, "stats": stats, "suggestions": suggestions})
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
	s.writeJSON(w, r, http.StatusOK, graph.ProposeMapping(graphs[0], graphs[1]))
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
	c, err := s.store.GetConversation(r.Context(), p.TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if c.Graph.Empty() {
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the conversation has no journey yet"})
		return
	}
	changelog := req.Changelog
	if changelog == "" && len(c.Turns) > 1 {
		changelog = truncate("AI designer: "+c.Turns[len(c.Turns)-2].Text, 500)
	}
	if c.JourneyID == "" {
		name := req.Name
		if name == "" {
			name = "Designed journey " + time.Now().UTC().Format("2006-01-02 15:04")
		}
		// The journey is described by the brief that started the
		// conversation; the refinements since are how it got its shape.
		var brief string
		if len(c.Turns) > 0 {
			brief = truncate(c.Turns[0].Text, maxBrief)
		}
		j := &kalcifer.Journey{TenantID: p.TenantID, Name: name, Description: brief, Graph: c.Graph}
		if err := s.store.CreateJourney(r.Context(), p.Actor(), j); err != nil {
			s.writeError(w, r, err)
			return
		}
		c.JourneyID = j.ID
		if err := s.store.SaveConversation(r.Context(), c); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusCreated, map[string]any{"journey": j})
		return
	}
	j, err := s.store.GetJourney(r.Context(), p.TenantID, c.JourneyID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if j.Status == kalcifer.JourneyDraft {
		j, err = s.store.UpdateJourney(r.Context(), p.Actor(), p.TenantID, j.ID, kalcifer.JourneyUpdate{Graph: c.Graph})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"journey": j})
		return
	}
	v, err := s.store.CreateVersion(r.Context(), p.Actor(), p.TenantID, j.ID, c.Graph, changelog)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"journey": j, "version": v})
}

// maxBrief bounds the description a designed journey takes from its brief:
// an uploaded plan is a brief too, and can be pages long.
const maxBrief = 2000

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// --- AI settings ---

func (s *server) getAISettings(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.AISettings(r.Context(), principal(r).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if a == nil {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"provider": "", "has_api_key": false,
			"note": "no settings: the server's default designer is used"})
		return
	}
	a.APIKey = ""
	s.writeJSON(w, r, http.StatusOK, a)
}

// AISettingsCheck validates AI settings before they are stored; cmd
// supplies one that knows the providers.
type AISettingsCheck func(kalcifer.AISettings) error

func (s *server) putAISettings(w http.ResponseWriter, r *http.Request) {
	var a kalcifer.AISettings
	if err := decodeRequired(r, &a); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch a.Provider {
	case kalcifer.AIOffline, kalcifer.AIAnthropic, kalcifer.AIOpenAI, kalcifer.AIOllama:
	default:
		s.writeError(w, r, invalid("provider", "provider %q is unknown: use offline, anthropic, openai or ollama", a.Provider))
		return
	}
	p := principal(r)
	old, err := s.store.AISettings(r.Context(), p.TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// An empty key keeps the stored one, but only for the same provider and
	// URL: the key must never follow settings to another host.
	keep := a.APIKey == "" && old != nil && old.APIKey != "" && old.Provider == a.Provider && old.BaseURL == a.BaseURL
	if s.checkAI != nil {
		check := a
		if keep {
			check.APIKey = old.APIKey
		}
		if err := s.checkAI(check); err != nil {
			s.writeError(w, r, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%v", err))
			return
		}
	}
	if err := s.store.SetAISettings(r.Context(), p.Actor(), p.TenantID, &a, keep); err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.store.AISettings(r.Context(), p.TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stored.APIKey = ""
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

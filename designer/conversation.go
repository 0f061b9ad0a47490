package designer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer/document"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// MaxMessage bounds one designer message: a document rendered to text fits.
const MaxMessage = 64 << 10

// MaxUpload bounds an uploaded campaign plan, in bytes.
const MaxUpload = document.MaxSize

// ErrUnsupportedFormat is wrapped by the error of a plan in a format no
// reader knows.
var ErrUnsupportedFormat = document.ErrUnsupported

// invalid is an EINVALID error about one input field.
func invalid(field, format string, args ...any) *kalcifer.Error {
	e := kalcifer.Errorf(kalcifer.EINVALID, format, args...)
	e.Details = []kalcifer.Detail{{Field: field, Message: e.Message}}
	return e
}

func checkMessage(m string) error {
	switch {
	case blank(m):
		return invalid("message", "message is required: describe the journey, or the change to make")
	case len(m) > MaxMessage:
		return invalid("message", "message is longer than %d KiB", MaxMessage>>10)
	case strings.ContainsRune(m, 0):
		return invalid("message", "message contains a NUL character")
	}
	return nil
}

// Exchange is one turn of a conversation, ready to run: everything that
// could be refused before the designer starts has been checked, so a
// caller that streams can start its stream before Run.
type Exchange struct {
	s       *Service
	d       Designer
	c       *kalcifer.Conversation
	message string
	steps   []document.Step
}

// Answer is what a turn answers: the conversation, the designed journey,
// and for an uploaded plan the steps it was read as.
type Answer struct {
	ConversationID string `json:"conversation_id,omitempty"`
	*Result
	// DetectedSteps are the steps an uploaded plan was read as.
	DetectedSteps []document.Step `json:"detected_steps,omitempty"`
}

// turn picks the tenant's designer for one turn of c.
func (s *Service) turn(ctx context.Context, c *kalcifer.Conversation, message string, steps []document.Step) (*Exchange, error) {
	d, err := s.For(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	return &Exchange{s: s, d: d, c: c, message: message, steps: steps}, nil
}

// Start begins a conversation with message: designing a new journey, or,
// when journeyID is set, refining that journey's graph (its current
// version once active, else its draft).
func (s *Service) Start(ctx context.Context, tenantID, journeyID, message string) (*Exchange, error) {
	if err := checkMessage(message); err != nil {
		return nil, err
	}
	c := &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: tenantID, JourneyID: journeyID}
	if journeyID != "" {
		g, err := s.journeyGraph(ctx, tenantID, journeyID)
		if err != nil {
			return nil, err
		}
		c.Graph = g
	}
	return s.turn(ctx, c, message, nil)
}

// Continue carries conversation id on with message.
func (s *Service) Continue(ctx context.Context, tenantID, id, message string) (*Exchange, error) {
	if err := checkMessage(message); err != nil {
		return nil, err
	}
	c, err := s.store.GetConversation(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return s.turn(ctx, c, message, nil)
}

// Conversation returns conversation id of the tenant.
func (s *Service) Conversation(ctx context.Context, tenantID, id string) (*kalcifer.Conversation, error) {
	return s.store.GetConversation(ctx, tenantID, id)
}

// Upload begins a conversation from a campaign plan (CSV, XLSX, DOCX, PDF,
// TXT or MD) named name, with optional instructions put before it.
func (s *Service) Upload(ctx context.Context, tenantID, name string, data []byte, instructions string) (*Exchange, error) {
	doc, err := document.ReadContext(ctx, name, data)
	if err != nil {
		switch {
		case ctx.Err() != nil: // the client left: the answer is for the log
			return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "reading %s stopped: %v", name, ctx.Err())
		case errors.Is(err, document.ErrTooLarge):
			return nil, kalcifer.Errorf(kalcifer.ETOOLARGE, "%v", err)
		case errors.Is(err, document.ErrUnsupported):
			return nil, err
		}
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%v", err)
	}
	message := doc.Prompt()
	if !blank(instructions) {
		message = strings.TrimSpace(instructions) + "\n" + message
	}
	switch {
	case blank(message):
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "nothing in %s reads as a journey step", name)
	case len(message) > MaxMessage:
		return nil, kalcifer.Errorf(kalcifer.ETOOLARGE, "%s reads as %d KiB of plan; the designer takes at most %d KiB: split the plan",
			name, len(message)>>10, MaxMessage>>10)
	}
	steps := doc.Steps
	if steps == nil {
		steps = []document.Step{}
	}
	return s.turn(ctx, &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: tenantID}, message, steps)
}

// Run designs, saves the conversation with its new graph, and answers.
// emit, when not nil, receives the designer's progress. A designer's
// failure is a *kalcifer.Error or a *Failure.
func (t *Exchange) Run(ctx context.Context, emit func(Event)) (*Answer, error) {
	c := t.c
	var history []Turn
	for _, h := range c.Turns {
		history = append(history, Turn{Role: h.Role, Text: h.Text})
	}
	res, err := t.d.Design(ctx, Request{Message: t.message, Current: c.Graph, History: history}, emit)
	if err == nil {
		err = checkResult(res)
	}
	if err != nil {
		return nil, failure(t.d, err)
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
	c.Turns = append(c.Turns, kalcifer.ConversationTurn{Role: "user", Text: t.message, At: now},
		kalcifer.ConversationTurn{Role: "assistant", Text: res.Explanation, At: now})
	if err := t.s.store.SaveConversation(ctx, c); err != nil {
		return nil, err
	}
	return &Answer{ConversationID: c.ID, Result: res, DetectedSteps: t.steps}, nil
}

// maxBrief bounds the description a designed journey takes from its brief:
// an uploaded plan is a brief too, and can be pages long.
const maxBrief = 2000

// Applied is what applying a conversation made: a new draft journey
// (Created), the draft graph of a journey never activated, or a new draft
// version (Version) of an active one.
type Applied struct {
	Journey *kalcifer.Journey
	Version *kalcifer.Version
	Created bool
}

// Apply saves conversation id's graph: as a new draft version of its
// journey (or the draft graph of a journey never activated), or as a new
// draft journey named name when the conversation has none. An empty
// changelog is taken from the last request.
func (s *Service) Apply(ctx context.Context, actor, tenantID, id, name, changelog string) (*Applied, error) {
	c, err := s.store.GetConversation(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if c.Graph.Empty() {
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the conversation has no journey yet"}
	}
	if changelog == "" && len(c.Turns) > 1 {
		changelog = truncate("AI designer: "+c.Turns[len(c.Turns)-2].Text, 500)
	}
	if c.JourneyID == "" {
		if name == "" {
			name = "Designed journey " + time.Now().UTC().Format("2006-01-02 15:04")
		}
		// The journey is described by the brief that started the
		// conversation; the refinements since are how it got its shape.
		var brief string
		if len(c.Turns) > 0 {
			brief = truncate(c.Turns[0].Text, maxBrief)
		}
		j := &kalcifer.Journey{TenantID: tenantID, Name: name, Description: brief, Graph: c.Graph}
		if err := s.store.CreateJourney(ctx, actor, j); err != nil {
			return nil, err
		}
		c.JourneyID = j.ID
		if err := s.store.SaveConversation(ctx, c); err != nil {
			return nil, err
		}
		return &Applied{Journey: j, Created: true}, nil
	}
	j, err := s.store.GetJourney(ctx, tenantID, c.JourneyID)
	if err != nil {
		return nil, err
	}
	if j.Status == kalcifer.JourneyDraft {
		j, err = s.store.UpdateJourney(ctx, actor, tenantID, j.ID, kalcifer.JourneyUpdate{Graph: c.Graph})
		if err != nil {
			return nil, err
		}
		return &Applied{Journey: j}, nil
	}
	v, err := s.store.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: tenantID, JourneyID: j.ID,
		Graph: c.Graph, Changelog: changelog})
	if err != nil {
		return nil, err
	}
	return &Applied{Journey: j, Version: v}, nil
}

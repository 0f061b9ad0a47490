package designer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Config is what a Service needs. cmd/kalcifer supplies the designers: it
// is the one package that knows the offline designer and the LLM providers.
type Config struct {
	// Store keeps conversations and AI settings, and holds the journeys
	// the designer reads and writes.
	Store *store.Store
	// Default designs for tenants whose admin chose no designer.
	Default Designer
	// FromSettings makes the designer a tenant's AI settings name; its
	// error says why they are unusable. It also checks settings before
	// they are stored.
	FromSettings func(kalcifer.AISettings) (Designer, error)
	// Suggest proposes improvements of a graph from what its customers did
	// at each node.
	Suggest func(g *graph.Graph, stats map[string]NodeStats) []Suggestion
}

// Service is the AI designer as the API offers it: conversations that
// design and refine journeys and are applied to them, explanations,
// suggestions from analytics, campaign plans read from documents, and the
// choice of each tenant's designer. It speaks in domain values and
// *kalcifer.Error; HTTP stays in api.
type Service struct {
	store        *store.Store
	def          Designer
	fromSettings func(kalcifer.AISettings) (Designer, error)
	suggest      func(*graph.Graph, map[string]NodeStats) []Suggestion
}

// NewService returns the service cfg describes; every field is required.
func NewService(cfg Config) *Service {
	return &Service{store: cfg.Store, def: cfg.Default, fromSettings: cfg.FromSettings, suggest: cfg.Suggest}
}

// For returns the designer tenantID uses (seed FR-1): the one its admin
// chose (AI settings), else the server's default.
func (s *Service) For(ctx context.Context, tenantID string) (Designer, error) {
	a, err := s.store.AISettings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return s.def, nil
	}
	d, err := s.fromSettings(*a)
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "the tenant's AI settings are unusable: %v", err)
	}
	return d, nil
}

// Failure is what a designer returned when it failed for a reason other
// than the request (a *kalcifer.Error) or, for the offline designer, not
// understanding it: an LLM provider's failure, a deadline, a cancellation.
type Failure struct {
	// Designer names the designer that failed.
	Designer string
	Err      error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("the AI designer (%s) failed: %v", f.Designer, f.Err)
}

// Unwrap returns the designer's error.
func (f *Failure) Unwrap() error { return f.Err }

// failure classifies err from d: a *kalcifer.Error stands; the offline
// designer's other errors say what it did not understand (EUNPROCESSABLE);
// anything else is a *Failure.
func failure(d Designer, err error) error {
	var e *kalcifer.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
	case d.Name() == kalcifer.AIOffline:
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%s", err.Error())
	}
	return &Failure{Designer: d.Name(), Err: err}
}

// checkResult is the last guard of the promise that the designer never
// hands back an invalid graph, whatever the engine behind it.
func checkResult(res *Result) error {
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

// Ref names a journey graph: a graph given inline, or a journey's version
// (Version > 0), or a journey's current graph.
type Ref struct {
	JourneyID string
	Version   int
	Graph     *graph.Graph
}

// Graph resolves ref; a journey without a graph yet is EUNPROCESSABLE.
func (s *Service) Graph(ctx context.Context, tenantID string, ref Ref) (*graph.Graph, error) {
	switch {
	case ref.Graph != nil:
		return ref.Graph, nil
	case ref.Version > 0:
		v, err := s.store.GetVersion(ctx, tenantID, ref.JourneyID, ref.Version)
		if err != nil {
			return nil, err
		}
		return &v.Graph, nil
	}
	g, err := s.journeyGraph(ctx, tenantID, ref.JourneyID)
	if err == nil && g.Empty() {
		err = kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "journey %q has no graph yet", ref.JourneyID)
	}
	return g, err
}

// journeyGraph is the graph a conversation about a journey starts from: its
// current version once it has one, else its draft.
func (s *Service) journeyGraph(ctx context.Context, tenantID, journeyID string) (*graph.Graph, error) {
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

// Explain describes the journey ref names in plain language, with the
// tenant's designer; engine names that designer.
func (s *Service) Explain(ctx context.Context, tenantID string, ref Ref) (text, engine string, err error) {
	g, err := s.Graph(ctx, tenantID, ref)
	if err != nil {
		return "", "", err
	}
	d, err := s.For(ctx, tenantID)
	if err != nil {
		return "", "", err
	}
	text, err = d.Explain(ctx, g)
	if err != nil {
		return "", "", failure(d, err)
	}
	return text, d.Name(), nil
}

// NodeMapping proposes how the nodes of one graph map onto another's, as a
// publish would.
func (s *Service) NodeMapping(old, new *graph.Graph) graph.Mapping {
	return graph.ProposeMapping(old, new)
}

// Suggestions are improvements proposed for one version of a journey from
// what its customers did. Fields are in the order the API always wrote.
type Suggestions struct {
	JourneyID   string               `json:"journey_id"`
	Stats       map[string]NodeStats `json:"stats"`
	Suggestions []Suggestion         `json:"suggestions"`
	Version     int                  `json:"version"`
}

// Suggest proposes improvements of a journey from what its customers did so
// far, on every version (analytics.NodeCounts says how versions are combined),
// each with the proposed graph and its diff. version 0 means the current
// one.
func (s *Service) Suggest(ctx context.Context, tenantID, journeyID string, version int) (*Suggestions, error) {
	j, err := s.store.GetJourney(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		version = j.CurrentVersion
	}
	if version == 0 {
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the journey has not run yet: activate it first, suggestions come from what customers did",
			State: map[string]any{"status": string(j.Status)}}
	}
	v, err := s.store.GetVersion(ctx, tenantID, j.ID, version)
	if err != nil {
		return nil, err
	}
	counts, err := analytics.NodeCounts(ctx, s.store, tenantID, j.ID, version)
	if err != nil {
		return nil, err
	}
	stats := map[string]NodeStats{}
	for _, n := range v.Graph.Nodes {
		c := counts[n.ID]
		if c == nil {
			stats[n.ID] = NodeStats{}
			continue
		}
		st := NodeStats{Entered: c.Entered, Exited: c.Results["exited"],
			Sent: c.Sends[kalcifer.SendSent] + c.Sends[kalcifer.SendLogged], Failed: c.Sends[kalcifer.SendFailed] + c.Sends[kalcifer.SendAmbiguous]}
		if n.Type == "wait_for_event" {
			branches, _ := graph.BranchesOf(n) // [event branch, timeout branch]
			st.EventReceived, st.TimedOut = c.Results[branches[0]], c.Results[branches[1]]
		}
		stats[n.ID] = st
	}
	suggestions := s.suggest(&v.Graph, stats)
	if suggestions == nil {
		suggestions = []Suggestion{}
	}
	return &Suggestions{JourneyID: j.ID, Version: version, Stats: stats, Suggestions: suggestions}, nil
}

// Settings returns the tenant's AI settings without the API key; nil when
// its admin chose none.
func (s *Service) Settings(ctx context.Context, tenantID string) (*kalcifer.AISettings, error) {
	a, err := s.store.AISettings(ctx, tenantID)
	if a != nil {
		a.APIKey = ""
	}
	return a, err
}

// SetSettings checks and stores a tenant's AI settings and returns them as
// stored, without the API key. An empty key keeps the stored one, but only
// for the same provider and URL: a key must never follow settings to
// another host.
func (s *Service) SetSettings(ctx context.Context, actor, tenantID string, a kalcifer.AISettings) (*kalcifer.AISettings, error) {
	switch a.Provider {
	case kalcifer.AIOffline, kalcifer.AIAnthropic, kalcifer.AIOpenAI, kalcifer.AIOllama:
	default:
		e := kalcifer.Errorf(kalcifer.EINVALID, "provider %q is unknown: use offline, anthropic, openai or ollama", a.Provider)
		e.Details = []kalcifer.Detail{{Field: "provider", Message: e.Message}}
		return nil, e
	}
	old, err := s.store.AISettings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	keep := a.APIKey == "" && old != nil && old.APIKey != "" && old.Provider == a.Provider && old.BaseURL == a.BaseURL
	check := a
	if keep {
		check.APIKey = old.APIKey
	}
	if _, err := s.fromSettings(check); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%v", err)
	}
	if err := s.store.SetAISettings(ctx, actor, tenantID, &a, keep); err != nil {
		return nil, err
	}
	stored, err := s.store.AISettings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	stored.APIKey = ""
	return stored, nil
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// trimmed reports whether s is blank.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

package kalcifer

import (
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/graph"
)

// JourneyStatus is where a journey is in its lifecycle.
type JourneyStatus string

// The lifecycle: draft → active ⇄ paused, and any → archived.
const (
	JourneyDraft    JourneyStatus = "draft"
	JourneyActive   JourneyStatus = "active"
	JourneyPaused   JourneyStatus = "paused"
	JourneyArchived JourneyStatus = "archived"
)

// Valid reports whether s is a known status.
func (s JourneyStatus) Valid() bool {
	switch s {
	case JourneyDraft, JourneyActive, JourneyPaused, JourneyArchived:
		return true
	}
	return false
}

// Journey is a customer journey: its editable draft graph, its settings and
// where it is in its lifecycle. Published graphs are Versions.
type Journey struct {
	ID          string        `json:"id"`
	TenantID    string        `json:"tenant_id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Status      JourneyStatus `json:"status"`
	// Graph is the draft: what the editor edits and activation publishes.
	Graph    *graph.Graph    `json:"graph"`
	Settings JourneySettings `json:"settings"`
	// CurrentVersion is the version new customers enter; 0 before the first
	// activation.
	CurrentVersion int       `json:"current_version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// LockVersion increases with every write; stores use it to refuse a write
	// based on a stale read.
	LockVersion int `json:"-"`
}

// JourneySettings are journey-wide options outside the graph.
type JourneySettings struct {
	// AllowReentry lets a customer enter again while an earlier instance of
	// this journey is still active.
	AllowReentry bool `json:"allow_reentry"`
}

// JourneyAction is a lifecycle command.
type JourneyAction string

// The lifecycle commands of the journeys API.
const (
	ActionActivate JourneyAction = "activate"
	ActionPause    JourneyAction = "pause"
	ActionResume   JourneyAction = "resume"
	ActionArchive  JourneyAction = "archive"
)

// transitions lists, for each action, the statuses it may start from and the
// status it leads to.
var transitions = map[JourneyAction]struct {
	from []JourneyStatus
	to   JourneyStatus
}{
	ActionActivate: {[]JourneyStatus{JourneyDraft}, JourneyActive},
	ActionPause:    {[]JourneyStatus{JourneyActive}, JourneyPaused},
	ActionResume:   {[]JourneyStatus{JourneyPaused}, JourneyActive},
	ActionArchive:  {[]JourneyStatus{JourneyDraft, JourneyActive, JourneyPaused}, JourneyArchived},
}

// Transition returns the status that action leads j to, or an ECONFLICT error
// carrying j's current status when the action is not allowed from it.
func (j *Journey) Transition(action JourneyAction) (JourneyStatus, error) {
	t, ok := transitions[action]
	if !ok {
		return "", Errorf(EINVALID, "unknown journey action %q", action)
	}
	for _, from := range t.from {
		if j.Status == from {
			return t.to, nil
		}
	}
	return "", &Error{
		Code:    ECONFLICT,
		Message: "cannot " + string(action) + " a journey that is " + string(j.Status),
		State:   map[string]any{"status": string(j.Status)},
	}
}

// CheckEditable returns an ECONFLICT error unless j's draft may be changed.
func (j *Journey) CheckEditable() error {
	if j.Status == JourneyDraft {
		return nil
	}
	return &Error{
		Code:    ECONFLICT,
		Message: "only a draft journey's graph can be changed; this journey is " + string(j.Status) + " (publish a new version instead)",
		State:   map[string]any{"status": string(j.Status)},
	}
}

// CheckDeletable returns an ECONFLICT error unless j may be deleted.
func (j *Journey) CheckDeletable() error {
	if j.Status == JourneyDraft {
		return nil
	}
	return &Error{
		Code:    ECONFLICT,
		Message: "only a draft journey can be deleted; this journey is " + string(j.Status) + " (archive it instead)",
		State:   map[string]any{"status": string(j.Status)},
	}
}

// MaxJourneyNameLen bounds a journey's name.
const MaxJourneyNameLen = 200

// ValidateName checks a journey name: 1 to MaxJourneyNameLen characters, not
// only spaces.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return &Error{Code: EUNPROCESSABLE, Message: "journey name is required",
			Details: []Detail{{Field: "name", Message: "must not be empty"}}}
	}
	if n := len([]rune(name)); n > MaxJourneyNameLen {
		return &Error{Code: EUNPROCESSABLE, Message: "journey name is too long",
			Details: []Detail{{Field: "name", Message: "must be at most 200 characters"}}}
	}
	return nil
}

// JourneyFilter selects journeys of one tenant for a list.
type JourneyFilter struct {
	TenantID string
	Status   JourneyStatus // empty: any
	Name     string        // case-insensitive substring; empty: any
	Limit    int
	Cursor   string // ID of the last journey of the previous page
}

// Page is one page of a list and the cursor to the next ("" at the end).
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// DefaultPageLimit and MaxPageLimit bound list pages.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// ClampLimit returns limit bounded to [1, MaxPageLimit], DefaultPageLimit
// when 0.
func ClampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageLimit
	case limit > MaxPageLimit:
		return MaxPageLimit
	}
	return limit
}

// JourneyUpdate changes a journey; nil fields stay as they are.
type JourneyUpdate struct {
	Name        *string
	Description *string
	Graph       *graph.Graph
	Settings    *JourneySettings
}

// ValidateGraph checks a graph per the seed spec §4.2 and every node's config
// against its type's schema, returning an EINVALIDGRAPH error that lists
// every problem.
func ValidateGraph(g *graph.Graph) error {
	if g == nil {
		return &Error{Code: EINVALIDGRAPH, Message: "the journey has no graph",
			Details: []Detail{{Field: "graph", Message: "a graph with at least one entry node is required"}}}
	}
	problems := graph.Validate(g)
	if len(problems) == 0 {
		return nil
	}
	e := &Error{Code: EINVALIDGRAPH, Message: fmt.Sprintf("the journey graph is invalid (%d problems)", len(problems))}
	if len(problems) == 1 {
		e.Message = "the journey graph is invalid: " + problems[0].Message
	}
	for _, p := range problems {
		e.Details = append(e.Details, Detail{NodeID: p.NodeID, EdgeID: p.EdgeID, Field: p.Field, Message: p.Message})
	}
	return e
}

// Warning is something a change was allowed to do that will not work as a
// user may expect: e.g. a channel node whose messages are only logged.
type Warning struct {
	NodeID  string `json:"node_id"`
	Message string `json:"message"`
}

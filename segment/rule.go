package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Rule is one clause of a segment's rule tree. Exactly one of its groups of
// fields is set: And, Or, Not (a composite); Attribute with Op and Value (a
// comparison); Tag; Performed; or Segment.
type Rule struct {
	And []Rule `json:"and,omitempty"`
	Or  []Rule `json:"or,omitempty"`
	Not *Rule  `json:"not,omitempty"`

	// Attribute is a profile attribute (in Performed.Where, an event data
	// property), a dot separating the keys of nested objects:
	// "address.city".
	Attribute string `json:"attribute,omitempty"`
	Op        Op     `json:"op,omitempty"`
	// Value is what the attribute is compared with, as JSON decodes it: a
	// string, a float64, a bool, or for in and between a []any. Dates are
	// strings (RFC 3339 or YYYY-MM-DD), relative windows durations ("30d").
	Value any `json:"value,omitempty"`

	// Tag matches customers who have this tag.
	Tag string `json:"tag,omitempty"`

	// Performed matches customers with enough events of a type.
	Performed *Performed `json:"performed,omitempty"`

	// Segment matches the members of another segment, by id.
	Segment string `json:"segment,omitempty"`
}

// Performed is "performed Event at least AtLeast times in the last Within,
// where Where holds of the event's data". "Did not perform" is its Not.
type Performed struct {
	Event string `json:"event"`
	// AtLeast is the least number of events; 0 means 1.
	AtLeast int `json:"at_least,omitempty"`
	// Within is how far back events count, a duration ("30d"); empty
	// counts every event.
	Within string `json:"within,omitempty"`
	// Where filters the events by their data: comparisons (and, or and not
	// of them) whose Attribute names a data property.
	Where *Rule `json:"where,omitempty"`
}

// Op is a comparison's operator.
type Op string

// The comparison operators. Which value each takes is in the table of
// docs/SEGMENTS.md; Validate enforces it.
const (
	OpEq         Op = "eq"          // string, number or bool
	OpNeq        Op = "neq"         // string, number or bool
	OpContains   Op = "contains"    // string
	OpStartsWith Op = "starts_with" // string
	OpIn         Op = "in"          // list of strings or of numbers
	OpLt         Op = "lt"          // number
	OpLte        Op = "lte"         // number
	OpGt         Op = "gt"          // number
	OpGte        Op = "gte"         // number
	OpBetween    Op = "between"     // [low, high] numbers, inclusive
	OpBefore     Op = "before"      // date
	OpAfter      Op = "after"       // date
	OpWithinLast Op = "within_last" // duration: the date lies in the last D
	OpWithinNext Op = "within_next" // duration: the date lies in the next D
	OpExists     Op = "exists"      // no value
	OpNotExists  Op = "not_exists"  // no value
)

// Limits of a rule, so that one rule cannot make a query of unbounded size.
const (
	MaxDepth      = 16   // nesting of and, or, not and where
	MaxClauses    = 100  // clauses in the whole tree, segments referenced not counted
	MaxInValues   = 1000 // values of one in
	MaxValueLen   = 1000 // characters of a string value, tag or name
	MaxTextLen    = 8192 // bytes of a rule's text form
	MaxAttrLen    = 200  // characters of an attribute path
	MaxWindowDays = 3650 // the longest Within and within_last/next window
)

// Segment is a named, stored rule of a tenant.
type Segment struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenant_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Rule        Rule      `json:"rule"`
	RuleText    string    `json:"rule_text"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Filter selects a page of a tenant's segments.
type Filter struct {
	TenantID string
	Limit    int
	Cursor   string
}

// ParseJSON reads a rule's JSON form strictly (unknown fields are errors)
// and validates it; errors name the clause under the field name root
// ("rule").
func ParseJSON(root string, data []byte) (*Rule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rule
	if err := dec.Decode(&r); err != nil {
		return nil, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: fmt.Sprintf("%s is not a rule: %v", root, err),
			Details: []kalcifer.Detail{{Field: root, Message: err.Error()}}}
	}
	if dec.More() {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "%s holds data after the rule", root)
	}
	if err := r.Validate(root); err != nil {
		return nil, err
	}
	return &r, nil
}

// References lists the ids of the segments r refers to, directly, in order
// of appearance and without repeats.
func (r *Rule) References() []string {
	var out []string
	seen := map[string]bool{}
	r.walk(func(c *Rule) {
		if c.Segment != "" && !seen[c.Segment] {
			seen[c.Segment] = true
			out = append(out, c.Segment)
		}
	})
	return out
}

// walk calls fn on r and every clause below it, Performed.Where included.
func (r *Rule) walk(fn func(*Rule)) { r.Walk("", func(_ string, c *Rule) { fn(c) }) }

// Walk calls fn on r and every clause below it (Performed.Where included)
// with the clause's path under root, as Validate names clauses:
// rule.and[2].not.
func (r *Rule) Walk(root string, fn func(path string, c *Rule)) {
	fn(root, r)
	for i := range r.And {
		r.And[i].Walk(fmt.Sprintf("%s.and[%d]", root, i), fn)
	}
	for i := range r.Or {
		r.Or[i].Walk(fmt.Sprintf("%s.or[%d]", root, i), fn)
	}
	if r.Not != nil {
		r.Not.Walk(root+".not", fn)
	}
	if r.Performed != nil && r.Performed.Where != nil {
		r.Performed.Where.Walk(root+".performed.where", fn)
	}
}

// Kind names which group of fields a valid clause uses.
type Kind int

// The kinds of clause.
const (
	KindInvalid Kind = iota
	KindAnd
	KindOr
	KindNot
	KindCompare
	KindTag
	KindPerformed
	KindSegment
)

// Kind says what r is; KindInvalid when it sets no group or several.
func (r *Rule) Kind() Kind {
	var kinds []Kind
	if r.And != nil {
		kinds = append(kinds, KindAnd)
	}
	if r.Or != nil {
		kinds = append(kinds, KindOr)
	}
	if r.Not != nil {
		kinds = append(kinds, KindNot)
	}
	if r.Attribute != "" || r.Op != "" || r.Value != nil {
		kinds = append(kinds, KindCompare)
	}
	if r.Tag != "" {
		kinds = append(kinds, KindTag)
	}
	if r.Performed != nil {
		kinds = append(kinds, KindPerformed)
	}
	if r.Segment != "" {
		kinds = append(kinds, KindSegment)
	}
	if len(kinds) != 1 {
		return KindInvalid
	}
	return kinds[0]
}

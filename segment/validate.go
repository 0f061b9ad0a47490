package segment

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
)

// Validate checks the whole tree and returns one EUNPROCESSABLE error
// listing every bad clause, each named by its path under root, such as
// rule.and[2].value. It does not check that referenced segments exist: the
// store does, since only it knows them.
func (r *Rule) Validate(root string) error {
	v := validator{}
	v.rule(r, root, 0, false)
	if v.clauses > MaxClauses {
		v.bad(root, "the rule has %d clauses; at most %d are allowed", v.clauses, MaxClauses)
	}
	if len(v.problems) == 0 {
		return nil
	}
	msg := v.problems[0].Field + ": " + v.problems[0].Message
	if n := len(v.problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "the segment rule is invalid: " + msg, Details: v.problems}
}

type validator struct {
	problems []kalcifer.Detail
	clauses  int
}

func (v *validator) bad(path, format string, args ...any) {
	v.problems = append(v.problems, kalcifer.Detail{Field: path, Message: fmt.Sprintf(format, args...)})
}

// rule checks r at path; inWhere is set below a Performed.Where, where only
// comparisons of event data (and and, or and not of them) make sense.
func (v *validator) rule(r *Rule, path string, depth int, inWhere bool) {
	v.clauses++
	if depth > MaxDepth {
		v.bad(path, "the rule is nested more than %d deep", MaxDepth)
		return
	}
	switch r.Kind() {
	case KindAnd, KindOr:
		name, list := "and", r.And
		if r.Kind() == KindOr {
			name, list = "or", r.Or
		}
		if len(list) == 0 {
			v.bad(path+"."+name, "%s needs at least one clause", name)
		}
		for i := range list {
			v.rule(&list[i], fmt.Sprintf("%s.%s[%d]", path, name, i), depth+1, inWhere)
		}
	case KindNot:
		v.rule(r.Not, path+".not", depth+1, inWhere)
	case KindCompare:
		v.compare(r, path)
	case KindTag:
		if inWhere {
			v.bad(path+".tag", "an event filter compares event data; tags belong outside performed")
			return
		}
		v.name(path+".tag", "tag", r.Tag)
	case KindSegment:
		if inWhere {
			v.bad(path+".segment", "an event filter compares event data; segments belong outside performed")
			return
		}
		v.name(path+".segment", "segment id", r.Segment)
	case KindPerformed:
		if inWhere {
			v.bad(path+".performed", "performed cannot be nested in another performed's filter")
			return
		}
		v.performed(r.Performed, path+".performed", depth)
	default:
		v.bad(path, "a clause has exactly one of and, or, not, attribute (with op and value), tag, performed or segment")
	}
}

func (v *validator) name(path, what, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.bad(path, "the %s must not be blank", what)
	case utf8.RuneCountInString(s) > MaxValueLen:
		v.bad(path, "the %s is longer than %d characters", what, MaxValueLen)
	case strings.ContainsRune(s, 0):
		v.bad(path, "the %s must not contain NUL characters", what)
	}
}

func (v *validator) performed(p *Performed, path string, depth int) {
	v.name(path+".event", "event type", p.Event)
	if p.AtLeast < 0 {
		v.bad(path+".at_least", "must be at least 1 (0 or absent means 1; use not performed for none)")
	} else if p.AtLeast > 1_000_000 {
		v.bad(path+".at_least", "must be at most 1000000")
	}
	if p.Within != "" {
		if _, err := ParseWindow(p.Within); err != nil {
			v.bad(path+".within", "%v", err)
		}
	}
	if p.Where != nil {
		v.rule(p.Where, path+".where", depth+1, true)
	}
}

// attrPart is one key of an attribute path in the text form's bare spelling.
var attrPart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) compare(r *Rule, path string) {
	if err := checkAttribute(r.Attribute); err != nil {
		v.bad(path+".attribute", "%v", err)
	}
	vt, err := r.valueType()
	if err != nil {
		v.bad(path+".op", "%v", err)
		return
	}
	vpath := path + ".value"
	if r.Op == OpExists || r.Op == OpNotExists {
		if r.Value != nil {
			v.bad(vpath, "%s takes no value", r.Op)
		}
		return
	}
	switch r.Op {
	case OpIn:
		list, ok := r.Value.([]any)
		if !ok || len(list) == 0 {
			v.bad(vpath, "in takes a non-empty list of strings or of numbers")
			return
		}
		if len(list) > MaxInValues {
			v.bad(vpath, "in takes at most %d values, not %d", MaxInValues, len(list))
		}
		for i, x := range list {
			if typeOf(x) != vt {
				v.bad(fmt.Sprintf("%s[%d]", vpath, i), "every value of in must be a %s like the first", vt)
			} else if s, ok := x.(string); ok {
				v.str(fmt.Sprintf("%s[%d]", vpath, i), s)
			}
		}
	case OpBetween:
		list, ok := r.Value.([]any)
		if !ok || len(list) != 2 || typeOf(list[0]) != TypeNumber || typeOf(list[1]) != TypeNumber {
			v.bad(vpath, "between takes two numbers, [low, high]")
			return
		}
		if list[0].(float64) > list[1].(float64) {
			v.bad(vpath, "between's low bound %v is above its high bound %v", list[0], list[1])
		}
	case OpBefore, OpAfter:
		s, ok := r.Value.(string)
		if !ok {
			v.bad(vpath, "%s takes a date, as RFC 3339 (2026-01-31T12:00:00Z) or YYYY-MM-DD", r.Op)
		} else if _, err := ParseDate(s); err != nil {
			v.bad(vpath, "%v", err)
		}
	case OpWithinLast, OpWithinNext:
		s, ok := r.Value.(string)
		if !ok {
			v.bad(vpath, "%s takes a duration such as 30d, 12h or 2w", r.Op)
		} else if _, err := ParseWindow(s); err != nil {
			v.bad(vpath, "%v", err)
		}
	default:
		t := typeOf(r.Value)
		if t != vt || (vt == TypeString && r.Op != OpContains && r.Op != OpStartsWith && r.Op != OpEq && r.Op != OpNeq) {
			v.bad(vpath, "%s takes %s, not %s", r.Op, article(vt), describeValue(r.Value))
			return
		}
		if s, ok := r.Value.(string); ok {
			v.str(vpath, s)
		}
	}
}

func (v *validator) str(path, s string) {
	if utf8.RuneCountInString(s) > MaxValueLen {
		v.bad(path, "a string value must be at most %d characters", MaxValueLen)
	}
	if strings.ContainsRune(s, 0) {
		v.bad(path, "a string value must not contain NUL characters")
	}
}

// checkAttribute refuses a path the text form or the databases' JSON paths
// could not spell: keys are separated by dots, none empty, and hold no
// quote, backquote, backslash or control character.
func checkAttribute(a string) error {
	switch {
	case a == "":
		return fmt.Errorf("the attribute is missing")
	case utf8.RuneCountInString(a) > MaxAttrLen:
		return fmt.Errorf("the attribute path is longer than %d characters", MaxAttrLen)
	case strings.ContainsAny(a, "\"`\\"):
		return fmt.Errorf("attribute %q: quotes, backquotes and backslashes cannot be used in attribute paths", a)
	case strings.IndexFunc(a, unicode.IsControl) >= 0:
		return fmt.Errorf("attribute %q holds a control character", a)
	}
	for _, k := range strings.Split(a, ".") {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("attribute %q has an empty key: a dot separates the keys of nested objects", a)
		}
	}
	return nil
}

// ValueType is the JSON type a comparison is made in.
type ValueType int

// The comparison types.
const (
	TypeNone ValueType = iota
	TypeString
	TypeNumber
	TypeBool
	TypeDate
)

func (t ValueType) String() string {
	return [...]string{"nothing", "string", "number", "boolean", "date"}[t]
}

func article(t ValueType) string {
	if t == TypeNone {
		return "nothing"
	}
	return "a " + t.String()
}

func typeOf(x any) ValueType {
	switch x.(type) {
	case string:
		return TypeString
	case float64:
		return TypeNumber
	case bool:
		return TypeBool
	}
	return TypeNone
}

func describeValue(x any) string {
	switch x.(type) {
	case nil:
		return "no value"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return article(typeOf(x))
}

// ValueType is the type a valid comparison compares in: dates are stored
// as strings, but compared as instants.
func (r *Rule) ValueType() ValueType {
	t, _ := r.valueType()
	return t
}

func (r *Rule) valueType() (ValueType, error) {
	switch r.Op {
	case OpEq, OpNeq:
		if t := typeOf(r.Value); t != TypeNone {
			return t, nil
		}
		return TypeString, nil // reported against the value
	case OpContains, OpStartsWith:
		return TypeString, nil
	case OpIn:
		if list, ok := r.Value.([]any); ok && len(list) > 0 && (typeOf(list[0]) == TypeString || typeOf(list[0]) == TypeNumber) {
			return typeOf(list[0]), nil
		}
		return TypeString, nil
	case OpLt, OpLte, OpGt, OpGte, OpBetween:
		return TypeNumber, nil
	case OpBefore, OpAfter, OpWithinLast, OpWithinNext:
		return TypeDate, nil
	case OpExists, OpNotExists:
		return TypeNone, nil
	case "":
		return TypeNone, fmt.Errorf("the op is missing")
	}
	return TypeNone, fmt.Errorf("unknown op %q: use eq, neq, contains, starts_with, in, lt, lte, gt, gte, between, before, after, within_last, within_next, exists or not_exists", r.Op)
}

var windowPattern = regexp.MustCompile(`^([0-9]{1,7})([mhdw])$`)

var windowUnits = map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// ParseWindow reads a relative window: a whole number of minutes, hours,
// days or weeks ("90m", "12h", "30d", "2w"), from 1 minute to 3650 days.
func ParseWindow(s string) (time.Duration, error) {
	m := windowPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration such as 90m, 12h, 30d or 2w", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64) // at most 7 digits
	d := time.Duration(n) * windowUnits[m[2]]
	if n == 0 || d > MaxWindowDays*24*time.Hour {
		return 0, fmt.Errorf("%q must be longer than 0 and at most %dd", s, MaxWindowDays)
	}
	return d, nil
}

// ParseDate reads a date as a segment rule writes it: RFC 3339 or
// YYYY-MM-DD (midnight UTC).
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date: use RFC 3339 (2026-01-31T12:00:00Z) or YYYY-MM-DD", s)
}

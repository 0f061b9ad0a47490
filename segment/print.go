package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// String writes r in the text form, which Parse reads back as r. A valid
// rule prints as text that parses; an invalid one prints as best it can.
func (r *Rule) String() string {
	var b strings.Builder
	r.print(&b, false)
	return b.String()
}

// print writes r; nested is set where an and or or must be parenthesized
// (inside not, inside the other of and/or, after where).
func (r *Rule) print(b *strings.Builder, nested bool) {
	switch r.Kind() {
	case KindAnd, KindOr:
		word, list := " and ", r.And
		if r.Kind() == KindOr {
			word, list = " or ", r.Or
		}
		if len(list) == 1 {
			list[0].print(b, nested)
			return
		}
		if nested {
			b.WriteByte('(')
		}
		for i := range list {
			if i > 0 {
				b.WriteString(word)
			}
			list[i].print(b, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case KindNot:
		b.WriteString("not ")
		r.Not.print(b, true)
	case KindTag:
		b.WriteString("tag " + quote(r.Tag))
	case KindSegment:
		b.WriteString("segment " + quote(r.Segment))
	case KindPerformed:
		pf := r.Performed
		b.WriteString("performed " + eventName(pf.Event))
		if pf.AtLeast > 1 {
			b.WriteString(" >= " + strconv.Itoa(pf.AtLeast))
		}
		if pf.Within != "" {
			b.WriteString(" in " + pf.Within)
		}
		if pf.Where != nil {
			b.WriteString(" where ")
			pf.Where.print(b, true)
		}
	case KindCompare:
		r.printCompare(b)
	default:
		b.WriteString("<invalid clause>")
	}
}

func (r *Rule) printCompare(b *strings.Builder) {
	b.WriteString(attribute(r.Attribute))
	for sym, op := range symbolOps {
		if op == r.Op {
			b.WriteString(" " + sym + " " + value(r.Value))
			return
		}
	}
	for word, op := range wordOps {
		if op == r.Op {
			b.WriteString(" " + word + " " + value(r.Value))
			return
		}
	}
	switch r.Op {
	case OpExists:
		b.WriteString(" exists")
	case OpNotExists:
		b.WriteString(" not exists")
	case OpIn:
		list, _ := r.Value.([]any)
		parts := make([]string, len(list))
		for i, v := range list {
			parts[i] = value(v)
		}
		b.WriteString(" in [" + strings.Join(parts, ", ") + "]")
	case OpBetween:
		list, _ := r.Value.([]any)
		if len(list) == 2 {
			b.WriteString(" between " + value(list[0]) + " and " + value(list[1]))
		} else {
			b.WriteString(" between <invalid>")
		}
	case OpWithinLast:
		b.WriteString(" within last " + fmt.Sprint(r.Value))
	case OpWithinNext:
		b.WriteString(" within next " + fmt.Sprint(r.Value))
	default:
		b.WriteString(" <invalid op " + quote(string(r.Op)) + ">")
	}
}

// attribute spells an attribute path bare when the lexer reads it back as
// one identifier that is no keyword, and backquoted otherwise.
func attribute(a string) string {
	if identRe.FindString(a) == a && !keywords[a] {
		return a
	}
	return "`" + a + "`"
}

// eventName spells an event type bare when it reads back as itself.
func eventName(e string) string {
	if identRe.FindString(e) == e && !keywords[e] {
		return e
	}
	return quote(e)
}

func value(v any) string {
	switch v := v.(type) {
	case string:
		return quote(v)
	case float64:
		if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return "<invalid value>"
}

// quote writes s as a JSON string, which the lexer reads back.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

package segment

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
)

// Parse reads a rule's text form (docs/SEGMENTS.md has the grammar) and
// validates it. A syntax error names the field (the text's, e.g.
// "rule_text") and the column; a rule that parses but is invalid names the
// clause by its path in the JSON form, which the text stands for:
// rule.and[2].value.
//
//	plan = "pro" and (country in ["DE", "FR"] or ltv >= 1000) and performed order_completed >= 3 in 30d and not tag "churned"
func Parse(field, text string) (*Rule, error) {
	if len(text) > MaxTextLen {
		return nil, textError(field, 0, "the rule text is longer than %d bytes", MaxTextLen)
	}
	if !utf8.ValidString(text) {
		return nil, textError(field, 0, "the rule text is not valid UTF-8")
	}
	toks, err := lex(text)
	if err != nil {
		return nil, textError(field, err.(*posError).pos, "%s", err.(*posError).msg)
	}
	p := &parser{toks: toks}
	r, err := p.expr(0)
	if err == nil && p.peek().kind != tEOF {
		err = p.errorf("expected and, or or the end of the rule, found %s", p.peek())
	}
	if err != nil {
		return nil, textError(field, err.(*posError).pos, "%s", err.(*posError).msg)
	}
	if err := r.Validate("rule"); err != nil {
		return nil, err
	}
	return r, nil
}

func textError(field string, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
		Message: fmt.Sprintf("%s: at column %d: %s", field, pos+1, msg),
		Details: []kalcifer.Detail{{Field: field, Line: 1, Column: pos + 1, Message: msg}}}
}

type posError struct {
	pos int
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("column %d: %s", e.pos+1, e.msg) }

type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // plan, address.city, and, performed…
	tQuoted           // `first name`: an attribute spelled in backquotes
	tString           // "pro"
	tNumber           // 1000, -2.5e3
	tDuration         // 30d
	tPunct            // ( ) [ ] , = != < <= > >=
)

type token struct {
	kind tokKind
	text string // as written; for strings, the decoded value
	pos  int    // byte offset
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end of the rule"
	case tString:
		return strconv.Quote(t.text)
	}
	return "“" + t.text + "”"
}

var (
	identRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*`)
	numberRe   = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
	durationRe = regexp.MustCompile(`^[0-9]+[mhdw]\b`)
	stringRe   = regexp.MustCompile(`^"([^"\\]|\\.)*"`)
)

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		rest := s[i:]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case strings.HasPrefix(rest, "!=") || strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, ">="):
			out = append(out, token{tPunct, rest[:2], i})
			i += 2
			continue
		case strings.ContainsRune("()[],=<>", rune(c)):
			out = append(out, token{tPunct, rest[:1], i})
			i++
			continue
		case c == '"':
			m := stringRe.FindString(rest)
			var v string
			if m == "" || json.Unmarshal([]byte(m), &v) != nil {
				return nil, &posError{i, "unterminated or malformed string: strings are double-quoted with JSON escapes"}
			}
			out = append(out, token{tString, v, i})
			i += len(m)
			continue
		case c == '`':
			end := strings.IndexByte(rest[1:], '`')
			if end < 0 {
				return nil, &posError{i, "unterminated backquoted attribute"}
			}
			out = append(out, token{tQuoted, rest[1 : end+1], i})
			i += end + 2
			continue
		}
		if m := durationRe.FindString(rest); m != "" {
			out = append(out, token{tDuration, m, i})
			i += len(m)
			continue
		}
		if m := numberRe.FindString(rest); m != "" {
			out = append(out, token{tNumber, m, i})
			i += len(m)
			continue
		}
		if m := identRe.FindString(rest); m != "" {
			out = append(out, token{tIdent, m, i})
			i += len(m)
			continue
		}
		r, _ := utf8.DecodeRuneInString(rest)
		return nil, &posError{i, fmt.Sprintf("unexpected character %q", r)}
	}
	return append(out, token{kind: tEOF, pos: len(s)}), nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) error {
	return &posError{p.peek().pos, fmt.Sprintf(format, args...)}
}

// is reports whether the next token is the keyword or punctuation s.
func (p *parser) is(s string) bool {
	t := p.peek()
	return (t.kind == tIdent || t.kind == tPunct) && t.text == s
}

func (p *parser) accept(s string) bool {
	if p.is(s) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(s string) error {
	if !p.accept(s) {
		return p.errorf("expected %q, found %s", s, p.peek())
	}
	return nil
}

// expr := and ("or" and)*
func (p *parser) expr(depth int) (*Rule, error) {
	if depth > MaxDepth {
		return nil, p.errorf("the rule is nested more than %d deep", MaxDepth)
	}
	first, err := p.and(depth)
	if err != nil || !p.is("or") {
		return first, err
	}
	r := &Rule{Or: []Rule{*first}}
	for p.accept("or") {
		c, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		r.Or = append(r.Or, *c)
	}
	return r, nil
}

// and := unary ("and" unary)*
func (p *parser) and(depth int) (*Rule, error) {
	first, err := p.unary(depth)
	if err != nil || !p.is("and") {
		return first, err
	}
	r := &Rule{And: []Rule{*first}}
	for p.accept("and") {
		c, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		r.And = append(r.And, *c)
	}
	return r, nil
}

// unary := "not" unary | "(" expr ")" | clause
func (p *parser) unary(depth int) (*Rule, error) {
	if depth > MaxDepth {
		return nil, p.errorf("the rule is nested more than %d deep", MaxDepth)
	}
	switch {
	case p.accept("not"):
		c, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Rule{Not: c}, nil
	case p.accept("("):
		r, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		return r, p.expect(")")
	}
	return p.clause(depth)
}

// clause := "tag" NAME | "segment" NAME | "performed" NAME [">=" N] ["in" DURATION] ["where" unary]
// | ATTRIBUTE comparison
func (p *parser) clause(depth int) (*Rule, error) {
	t := p.peek()
	if t.kind == tIdent {
		switch t.text {
		case "tag", "segment":
			p.next()
			name, err := p.name(t.text)
			if err != nil {
				return nil, err
			}
			if t.text == "tag" {
				return &Rule{Tag: name}, nil
			}
			return &Rule{Segment: name}, nil
		case "performed":
			p.next()
			return p.performed(depth)
		}
	}
	if t.kind != tQuoted && (t.kind != tIdent || keywords[t.text]) {
		return nil, p.errorf("expected a clause (an attribute, tag, segment, performed, not or a parenthesis), found %s", t)
	}
	p.next()
	return p.comparison(t.text)
}

// name reads a tag, segment id or event type: a string or a bare word.
func (p *parser) name(what string) (string, error) {
	t := p.peek()
	if t.kind == tString || (t.kind == tIdent && !keywords[t.text]) {
		p.next()
		return t.text, nil
	}
	return "", p.errorf("expected the %s's name after %q, found %s", what, what, t)
}

func (p *parser) performed(depth int) (*Rule, error) {
	event, err := p.name("performed")
	if err != nil {
		return nil, err
	}
	pf := &Performed{Event: event}
	if p.accept(">=") {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if t.kind != tNumber || err != nil || n < 1 {
			return nil, &posError{t.pos, fmt.Sprintf("expected a whole number of times (1 or more) after >=, found %s", t)}
		}
		pf.AtLeast = n
	}
	if p.accept("in") {
		t := p.next()
		if t.kind != tDuration {
			return nil, &posError{t.pos, fmt.Sprintf("expected a window such as 30d after in, found %s", t)}
		}
		pf.Within = t.text
	}
	if p.accept("where") {
		w, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		pf.Where = w
	}
	return &Rule{Performed: pf}, nil
}

// symbolOps maps the text form's comparison symbols to operators.
var symbolOps = map[string]Op{"=": OpEq, "!=": OpNeq, "<": OpLt, "<=": OpLte, ">": OpGt, ">=": OpGte}

// wordOps maps the text form's comparison words that take one value.
var wordOps = map[string]Op{"contains": OpContains, "starts_with": OpStartsWith, "before": OpBefore, "after": OpAfter}

// keywords cannot be bare attribute names (backquote them: `tag`).
var keywords = map[string]bool{"and": true, "or": true, "not": true, "tag": true, "segment": true, "performed": true,
	"in": true, "where": true, "between": true, "contains": true, "starts_with": true, "before": true, "after": true,
	"within": true, "last": true, "next": true, "exists": true, "true": true, "false": true}

func (p *parser) comparison(attr string) (*Rule, error) {
	r := &Rule{Attribute: attr}
	t := p.peek()
	if op, ok := symbolOps[t.text]; ok && t.kind == tPunct {
		p.next()
		v, err := p.value()
		r.Op, r.Value = op, v
		return r, err
	}
	if t.kind != tIdent {
		return nil, p.errorf("expected a comparison after attribute %q (=, !=, <, <=, >, >=, in, between, contains, starts_with, before, after, within, exists), found %s", attr, t)
	}
	p.next()
	if op, ok := wordOps[t.text]; ok {
		v, err := p.value()
		r.Op, r.Value = op, v
		return r, err
	}
	switch t.text {
	case "exists":
		r.Op = OpExists
		return r, nil
	case "not":
		r.Op = OpNotExists
		return r, p.expect("exists")
	case "in":
		if err := p.expect("["); err != nil {
			return nil, err
		}
		list := []any{}
		for !p.accept("]") {
			if len(list) > 0 {
				if err := p.expect(","); err != nil {
					return nil, err
				}
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		r.Op, r.Value = OpIn, list
		return r, nil
	case "between":
		lo, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.expect("and"); err != nil {
			return nil, err
		}
		hi, err := p.value()
		r.Op, r.Value = OpBetween, []any{lo, hi}
		return r, err
	case "within":
		switch {
		case p.accept("last"):
			r.Op = OpWithinLast
		case p.accept("next"):
			r.Op = OpWithinNext
		default:
			return nil, p.errorf("expected last or next after within, found %s", p.peek())
		}
		d := p.next()
		if d.kind != tDuration {
			return nil, &posError{d.pos, fmt.Sprintf("expected a window such as 30d, found %s", d)}
		}
		r.Value = d.text
		return r, nil
	}
	return nil, &posError{t.pos, fmt.Sprintf("expected a comparison after attribute %q, found %s", attr, t)}
}

// value := STRING | NUMBER | true | false
func (p *parser) value() (any, error) {
	t := p.next()
	switch {
	case t.kind == tString:
		return t.text, nil
	case t.kind == tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &posError{t.pos, fmt.Sprintf("number %s is out of range", t.text)}
		}
		return f, nil
	case t.kind == tIdent && (t.text == "true" || t.text == "false"):
		return t.text == "true", nil
	}
	return nil, &posError{t.pos, fmt.Sprintf("expected a value (a string, number, true or false), found %s", t)}
}

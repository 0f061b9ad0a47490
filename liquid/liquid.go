package liquid

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
	"github.com/osteele/liquid/tags"
)

// Limits bound one render of one template.
type Limits struct {
	// MaxOutputBytes bounds what a render writes, and every string a
	// filter or a capture block builds on the way.
	MaxOutputBytes int
	// MaxIterations bounds the loop iterations of a render, all loops
	// together (nested loops count every inner iteration).
	MaxIterations int
	// MaxItems bounds the arrays a filter takes or makes (a range such as
	// (1..1000000) is an array of that many items).
	MaxItems int
	// Timeout is the render's deadline, checked at every write and loop
	// iteration (a filter's work is bounded by the sizes above).
	Timeout time.Duration
}

// DefaultLimits are generous for any real message: Gmail clips emails at
// about 100 KB, and a message listing ten thousand items is already absurd.
var DefaultLimits = Limits{MaxOutputBytes: 1 << 20, MaxIterations: 10_000, MaxItems: 10_000, Timeout: time.Second}

// MaxSourceBytes bounds a template field's source.
const MaxSourceBytes = 256 << 10

// Kind says what went wrong with a template.
type Kind string

// The kinds of template errors.
const (
	KindSyntax  Kind = "syntax"  // the source does not parse, or names an unknown filter or tag
	KindLimit   Kind = "limit"   // a render went over one of its Limits
	KindMissing Kind = "missing" // a required variable was missing at a strict render
	KindRender  Kind = "render"  // any other failure while rendering (a filter's error)
)

// Error is a problem with a template, at a place in its source.
type Error struct {
	Kind Kind
	// Line and Column are 1-based; Column is 0 when only the line is known.
	Line, Column int
	Message      string
	// Variable names the missing variable of a KindMissing error.
	Variable string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.Message
	case e.Column == 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Warning is a problem a lenient render found and went past: a required
// variable that was missing and rendered as nothing.
type Warning struct {
	// Field names the template field (RenderContent sets it).
	Field    string `json:"field,omitempty"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Variable string `json:"variable"`
	Message  string `json:"message"`
}

// Engine parses templates with Kalcifer's filters and tags and renders them
// under its limits. It is safe for concurrent use.
type Engine struct {
	cfg      render.Config // what templates are compiled and rendered with
	internal render.Config // compiles the tags instrument splices into templates
	limits   Limits
	filters  map[string]bool
	tick     render.Node
	capture  *render.BlockNode
}

// NewEngine returns an engine whose renders are bounded by limits.
func NewEngine(limits Limits) *Engine {
	e := &Engine{cfg: render.NewConfig(), internal: render.NewConfig(), limits: limits, filters: map[string]bool{}}
	filters.AddStandardFilters(boundedFilters{e})
	tags.AddStandardTags(&e.cfg)
	// They read templates from files: no template of a tenant may.
	e.cfg.UnregisterTag("include")
	e.cfg.UnregisterTag("render")
	e.addInternalTags()
	return e
}

// Template is a parsed, checked template, ready to render any number of
// times, concurrently.
type Template struct {
	root   render.Node
	engine *Engine
}

// Parse parses and checks source. Any problem is an *Error of KindSyntax
// naming its line and column: a syntax error, an unknown tag or filter.
func (e *Engine) Parse(source string) (*Template, error) {
	if len(source) > MaxSourceBytes {
		return nil, &Error{Kind: KindSyntax, Message: fmt.Sprintf("the template is longer than %d KiB", MaxSourceBytes>>10)}
	}
	toks := scan(source)
	root, perr := e.cfg.Compile(source, parser.SourceLoc{LineNo: 1})
	if perr != nil {
		return nil, locate(perr, toks)
	}
	for _, t := range toks {
		for _, f := range filterNames(lex(t.Args)) {
			if !e.filters[f.text] {
				return nil, &Error{Kind: KindSyntax, Line: t.argsLine(f.off), Column: t.argsColumn(f.off),
					Message: fmt.Sprintf("unknown filter %q", f.text)}
			}
		}
	}
	return &Template{root: e.instrument(root, toks), engine: e}, nil
}

// Check reports whether source parses (see Parse).
func (e *Engine) Check(source string) error {
	_, err := e.Parse(source)
	return err
}

// messagePattern takes apart the library's error text:
// "Liquid error (line 2): syntax error in "x |" in {{ x | }}".
var messagePattern = regexp.MustCompile(`(?s)^Liquid error(?: \(line \d+\))?: (.*)$`)

// locate turns a library error into an *Error, finding its column from the
// token the library quotes.
func locate(err parser.Error, toks []token) *Error {
	msg := err.Error()
	if m := messagePattern.FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	out := &Error{Kind: KindSyntax, Line: err.LineNumber(), Message: msg}
	for _, t := range toks {
		if t.SourceLoc.LineNo == out.Line && strings.HasSuffix(msg, " in "+t.Source) {
			out.Column = t.Column
			out.Message = strings.TrimSuffix(msg, " in "+t.Source) + " (in " + t.Source + ")"
			break
		}
	}
	out.Message = strings.ReplaceAll(out.Message, "  ", " ")
	return out
}

// stateKey is where a render's state sits among the template's variables.
// No Liquid identifier can spell it (it holds a space), so templates cannot
// read or replace it.
const stateKey = " kalcifer render"

// renderState is one render's budget and findings.
type renderState struct {
	ctx        context.Context
	limits     Limits
	iterations int
	strict     bool
	warnings   []Warning
	seen       map[string]bool
}

// deadline reports the render's deadline or cancellation as a limit error.
func (s *renderState) deadline() error {
	if err := s.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &Error{Kind: KindLimit, Message: fmt.Sprintf("the render took longer than its %v deadline", s.limits.Timeout)}
		}
		return &Error{Kind: KindLimit, Message: "the render was cancelled"}
	}
	return nil
}

// Render renders t with vars (customer, event, journey, instance…). Strict
// renders (sends) fail on the first required variable that is missing;
// lenient ones (previews) render it as nothing and report a warning. Errors
// are *Error values.
func (t *Template) Render(ctx context.Context, vars map[string]any, strict bool) (string, []Warning, error) {
	limits := t.engine.limits
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	st := &renderState{ctx: ctx, limits: limits, strict: strict, seen: map[string]bool{}}
	bindings := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		bindings[k] = v
	}
	bindings[stateKey] = st
	out := &boundedWriter{st: st}
	if err := render.Render(t.root, out, bindings, t.engine.cfg); err != nil {
		return "", st.warnings, renderError(err)
	}
	return out.buf.String(), st.warnings, nil
}

// renderError finds the *Error behind a library render error, or makes one.
func renderError(err render.Error) error {
	var own *Error
	if errors.As(err, &own) {
		if own.Line == 0 {
			own.Line = err.LineNumber()
		}
		return own
	}
	var fe expressions.FilterError
	if errors.As(err, &fe) && errors.As(fe.Err, &own) {
		own.Line = err.LineNumber()
		return own
	}
	msg := err.Error()
	if m := messagePattern.FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	return &Error{Kind: KindRender, Line: err.LineNumber(), Message: msg}
}

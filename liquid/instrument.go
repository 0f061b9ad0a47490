package liquid

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
)

// The engine's own tags. They are known only to the internal config, so a
// template that spells them is refused as naming an unknown tag.
const (
	tickTag    = "kalcifer_tick"
	requireTag = "kalcifer_require"
	captureTag = "kalcifer_capture"
)

// addInternalTags defines the engine's own tags and compiles the nodes that
// instrument splices into every template.
func (e *Engine) addInternalTags() {
	e.internal.AddTag(tickTag, func(string) (func(io.Writer, render.Context) error, error) {
		return tick, nil
	})
	e.internal.AddTag(requireTag, compileRequire)
	e.internal.AddBlock(captureTag).Compiler(func(render.BlockNode) (func(io.Writer, render.Context) error, error) {
		return boundedCapture, nil
	})
	e.tick = e.internalNode("{% " + tickTag + " %}")
	e.capture = e.internalNode("{% " + captureTag + " x %}{% end" + captureTag + " %}").(*render.BlockNode)
}

// internalNode compiles a one-node template of the engine's own tags.
func (e *Engine) internalNode(source string) render.Node {
	root, err := e.internal.Compile(source, parser.SourceLoc{LineNo: 1})
	if err != nil {
		panic(fmt.Sprintf("liquid: compile %s: %v", source, err))
	}
	return root.(*render.SeqNode).Children[0]
}

// instrument splices the limits into a compiled template: a tick at the
// start of every loop body, a requirement before every output that starts
// with a variable and has no default, and the bounded renderer for every
// capture block. toks are the template's tags and outputs, for the
// requirements' columns.
func (e *Engine) instrument(root render.Node, toks []token) render.Node {
	columns := map[string][]int{} // "line:source" → columns, in source order
	for _, t := range toks {
		if t.Type == parser.ObjTokenType {
			k := strconv.Itoa(t.SourceLoc.LineNo) + ":" + t.Source
			columns[k] = append(columns[k], t.Column)
		}
	}
	var walk func(nodes []render.Node) []render.Node
	walk = func(nodes []render.Node) []render.Node {
		out := make([]render.Node, 0, len(nodes))
		for _, n := range nodes {
			switch n := n.(type) {
			case *render.SeqNode:
				n.Children = walk(n.Children)
			case *render.BlockNode:
				n.Body = walk(n.Body)
				for _, c := range n.Clauses {
					c.Body = walk(c.Body)
				}
				switch n.Name {
				case "for", "tablerow":
					n.Body = append([]render.Node{e.tick}, n.Body...)
				case "capture":
					bounded := *e.capture
					bounded.Token, bounded.Body, bounded.Clauses = n.Token, n.Body, n.Clauses
					out = append(out, &bounded)
					continue
				}
			case *render.ObjectNode:
				k := strconv.Itoa(n.SourceLoc.LineNo) + ":" + n.Source
				col := 0
				if cs := columns[k]; len(cs) > 0 {
					col, columns[k] = cs[0], cs[1:]
				}
				if req := e.requirement(n.Token, col); req != nil {
					out = append(out, req)
				}
			}
			out = append(out, n)
		}
		return out
	}
	return walk([]render.Node{root})[0]
}

// requirement returns the node that checks an output's variable, or nil
// when the output needs none: it does not start with a variable, or it
// applies default, which is there for when the variable is missing.
func (e *Engine) requirement(t parser.Token, column int) render.Node {
	lexemes := lex(t.Args)
	for _, f := range filterNames(lexemes) {
		if f.text == "default" {
			return nil
		}
	}
	if path, _ := leadingPath(lexemes); path == nil {
		return nil
	}
	// Hex, so that no expression can end the tag early.
	return e.internalNode(fmt.Sprintf("{%% %s %d %d %s %%}", requireTag, t.SourceLoc.LineNo, column, hex.EncodeToString([]byte(t.Args))))
}

func stateOf(ctx render.Context) *renderState {
	return ctx.Get(stateKey).(*renderState)
}

// tick counts one loop iteration against the render's budget.
func tick(_ io.Writer, ctx render.Context) error {
	st := stateOf(ctx)
	st.iterations++
	if st.iterations > st.limits.MaxIterations {
		return &Error{Kind: KindLimit, Message: fmt.Sprintf("the loops ran more than %d iterations", st.limits.MaxIterations)}
	}
	return st.deadline()
}

// boundedCapture is the capture tag with its output bounded like a
// render's: the library's own collects it without limit.
func boundedCapture(_ io.Writer, ctx render.Context) error {
	w := &boundedWriter{st: stateOf(ctx)}
	if err := ctx.RenderChildren(w); err != nil {
		return err
	}
	ctx.Set(strings.TrimSpace(ctx.TagArgs()), w.buf.String())
	return nil
}

// compileRequire compiles "LINE COLUMN HEX(EXPRESSION)": a check that the
// variable EXPRESSION starts with is there when the output renders.
func compileRequire(args string) (func(io.Writer, render.Context) error, error) {
	var line, column int
	var expr string
	if _, err := fmt.Sscanf(args, "%d %d %x", &line, &column, &expr); err != nil {
		return nil, fmt.Errorf("liquid: bad %s arguments %q: %w", requireTag, args, err)
	}
	path, name := leadingPath(lex(expr))
	return func(_ io.Writer, ctx render.Context) error {
		if present(ctx.Bindings(), path) {
			return nil
		}
		st := stateOf(ctx)
		msg := fmt.Sprintf("required variable %s is missing; give it a default if it may be: {{ %s | default: \"…\" }}", name, name)
		if st.strict {
			return &Error{Kind: KindMissing, Line: line, Column: column, Variable: name, Message: msg}
		}
		if !st.seen[name] {
			st.seen[name] = true
			st.warnings = append(st.warnings, Warning{Line: line, Column: column, Variable: name, Message: msg})
		}
		return nil
	}, nil
}

// present reports whether path leads to a value that is not null. Values of
// types it does not know (the library's ranges, for instance) count as
// present.
func present(vars map[string]any, path []step) bool {
	var v any = vars
	for _, s := range path {
		switch x := v.(type) {
		case map[string]any:
			if !s.isKey {
				return false
			}
			var ok bool
			if v, ok = x[s.key]; !ok {
				return false
			}
		case []any:
			switch {
			case !s.isKey && s.index >= -len(x) && s.index < len(x):
				v = x[(s.index+len(x))%len(x)]
			case s.isKey && (s.key == "size" || s.key == "first" && len(x) > 0 || s.key == "last" && len(x) > 0):
				return true
			default:
				return false
			}
		case []string:
			return s.isKey && s.key == "size" || !s.isKey && s.index >= -len(x) && s.index < len(x) ||
				s.isKey && (s.key == "first" || s.key == "last") && len(x) > 0
		case string:
			return s.isKey && s.key == "size"
		case nil:
			return false
		default:
			return true
		}
	}
	return v != nil
}

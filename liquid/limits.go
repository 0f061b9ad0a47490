package liquid

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/osteele/liquid/values"
)

// boundedWriter is where a render writes: it refuses to grow past the
// output limit and stops the render at its deadline.
type boundedWriter struct {
	st  *renderState
	buf bytes.Buffer
	max int // 0: the render's MaxOutputBytes
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if err := w.st.deadline(); err != nil {
		return 0, err
	}
	limit := w.max
	if limit == 0 {
		limit = w.st.limits.MaxOutputBytes
	}
	if w.buf.Len()+len(p) > limit {
		return 0, &Error{Kind: KindLimit, Message: fmt.Sprintf("the output is longer than %d bytes", limit)}
	}
	return w.buf.Write(p)
}

// boundedFilters registers the standard filters on the engine, each wrapped
// so that it refuses inputs and results over the limits, and refuses
// before running the filters whose result could be far larger than their
// inputs (join, replace) when it would be.
type boundedFilters struct{ e *Engine }

// AddFilter implements the library's filters.FilterDictionary.
func (d boundedFilters) AddFilter(name string, fn any) {
	d.e.filters[name] = true
	limits := d.e.limits
	f := reflect.ValueOf(fn)
	d.e.cfg.AddFilter(name, func(in any, args ...any) (any, error) {
		all := append([]any{in}, args...)
		for _, v := range all {
			if err := limits.check(name, "input", v); err != nil {
				return nil, err
			}
		}
		if n := projected(name, in, args); n > limits.MaxOutputBytes {
			return nil, &Error{Kind: KindLimit, Message: fmt.Sprintf(
				"filter %q would build a value of %d bytes, more than the %d allowed", name, n, limits.MaxOutputBytes)}
		}
		// values.Call converts the arguments to the filter's parameter
		// types as the library would have.
		out, err := values.Call(f, all)
		if err != nil {
			return nil, err
		}
		if err := limits.check(name, "result", out); err != nil {
			return nil, err
		}
		return out, nil
	})
}

// check refuses a filter's input or result over the limits.
func (l Limits) check(filter, what string, v any) error {
	n, items := sizeOf(v, l.MaxOutputBytes, l.MaxItems)
	switch {
	case items > l.MaxItems:
		return &Error{Kind: KindLimit, Message: fmt.Sprintf("the %s of filter %q has more than %d items", what, filter, l.MaxItems)}
	case n > l.MaxOutputBytes:
		return &Error{Kind: KindLimit, Message: fmt.Sprintf("the %s of filter %q is larger than %d bytes", what, filter, l.MaxOutputBytes)}
	}
	return nil
}

// sizeOf measures a value: the bytes of its strings and scalars and the
// items of its largest array. It stops as soon as either is over its limit,
// so measuring a huge value costs no more than measuring one at the limit.
func sizeOf(v any, maxBytes, maxItems int) (n, items int) {
	switch v := v.(type) {
	case nil:
		return 0, 0
	case string:
		return len(v), 0
	case values.Range:
		return 8 * v.Len(), v.Len()
	case bool, int, int64, float64:
		return 8, 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		items = rv.Len()
		if items > maxItems {
			return 0, items
		}
		for i := 0; i < rv.Len() && n <= maxBytes; i++ {
			en, ei := sizeOf(rv.Index(i).Interface(), maxBytes-n, maxItems)
			n, items = n+en+1, max(items, ei)
		}
	case reflect.Map:
		items = rv.Len()
		if items > maxItems {
			return 0, items
		}
		it := rv.MapRange()
		for it.Next() && n <= maxBytes {
			kn, _ := sizeOf(it.Key().Interface(), maxBytes-n, maxItems)
			vn, vi := sizeOf(it.Value().Interface(), maxBytes-n-kn, maxItems)
			n, items = n+kn+vn, max(items, vi)
		}
	default:
		n = 8
	}
	return n, items
}

// projected is the size of what a filter whose result can be much larger
// than its inputs would build, or 0 for the others, whose results are
// checked after they run.
func projected(name string, in any, args []any) int {
	arg := func(i int) string {
		if i < len(args) {
			return text(args[i])
		}
		return ""
	}
	switch name {
	case "replace":
		s, old, repl := text(in), arg(0), arg(1)
		count := strings.Count(s, old)
		if old == "" {
			count = utf8.RuneCountInString(s) + 1
		}
		return len(s) + count*(len(repl)-len(old))
	case "replace_first", "replace_last", "append", "prepend":
		return len(text(in)) + len(arg(0)) + len(arg(1))
	case "join":
		n, _ := sizeOf(in, 1<<62, 1<<62)
		items := 1
		if rv := reflect.ValueOf(in); rv.Kind() == reflect.Slice {
			items = rv.Len()
		} else if r, ok := in.(values.Range); ok {
			items = r.Len()
		}
		return n + items*len(arg(0))
	}
	return 0
}

// text is a value as string filters see it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case values.Range:
		return "" // join measures it as an array
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map {
		return "" // measured by check
	}
	return fmt.Sprint(v)
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// MaxJSONDepth bounds the nesting of objects and arrays in a request body.
// Nothing Kalcifer accepts needs more; a deeper body is an attack or a bug.
const MaxJSONDepth = 64

// readBody reads the request body and checks everything that does not depend
// on the target type: size, media type, UTF-8, syntax, depth and trailing
// data. It returns nil for an empty body.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if e, ok := bodyTooLarge(r, err); ok {
			return nil, e
		}
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD.
	if !utf8.Valid(body) {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "request body is not valid UTF-8")
	}
	if err := checkSyntax(body, MaxJSONDepth); err != nil {
		return nil, err
	}
	return body, nil
}

// checkContentType accepts application/json (and any +json type) in UTF-8.
// A missing Content-Type is read as JSON, which is all this API speaks;
// anything else is answered 415 so that a client sending a form or text
// learns why, instead of getting a confusing syntax error.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return kalcifer.Errorf(codeUnsupportedMediaType, "Content-Type %q is not supported: send application/json (UTF-8)", ct)
}

// checkSyntax walks body's tokens once: it must hold exactly one JSON value,
// nested at most maxDepth deep, with no NUL character in any string, key or
// value. Checking depth before decoding keeps deep bodies from costing stack
// and time in the decoder. NUL is refused here, for every route and both
// backends alike, because PostgreSQL can store it neither in text nor in
// jsonb: refused later, it would be a 500 on one backend and not the other.
func checkSyntax(body []byte, maxDepth int) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // huge numbers are a type question for later, not a syntax error
	// The containers the walk is in, outermost first.
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err, dec.InputOffset())
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if len(stack) == maxDepth {
					return kalcifer.Errorf(kalcifer.EINVALID, "request body is nested too deeply (more than %d levels)", maxDepth)
				}
				stack = append(stack, jsonFrame{array: tok == '[', wantKey: tok == '{'})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
				top = nil
				if len(stack) > 0 {
					top = &stack[len(stack)-1]
				}
			}
		case string:
			if top != nil && top.wantKey {
				if strings.IndexByte(tok, 0) >= 0 {
					return nulError(jsonPath(stack), true)
				}
				top.key, top.wantKey = tok, false
				continue
			}
			if strings.IndexByte(tok, 0) >= 0 {
				return nulError(jsonPath(stack), false)
			}
		}
		// A value ended: the scalar just read, or the container just closed.
		if top == nil {
			break
		}
		if top.array {
			top.index++
		} else {
			top.wantKey = true
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return kalcifer.Errorf(kalcifer.EINVALID, "malformed JSON: unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}

// jsonFrame is one object or array checkSyntax is inside.
type jsonFrame struct {
	array   bool
	index   int    // arrays: the index of the element being read
	key     string // objects: the key of the value being read
	wantKey bool   // objects: the next string is a key
}

// jsonPath names the value being read, as error details name fields:
// "graph.nodes[2].config.subject" ("" for the body itself).
func jsonPath(stack []jsonFrame) string {
	path := ""
	for _, f := range stack {
		if f.wantKey {
			break // between members: the path is the object's
		}
		if f.array {
			path = fmt.Sprintf("%s[%d]", path, f.index)
		} else {
			path = join(path, f.key)
		}
	}
	return path
}

// nulError refuses a NUL in the string at path (inKey: in a key of the
// object at path).
func nulError(path string, inKey bool) error {
	switch {
	case path == "" && inKey:
		return kalcifer.Errorf(kalcifer.EINVALID, "request body has a key containing a NUL character (\\u0000)")
	case path == "":
		return kalcifer.Errorf(kalcifer.EINVALID, "request body must not contain NUL characters (\\u0000)")
	case inKey:
		return invalid(path, "field %q has a key containing a NUL character (\\u0000)", path)
	}
	return invalid(path, "field %q must not contain NUL characters (\\u0000)", path)
}

func syntaxError(err error, offset int64) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return kalcifer.Errorf(kalcifer.EINVALID, "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return kalcifer.Errorf(kalcifer.EINVALID, "malformed JSON: unexpected end of input")
	}
	return kalcifer.Errorf(kalcifer.EINVALID, "malformed JSON at byte %d: %s", offset, err.Error())
}

// decode reads the request body into dst, strictly: unknown fields and wrong
// types are errors naming the field. It reports whether there was a body;
// callers for which the body is required check that.
func decode(r *http.Request, dst any) (bool, error) {
	body, err := readBody(r)
	if err != nil || body == nil {
		return false, err
	}
	return true, unmarshalStrict("", body, dst)
}

// decodeRequired is decode for routes that need a body.
func decodeRequired(r *http.Request, dst any) error {
	ok, err := decode(r, dst)
	if err == nil && !ok {
		err = errBodyRequired()
	}
	return err
}

// readRequiredBody is readBody for routes that need a body.
func readRequiredBody(r *http.Request) ([]byte, error) {
	body, err := readBody(r)
	if err == nil && body == nil {
		err = errBodyRequired()
	}
	return body, err
}

func errBodyRequired() error {
	return kalcifer.Errorf(kalcifer.EINVALID, "request body is required: send a JSON object")
}

// unmarshalStrict decodes one already syntax-checked JSON value into dst,
// rejecting unknown fields. field is the path of the value inside the body
// ("" for the body itself) and prefixes the names in error messages.
func unmarshalStrict(field string, data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if name, ok := unknownField(err); ok {
			path := join(field, unknownFieldPath(data, reflect.TypeOf(dst), name))
			return invalid(path, "unknown field %q", path)
		}
		return decodeError(field, err)
	}
	return nil
}

// decodeError turns an encoding/json error into an EINVALID error whose
// detail names the offending field.
func decodeError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := join(prefix, te.Field)
		if field == "" {
			return kalcifer.Errorf(kalcifer.EINVALID, "request body must be %s, not %s", describeType(te.Type), te.Value)
		}
		return invalid(field, "field %q must be %s, not %s", field, describeType(te.Type), te.Value)
	}
	if name, ok := unknownField(err); ok {
		field := join(prefix, name)
		return invalid(field, "unknown field %q", field)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return syntaxError(err, se.Offset)
	}
	if prefix != "" {
		return invalid(prefix, "field %q is invalid: %v", prefix, err)
	}
	return kalcifer.Errorf(kalcifer.EINVALID, "request body is invalid: %v", err)
}

// describeType names a Go type the way a JSON user thinks of it.
func describeType(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a " + t.String()
}

// isNull reports whether a raw field value is JSON null.
func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// parseGraph decodes a journey graph from a request body field. It is
// decoded strictly twice: once here, for errors that name the field inside
// the body ("graph.nodes[2].colour"), and once by graph.Parse, so that the API
// accepts exactly what the CLI and the AI designer accept. Semantic
// validation (node types, configs, shape) happens in the store, inside the
// write's transaction.
func parseGraph(raw json.RawMessage) (*graph.Graph, error) {
	if err := unmarshalStrict("graph", raw, new(graph.Graph)); err != nil {
		return nil, err
	}
	g, err := graph.Parse(raw)
	if err != nil {
		return nil, invalid("graph", "field \"graph\" is malformed: %s", strings.TrimPrefix(err.Error(), "graph: "))
	}
	return g, nil
}

// nullError rejects a field sent as null where a value is required: PUT
// leaves absent fields unchanged, so null cannot mean "unchanged" too.
func nullError(field string) error {
	return invalid(field, "field %q must not be null: omit it to leave it unchanged", field)
}

// join appends a field name to a path: "settings" + "allow_reentry".
func join(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "" || strings.HasPrefix(name, "["):
		return path + name
	}
	return path + "." + name
}

var unknownFieldPattern = regexp.MustCompile(`unknown field "([^"]*)"`)

// unknownField reports the key that DisallowUnknownFields refused, if that
// is what err is about.
func unknownField(err error) (string, bool) {
	m := unknownFieldPattern.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// unknownFieldPath finds where an unknown key sits in data, decoded as t,
// for the error message: encoding/json names only the key, and "colour" is
// little help in a graph of fifty nodes. It falls back to the bare name.
func unknownFieldPath(data []byte, t reflect.Type, name string) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return name
	}
	if p := findUnknown(v, t, ""); p != "" {
		return p
	}
	return name
}

// findUnknown returns the path of the first key in v (keys in sorted order)
// that t has no field for, or "".
func findUnknown(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return "" // kept raw: any content is allowed here
	}
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		for _, k := range keys {
			var ft reflect.Type
			switch t.Kind() {
			case reflect.Map:
				ft = t.Elem()
			case reflect.Struct:
				f, ok := jsonField(t, k)
				if !ok {
					return join(path, k)
				}
				ft = f
			default:
				return ""
			}
			if p := findUnknown(x[k], ft, join(path, k)); p != "" {
				return p
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return ""
		}
		for i, e := range x {
			if p := findUnknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// jsonField returns the type of t's field that decodes the key, matching
// names as encoding/json does (exact, then case-insensitive).
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

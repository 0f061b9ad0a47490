package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
)

// checkParams refuses, in one place for every route, path and query text
// that no handler could use, so that both backends answer alike (SQLite
// would store or compare what PostgreSQL refuses with an error): a path id
// holding NUL or invalid UTF-8 names nothing that can exist (404); a query
// parameter the route's OpenAPI entry does not list, one given twice, one
// holding NUL or invalid UTF-8, and a cursor no page handed out are
// mistakes (400). It must run after routing (inline, through With or a
// Group), when the route's pattern and path parameters are known.
func (s *server) checkParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.RouteContext(r.Context())
		if err := checkPathParams(r, rctx); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := checkQuery(r.URL.RawQuery, r.Method+" "+rctx.RoutePattern()); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkPathParams answers 404 for a path parameter no id can equal. chi
// matches on the escaped path when the request had one (a customer id may
// hold "/", sent as %2F), so values are checked unescaped, as handlers
// read them.
func checkPathParams(r *http.Request, rctx *chi.Context) error {
	for i, name := range rctx.URLParams.Keys {
		if name == "*" { // the rest of the path below a mount point
			continue
		}
		v := rctx.URLParams.Values[i]
		if r.URL.RawPath != "" {
			u, err := url.PathUnescape(v)
			if err != nil {
				return kalcifer.Errorf(kalcifer.ENOTFOUND, "%s %q not found: it is not a valid URL path segment", name, v)
			}
			v = u
		}
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "%s %q not found: no id holds NUL characters or invalid UTF-8", name, v)
		}
	}
	return nil
}

// checkQuery checks a request's query string against the parameters its
// route ("GET /api/v1/journeys") documents in openapi.json.
func checkQuery(raw, route string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return kalcifer.Errorf(kalcifer.EINVALID, "the query string is malformed: %v", err)
	}
	allowed := routeQueryParams[route]
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !documented(allowed, name) && len(allowed) == 0:
			return invalid(name, "unknown query parameter %q: %s takes no query parameters", name, route)
		case !documented(allowed, name):
			return invalid(name, "unknown query parameter %q: %s accepts %s", name, route, strings.Join(allowed, ", "))
		case len(q[name]) > 1:
			return invalid(name, "query parameter %q is given %d times: give it once", name, len(q[name]))
		}
		v := q[name][0]
		switch {
		case !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0:
			return invalid(name, "query parameter %q must be UTF-8 text without NUL characters", name)
		case name == "cursor" && v != "" && !cursorPattern.MatchString(v):
			return invalid(name, "cursor %q is invalid: use the next_cursor of the previous page", v)
		}
	}
	return nil
}

// documented reports whether a query parameter name is one of allowed, or
// has the prefix of a family of them documented as "prefix.{name}" (such
// as GET /customers' attr.{name}).
func documented(allowed []string, name string) bool {
	for _, a := range allowed {
		if prefix, ok := strings.CutSuffix(a, "{name}"); ok && len(name) > len(prefix) && strings.HasPrefix(name, prefix) {
			return true
		}
		if a == name {
			return true
		}
	}
	return false
}

// cursorPattern matches the cursors pages hand out: the ids lists page by
// (kalcifer.NewID's form), or a key cursor (keyCursor) for lists by
// client-chosen ids.
var cursorPattern = regexp.MustCompile(`^([a-z]{1,16}_[0-9a-hjkmnp-tv-z]{26}|k_[A-Za-z0-9_-]+)$`)

// keyCursor is the cursor after a client-chosen id (a customer's), which
// may hold any character: "k_" and its base64url.
func keyCursor(id string) string {
	if id == "" {
		return ""
	}
	return "k_" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// fromKeyCursor is the id a keyCursor names.
func fromKeyCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(c, "k_")
	id, err := base64.RawURLEncoding.DecodeString(raw)
	if !ok || err != nil || !utf8.Valid(id) {
		return "", invalid("cursor", "cursor %q is invalid: use the next_cursor of the previous page", c)
	}
	return string(id), nil
}

// routeQueryParams lists, per route ("GET /api/v1/journeys"), the query
// parameters its entry in openapi.json documents: the document is the
// contract, and TestOpenAPIMatchesRouter keeps its routes equal to the
// router's, so the two cannot drift apart.
var routeQueryParams = queryParamsOf(openAPIDocument)

// openAPIParameter is a parameter, or a $ref to one, in openapi.json.
type openAPIParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// queryParamsOf reads the query parameters of every operation of an
// OpenAPI document; the document is embedded, so a malformed one panics.
func queryParamsOf(doc []byte) map[string][]string {
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]openAPIParameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		panic(fmt.Sprintf("api: openapi.json: %v", err))
	}
	queryNames := func(params []openAPIParameter) []string {
		var names []string
		for _, p := range params {
			if ref, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				p, ok = d.Components.Parameters[ref]
				if !ok {
					panic(fmt.Sprintf("api: openapi.json: parameter %s is not defined", ref))
				}
			}
			if p.In == "query" {
				names = append(names, p.Name)
			}
		}
		return names
	}
	out := map[string][]string{}
	for path, item := range d.Paths {
		var common []openAPIParameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &common); err != nil {
				panic(fmt.Sprintf("api: openapi.json: parameters of %s: %v", path, err))
			}
		}
		for method, raw := range item {
			switch method {
			case "parameters", "summary", "description", "servers":
				continue
			}
			var op struct {
				Parameters []openAPIParameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				panic(fmt.Sprintf("api: openapi.json: %s %s: %v", method, path, err))
			}
			out[strings.ToUpper(method)+" "+path] = append(queryNames(common), queryNames(op.Parameters)...)
		}
	}
	return out
}

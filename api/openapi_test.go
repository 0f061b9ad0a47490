package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/api"
)

// The OpenAPI document must describe exactly the routes the router serves:
// a route added without documentation, or documentation of a route that is
// gone, fails here.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	res := tb.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK)
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	res.into(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Fatalf("bearer security scheme = %+v", s)
	}
	if _, ok := doc.Components.Schemas["Error"]; !ok {
		t.Fatalf("no Error schema")
	}
	if string(api.OpenAPI()) != string(res.body) {
		t.Fatalf("api.OpenAPI() differs from the served document")
	}

	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "parameters", "summary", "description", "servers":
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	served := tb.servedRoutes()
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("openapi.json documents %s, which the router does not serve", r)
		}
	}
	if len(served) < 20 {
		t.Fatalf("only %d routes walked: %v", len(served), served)
	}
}

// Every $ref in the document points at something that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(doc, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
}

func resolves(doc map[string]any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

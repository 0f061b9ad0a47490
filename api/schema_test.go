package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kalcifer/kalcifer/api"
)

// responseSchemas compiles the document's component schemas, so that tests
// can hold real responses against what the document promises.
func responseSchemas(t *testing.T) func(name string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(api.OpenAPI()))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatalf("add openapi.json: %v", err)
	}
	return func(name string) *jsonschema.Schema {
		t.Helper()
		s, err := c.Compile("openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("compile schema %s: %v", name, err)
		}
		return s
	}
}

// Real responses of every kind match the schemas the document gives them.
func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	schema := responseSchemas(t)
	check := func(name string, res *response) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema(name).Validate(v); err != nil {
			t.Fatalf("response does not match schema %s: %v\n%s", name, err, res.body)
		}
	}

	bare := tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "bare"}).want(t, http.StatusCreated)
	check("Journey", bare)
	res := tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "full", "graph": json.RawMessage(validGraph)}).
		want(t, http.StatusCreated)
	check("Journey", res)
	var j struct{ ID string }
	res.into(t, &j)
	check("Journey", tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK))
	check("JourneyPage", tb.do("GET", "/api/v1/journeys?limit=1", tb.viewer, nil).want(t, http.StatusOK))
	check("VersionList", tb.do("GET", "/api/v1/journeys/"+j.ID+"/versions", tb.viewer, nil).want(t, http.StatusOK))
	check("Version", tb.do("GET", "/api/v1/journeys/"+j.ID+"/versions/1", tb.viewer, nil).want(t, http.StatusOK))
	check("NodeTypeList", tb.do("GET", "/api/v1/node-types", tb.viewer, nil).want(t, http.StatusOK))
	check("AuditPage", tb.do("GET", "/api/v1/audit", tb.admin, nil).want(t, http.StatusOK))
	check("CreateAPIKeyResponse", tb.do("POST", "/api/v1/api-keys", tb.admin, map[string]any{"role": "viewer"}).want(t, http.StatusCreated))
	check("APIKeyList", tb.do("GET", "/api/v1/api-keys", tb.admin, nil).want(t, http.StatusOK))
	tpl := tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "t", "channel": "push", "title": "T", "body": "B",
		"data": map[string]any{"k": "v"}}).want(t, http.StatusCreated)
	check("Template", tpl)
	var tp struct{ ID string }
	tpl.into(t, &tp)
	check("TemplatePage", tb.do("GET", "/api/v1/templates", tb.viewer, nil).want(t, http.StatusOK))
	check("TemplateVersionList", tb.do("GET", "/api/v1/templates/"+tp.ID+"/versions", tb.viewer, nil).want(t, http.StatusOK))
	check("Error", tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "u", "channel": "sms", "body": "{{ x | nope }}"}).
		want(t, http.StatusUnprocessableEntity))
	check("Info", tb.do("GET", "/info", "", nil).want(t, http.StatusOK))
	check("Health", tb.do("GET", "/health", "", nil).want(t, http.StatusOK))
	check("Ready", tb.do("GET", "/health/ready", "", nil).want(t, http.StatusOK))

	check("Error", tb.do("GET", "/api/v1/journeys/nope", tb.viewer, nil).want(t, http.StatusNotFound))
	check("Error", tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusConflict))
	check("Error", tb.do("POST", "/api/v1/journeys", tb.editor, `{"name":"x","graph":{"nodes":[{"id":"a","type":"nope"}],"edges":[]}}`).
		want(t, http.StatusUnprocessableEntity))
}

package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// templateBody is a template as the API answers it.
type templateBody struct {
	ID, Name, Channel                string
	Version                          int
	Subject, HTML, Text, Body, Title string
	Data                             map[string]string
}

type previewBody struct {
	TemplateID string `json:"template_id"`
	Version    int
	Subject    string
	HTML, Text string
	Body       string
	Title      string
	Data       map[string]string
	Warnings   []struct {
		Field, Variable string
		Line, Column    int
	}
}

func TestTemplatesCRUD(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		var tpl templateBody
		res := tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "welcome", "channel": "email",
			"subject": "Hi {{ customer.first_name }}", "html": "<p>Welcome, {{ customer.first_name | default: 'friend' }}!</p>"}).
			want(t, http.StatusCreated)
		res.into(t, &tpl)
		if tpl.ID == "" || tpl.Version != 1 || res.header.Get("Location") != "/api/v1/templates/"+tpl.ID {
			t.Fatalf("created %+v, Location %q", tpl, res.header.Get("Location"))
		}

		// Readers read; only editors write.
		tb.do("GET", "/api/v1/templates/"+tpl.ID, tb.viewer, nil).want(t, http.StatusOK)
		tb.do("GET", "/api/v1/templates?channel=email", tb.viewer, nil).want(t, http.StatusOK)
		tb.do("POST", "/api/v1/templates", tb.viewer, map[string]any{"name": "x", "channel": "sms", "body": "x"}).
			wantError(t, http.StatusForbidden, "forbidden")
		tb.do("PUT", "/api/v1/templates/"+tpl.ID, tb.viewer, map[string]any{"subject": "x", "text": "y"}).
			wantError(t, http.StatusForbidden, "forbidden")
		tb.do("DELETE", "/api/v1/templates/"+tpl.ID, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")

		// Every PUT is a new version; the old one stays listed.
		var upd templateBody
		tb.do("PUT", "/api/v1/templates/"+tpl.ID, tb.editor, map[string]any{"subject": "Hello", "text": "Plain {{ customer.id }}"}).
			want(t, http.StatusOK).into(t, &upd)
		if upd.Version != 2 || upd.Name != "welcome" || upd.HTML != "" || upd.Text != "Plain {{ customer.id }}" {
			t.Fatalf("updated %+v", upd)
		}
		var versions struct{ Data []templateBody }
		tb.do("GET", "/api/v1/templates/"+tpl.ID+"/versions", tb.viewer, nil).want(t, http.StatusOK).into(t, &versions)
		if len(versions.Data) != 2 || versions.Data[0].Version != 2 || versions.Data[1].Subject != "Hi {{ customer.first_name }}" {
			t.Fatalf("versions %+v", versions)
		}
		tb.do("PUT", "/api/v1/templates/"+tpl.ID, tb.editor, map[string]any{"channel": "sms", "body": "x"}).
			wantError(t, http.StatusUnprocessableEntity, "unprocessable")

		// Names are unique in a tenant; decoding is strict.
		tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "welcome", "channel": "sms", "body": "x"}).
			wantError(t, http.StatusConflict, "conflict")
		tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "y", "channel": "sms", "body": "x", "colour": 1}).
			wantError(t, http.StatusBadRequest, "invalid")
		tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "y", "channel": "fax", "body": "x"}).
			wantError(t, http.StatusUnprocessableEntity, "unprocessable")

		// Another tenant's template is not found, by any route.
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"GET", "", nil}, {"GET", "/versions", nil}, {"DELETE", "", nil},
			{"PUT", "", map[string]any{"subject": "x", "text": "y"}},
			{"POST", "/preview", map[string]any{"sample": map[string]any{}}},
		} {
			tb.do(r.method, "/api/v1/templates/"+tpl.ID+r.path, tb.otherAdmin, r.body).wantError(t, http.StatusNotFound, "not_found")
		}

		tb.do("DELETE", "/api/v1/templates/"+tpl.ID, tb.editor, nil).want(t, http.StatusNoContent)
		tb.do("GET", "/api/v1/templates/"+tpl.ID, tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
		var audit struct{ Data []struct{ Action string } }
		tb.do("GET", "/api/v1/audit?resource_type=template&resource_id="+tpl.ID, tb.admin, nil).want(t, http.StatusOK).into(t, &audit)
		if len(audit.Data) != 3 {
			t.Errorf("audit %+v, want create, update and delete", audit.Data)
		}
	})
}

// Liquid errors are refused at save and at preview, naming the field, the
// line and the column.
func TestTemplateLiquidErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for _, tt := range []struct {
		body         map[string]any
		field        string
		line, column int
		message      string
	}{
		{map[string]any{"name": "a", "channel": "sms", "body": "Hi\n  {{ customer.name | }}"}, "body", 2, 3, "syntax error"},
		{map[string]any{"name": "b", "channel": "push", "title": "T", "body": "B", "data": map[string]any{"url": "{{ x | shout }}"}}, "data.url", 1, 8, `unknown filter "shout"`},
		{map[string]any{"name": "c", "channel": "email", "subject": "{% if x %}", "text": "t"}, "subject", 1, 1, "unterminated"},
	} {
		e := tb.do("POST", "/api/v1/templates", tb.editor, tt.body).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		if len(e.Details) != 1 || e.Details[0].Field != tt.field || e.Details[0].Line != tt.line || e.Details[0].Column != tt.column ||
			!strings.Contains(e.Details[0].Message, tt.message) {
			t.Errorf("%v: details %+v", tt.body, e.Details)
		}
	}

	var tpl templateBody
	tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "ok", "channel": "sms", "body": "Hi"}).
		want(t, http.StatusCreated).into(t, &tpl)
	e := tb.do("POST", "/api/v1/templates/"+tpl.ID+"/preview", tb.viewer, map[string]any{"sample": map[string]any{},
		"template": map[string]any{"body": "x\ny {{ a | nope }}"}}).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if len(e.Details) != 1 || e.Details[0].Field != "body" || e.Details[0].Line != 2 || e.Details[0].Column != 10 {
		t.Errorf("preview details %+v", e.Details)
	}
	// A render that breaks a limit is a 422 too.
	e = tb.do("POST", "/api/v1/templates/"+tpl.ID+"/preview", tb.viewer, map[string]any{"sample": map[string]any{},
		"template": map[string]any{"body": "{% for a in (1..100000) %}{% for b in (1..100000) %}{% endfor %}{% endfor %}"}}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if !strings.Contains(e.Message, "iterations") {
		t.Errorf("limit error %q", e.Message)
	}
}

func TestTemplatePreview(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	schema := responseSchemas(t)
	tb.do("PATCH", "/api/v1/customers/c%2F1/profile", tb.editor, map[string]any{
		"attributes": map[string]any{"first_name": "Ada", "plan": "pro"}, "add_tags": []string{"vip"}}).want(t, http.StatusOK)

	var email templateBody
	tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "receipt", "channel": "email",
		"subject": "Thanks {{ customer.first_name }}",
		"html": `<h1>Order {{ event.data.order_id }}</h1><p>Hi {{ customer.nickname }}, plan {{ customer.plan | upcase }}` +
			`{% if customer.tags contains "vip" %} (VIP){% endif %}. <a href="https://x.example/o">Track</a></p>`}).
		want(t, http.StatusCreated).into(t, &email)

	// A stored customer, with a sample event.
	res := tb.do("POST", "/api/v1/templates/"+email.ID+"/preview", tb.viewer, map[string]any{"customer_id": "c/1",
		"sample": map[string]any{"event": map[string]any{"type": "order", "data": map[string]any{"order_id": "A-7"}}}}).want(t, http.StatusOK)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema("TemplatePreview").Validate(v); err != nil {
		t.Fatalf("preview does not match its schema: %v\n%s", err, res.body)
	}
	var p previewBody
	res.into(t, &p)
	if p.Subject != "Thanks Ada" || !strings.Contains(p.HTML, "<h1>Order A-7</h1>") || !strings.Contains(p.HTML, "plan PRO (VIP)") {
		t.Errorf("rendered %+v", p)
	}
	// The text part is derived from the rendered HTML.
	if p.Text != "Order A-7\n\nHi , plan PRO (VIP). Track (https://x.example/o)" {
		t.Errorf("derived text %q", p.Text)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Variable != "customer.nickname" || p.Warnings[0].Field != "html" || p.Warnings[0].Line != 1 {
		t.Errorf("warnings %+v", p.Warnings)
	}

	// Sample data alone (also under its other name, data).
	var push templateBody
	tb.do("POST", "/api/v1/templates", tb.editor, map[string]any{"name": "ping", "channel": "push", "title": "{{ journey.id }}",
		"body": "Hi {{ customer.first_name }}", "data": map[string]any{"url": "/i/{{ instance.id }}"}}).want(t, http.StatusCreated).into(t, &push)
	for _, key := range []string{"sample", "data"} {
		tb.do("POST", "/api/v1/templates/"+push.ID+"/preview", tb.viewer, map[string]any{key: map[string]any{
			"customer": map[string]any{"first_name": "Bo"}, "journey": map[string]any{"id": "jrn_1"}, "instance": map[string]any{"id": "ins_9"}}}).
			want(t, http.StatusOK).into(t, &p)
		if p.Title != "jrn_1" || p.Body != "Hi Bo" || p.Data["url"] != "/i/ins_9" || len(p.Warnings) != 0 {
			t.Errorf("%s: rendered %+v", key, p)
		}
	}

	// What the preview cannot render from is a 422.
	tb.do("POST", "/api/v1/templates/"+push.ID+"/preview", tb.viewer, map[string]any{"customer_id": "nobody"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/templates/"+push.ID+"/preview", tb.viewer, map[string]any{}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/templates/"+push.ID+"/preview", tb.viewer, map[string]any{"customer_id": "c/1",
		"sample": map[string]any{"customer": map[string]any{}}}).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
}

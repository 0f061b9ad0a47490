package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// Every malformed body is refused with 400 (or 413/415) before anything is
// written, with a message that says what is wrong and where.
func TestBadInput(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *setupOptions) { o.maxBodyBytes = 4 << 10 })
	deep := strings.Repeat(`{"a":`, 65) + `1` + strings.Repeat(`}`, 65)
	okBody := `{"name":"deep","description":"x","graph":null,"settings":{"allow_reentry":true}}`

	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
		field  string // the detail's field, when one is named
		msg    string // a part of the message
	}{
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}", 400, "invalid", "", "UTF-8"},
		{"too deep", deep, 400, "invalid", "", "nested too deeply"},
		{"deep array", strings.Repeat("[", 100) + strings.Repeat("]", 100), 400, "invalid", "", "nested too deeply"},
		{"malformed", `{"name":`, 400, "invalid", "", "malformed JSON"},
		{"bad token", `{"name": nope}`, 400, "invalid", "", "malformed JSON"},
		{"trailing data", `{"name":"a"} {"name":"b"}`, 400, "invalid", "", "after the JSON value"},
		{"trailing garbage", `{"name":"a"}]`, 400, "invalid", "", "after the JSON value"},
		{"not an object", `["a"]`, 400, "invalid", "", "must be an object"},
		{"wrong type", `{"name":42}`, 400, "invalid", "name", "must be a string"},
		{"wrong nested type", `{"name":"a","settings":{"allow_reentry":"yes"}}`, 400, "invalid", "settings.allow_reentry", "must be a boolean"},
		{"unknown field", `{"name":"a","colour":"red"}`, 400, "invalid", "colour", "unknown field"},
		{"unknown nested field", `{"name":"a","settings":{"allow_rentry":true}}`, 400, "invalid", "settings.allow_rentry", "unknown field"},
		{"unknown graph field", `{"name":"a","graph":{"nodes":[],"edges":[],"extra":1}}`, 400, "invalid", "graph.extra", "unknown field"},
		{"unknown node field", `{"name":"a","graph":{"nodes":[{"id":"n","type":"journey_exit"},{"id":"m","type":"journey_exit","colour":"red"}],"edges":[]}}`, 400, "invalid", "graph.nodes[1].colour", "unknown field"},
		{"wrong graph field type", `{"name":"a","graph":{"nodes":[{"id":7}],"edges":[]}}`, 400, "invalid", "graph.nodes.id", "must be a string"},
		{"wrong graph type", `{"name":"a","graph":[]}`, 400, "invalid", "graph", ""},
		{"empty body", ``, 400, "invalid", "", "required"},
		{"too large", `{"name":"` + strings.Repeat("x", 5000) + `"}`, 413, "too_large", "", "4 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tb.do("POST", "/api/v1/journeys", tb.editor, tc.body).wantError(t, tc.status, tc.code)
			if !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q does not mention %q", e.Message, tc.msg)
			}
			if tc.field != "" && (len(e.Details) != 1 || e.Details[0].Field != tc.field) {
				t.Fatalf("details = %+v, want field %q", e.Details, tc.field)
			}
		})
	}
	tb.do("POST", "/api/v1/journeys", tb.editor, okBody).want(t, http.StatusCreated)

	// PUT names the field the same way.
	j := tb.createJourney("target", true)
	for body, field := range map[string]string{
		`{"settings":{"allow_reentry":1}}`:   "settings.allow_reentry",
		`{"settings":{"allowReentry":true}}`: "settings.allowReentry",
		`{"description":false}`:              "description",
		`{"graph":{"nodes":[],"edges":{}}}`:  "graph.edges",
		`{"nmae":"typo"}`:                    "nmae",
	} {
		e := tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, body).wantError(t, http.StatusBadRequest, "invalid")
		if len(e.Details) != 1 || e.Details[0].Field != field {
			t.Fatalf("PUT %s: details = %+v, want field %q", body, e.Details, field)
		}
	}

	// Nothing refused above was stored.
	var page kalcifer.Page[kalcifer.Journey]
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 2 {
		t.Fatalf("journeys = %+v", page.Data)
	}
}

func TestTooLargeWithoutContentLength(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *setupOptions) { o.maxBodyBytes = 1 << 10 })
	// A chunked body has no Content-Length: the limit is found while reading.
	req, err := http.NewRequest("POST", tb.srv.URL+"/api/v1/journeys",
		strings.NewReader(`{"name":"`+strings.Repeat("x", 4096)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Header.Set("Authorization", "Bearer "+tb.editor)
	req.Header.Set("Content-Type", "application/json")
	res, err := tb.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d", res.StatusCode)
	}
}

func TestContentType(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for ct, status := range map[string]int{
		"application/json":                  http.StatusCreated,
		"application/json; charset=utf-8":   http.StatusCreated,
		"application/merge-patch+json":      http.StatusCreated,
		"":                                  http.StatusCreated, // read as JSON
		"text/plain":                        http.StatusUnsupportedMediaType,
		"application/x-www-form-urlencoded": http.StatusUnsupportedMediaType,
		"application/json; charset=latin1":  http.StatusUnsupportedMediaType,
	} {
		req, err := http.NewRequest("POST", tb.srv.URL+"/api/v1/journeys", strings.NewReader(`{"name":"ct"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tb.editor)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := tb.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != status {
			t.Fatalf("Content-Type %q: status %d, want %d", ct, res.StatusCode, status)
		}
	}
	// Without a body, the Content-Type does not matter.
	j := tb.createJourney("x", true)
	tb.doWith("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil,
		http.Header{"Content-Type": {"text/plain"}}).want(t, http.StatusOK)
}

package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// A channel node's Liquid is checked when the graph is saved: a syntax
// error is a 422 naming the node, the field, the line and the column.
// Activation warns of a template_id that names no template.
func TestChannelLiquidCheckedAtSave(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	graphWith := func(config string) json.RawMessage {
		return json.RawMessage(`{"nodes":[
			{"id":"in","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"go"}},
			{"id":"mail","type":"send_email","position":{"x":0,"y":100},"config":` + config + `}],
			"edges":[{"id":"e1","source":"in","target":"mail"}]}`)
	}
	e := tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "bad liquid",
		"graph": graphWith(`{"subject":"Hi","html":"<p>\n  {{ customer.name | }}</p>","to":"a@example.com"}`)}).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	if len(e.Details) != 1 || e.Details[0].NodeID != "mail" || e.Details[0].Field != "config.html" || e.Details[0].Line != 2 || e.Details[0].Column != 3 {
		t.Fatalf("details = %+v", e.Details)
	}
	e = tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "bad webhook",
		"graph": json.RawMessage(strings.Replace(string(graphWith(`{}`)), `"type":"send_email","position":{"x":0,"y":100},"config":{}`,
			`"type":"call_webhook","position":{"x":0,"y":100},"config":{"url":"https://example.com/{{ customer.id | nope }}","headers":{"X-A":"{% if %}"}}`, 1))}).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	if len(e.Details) != 2 || e.Details[0].Field != "config.url" || e.Details[1].Field != "config.headers.X-A" {
		t.Fatalf("details = %+v", e.Details)
	}

	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "no template", "graph": graphWith(`{"template_id":"nowhere"}`)}).
		want(t, http.StatusCreated).into(t, &j)
	var got struct {
		Warnings []kalcifer.Warning `json:"warnings"`
	}
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK).into(t, &got)
	found := false
	for _, w := range got.Warnings {
		found = found || (w.NodeID == "mail" && strings.Contains(w.Message, `template_id "nowhere" names no template`))
	}
	if !found {
		t.Fatalf("warnings = %+v, want one naming the missing template", got.Warnings)
	}
}

package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// textProbe is one request carrying text PostgreSQL cannot store (a NUL, or
// invalid UTF-8) somewhere: in the JSON body, a path id or a query
// parameter. In path and body, {j} is an active journey, {d} a draft one,
// {w} one entered by webhook, {i} an instance, {m} a migration and {c} a
// design conversation.
type textProbe struct {
	method, path string
	role         string // "viewer", "editor" or "admin"
	body         string
	status       int    // what the API must answer
	field        string // the field or parameter the error must name ("" for a 404)
}

// nulGraph is a valid journey graph with a NUL put in by edit.
func nulGraph(edit func(s string) string) string {
	return edit(`{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"mail","type":"send_email","label":"Welcome","position":{"x":0,"y":100},"config":{"template_id":"welcome","subject":"Hello"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":200}}],
	"edges":[{"id":"e1","source":"entry","target":"mail"},{"id":"e2","source":"mail","target":"exit"}],
	"exit_criteria":{"event_type":"unsubscribed"}}`)
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("nulGraph: no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// bodyProbes put a NUL (the JSON escape \u0000) in every kind of text
// field the API stores or looks up.
func bodyProbes() []textProbe {
	const nul = `\u0000`
	p := func(method, path, role, body, field string) textProbe {
		return textProbe{method: method, path: path, role: role, body: body, status: http.StatusBadRequest, field: field}
	}
	g := func(old, new string) string { return nulGraph(replace(old, new)) }
	return []textProbe{
		p("POST", "/journeys", "editor", `{"name":"a`+nul+`b"}`, "name"),
		p("POST", "/journeys", "editor", `{"name":"x","description":"`+nul+`"}`, "description"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"Welcome"`, `"Wel`+nul+`"`)+`}`, "graph.nodes[1].label"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"Hello"`, `"Hel`+nul+`lo"`)+`}`, "graph.nodes[1].config.subject"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"signed_up"`, `"signed`+nul+`"`)+`}`, "graph.nodes[0].config.event_type"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"id":"exit"`, `"id":"exit`+nul+`"`)+`}`, "graph.nodes[2].id"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"target":"exit"`, `"target":"`+nul+`"`)+`}`, "graph.edges[1].target"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"unsubscribed"`, `"un`+nul+`"`)+`}`, "graph.exit_criteria.event_type"),
		p("POST", "/journeys", "editor", `{"name":"x","graph":`+g(`"subject":`, `"sub`+nul+`ject":`)+`}`, "graph.nodes[1].config"),
		p("PUT", "/journeys/{d}", "editor", `{"name":"`+nul+`"}`, "name"),
		p("PUT", "/journeys/{d}", "editor", `{"description":"x`+nul+`"}`, "description"),
		p("PUT", "/journeys/{d}", "editor", `{"graph":`+g(`"Hello"`, `"`+nul+`"`)+`}`, "graph.nodes[1].config.subject"),
		p("POST", "/journeys/{d}/activate", "editor", `{"changelog":"`+nul+`"}`, "changelog"),
		p("POST", "/journeys/{j}/duplicate", "editor", `{"name":"`+nul+`"}`, "name"),
		p("POST", "/journeys/{j}/versions", "editor", `{"graph":`+nulGraph(func(s string) string { return s })+`,"changelog":"`+nul+`"}`, "changelog"),
		p("POST", "/journeys/{j}/versions", "editor", `{"graph":`+g(`"welcome"`, `"wel`+nul+`"`)+`}`, "graph.nodes[1].config.template_id"),
		p("POST", "/journeys/{j}/versions/1/publish", "editor", `{"dry_run":true,"node_mapping":{"mail":"m`+nul+`"}}`, "node_mapping.mail"),
		p("POST", "/journeys/{j}/versions/1/publish", "editor", `{"dry_run":true,"node_mapping":{"m`+nul+`":"mail"}}`, "node_mapping"),
		p("POST", "/journeys/{j}/versions/1/rollback", "editor", `{"migration_strategy":"`+nul+`"}`, "migration_strategy"),
		p("POST", "/journeys/{j}/versions/1/rollback", "editor", `{"migration_config":{"removed_node_policy":"`+nul+`"}}`, "migration_config.removed_node_policy"),
		p("POST", "/journeys/{j}/trigger", "editor", `{"customer_ids":["ok","a`+nul+`"]}`, "customer_ids[1]"),
		p("POST", "/events", "editor", `{"customer_id":"c`+nul+`","event_type":"signed_up"}`, "customer_id"),
		p("POST", "/events", "editor", `{"customer_id":"c","event_type":"signed`+nul+`"}`, "event_type"),
		p("POST", "/events", "editor", `{"id":"`+nul+`","customer_id":"c","event_type":"x"}`, "id"),
		p("POST", "/events", "editor", `{"customer_id":"c","event_type":"x","timestamp":"`+nul+`"}`, "timestamp"),
		p("POST", "/events", "editor", `{"customer_id":"c","event_type":"x","data":{"plan":"p`+nul+`"}}`, "data.plan"),
		p("POST", "/events", "editor", `{"customer_id":"c","event_type":"x","data":{"a":{"b":[1,"`+nul+`"]}}}`, "data.a.b[1]"),
		p("POST", "/events", "editor", `{"customer_id":"c","event_type":"x","data":{"k`+nul+`":1}}`, "data"),
		p("POST", "/events/batch", "editor", `{"events":[{"customer_id":"c","event_type":"x"},{"customer_id":"c","event_type":"x","data":{"s":"`+nul+`"}}]}`, "events[1].data.s"),
		p("POST", "/webhooks/{w}", "editor", `{"customer_id":"`+nul+`"}`, "customer_id"),
		p("POST", "/webhooks/{w}", "editor", `{"customer_id":"c","data":{"x":"`+nul+`"}}`, "data.x"),
		p("PATCH", "/customers/p1/profile", "editor", `{"attributes":{"note":"a`+nul+`b"}}`, "attributes.note"),
		p("PATCH", "/customers/p1/profile", "editor", `{"attributes":{"n`+nul+`":"x"}}`, "attributes"),
		p("PATCH", "/customers/p1/profile", "editor", `{"attributes":{"deep":{"list":["`+nul+`"]}}}`, "attributes.deep.list[0]"),
		p("PATCH", "/customers/p1/profile", "editor", `{"add_tags":["`+nul+`"]}`, "add_tags[0]"),
		p("PATCH", "/customers/p1/profile", "editor", `{"remove_tags":["x","`+nul+`"]}`, "remove_tags[1]"),
		p("POST", "/api-keys", "admin", `{"name":"ci`+nul+`","role":"viewer"}`, "name"),
		p("POST", "/api-keys", "admin", `{"name":"ci","role":"viewer`+nul+`"}`, "role"),
		p("PUT", "/ai/settings", "admin", `{"provider":"openai","model":"m`+nul+`","base_url":"http://127.0.0.1:1"}`, "model"),
		p("PUT", "/ai/settings", "admin", `{"provider":"openai","model":"m","base_url":"http://127.0.0.1:1/`+nul+`"}`, "base_url"),
		p("PUT", "/ai/settings", "admin", `{"provider":"openai","model":"m","api_key":"k`+nul+`"}`, "api_key"),
		p("POST", "/ai/conversations", "editor", `{"message":"send a welcome email`+nul+`"}`, "message"),
		p("POST", "/ai/conversations", "editor", `{"message":"send a welcome email","journey_id":"`+nul+`"}`, "journey_id"),
		p("POST", "/ai/conversations/{c}/message", "editor", `{"message":"`+nul+`"}`, "message"),
		p("POST", "/ai/conversations/{c}/apply", "editor", `{"name":"`+nul+`"}`, "name"),
		p("POST", "/ai/conversations/{c}/apply", "editor", `{"changelog":"`+nul+`"}`, "changelog"),
		p("POST", "/ai/explain", "viewer", `{"journey_id":"`+nul+`"}`, "journey_id"),
		p("POST", "/ai/explain", "viewer", `{"graph":`+g(`"Hello"`, `"`+nul+`"`)+`}`, "graph.nodes[1].config.subject"),
		p("POST", "/ai/node-mapping", "viewer", `{"journey_id":"`+nul+`","old_version":1,"new_version":1}`, "journey_id"),
		p("POST", "/ai/suggest", "editor", `{"journey_id":"{j}`+nul+`"}`, "journey_id"),
		p("POST", "/migrations/{m}/release", "editor", `{"instance_ids":["`+nul+`"]}`, "instance_ids[0]"),
		p("POST", "/migrations/{m}/release", "editor", `{"node_mapping":{"w1":"`+nul+`"}}`, "node_mapping.w1"),
		p("POST", "/migrations/{m}/release", "editor", `{"removed_node_policy":"`+nul+`"}`, "removed_node_policy"),
		p("POST", "/instances/{i}/pause", "editor", `{"`+nul+`":1}`, ""),
	}
}

// pathProbes put a NUL or invalid UTF-8 in every path id: no such resource
// can exist, so each answers 404.
func pathProbes() []textProbe {
	routes := []struct{ method, path, role string }{
		{"GET", "/journeys/%s", "viewer"},
		{"PUT", "/journeys/%s", "editor"},
		{"DELETE", "/journeys/%s", "editor"},
		{"POST", "/journeys/%s/activate", "editor"},
		{"POST", "/journeys/%s/archive", "editor"},
		{"POST", "/journeys/%s/duplicate", "editor"},
		{"GET", "/journeys/%s/versions", "viewer"},
		{"POST", "/journeys/%s/versions", "editor"},
		{"GET", "/journeys/%s/versions/1", "viewer"},
		{"GET", "/journeys/%s/versions/1/diff/1", "viewer"},
		{"POST", "/journeys/%s/versions/1/publish", "editor"},
		{"POST", "/journeys/%s/trigger", "editor"},
		{"GET", "/journeys/%s/instances", "viewer"},
		{"GET", "/journeys/%s/instances/by-version", "viewer"},
		{"GET", "/journeys/%s/enrolment", "viewer"},
		{"GET", "/journeys/%s/migrations", "viewer"},
		{"POST", "/webhooks/%s", "editor"},
		{"GET", "/instances/%s", "viewer"},
		{"POST", "/instances/%s/exit", "editor"},
		{"GET", "/customers/%s/profile", "viewer"},
		{"PATCH", "/customers/%s/profile", "editor"},
		{"GET", "/customers/%s/journeys", "viewer"},
		{"GET", "/migrations/%s", "viewer"},
		{"GET", "/migrations/%s/held", "viewer"},
		{"POST", "/migrations/%s/abort", "editor"},
		{"POST", "/migrations/%s/release", "editor"},
		{"GET", "/ai/conversations/%s", "viewer"},
		{"POST", "/ai/conversations/%s/message", "editor"},
		{"DELETE", "/api-keys/%s", "admin"},
	}
	bodies := map[string]string{
		"PUT /journeys/%s":                  `{"name":"x"}`,
		"POST /journeys/%s/versions":        `{"graph":` + validGraph + `}`,
		"POST /journeys/%s/trigger":         `{"customer_ids":["c"]}`,
		"POST /webhooks/%s":                 `{"customer_id":"c"}`,
		"PATCH /customers/%s/profile":       `{"attributes":{"a":1}}`,
		"POST /ai/conversations/%s/message": `{"message":"send a welcome email"}`,
	}
	var out []textProbe
	for _, id := range []string{"a%00b", "%FF", "jrn_%C3%28"} {
		for _, rt := range routes {
			out = append(out, textProbe{method: rt.method, path: fmt.Sprintf(rt.path, id), role: rt.role,
				body: bodies[rt.method+" "+rt.path], status: http.StatusNotFound})
		}
	}
	// A customer id holding an escaped slash is matched escaped, then
	// unescaped by the handler: it is checked after unescaping too.
	out = append(out,
		textProbe{method: "GET", path: "/customers/a%2F%00/profile", role: "viewer", status: http.StatusNotFound},
		textProbe{method: "PATCH", path: "/customers/a%2F%FF/profile", role: "editor", body: `{"attributes":{"a":1}}`, status: http.StatusNotFound},
		textProbe{method: "GET", path: "/journeys/{j}/versions/%00", role: "viewer", status: http.StatusNotFound},
	)
	return out
}

// queryProbes put a NUL or invalid UTF-8 in the query parameters of every
// list: 400 naming the parameter.
func queryProbes() []textProbe {
	lists := []struct {
		path, role string
		params     []string
	}{
		{"/journeys", "viewer", []string{"cursor", "name", "status"}},
		{"/journeys/{j}/instances", "viewer", []string{"cursor", "node_id", "status", "customer_id"}},
		{"/journeys/{j}/migrations", "viewer", []string{"cursor"}},
		{"/migrations/{m}/held", "viewer", []string{"cursor"}},
		{"/audit", "admin", []string{"cursor", "resource_type", "resource_id"}},
	}
	var out []textProbe
	for _, l := range lists {
		for _, name := range l.params {
			for _, v := range []string{"%00", "x%FF"} {
				out = append(out, textProbe{method: "GET", path: l.path + "?" + name + "=" + v, role: l.role,
					status: http.StatusBadRequest, field: name})
			}
		}
	}
	// A cursor no page ever handed out.
	out = append(out, textProbe{method: "GET", path: "/journeys?cursor=" + strings.Repeat("z", 300), role: "viewer",
		status: http.StatusBadRequest, field: "cursor"})
	return out
}

// Text PostgreSQL cannot store answers the same 4xx on both backends, never
// a 500: one decoding rule in the API layer, not each database's own.
func TestTextProbes(t *testing.T) {
	t.Parallel()
	probes := slices.Concat(bodyProbes(), pathProbes(), queryProbes())
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		ids := probeFixtures(tb)
		keys := map[string]string{"viewer": tb.viewer, "editor": tb.editor, "admin": tb.admin}
		failed := 0
		for _, pr := range probes {
			path, body := "/api/v1"+ids.Replace(pr.path), ids.Replace(pr.body)
			var b any
			if body != "" {
				b = body
			}
			res := tb.do(pr.method, path, keys[pr.role], b)
			if res.status != pr.status {
				failed++
				t.Errorf("%s %s %s: status %d, want %d; body: %s", pr.method, path, body, res.status, pr.status, res.body)
				continue
			}
			var e struct {
				Error apiError `json:"error"`
			}
			res.into(t, &e)
			wantCode := kalcifer.EINVALID
			if pr.status == http.StatusNotFound {
				wantCode = kalcifer.ENOTFOUND
			}
			if e.Error.Code != wantCode {
				t.Errorf("%s %s: code %q, want %q", pr.method, path, e.Error.Code, wantCode)
			}
			if pr.field != "" && (len(e.Error.Details) == 0 || e.Error.Details[0].Field != pr.field) {
				t.Errorf("%s %s %s: details %+v, want field %q", pr.method, path, body, e.Error.Details, pr.field)
			}
		}
		t.Logf("%d probes, %d answered another status than required", len(probes), failed)
	})
}

// probeFixtures makes the resources the probes name and returns the
// replacer of their placeholders.
func probeFixtures(tb *testBundle) *strings.Replacer {
	t := tb.t
	t.Helper()
	j := tb.activeJourney("probe", twoWaits("3d"))
	d := tb.createJourney("probe draft", true)
	w := tb.activeJourney("probe hook", webhookGraph)
	tb.enter(j.ID, "c1")
	in := tb.instances(j.ID, "").Data[0]
	m := tb.publish(j.ID, tb.draft(j.ID, withoutW1), map[string]any{
		"migration_strategy": "migrate_all", "migration_config": map[string]any{"removed_node_policy": "hold"}})
	tb.settled(m.ID)
	var c struct {
		ConversationID string `json:"conversation_id"`
	}
	tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": "send a welcome email"}).
		want(t, http.StatusOK).into(t, &c)
	if c.ConversationID == "" {
		t.Fatalf("no conversation")
	}
	return strings.NewReplacer("{j}", j.ID, "{d}", d.ID, "{w}", w.ID, "{i}", in.ID, "{m}", m.ID, "{c}", c.ConversationID)
}

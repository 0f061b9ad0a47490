package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/kalcifer/kalcifer"
)

func TestJourneyCRUD(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	res := tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{
		"name": "Welcome", "description": "first days", "graph": json.RawMessage(validGraph),
		"settings": map[string]any{"allow_reentry": true},
	}).want(t, http.StatusCreated)
	var j kalcifer.Journey
	res.into(t, &j)
	if j.ID == "" || j.TenantID != "default" || j.Name != "Welcome" || j.Description != "first days" ||
		j.Status != kalcifer.JourneyDraft || !j.Settings.AllowReentry || j.CurrentVersion != 0 {
		t.Fatalf("created = %+v", j)
	}
	if j.Graph == nil || len(j.Graph.Nodes) != 2 || len(j.Graph.Edges) != 1 {
		t.Fatalf("graph = %+v", j.Graph)
	}
	if loc := res.header.Get("Location"); loc != "/api/v1/journeys/"+j.ID {
		t.Fatalf("Location = %q", loc)
	}

	var got kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.ID != j.ID || got.Name != "Welcome" || got.Graph == nil {
		t.Fatalf("got = %+v", got)
	}

	// PUT is partial: only the name changes here.
	var upd kalcifer.Journey
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, map[string]any{"name": "Welcome v2"}).
		want(t, http.StatusOK).into(t, &upd)
	if upd.Name != "Welcome v2" || upd.Description != "first days" || !upd.Settings.AllowReentry || upd.Graph == nil {
		t.Fatalf("partial update changed more than the name: %+v", upd)
	}
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, map[string]any{
		"description": "", "settings": map[string]any{"allow_reentry": false},
	}).want(t, http.StatusOK).into(t, &upd)
	if upd.Name != "Welcome v2" || upd.Description != "" || upd.Settings.AllowReentry {
		t.Fatalf("update = %+v", upd)
	}
	// null is not "unchanged": it is refused.
	e := tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, `{"name":null}`).wantError(t, http.StatusBadRequest, "invalid")
	if len(e.Details) != 1 || e.Details[0].Field != "name" {
		t.Fatalf("details = %+v", e.Details)
	}
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, `{"name":"  "}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/journeys", tb.editor, `{}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")

	// A journey may start without a graph, and get one later.
	bare := tb.createJourney("Bare", false)
	if bare.Graph != nil {
		t.Fatalf("graph of a journey created without one = %+v", bare.Graph)
	}
	tb.do("PUT", "/api/v1/journeys/"+bare.ID, tb.editor, `{"graph":`+validGraph+`}`).want(t, http.StatusOK).into(t, &upd)
	if upd.Graph == nil || len(upd.Graph.Nodes) != 2 {
		t.Fatalf("graph not set: %+v", upd)
	}

	tb.do("DELETE", "/api/v1/journeys/"+j.ID, tb.editor, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("DELETE", "/api/v1/journeys/"+j.ID, tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")
}

func TestJourneyLifecycle(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	j := tb.createJourney("Onboarding", true)
	path := "/api/v1/journeys/" + j.ID

	action := func(name string, status int) *response {
		t.Helper()
		return tb.do("POST", path+"/"+name, tb.editor, nil).want(t, status)
	}
	conflict := func(name, from string) {
		t.Helper()
		e := tb.do("POST", path+"/"+name, tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
		if e.State["status"] != from {
			t.Fatalf("%s from %s: state = %v", name, from, e.State)
		}
	}

	conflict("pause", "draft")
	conflict("resume", "draft")

	var got kalcifer.Journey
	tb.do("POST", path+"/activate", tb.editor, map[string]any{"changelog": "first"}).want(t, http.StatusOK).into(t, &got)
	if got.Status != kalcifer.JourneyActive || got.CurrentVersion != 1 {
		t.Fatalf("activated = %+v", got)
	}
	conflict("activate", "active")
	conflict("resume", "active")

	// Only a draft can be deleted or have its graph changed.
	e := tb.do("DELETE", path, tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
	if e.State["status"] != "active" {
		t.Fatalf("delete state = %v", e.State)
	}
	tb.do("PUT", path, tb.editor, `{"graph":`+validGraph+`}`).wantError(t, http.StatusConflict, "conflict")
	// Its name can still change.
	tb.do("PUT", path, tb.editor, `{"name":"Onboarding (live)"}`).want(t, http.StatusOK)

	action("pause", http.StatusOK).into(t, &got)
	if got.Status != kalcifer.JourneyPaused {
		t.Fatalf("paused = %+v", got)
	}
	conflict("pause", "paused")
	action("resume", http.StatusOK).into(t, &got)
	if got.Status != kalcifer.JourneyActive || got.CurrentVersion != 1 {
		t.Fatalf("resumed = %+v", got)
	}

	var versions kalcifer.Page[kalcifer.Version]
	tb.do("GET", path+"/versions", tb.viewer, nil).want(t, http.StatusOK).into(t, &versions)
	if len(versions.Data) != 1 || versions.Data[0].Version != 1 || versions.Data[0].Changelog != "first" ||
		versions.Data[0].Status != kalcifer.VersionPublished || len(versions.Data[0].Graph.Nodes) != 2 {
		t.Fatalf("versions = %+v", versions)
	}
	var v kalcifer.Version
	tb.do("GET", path+"/versions/1", tb.viewer, nil).want(t, http.StatusOK).into(t, &v)
	if v.Version != 1 || v.JourneyID != j.ID || v.PublishedAt == nil || len(v.Graph.Nodes) != 2 {
		t.Fatalf("version 1 = %+v", v)
	}
	tb.do("GET", path+"/versions/2", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	for _, bad := range []string{"0", "-1", "abc", "1.5", "01", "99999999999999999999"} {
		e := tb.do("GET", path+"/versions/"+bad, tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
		if len(e.Details) != 1 || e.Details[0].Field != "v" {
			t.Fatalf("version %q: details = %+v", bad, e.Details)
		}
	}

	action("archive", http.StatusOK).into(t, &got)
	if got.Status != kalcifer.JourneyArchived {
		t.Fatalf("archived = %+v", got)
	}
	conflict("archive", "archived")
	conflict("activate", "archived")
	tb.do("PUT", path, tb.editor, `{"name":"x"}`).wantError(t, http.StatusConflict, "conflict")

	// Lifecycle routes take no fields but activate's changelog.
	other := tb.createJourney("Other", true)
	tb.do("POST", "/api/v1/journeys/"+other.ID+"/activate", tb.editor, `{"chnagelog":"typo"}`).
		wantError(t, http.StatusBadRequest, "invalid")
	tb.do("POST", "/api/v1/journeys/"+other.ID+"/activate", tb.editor, `{}`).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/journeys/"+other.ID+"/pause", tb.editor, `{"changelog":"x"}`).
		wantError(t, http.StatusBadRequest, "invalid")
	tb.do("POST", "/api/v1/journeys/"+other.ID+"/pause", tb.editor, `{}`).want(t, http.StatusOK)

	tb.do("POST", "/api/v1/journeys/nope/activate", tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/journeys/nope/versions", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
}

// A journey without a graph cannot be activated, and says why.
func TestActivateWithoutGraph(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	j := tb.createJourney("Empty", false)
	e := tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	if len(e.Details) == 0 {
		t.Fatalf("no details: %+v", e)
	}
}

func TestDuplicateJourney(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	src := tb.createJourney("Source", true)
	tb.do("POST", "/api/v1/journeys/"+src.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)

	var dup kalcifer.Journey
	res := tb.do("POST", "/api/v1/journeys/"+src.ID+"/duplicate", tb.editor, nil).want(t, http.StatusCreated)
	res.into(t, &dup)
	if dup.ID == src.ID || dup.Name != "Source (copy)" || dup.Status != kalcifer.JourneyDraft ||
		dup.CurrentVersion != 0 || dup.Graph == nil || len(dup.Graph.Nodes) != 2 {
		t.Fatalf("duplicate = %+v", dup)
	}
	if res.header.Get("Location") != "/api/v1/journeys/"+dup.ID {
		t.Fatalf("Location = %q", res.header.Get("Location"))
	}
	tb.do("POST", "/api/v1/journeys/"+src.ID+"/duplicate", tb.editor, map[string]any{"name": "Named"}).
		want(t, http.StatusCreated).into(t, &dup)
	if dup.Name != "Named" {
		t.Fatalf("named duplicate = %+v", dup)
	}
	tb.do("POST", "/api/v1/journeys/nope/duplicate", tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")
}

func TestJourneyPagination(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	created := map[string]bool{}
	for i := range 7 {
		created[tb.createJourney(fmt.Sprintf("Journey %d", i), true).ID] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		var page kalcifer.Page[kalcifer.Journey]
		tb.do("GET", "/api/v1/journeys?limit=3&cursor="+url.QueryEscape(cursor), tb.viewer, nil).
			want(t, http.StatusOK).into(t, &page)
		pages++
		for _, j := range page.Data {
			if seen[j.ID] {
				t.Fatalf("journey %s on two pages", j.ID)
			}
			seen[j.ID] = true
		}
		if page.NextCursor == "" {
			if len(page.Data) != 1 {
				t.Fatalf("last page has %d journeys", len(page.Data))
			}
			break
		}
		if len(page.Data) != 3 {
			t.Fatalf("page %d has %d journeys", pages, len(page.Data))
		}
		cursor = page.NextCursor
	}
	if pages != 3 || len(seen) != 7 {
		t.Fatalf("pages = %d, seen = %d", pages, len(seen))
	}
	for id := range created {
		if !seen[id] {
			t.Fatalf("journey %s missing", id)
		}
	}

	for _, bad := range []string{"0", "-3", "abc", "501", "2.5"} {
		e := tb.do("GET", "/api/v1/journeys?limit="+bad, tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
		if len(e.Details) != 1 || e.Details[0].Field != "limit" {
			t.Fatalf("limit %q: details = %+v", bad, e.Details)
		}
	}
}

func TestJourneyFilters(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	a := tb.createJourney("Welcome series", true)
	tb.createJourney("Win-back", true)
	c := tb.createJourney("welcome 100%_off", true)
	tb.do("POST", "/api/v1/journeys/"+a.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)

	list := func(query string) []string {
		t.Helper()
		var page kalcifer.Page[kalcifer.Journey]
		tb.do("GET", "/api/v1/journeys?"+query, tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
		var ids []string
		for _, j := range page.Data {
			ids = append(ids, j.ID)
		}
		return ids
	}
	if ids := list("status=active"); len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("status=active: %v", ids)
	}
	if ids := list("status=draft"); len(ids) != 2 {
		t.Fatalf("status=draft: %v", ids)
	}
	if ids := list("name=WELCOME"); len(ids) != 2 {
		t.Fatalf("name=WELCOME: %v", ids)
	}
	if ids := list("name=" + url.QueryEscape("100%_")); len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("wildcards must match literally: %v", ids)
	}
	if ids := list("name=welcome&status=draft"); len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("combined filters: %v", ids)
	}
	if ids := list("status=archived"); len(ids) != 0 {
		t.Fatalf("status=archived: %v", ids)
	}
	var empty map[string]json.RawMessage
	tb.do("GET", "/api/v1/journeys?status=archived", tb.viewer, nil).want(t, http.StatusOK).into(t, &empty)
	if string(empty["data"]) != "[]" {
		t.Fatalf("an empty list must be [], got %s", empty["data"])
	}
	e := tb.do("GET", "/api/v1/journeys?status=running", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
	if len(e.Details) != 1 || e.Details[0].Field != "status" {
		t.Fatalf("details = %+v", e.Details)
	}
}

// An invalid graph is refused with every problem named, and nothing is
// written.
func TestInvalidGraph(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	bad := `{"nodes":[
		{"id":"a","type":"event_entry","config":{}},
		{"id":"b","type":"no_such_type"},
		{"id":"w","type":"wait","config":{"duration":"soon"}}],
		"edges":[{"id":"e1","source":"a","target":"b"},{"id":"e2","source":"a","target":"ghost"},{"id":"e3","source":"b","target":"w"}]}`
	e := tb.do("POST", "/api/v1/journeys", tb.editor, `{"name":"Bad","graph":`+bad+`}`).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	if len(e.Details) < 4 {
		t.Fatalf("every problem must be listed, got %+v", e.Details)
	}
	named := map[string]bool{}
	for _, d := range e.Details {
		if d.Message == "" || (d.NodeID == "" && d.EdgeID == "" && d.Field == "") {
			t.Fatalf("a detail names no node, edge or field: %+v", d)
		}
		named[d.NodeID] = true
		named["edge:"+d.EdgeID] = true
	}
	for _, want := range []string{"a", "b", "w", "edge:e2"} {
		if !named[want] {
			t.Fatalf("no detail about %s: %+v", want, e.Details)
		}
	}
	var page kalcifer.Page[kalcifer.Journey]
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("a refused journey was stored: %+v", page.Data)
	}

	// The same on update: the old graph stays.
	j := tb.createJourney("Good", true)
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, `{"name":"Renamed","graph":`+bad+`}`).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	var got kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.Name != "Good" || len(got.Graph.Nodes) != 2 {
		t.Fatalf("a refused update was half-written: %+v", got)
	}
}

func TestNodeTypes(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var page struct {
		Data []struct {
			Type         string          `json:"type"`
			Group        string          `json:"group"`
			ConfigSchema json.RawMessage `json:"config_schema"`
		} `json:"data"`
	}
	tb.do("GET", "/api/v1/node-types", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
	types := map[string]string{}
	for _, nt := range page.Data {
		types[nt.Type] = nt.Group
	}
	for typ, group := range map[string]string{
		"event_entry": "entry", "send_email": "channel", "wait": "logic", "condition": "logic",
		"ab_split": "logic", "update_profile": "data", "journey_exit": "exit",
	} {
		if types[typ] != group {
			t.Fatalf("node type %s: group %q, want %q (all: %v)", typ, types[typ], group, types)
		}
	}
	tb.do("GET", "/api/v1/node-types", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized")
}

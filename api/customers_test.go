package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

func TestCustomerProfile(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	check := schemaChecker(t)
	tb.do("GET", "/api/v1/customers/p1/profile", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")

	// PATCH creates the profile. Big integers are stored as sent (the
	// store reads numbers back as float64, so only the PATCH answer shows
	// every digit).
	res := tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor,
		`{"attributes":{"plan":"pro","seats":12345678901234567890,"address":{"city":"Lyon"}},"add_tags":["vip","beta","vip"]}`).
		want(t, http.StatusOK)
	check("Customer", res)
	if !strings.Contains(string(res.body), `"seats":12345678901234567890`) {
		t.Fatalf("big integer not kept exactly: %s", res.body)
	}
	var c kalcifer.Customer
	if res.into(t, &c); c.ID != "p1" || c.Attributes["plan"] != "pro" || !slices.Equal(c.Tags, []string{"vip", "beta"}) {
		t.Fatalf("created = %+v", c)
	}
	got := tb.do("GET", "/api/v1/customers/p1/profile", tb.viewer, nil).want(t, http.StatusOK)
	check("Customer", got)
	if !strings.Contains(string(got.body), `"city":"Lyon"`) || !strings.Contains(string(got.body), `"plan":"pro"`) {
		t.Fatalf("stored profile = %s", got.body)
	}

	// NUL characters, which PostgreSQL cannot store, are refused up front.
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor, `{"attributes":{"note":"a\u0000b"}}`).
		wantError(t, http.StatusBadRequest, "invalid")
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor, `{"add_tags":["a\u0000"]}`).
		wantError(t, http.StatusBadRequest, "invalid")

	// null removes an attribute; attributes not named are kept; tags are
	// removed, then added.
	c = kalcifer.Customer{} // decoding into a map merges
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor,
		`{"attributes":{"plan":null,"seats":3},"remove_tags":["beta","never-there"],"add_tags":["gold"]}`).
		want(t, http.StatusOK).into(t, &c)
	if _, ok := c.Attributes["plan"]; ok || c.Attributes["seats"] != 3.0 || c.Attributes["address"] == nil ||
		!slices.Equal(c.Tags, []string{"vip", "gold"}) {
		t.Fatalf("patched = %+v", c)
	}
	created := c.CreatedAt
	c = kalcifer.Customer{}
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor, `{}`).want(t, http.StatusOK).into(t, &c)
	if !c.CreatedAt.Equal(created) || len(c.Attributes) != 2 || len(c.Tags) != 2 {
		t.Fatalf("an empty patch changed the profile: %+v", c)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"null attributes", `{"attributes":null}`, 400, []string{"attributes"}},
		{"null tags", `{"add_tags":null}`, 400, []string{"add_tags"}},
		{"attributes not object", `{"attributes":[1]}`, 400, []string{"attributes"}},
		{"tags not strings", `{"add_tags":[1]}`, 400, []string{"add_tags"}},
		{"unknown field", `{"tags":["a"]}`, 400, []string{"tags"}},
		{"empty attribute name", `{"attributes":{"":1}}`, 422, []string{"attributes."}},
		{"bad tags", `{"add_tags":["a",""],"remove_tags":["b","a"]}`, 422, []string{"add_tags[1]", "remove_tags[1]"}},
		{"long tag", `{"add_tags":["` + strings.Repeat("t", 201) + `"]}`, 422, []string{"add_tags[0]"}},
	} {
		code := "invalid"
		if tc.status == 422 {
			code = "unprocessable"
		}
		e := tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor, tc.body).wantError(t, tc.status, code)
		if got := fields(e); !slices.Equal(got, tc.fields) {
			t.Errorf("%s: fields = %v, want %v (%s)", tc.name, got, tc.fields, e.Message)
		}
	}
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.editor, nil).wantError(t, http.StatusBadRequest, "invalid")
	e := tb.do("PATCH", "/api/v1/customers/"+strings.Repeat("x", 201)+"/profile", tb.editor, `{}`).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if !slices.Equal(fields(e), []string{"id"}) {
		t.Fatalf("long id: details = %+v", e.Details)
	}

	// Customer ids are the client's: anything goes, path-escaped.
	for _, id := range []string{"a/b", "bob+1@example.com", "100%", "café ü"} {
		path := "/api/v1/customers/" + url.PathEscape(id) + "/profile"
		var c kalcifer.Customer
		tb.do("PATCH", path, tb.editor, `{"add_tags":["odd"]}`).want(t, http.StatusOK).into(t, &c)
		if c.ID != id {
			t.Fatalf("PATCH %s: id = %q, want %q", path, c.ID, id)
		}
		tb.do("GET", path, tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
		if c.ID != id || !slices.Equal(c.Tags, []string{"odd"}) {
			t.Fatalf("GET %s = %+v", path, c)
		}
	}

	// Roles and tenants.
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.viewer, `{}`).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("GET", "/api/v1/customers/p1/profile", tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	c = kalcifer.Customer{}
	tb.do("PATCH", "/api/v1/customers/p1/profile", tb.otherAdmin, `{"add_tags":["acme"]}`).want(t, http.StatusOK).into(t, &c)
	if !slices.Equal(c.Tags, []string{"acme"}) || len(c.Attributes) != 0 {
		t.Fatalf("acme's p1 = %+v", c)
	}
	tb.do("GET", "/api/v1/customers/p1/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
	if !slices.Equal(c.Tags, []string{"vip", "gold"}) {
		t.Fatalf("acme's patch changed default's p1: %+v", c)
	}
}

func TestCustomerJourneys(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	first := tb.activeJourney("First", waitingGraph)
	second := tb.activeJourney("Second", waitingGraph)

	res := tb.do("GET", "/api/v1/customers/nobody/journeys", tb.viewer, nil).want(t, http.StatusOK)
	check("InstanceList", res)
	if string(res.body) != "{\"data\":[],\"next_cursor\":\"\"}\n" {
		t.Fatalf("journeys of an unknown customer = %s", res.body)
	}

	// One event enters the customer in both journeys.
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "a/b", "event_type": "signed_up"})
	var list []kalcifer.Instance
	tb.eventually("a/b is in both journeys", func() bool {
		list = tb.customerJourneys(tb.viewer, "a/b")
		return len(list) == 2
	})
	res = tb.do("GET", "/api/v1/customers/a%2Fb/journeys", tb.viewer, nil).want(t, http.StatusOK)
	check("InstanceList", res)
	journeys := []string{list[0].JourneyID, list[1].JourneyID}
	if !slices.Contains(journeys, first.ID) || !slices.Contains(journeys, second.ID) || list[0].ID < list[1].ID {
		t.Fatalf("instances = %+v, want one per journey, newest first", list)
	}

	// Paused instances count, ended ones do not.
	tb.do("POST", "/api/v1/instances/"+list[0].ID+"/pause", tb.editor, nil).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/instances/"+list[1].ID+"/exit", tb.editor, nil).want(t, http.StatusOK)
	after := tb.customerJourneys(tb.viewer, "a/b")
	if len(after) != 1 || after[0].ID != list[0].ID || after[0].Status != kalcifer.InstancePaused {
		t.Fatalf("after pause and exit = %+v", after)
	}
	if other := tb.customerJourneys(tb.otherAdmin, "a/b"); len(other) != 0 {
		t.Fatalf("acme sees default's instances: %+v", other)
	}
	var c kalcifer.Customer
	tb.do("GET", "/api/v1/customers/a%2Fb/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
	if c.ID != "a/b" {
		t.Fatalf("profile made by routing = %+v", c)
	}
}

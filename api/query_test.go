package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// The instance list filters by customer_id, as the README promises, alone
// and with the other filters, on both backends.
func TestInstancesFilterByCustomer(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		j := tb.activeJourney("by customer", twoWaits("3d"))
		other := tb.activeJourney("other", twoWaits("3d"))
		tb.enter(j.ID, "c1", "c/2", "c3") // both journeys start on sign-up
		tb.eventually("customers in the other journey", func() bool { return len(tb.instances(other.ID, "node_id=w1").Data) == 3 })
		customers := func(journeyID, query string) []string {
			t.Helper()
			var ids []string
			for _, in := range tb.instances(journeyID, query).Data {
				ids = append(ids, in.CustomerID)
			}
			return ids
		}
		if got := customers(j.ID, ""); len(got) != 3 {
			t.Fatalf("unfiltered = %v", got)
		}
		for _, tc := range []struct {
			journey, query string
			want           int
		}{
			{j.ID, "customer_id=c1", 1},
			{j.ID, "customer_id=" + url.QueryEscape("c/2"), 1},
			{j.ID, "customer_id=c1&status=active&version=1&node_id=w1", 1},
			{j.ID, "customer_id=c1&status=completed", 0},
			{j.ID, "customer_id=c1&node_id=w2", 0},
			{j.ID, "customer_id=nobody", 0},
			{other.ID, "customer_id=c1", 1},
			{j.ID, "customer_id=", 3}, // empty: no filter, like the others
		} {
			got := customers(tc.journey, tc.query)
			if len(got) != tc.want {
				t.Errorf("%s: customers %v, want %d", tc.query, got, tc.want)
			}
			for _, c := range got {
				if want, _ := url.ParseQuery(tc.query); want.Get("customer_id") != "" && c != want.Get("customer_id") {
					t.Errorf("%s: customer %s listed", tc.query, c)
				}
			}
		}
		// The store pages a customer's instances across journeys when no
		// journey is named.
		var seen []string
		cursor := ""
		for range 3 {
			page, err := tb.store.ListInstances(context.Background(), store.InstanceFilter{
				TenantID: kalcifer.DefaultTenantID, CustomerID: "c/2", Limit: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range page.Data {
				if in.CustomerID != "c/2" {
					t.Fatalf("customer %s listed", in.CustomerID)
				}
				seen = append(seen, in.JourneyID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != 2 || seen[0] == seen[1] {
			t.Fatalf("journeys of c/2 paged as %v", seen)
		}

		// A page of one holding the customer's only instance is the last.
		var page struct {
			Data []struct {
				CustomerID string `json:"customer_id"`
			}
			NextCursor string `json:"next_cursor"`
		}
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances?customer_id=c3&limit=1", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
		if len(page.Data) != 1 || page.Data[0].CustomerID != "c3" || page.NextCursor != "" {
			t.Fatalf("page = %+v", page)
		}
	})
}

// Every route refuses a query parameter its OpenAPI entry does not list,
// naming it and the ones it accepts, and accepts every one it lists. The
// routes are walked from the router, so a new route is covered at once.
func TestUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	tb.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK).into(t, &doc)
	type parameter struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	// documented lists the query parameters of an operation; Limit and
	// Cursor are the only shared ones that are in the query.
	documented := func(method, route string) []string {
		var common []parameter
		var op struct{ Parameters []parameter }
		item := doc.Paths[route]
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &common); err != nil {
				t.Fatal(err)
			}
		}
		if err := json.Unmarshal(item[strings.ToLower(method)], &op); err != nil {
			t.Fatalf("%s %s: %v", method, route, err)
		}
		var names []string
		for _, p := range append(common, op.Parameters...) {
			switch {
			case p.In == "query":
				names = append(names, p.Name)
			case p.Ref == "#/components/parameters/Limit":
				names = append(names, "limit")
			case p.Ref == "#/components/parameters/Cursor":
				names = append(names, "cursor")
			}
		}
		return names
	}
	// Plausible values of each documented query parameter.
	values := url.Values{
		"limit": {"1"}, "cursor": {"jrn_01hzzzzzzzzzzzzzzzzzzzzzzz"}, "status": {"active"}, "version": {"1"},
		"name": {"x"}, "node_id": {"x"}, "customer_id": {"x"}, "resource_type": {"journey"}, "resource_id": {"x"}, "token": {"kwh_x"},
	}
	served := tb.servedRoutes()
	for _, r := range served {
		method, route, _ := strings.Cut(r, " ")
		if strings.HasPrefix(route, "/t/") {
			// The tracking routes are called by mail clients, not API
			// clients: the pixel never answers an error, and a link works
			// whatever a mail client's proxy appends (api/tracking.go).
			continue
		}
		if strings.HasSuffix(route, "/callbacks") {
			// Providers' callbacks carry the provider's own parameters
			// (Twilio's kalcifer_key, Vonage's receipt, Meta's hub.*), and
			// the provider's signature, not a key, admits them
			// (api/callbacks.go).
			continue
		}
		path := strings.NewReplacer("{id}", "x", "{v}", "1", "{v2}", "1", "{journey_id}", "x").Replace(route)
		accepted := documented(method, route)
		e := tb.do(method, path+"?colour=red", tb.admin, nil).wantError(t, http.StatusBadRequest, "invalid")
		if len(e.Details) != 1 || e.Details[0].Field != "colour" || !strings.Contains(e.Message, `"colour"`) {
			t.Errorf("%s %s?colour=red: %+v", method, route, e)
		}
		for _, name := range accepted {
			if !strings.Contains(e.Message, name) {
				t.Errorf("%s %s: the error does not list %s: %s", method, route, name, e.Message)
			}
			q := url.Values{name: values[name]}
			res := tb.do(method, path+"?"+q.Encode(), tb.admin, nil)
			if res.status == http.StatusBadRequest && strings.Contains(string(res.body), "unknown query parameter") {
				t.Errorf("%s %s?%s refused: %s", method, route, q.Encode(), res.body)
			}
		}
		if len(accepted) == 0 && !strings.Contains(e.Message, "takes no query parameters") {
			t.Errorf("%s %s: %s", method, route, e.Message)
		}
	}
	if len(served) < 50 {
		t.Fatalf("walked %d routes", len(served))
	}

	// A parameter given twice is ambiguous.
	e := tb.do("GET", "/api/v1/journeys?status=active&status=draft", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
	if len(e.Details) != 1 || e.Details[0].Field != "status" {
		t.Fatalf("twice: %+v", e)
	}
	// Unknown parameters are refused after authentication, not before.
	tb.do("GET", "/api/v1/journeys?colour=red", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized")
}

package api_test

import (
	"context"
	"net/http"
	"net/url"
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

package offline

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

// "the same date" is the date said last, never an attribute of its own.
func TestSameDateIsTheLastDate(t *testing.T) {
	res, err := New().Design(context.Background(), designer.Request{Message: "Start for everyone in the `renewal_due` segment. Send an email 14 days before their policy_renewal_date, then an SMS 2 days before the same date."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var until []string
	for _, n := range res.Graph.Nodes {
		if n.Type == "wait_until" {
			var c struct{ Until, Offset string }
			if err := json.Unmarshal(n.Config, &c); err != nil {
				t.Fatal(err)
			}
			until = append(until, c.Until+" "+c.Offset)
		}
	}
	if want := []string{"customer.policy_renewal_date -14d", "customer.policy_renewal_date -2d"}; !slices.Equal(until, want) {
		t.Errorf("waits until %q, want %q", until, want)
	}
}

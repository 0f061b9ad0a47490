package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

// Post and print are no channel node's, but a message's quoted text may
// name a parcel: that step is an SMS, the postcard is not understood.
func TestPostNotInQuotedText(t *testing.T) {
	res, err := New().Design(context.Background(), designer.Request{Message: "When `order_completed` fires, wait 2 days, then send an SMS \"Your parcel is on its way\". Then send a postcard."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sms := 0
	for _, n := range res.Graph.Nodes {
		if n.Type == "send_sms" {
			sms++
		}
	}
	if sms != 1 {
		t.Errorf("%d SMS nodes, want 1 (the parcel message)", sms)
	}
	listed := strings.Join(res.Unrecognized, "\n")
	if !strings.Contains(listed, "postcard") || strings.Contains(listed, "parcel") {
		t.Errorf("not understood %q: want the postcard, not the parcel message", res.Unrecognized)
	}
}

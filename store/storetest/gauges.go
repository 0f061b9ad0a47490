package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testGauges: the metrics' backlogs count stored events not yet routed and
// pending sends whose time has come — not those waiting to retry, nor
// those in flight.
func testGauges(t *testing.T, s *store.Store) {
	ctx := context.Background()
	g, err := s.ReadGauges(ctx)
	must(t, err)
	if g.Inbox != 0 || g.SendsDue != 0 || len(g.Migrations) != 0 {
		t.Fatalf("empty store's gauges = %+v", g)
	}
	_, err = s.InsertEvents(ctx, []*kalcifer.Event{{TenantID: "default", CustomerID: "g1", Type: "a"},
		{TenantID: "default", CustomerID: "g2", Type: "b"}})
	must(t, err)
	j := activeJourney(t, s)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for i, node := range []string{"due", "later", "flying"} {
			in, _ := newInstance(t, tx, j, "g"+node, true)
			send := &kalcifer.Send{Key: in.ID + ":" + node + ":1", TenantID: "default", JourneyID: j.ID, Version: 1, InstanceID: in.ID,
				NodeID: node, NodeType: "send_email", CustomerID: "g" + node, Channel: "email", Status: kalcifer.SendPending}
			if _, err := tx.InsertSend(send); err != nil {
				return err
			}
			switch i {
			case 1:
				must(t, tx.DeferSend(send.Key, "busy", tx.Now().Add(time.Hour)))
			case 2:
				must(t, tx.MarkSending([]*kalcifer.Send{send}, 7))
			}
		}
		return nil
	}))
	g, err = s.ReadGauges(ctx)
	must(t, err)
	if g.Inbox != 2 || g.SendsDue != 1 {
		t.Fatalf("gauges = %+v, want 2 events in the inbox and 1 send due", g)
	}
}

package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testSendsInWorkingSet: sends buffered in an engine transaction keep the
// ledger's guarantees. A key stored by an earlier transaction is a repeat
// for an instance in the working set; frequency caps count the stored
// sends, the buffered ones and the statuses the transaction finished; and
// FinishSends reports which sends were still open.
func testSendsInWorkingSet(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	send := func(in *kalcifer.Instance, node string) *kalcifer.Send {
		return &kalcifer.Send{Key: in.ID + ":" + node + ":1", TenantID: "default", JourneyID: j.ID, Version: 1, InstanceID: in.ID,
			NodeID: node, NodeType: "send_email", CustomerID: in.CustomerID, Channel: "email", Config: map[string]any{},
			Status: kalcifer.SendPending, Target: "channel:email"}
	}
	var in *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in, _ = newInstance(t, tx, j, "c7", true)
		ok, err := tx.InsertSend(send(in, "a"))
		must(t, err)
		if !ok {
			t.Fatal("a new instance's first send was not inserted")
		}
		return nil
	}))
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		must(t, tx.LoadInstances([]string{in.ID}))
		other, _ := newInstance(t, tx, j, "c7", true)
		again, err := tx.InsertSend(send(in, "a"))
		must(t, err)
		if again {
			t.Fatal("a key stored by an earlier transaction was inserted again")
		}
		for _, sd := range []*kalcifer.Send{send(in, "b"), send(other, "a")} {
			ok, err := tx.InsertSend(sd)
			must(t, err)
			if !ok {
				t.Fatalf("new key %s was not inserted", sd.Key)
			}
		}
		count := func(want int, what string) {
			t.Helper()
			n, err := tx.CountSends("default", "c7", "email", tx.Now().Add(-time.Hour))
			must(t, err)
			if n != want {
				t.Fatalf("%s: %d sends counted toward the cap, want %d", what, n, want)
			}
		}
		count(3, "one stored, two buffered")
		ok, err := tx.FinishSends([]store.Finish{{Send: send(in, "a"), Status: kalcifer.SendFailed, Detail: "no"},
			{Send: send(in, "b"), Status: kalcifer.SendFailed, Detail: "no"}, {Send: send(in, "zz"), Status: kalcifer.SendSent}})
		must(t, err)
		if !ok[0] || !ok[1] || ok[2] {
			t.Fatalf("finished = %v, want the two open sends and not the unknown one", ok)
		}
		count(1, "after two failed")
		ok2, err := tx.InsertSend(send(other, "c"))
		must(t, err)
		if !ok2 {
			t.Fatal("a send after the count was not inserted")
		}
		count(2, "a send buffered after the count")
		return nil
	}))
	list, err := s.ListSends(ctx, "default", in.ID)
	must(t, err)
	if len(list) != 2 || list[0].Status != kalcifer.SendFailed || list[1].Status != kalcifer.SendFailed {
		t.Fatalf("stored sends of the instance = %+v, want a and b, failed", list)
	}
}

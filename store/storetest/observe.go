package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// recorder is an Observer that keeps what it was shown.
type recorder struct {
	inTx      []store.Written
	committed []store.Written
	fail      error // returned by InTx
}

func (r *recorder) InTx(_ *store.EngineTx, w *store.Written) error {
	r.inTx = append(r.inTx, *w)
	return r.fail
}

func (r *recorder) Committed(w *store.Written) { r.committed = append(r.committed, *w) }

func testObservers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rec := &recorder{}
	s.Observe(rec)
	j := activeJourney(t, s)

	// A transaction that writes nothing an observer sees is not shown.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error { return nil }))
	if len(rec.inTx)+len(rec.committed) != 0 {
		t.Fatalf("an empty transaction was observed: %+v", rec)
	}

	// A start is shown inside the transaction and after it, with its steps.
	var in *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		in = &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1,
			CustomerID: "c1", Status: kalcifer.InstanceActive, State: []byte(`{"paths":[]}`), Nodes: []string{"exit"}}
		if _, err := tx.StartInstance(in, false); err != nil {
			return err
		}
		return tx.SaveInstance(in, []kalcifer.Step{{Version: 1, NodeID: "entry", Type: "event_entry", Result: "default", At: tx.Now()}}, nil)
	}))
	if len(rec.inTx) != 1 || len(rec.committed) != 1 {
		t.Fatalf("observed %d in the transaction and %d after, want 1 and 1", len(rec.inTx), len(rec.committed))
	}
	got := rec.committed[0].Instances
	if len(got) != 1 || !got[0].Created || got[0].From != "" || got[0].Status != kalcifer.InstanceActive ||
		got[0].JourneyID != j.ID || got[0].CustomerID != "c1" || len(got[0].Steps) != 1 || got[0].Steps[0].NodeID != "entry" ||
		len(got[0].Nodes) != 1 || got[0].Nodes[0] != "exit" {
		t.Fatalf("start observed as %+v", got)
	}

	// Ending it after reading it reports the status it had.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		read, err := tx.Instance(in.ID)
		if err != nil {
			return err
		}
		read.Status, read.Nodes = kalcifer.InstanceCompleted, nil
		return tx.SaveInstance(read, []kalcifer.Step{{Version: 1, NodeID: "exit", Type: "journey_exit", Result: "ended", At: tx.Now()}}, nil)
	}))
	if got := rec.committed[1].Instances; len(got) != 1 || got[0].Created || got[0].From != kalcifer.InstanceActive ||
		got[0].Status != kalcifer.InstanceCompleted {
		t.Fatalf("end observed as %+v", got)
	}

	// A finished send is shown with its final status.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		send := &kalcifer.Send{Key: in.ID + ":mail:1", TenantID: "default", JourneyID: j.ID, Version: 1, InstanceID: in.ID,
			NodeID: "mail", NodeType: "send_email", CustomerID: "c1", Channel: "email", Config: map[string]any{}, Status: kalcifer.SendPending}
		if _, err := tx.InsertSend(send); err != nil {
			return err
		}
		_, err := tx.FinishSend(send, kalcifer.SendFailed, "HTTP 400")
		return err
	}))
	if got := rec.committed[2].Sends; len(got) != 1 || got[0].Status != kalcifer.SendFailed || got[0].Detail != "HTTP 400" ||
		got[0].JourneyID != j.ID {
		t.Fatalf("finished send observed as %+v", got)
	}

	// An observer's error rolls the transaction back, and nobody hears of
	// it after.
	rec.fail = errors.New("counter write failed")
	err := s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		other := &kalcifer.Instance{ID: kalcifer.NewID("ins"), TenantID: "default", JourneyID: j.ID, Version: 1,
			CustomerID: "c2", Status: kalcifer.InstanceActive, State: []byte(`{"paths":[]}`)}
		if _, err := tx.StartInstance(other, false); err != nil {
			return err
		}
		return tx.SaveInstance(other, nil, nil)
	})
	if !errors.Is(err, rec.fail) {
		t.Fatalf("error = %v, want the observer's", err)
	}
	if len(rec.committed) != 3 {
		t.Fatalf("a rolled-back transaction was reported committed")
	}
	list, err := s.CustomerInstances(ctx, "default", "c2")
	must(t, err)
	if len(list) != 0 {
		t.Fatal("the observer's error did not roll the transaction back")
	}
}

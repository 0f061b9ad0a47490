package store

import (
	"time"

	"github.com/kalcifer/kalcifer"
)

// What engine transactions wrote, for those who watch the engine: the
// analytics counters (inside the transaction, so they commit with the
// steps), and the live feeds and outgoing webhooks (after the commit).
//
// An Observer is registered once, before the engine starts (Store.Observe).
// The store records what each engine transaction writes only when an
// observer is registered, so a store without one pays nothing.

// Written is what one engine transaction wrote.
type Written struct {
	// At is the transaction's time (EngineTx.Now).
	At time.Time
	// Instances are the instances the transaction saved or moved, in the
	// order it wrote them, each with the steps it appended.
	Instances []SavedInstance
	// Sends are the sends the transaction finished (FinishSend), with their
	// final Status and Detail.
	Sends []kalcifer.Send
	// Deliveries are the delivery statuses it recorded (AdvanceDelivery).
	Deliveries []AdvancedDelivery
}

// Empty reports whether the transaction wrote nothing an observer sees.
func (w *Written) Empty() bool {
	return len(w.Instances) == 0 && len(w.Sends) == 0 && len(w.Deliveries) == 0
}

// SavedInstance is an instance as a transaction left it, with the history
// steps it appended.
type SavedInstance struct {
	ID, TenantID, JourneyID, CustomerID string
	// Version is the journey version the instance runs after the write.
	Version int
	// Created is set when the instance started in this transaction.
	Created bool
	// Status and Reason are the instance's status after the write; From is
	// its status before ("" when Created, or when the transaction did not
	// read it first).
	Status, From kalcifer.InstanceStatus
	Reason       string
	// Nodes are the nodes its paths are at after the write.
	Nodes []string
	// CreatedAt is when the instance started.
	CreatedAt time.Time
	Steps     []kalcifer.Step
}

// AdvancedDelivery is a delivery status recorded on a send.
type AdvancedDelivery struct {
	Send     kalcifer.Send // as read before the update
	Delivery string
	At       time.Time
}

// Observer watches engine transactions.
type Observer interface {
	// InTx runs inside the engine transaction, after its work and before
	// it commits, with everything it wrote; an error rolls it back. It is
	// for writes that must commit with the engine's (counters).
	InTx(t *EngineTx, w *Written) error
	// Committed runs after the transaction committed, on the goroutine
	// that committed it: it must return quickly and never block.
	Committed(w *Written)
}

// Observe registers o. It must be called before the store is used by the
// engine; observers run in the order they were registered.
func (s *Store) Observe(o Observer) {
	s.observers = append(s.observers, o)
}

// observing reports whether the transaction records what it writes.
func (t *EngineTx) observing() bool { return t.written != nil }

// noteLoaded remembers the status of an instance the transaction read.
func (t *EngineTx) noteLoaded(in *kalcifer.Instance) {
	if t.observing() {
		if _, ok := t.loaded[in.ID]; !ok {
			t.loaded[in.ID] = in.Status
		}
	}
}

// recordInstance notes a saved or moved instance and its new steps.
func (t *EngineTx) recordInstance(in *kalcifer.Instance, created bool, from kalcifer.InstanceStatus, steps []kalcifer.Step) {
	if !t.observing() {
		return
	}
	t.written.Instances = append(t.written.Instances, SavedInstance{ID: in.ID, TenantID: in.TenantID, JourneyID: in.JourneyID,
		CustomerID: in.CustomerID, Version: in.Version, Created: created, Status: in.Status, From: from, Reason: in.Reason,
		Nodes: append([]string(nil), in.Nodes...), CreatedAt: in.CreatedAt, Steps: append([]kalcifer.Step(nil), steps...)})
}

// observeInTx runs the observers inside the transaction.
func (t *EngineTx) observeInTx() error {
	if !t.observing() || t.written.Empty() {
		return nil
	}
	t.written.At = t.now
	for _, o := range t.s.observers {
		if err := o.InTx(t, t.written); err != nil {
			return err
		}
	}
	return nil
}

// observeCommitted tells the observers about a committed transaction.
func (s *Store) observeCommitted(w *Written) {
	if w == nil || w.Empty() {
		return
	}
	for _, o := range s.observers {
		o.Committed(w)
	}
}

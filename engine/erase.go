package engine

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// eraseAttempts bounds how often an erasure is tried again when one of the
// customer's instances moved on meanwhile (a timer fired, an event woke it).
const eraseAttempts = 5

// EraseCustomer erases a customer for good (GDPR; store.EraseCustomer):
// every active or paused instance of theirs is exited the way any instance
// is (waits cleared, pending sends never sent), then their profile, events
// and personal data in the history go, all in one transaction, with an
// audit entry that does not name them. Events arriving afterwards for the
// same id make a new, empty profile.
func (rt *Runtime) EraseCustomer(ctx context.Context, tenantID, customerID, actor string) (*kalcifer.Erasure, error) {
	p := store.EraseCustomerParams{TenantID: tenantID, CustomerID: customerID, Actor: actor,
		Exit: func(t *store.EngineTx, in *kalcifer.Instance) error {
			return rt.exitInstance(t, in, store.ErasedReason)
		},
		Scrub: scrubState,
	}
	for attempt := 1; ; attempt++ {
		e, err := rt.st.EraseCustomer(ctx, p)
		if errors.Is(err, store.ErrConflict) && attempt < eraseAttempts {
			continue
		}
		if errors.Is(err, store.ErrConflict) {
			return nil, kalcifer.Errorf(kalcifer.ECONFLICT, "the customer's journeys kept changing during the erasure; try again")
		}
		return e, err
	}
}

// scrubState removes what an instance state holds about its customer: the
// entry event, instance.data and the last send failure's text. Positions,
// visits and variants stay, so analytics keep counting the instance.
func scrubState(raw json.RawMessage) (json.RawMessage, error) {
	s, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	s.Event, s.LastFailure = nil, ""
	s.setData(nil)
	return encodeState(&s)
}

package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Alias merges customer previousID (typically an anonymous visitor) into
// customerID, as Segment's alias call does: the profile, events, journeys
// and sends of previousID become customerID's, and events sent for
// previousID from then on land on customerID. Where both are in the same
// journey, customerID's instance stays and previousID's is exited, so no
// one is in a journey twice.
//
// The merge holds both customers' event lanes, so it happens between two of
// their events, never in the middle of routing one: each customer's events
// are still routed one at a time and in order. Merging an id already merged
// into customerID changes nothing (an SDK's retry); one merged into someone
// else is a conflict.
func (rt *Runtime) Alias(ctx context.Context, tenantID, previousID, customerID, actor string) (*kalcifer.AliasResult, error) {
	if previousID == customerID {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "previous_id is the customer itself (%q): there is nothing to merge", customerID)
	}
	var res *kalcifer.AliasResult
	merge := func(t *store.EngineTx) error {
		res = nil
		into, err := lockCustomer(t, rt.cfg.EventWorkers, tenantID, customerID, previousID)
		if err != nil {
			return err
		}
		from, err := t.AliasOf(tenantID, previousID)
		if err != nil {
			return err
		}
		if from == into {
			c, err := t.Customer(tenantID, into)
			if err != nil {
				return err
			}
			res = &kalcifer.AliasResult{Customer: c, PreviousID: previousID, ExitedInstances: []string{}}
			return nil
		}
		if from != previousID {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: fmt.Sprintf("%q was merged into customer %q already; it cannot also become %q", previousID, from, into),
				State:   map[string]any{"merged_into": from}}
		}
		// The send loop locks a send before its instance: move the sends
		// first, then lock the instances.
		if err := t.MoveSends(tenantID, from, into); err != nil {
			return err
		}
		instances, err := t.InstancesToMerge(tenantID, from, into)
		if err != nil {
			return err
		}
		in := map[string]bool{} // journeys the survivor is in
		for _, i := range instances {
			if i.CustomerID == into {
				in[i.JourneyID] = true
			}
		}
		exited := []string{}
		for _, i := range instances {
			if i.CustomerID == from && in[i.JourneyID] {
				if err := rt.exitInstance(t, i, fmt.Sprintf("customer %q was merged into %q, who is in this journey already", from, into)); err != nil {
					return err
				}
				exited = append(exited, i.ID)
			}
		}
		c, err := t.MergeCustomer(store.MergeCustomerParams{TenantID: tenantID, From: from, Into: into, Actor: actor})
		if err != nil {
			return err
		}
		res = &kalcifer.AliasResult{Customer: c, PreviousID: previousID, Merged: true, ExitedInstances: exited}
		return nil
	}
	// The merge locks rows the send loop and the timers lock too; where
	// PostgreSQL breaks a deadlock (or an instance moved under it), the
	// whole merge is tried again, as it was rolled back whole.
	var err error
	for try := 0; try < 3; try++ {
		err = rt.st.WithEngineTx(ctx, merge)
		var e *kalcifer.Error
		if err == nil || errors.As(err, &e) || ctx.Err() != nil {
			break
		}
	}
	if err == store.ErrConflict {
		return nil, kalcifer.Errorf(kalcifer.ECONFLICT, "a journey of %q or %q changed during the merge; try again", previousID, customerID)
	}
	if err != nil {
		return nil, err
	}
	if res.Merged {
		rt.pokeAll() // events and waits may have changed lanes
	}
	return res, nil
}

// Identify creates a customer's profile or merges an identify into it, as
// store.IdentifyCustomer does (nested attributes merge, null removes, tags,
// first and last seen), and reports whether the profile is new. An id
// merged into another customer changes that customer. It holds the
// customer's event lane, so the change falls between two of the customer's
// events and never races a merge. POST /customers and Segment's identify
// and group call it.
func (rt *Runtime) Identify(ctx context.Context, tenantID string, in store.Identity) (c *kalcifer.Customer, created bool, err error) {
	err = rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		id, err := lockCustomer(t, rt.cfg.EventWorkers, tenantID, in.CustomerID)
		if err != nil {
			return err
		}
		in.CustomerID = id
		c, created, err = t.Identify(tenantID, in)
		return err
	})
	return c, created, err
}

// lockCustomer takes the event lanes of customer id, of the customer it was
// merged into if it is an alias, and of others, all at once (lanes are
// taken in order, so merges never wait for each other in a cycle); it
// returns the customer id stands for.
func lockCustomer(t *store.EngineTx, lanes int, tenantID, id string, others ...string) (string, error) {
	into, err := t.AliasOf(tenantID, id)
	if err != nil {
		return "", err
	}
	if err := t.LockCustomerLanes(lanes, append(others, id, into)...); err != nil {
		return "", err
	}
	// A merge may have made id an alias between the read and the locks.
	now, err := t.AliasOf(tenantID, id)
	if err != nil {
		return "", err
	}
	if now != into {
		return "", kalcifer.Errorf(kalcifer.ECONFLICT, "customer %q was merged into %q meanwhile; try again", id, now)
	}
	return into, nil
}

package api_test

import (
	"context"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

func (e *stubEngine) Alias(_ context.Context, tenantID, previousID, customerID, _ string) (*kalcifer.AliasResult, error) {
	if err := e.record(fmt.Sprintf("Alias %s %s %s", tenantID, previousID, customerID)); err != nil {
		return nil, err
	}
	return &kalcifer.AliasResult{Customer: &kalcifer.Customer{ID: customerID}, PreviousID: previousID, Merged: true, ExitedInstances: []string{}}, nil
}

func (e *stubEngine) Identify(_ context.Context, tenantID string, in store.Identity) (*kalcifer.Customer, bool, error) {
	if err := e.record(fmt.Sprintf("Identify %s %s %v", tenantID, in.CustomerID, in.Attributes)); err != nil {
		return nil, false, err
	}
	return &kalcifer.Customer{ID: in.CustomerID, Attributes: in.Attributes}, false, nil
}

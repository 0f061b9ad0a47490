package api_test

import (
	"context"
	"fmt"

	"github.com/kalcifer/kalcifer"
)

func (e *stubEngine) Alias(_ context.Context, tenantID, previousID, customerID, _ string) (*kalcifer.AliasResult, error) {
	if err := e.record(fmt.Sprintf("Alias %s %s %s", tenantID, previousID, customerID)); err != nil {
		return nil, err
	}
	return &kalcifer.AliasResult{Customer: &kalcifer.Customer{ID: customerID}, PreviousID: previousID, Merged: true, ExitedInstances: []string{}}, nil
}

func (e *stubEngine) MergeTraits(_ context.Context, tenantID, customerID string, traits map[string]any) (*kalcifer.Customer, error) {
	if err := e.record(fmt.Sprintf("MergeTraits %s %s %v", tenantID, customerID, traits)); err != nil {
		return nil, err
	}
	return &kalcifer.Customer{ID: customerID, Attributes: traits}, nil
}

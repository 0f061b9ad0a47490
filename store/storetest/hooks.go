package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testHookSubscriptions: a subscription's secret is sealed at rest and
// opened for its deliveries; events reach only the active subscriptions of
// their tenant that want them; a claim leases a delivery, a record of a
// stale claim is ignored, and the rows are tenant-scoped.
func testHookSubscriptions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, _, err := s.EnsureTenant(ctx, actor, "acme")
	must(t, err)
	j := newJourney(t, s, "default", "A", validGraph())
	sub := &kalcifer.WebhookSubscription{TenantID: "default", URL: "https://hooks.example.com/a", Events: []string{kalcifer.HookCustomerEntered}, Active: true}
	secret, err := s.CreateHookSubscription(ctx, actor, sub)
	must(t, err)
	if stored := raw(t, s, `SELECT secret FROM webhook_subscriptions WHERE id = $1`, sub.ID); strings.Contains(stored, secret) ||
		!strings.HasPrefix(stored, "enc:v1:old:") {
		t.Fatalf("stored secret = %q, want it sealed under key old", stored)
	}
	narrow := &kalcifer.WebhookSubscription{TenantID: "default", URL: "https://hooks.example.com/b", Events: []string{kalcifer.HookCustomerEntered},
		JourneyID: "jrn_other", Active: true}
	_, err = s.CreateHookSubscription(ctx, actor, narrow)
	wantCode(t, err, kalcifer.ENOTFOUND)
	theirs := &kalcifer.WebhookSubscription{TenantID: "acme", URL: "https://hooks.example.com/c", Events: []string{kalcifer.HookCustomerEntered}, Active: true}
	_, err = s.CreateHookSubscription(ctx, actor, theirs)
	must(t, err)
	if _, err := s.GetHookSubscription(ctx, "acme", sub.ID); kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
		t.Fatalf("another tenant's subscription: %v", err)
	}
	if !s.HookWanted("default", kalcifer.HookCustomerEntered, j.ID) || s.HookWanted("default", kalcifer.HookCustomerExited, j.ID) {
		t.Fatal("HookWanted does not follow the subscriptions")
	}

	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		return tx.EnqueueHooks([]kalcifer.HookEvent{
			{Type: kalcifer.HookCustomerEntered, TenantID: "default", JourneyID: j.ID, CustomerID: "c1"},
			{Type: kalcifer.HookCustomerExited, TenantID: "default", JourneyID: j.ID, CustomerID: "c1"},
		})
	}))
	claimed, err := s.ClaimHookDeliveries(ctx, 10, time.Minute)
	must(t, err)
	if len(claimed) != 1 || claimed[0].Secret != secret || claimed[0].URL != sub.URL || claimed[0].TenantID != "default" ||
		claimed[0].Attempts != 1 || !strings.Contains(string(claimed[0].Payload), `"customer_id":"c1"`) {
		t.Fatalf("claimed %+v", claimed)
	}
	again, err := s.ClaimHookDeliveries(ctx, 10, time.Minute)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	stale := claimed[0]
	stale.Attempts = 7
	must(t, s.RecordHookDelivery(ctx, &stale, store.HookResult{Status: kalcifer.HookFailed, Error: "stale"}))
	must(t, s.RecordHookDelivery(ctx, &claimed[0], store.HookResult{Status: kalcifer.HookDelivered, ResponseCode: 204}))
	log, err := s.ListHookDeliveries(ctx, "default", sub.ID, "", 10, "")
	must(t, err)
	if len(log.Data) != 1 || log.Data[0].Status != kalcifer.HookDelivered || log.Data[0].ResponseCode != 204 || log.Data[0].LastError != "" {
		t.Fatalf("log %+v", log.Data)
	}
	if _, err := s.ListHookDeliveries(ctx, "acme", sub.ID, "", 10, ""); kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
		t.Fatalf("another tenant's log: %v", err)
	}

	// Switched off, it hears nothing more.
	off := false
	_, err = s.UpdateHookSubscription(ctx, actor, "default", sub.ID, store.HookSubscriptionPatch{Active: &off})
	must(t, err)
	if s.HookWanted("default", kalcifer.HookCustomerEntered, j.ID) {
		t.Fatal("a switched-off subscription is still wanted")
	}
	must(t, s.DeleteHookSubscription(ctx, actor, "default", sub.ID))
	wantCode(t, s.DeleteHookSubscription(ctx, actor, "default", sub.ID), kalcifer.ENOTFOUND)
}

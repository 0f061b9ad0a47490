package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// TestWebhookSubscriptions walks the subscription routes: the secret is
// answered once and never listed, bad input is a 422 naming the field, a
// literal internal address is refused, viewers read and cannot write, and
// every answer matches its OpenAPI schema.
func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	schema := responseSchemas(t)
	check := func(name string, res *response) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema(name).Validate(v); err != nil {
			t.Fatalf("response does not match schema %s: %v\n%s", name, err, res.body)
		}
	}

	res := tb.do("POST", "/api/v1/webhook-subscriptions", tb.admin, map[string]any{
		"url": "https://hooks.example.com/kalcifer", "events": []string{"customer.entered", "alert.fired"}, "description": "CRM"}).
		want(t, http.StatusCreated)
	check("WebhookSubscriptionCreated", res)
	var created struct {
		ID, Secret string
		Active     bool
	}
	res.into(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || !created.Active || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created: %s", res.body)
	}
	got := tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID, tb.viewer, nil).want(t, http.StatusOK)
	check("WebhookSubscription", got)
	list := tb.do("GET", "/api/v1/webhook-subscriptions", tb.viewer, nil).want(t, http.StatusOK)
	check("WebhookSubscriptionPage", list)
	for _, body := range [][]byte{got.body, list.body} {
		if bytes.Contains(body, []byte(created.Secret)) || bytes.Contains(body, []byte(`"secret"`)) {
			t.Fatalf("the secret is shown again: %s", body)
		}
	}
	var stored string
	if err := tb.store.Backend().Q().QueryRow(context.Background(), `SELECT secret FROM webhook_subscriptions WHERE id = $1`, created.ID).
		Scan(&stored); err != nil || !strings.HasPrefix(stored, "enc:v1:") || strings.Contains(stored, created.Secret) {
		t.Fatalf("the secret is not sealed at rest: %q, %v", stored, err)
	}

	patched := tb.do("PATCH", "/api/v1/webhook-subscriptions/"+created.ID, tb.admin, map[string]any{"active": false}).want(t, http.StatusOK)
	check("WebhookSubscription", patched)
	var sub kalcifer.WebhookSubscription
	patched.into(t, &sub)
	if sub.Active || sub.URL != "https://hooks.example.com/kalcifer" || len(sub.Events) != 2 || sub.Description != "CRM" {
		t.Fatalf("after PATCH active=false: %+v", sub)
	}

	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"no url":         {map[string]any{"events": []string{"customer.entered"}}, "url is required"},
		"ftp url":        {map[string]any{"url": "ftp://x.example.com/", "events": []string{"customer.entered"}}, "scheme must be http or https"},
		"loopback":       {map[string]any{"url": "http://127.0.0.1:9/", "events": []string{"customer.entered"}}, "private network"},
		"metadata":       {map[string]any{"url": "http://169.254.169.254/latest", "events": []string{"customer.entered"}}, "link-local"},
		"no events":      {map[string]any{"url": "https://x.example.com/"}, "events is required"},
		"unknown event":  {map[string]any{"url": "https://x.example.com/", "events": []string{"customer.entred"}}, `unknown event type "customer.entred"`},
		"repeated event": {map[string]any{"url": "https://x.example.com/", "events": []string{"alert.fired", "alert.fired"}}, "listed twice"},
		"credentials":    {map[string]any{"url": "https://u:p@x.example.com/", "events": []string{"alert.fired"}}, "user name or password"},
	} {
		e := tb.do("POST", "/api/v1/webhook-subscriptions", tb.admin, c.body).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		if !strings.Contains(e.Message, c.field) {
			t.Errorf("%s: %q does not say %q", name, e.Message, c.field)
		}
	}
	tb.do("POST", "/api/v1/webhook-subscriptions", tb.admin, map[string]any{"url": "https://x.example.com/", "events": []string{"alert.fired"},
		"journey_id": "jrn_nosuch"}).wantError(t, http.StatusNotFound, "not_found")
	tb.do("PATCH", "/api/v1/webhook-subscriptions/"+created.ID, tb.admin, map[string]any{"url": "http://10.0.0.1/"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/webhook-subscriptions", tb.admin, map[string]any{"url": "https://x.example.com/", "events": []string{"alert.fired"},
		"secret": "mine"}).wantError(t, http.StatusBadRequest, "invalid")
	tb.do("POST", "/api/v1/webhook-subscriptions", tb.editor, map[string]any{"url": "https://x.example.com/", "events": []string{"alert.fired"}}).
		wantError(t, http.StatusForbidden, "forbidden")
	tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries?status=lost", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")

	// The delivery log and redelivery.
	if err := tb.store.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
		return tx.EnqueueHooks([]kalcifer.HookEvent{{Type: kalcifer.HookAlertFired, TenantID: kalcifer.DefaultTenantID}})
	}); err != nil {
		t.Fatal(err)
	}
	log := tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries", tb.viewer, nil).want(t, http.StatusOK)
	var page kalcifer.Page[kalcifer.HookDelivery]
	log.into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("a switched-off subscription got a delivery: %s", log.body)
	}
	tb.do("PATCH", "/api/v1/webhook-subscriptions/"+created.ID, tb.admin, map[string]any{"active": true}).want(t, http.StatusOK)
	if err := tb.store.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
		return tx.EnqueueHooks([]kalcifer.HookEvent{{Type: kalcifer.HookAlertFired, TenantID: kalcifer.DefaultTenantID}})
	}); err != nil {
		t.Fatal(err)
	}
	log = tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries", tb.viewer, nil).want(t, http.StatusOK)
	check("WebhookDeliveryPage", log)
	log.into(t, &page)
	if len(page.Data) != 1 || page.Data[0].Status != kalcifer.HookPending || page.Data[0].EventType != "alert.fired" {
		t.Fatalf("delivery log: %s", log.body)
	}
	again := tb.do("POST", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries/"+page.Data[0].ID+"/redeliver", tb.admin, nil).
		want(t, http.StatusAccepted)
	check("WebhookDelivery", again)
	var d kalcifer.HookDelivery
	again.into(t, &d)
	if d.RedeliveryOf != page.Data[0].ID || d.EventID != page.Data[0].EventID || !bytes.Equal(d.Payload, page.Data[0].Payload) {
		t.Fatalf("redelivery: %s", again.body)
	}
	var payload map[string]any
	if err := json.Unmarshal(d.Payload, &payload); err != nil || payload["id"] != d.EventID || payload["event_type"] != "alert.fired" {
		t.Fatalf("payload: %s", d.Payload)
	}
	tb.do("POST", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries/hdl_nosuch/redeliver", tb.admin, nil).wantError(t, http.StatusNotFound, "not_found")

	tb.do("DELETE", "/api/v1/webhook-subscriptions/"+created.ID, tb.admin, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID, tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/webhook-subscriptions/"+created.ID+"/deliveries", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
}

// TestAlertRules: rules are checked field by field, read by viewers,
// replaced and deleted by admins, and GET /alerts lists episodes.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	schema := responseSchemas(t)
	check := func(name string, res *response) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema(name).Validate(v); err != nil {
			t.Fatalf("response does not match schema %s: %v\n%s", name, err, res.body)
		}
	}
	var j struct{ ID string }
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "j", "graph": json.RawMessage(validGraph)}).
		want(t, http.StatusCreated).into(t, &j)

	res := tb.do("POST", "/api/v1/alert-rules", tb.admin, map[string]any{"name": "sends failing", "kind": "failure_rate",
		"journey_id": j.ID, "threshold": 0.2}).want(t, http.StatusCreated)
	check("AlertRule", res)
	var rule kalcifer.AlertRule
	res.into(t, &rule)
	if rule.Subject != "sends" || rule.Window != "1h" || rule.MinCount != 10 || !rule.Active {
		t.Fatalf("defaults: %+v", rule)
	}
	for name, c := range map[string]struct {
		body map[string]any
		says string
	}{
		"no kind":         {map[string]any{"name": "x"}, "kind is required"},
		"unknown kind":    {map[string]any{"name": "x", "kind": "latency"}, `unknown kind "latency"`},
		"no journey":      {map[string]any{"name": "x", "kind": "failure_rate", "threshold": 0.1}, "journey_id is required"},
		"share above 1":   {map[string]any{"name": "x", "kind": "failure_rate", "journey_id": j.ID, "threshold": 5}, "between 0 and 1"},
		"bad window":      {map[string]any{"name": "x", "kind": "delivery_rate", "channel": "email", "window": "forever"}, `window "forever"`},
		"no channel":      {map[string]any{"name": "x", "kind": "delivery_rate", "threshold": 0.9}, "channel is required"},
		"no stuck_for":    {map[string]any{"name": "x", "kind": "stuck", "journey_id": j.ID}, "stuck_for is required"},
		"stuck window":    {map[string]any{"name": "x", "kind": "stuck", "journey_id": j.ID, "stuck_for": "1h", "window": "1h"}, "belong to rate rules"},
		"bad subject":     {map[string]any{"name": "x", "kind": "failure_rate", "journey_id": j.ID, "subject": "events"}, `subject "events"`},
		"negative count":  {map[string]any{"name": "x", "kind": "failure_rate", "journey_id": j.ID, "min_count": -1}, "min_count"},
		"fractional head": {map[string]any{"name": "x", "kind": "stuck", "journey_id": j.ID, "stuck_for": "1h", "threshold": 1.5}, "number of customers"},
	} {
		e := tb.do("POST", "/api/v1/alert-rules", tb.admin, c.body).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		if !strings.Contains(e.Message, c.says) {
			t.Errorf("%s: %q does not say %q", name, e.Message, c.says)
		}
	}
	tb.do("POST", "/api/v1/alert-rules", tb.admin, map[string]any{"name": "x", "kind": "stuck", "journey_id": "jrn_nosuch", "stuck_for": "1h"}).
		wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/alert-rules", tb.editor, map[string]any{"name": "x", "kind": "delivery_rate", "channel": "email"}).
		wantError(t, http.StatusForbidden, "forbidden")

	replaced := tb.do("PUT", "/api/v1/alert-rules/"+rule.ID, tb.admin, map[string]any{"name": "stuck", "kind": "stuck",
		"journey_id": j.ID, "node_id": "w", "stuck_for": "2h", "threshold": 3}).want(t, http.StatusOK)
	check("AlertRule", replaced)
	check("AlertRulePage", tb.do("GET", "/api/v1/alert-rules", tb.viewer, nil).want(t, http.StatusOK))
	got := tb.do("GET", "/api/v1/alert-rules/"+rule.ID, tb.viewer, nil).want(t, http.StatusOK)
	var again kalcifer.AlertRule
	got.into(t, &again)
	if again.Kind != "stuck" || again.StuckFor != "2h" || again.Threshold != 3 || !again.CreatedAt.Equal(rule.CreatedAt) {
		t.Fatalf("after PUT: %+v", again)
	}

	again.TenantID = kalcifer.DefaultTenantID // not in JSON
	if _, _, err := tb.store.FireAlert(context.Background(), &again, 4, "4 customers have been at node w for more than 2h"); err != nil {
		t.Fatal(err)
	}
	alerts := tb.do("GET", "/api/v1/alerts?status=firing&rule_id="+rule.ID, tb.viewer, nil).want(t, http.StatusOK)
	check("AlertPage", alerts)
	var page kalcifer.Page[kalcifer.Alert]
	alerts.into(t, &page)
	if len(page.Data) != 1 || page.Data[0].Value != 4 || page.Data[0].RuleName != "stuck" {
		t.Fatalf("alerts: %s", alerts.body)
	}
	tb.do("GET", "/api/v1/alerts?status=burning", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
	tb.do("DELETE", "/api/v1/alert-rules/"+rule.ID, tb.admin, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/alert-rules/"+rule.ID, tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
}

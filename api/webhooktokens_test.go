package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// A webhook token enrols customers into its own journey, through the header
// or ?token=, and nowhere else; revoking it refuses the very next call;
// creating and revoking are audited; only editors manage tokens, within
// their tenant.
func TestWebhookTokens(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	hook := tb.activeJourney("Hooked", webhookGraph)
	other := tb.activeJourney("Other hook", webhookGraph)
	tokens := "/api/v1/journeys/" + hook.ID + "/webhook-tokens"
	body := `{"customer_id":"w1","data":{"plan":"pro"}}`

	// Managing tokens: editors of the tenant only.
	tb.do("POST", tokens, tb.viewer, `{"name":"crm"}`).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("GET", tokens, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("POST", tokens, tb.otherAdmin, `{"name":"crm"}`).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/journeys/jrn_nope/webhook-tokens", tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", tokens, tb.editor, `{"name":"crm","role":"admin"}`).wantError(t, http.StatusBadRequest, "invalid")

	res := tb.do("POST", tokens, tb.editor, `{"name":"crm"}`).want(t, http.StatusCreated)
	check("CreateWebhookTokenResponse", res)
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	var created struct {
		Token  kalcifer.WebhookToken `json:"token"`
		Secret string                `json:"secret"`
	}
	res.into(t, &created)
	secret, tok := created.Secret, created.Token
	if !strings.HasPrefix(secret, "kwh_") || tok.JourneyID != hook.ID || tok.Name != "crm" || !strings.HasPrefix(secret, tok.Prefix) {
		t.Fatalf("created %s", res.body)
	}
	res = tb.do("GET", tokens, tb.editor, nil).want(t, http.StatusOK)
	check("WebhookTokenList", res)
	if strings.Contains(string(res.body), secret) || !strings.Contains(string(res.body), tok.ID) {
		t.Fatalf("list: %s", res.body)
	}
	tb.do("GET", "/api/v1/journeys/"+other.ID+"/webhook-tokens", tb.editor, nil).want(t, http.StatusOK)

	// The token enrols into its journey, as a bearer header or ?token=.
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, secret, body).want(t, http.StatusAccepted)
	tb.do("POST", "/api/v1/webhooks/"+hook.ID+"?token="+url.QueryEscape(secret), "", `{"customer_id":"w2"}`).want(t, http.StatusAccepted)
	for _, c := range []string{"w1", "w2"} {
		tb.eventually(c+" enters by a webhook token", func() bool {
			list := tb.customerJourneys(tb.viewer, c)
			return len(list) == 1 && list[0].JourneyID == hook.ID
		})
	}

	// ... and nowhere else.
	e := tb.do("POST", "/api/v1/webhooks/"+other.ID, secret, body).wantError(t, http.StatusForbidden, "forbidden")
	if !strings.Contains(e.Message, "another journey") {
		t.Fatalf("token on another journey: %s", e.Message)
	}
	tb.do("POST", "/api/v1/webhooks/"+other.ID+"?token="+secret, "", body).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("POST", "/api/v1/events", secret, `{"customer_id":"w3","event_type":"paid"}`).wantError(t, http.StatusUnauthorized, "unauthorized")
	tb.do("GET", tokens, secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, "kwh_"+strings.Repeat("A", 43), body).wantError(t, http.StatusUnauthorized, "unauthorized")
	// A tenant key in the URL is refused: URLs end up in logs.
	e = tb.do("POST", "/api/v1/webhooks/"+hook.ID+"?token="+tb.editor, "", body).wantError(t, http.StatusUnauthorized, "unauthorized")
	if !strings.Contains(e.Message, "Authorization") {
		t.Fatalf("API key as ?token=: %s", e.Message)
	}
	tb.do("POST", "/api/v1/webhooks/"+hook.ID+"?token="+secret, tb.editor, body).wantError(t, http.StatusBadRequest, "invalid")
	// Tenant keys work as before.
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.editor, `{"customer_id":"w4"}`).want(t, http.StatusAccepted)
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.viewer, `{"customer_id":"w4"}`).wantError(t, http.StatusForbidden, "forbidden")

	// Revoking refuses the very next call.
	tb.do("DELETE", tokens+"/"+tok.ID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("DELETE", "/api/v1/journeys/"+other.ID+"/webhook-tokens/"+tok.ID, tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("DELETE", tokens+"/"+tok.ID, tb.editor, nil).want(t, http.StatusNoContent)
	e = tb.do("POST", "/api/v1/webhooks/"+hook.ID, secret, body).wantError(t, http.StatusUnauthorized, "unauthorized")
	if !strings.Contains(e.Message, "revoked") {
		t.Fatalf("revoked token: %s", e.Message)
	}
	tb.do("POST", "/api/v1/webhooks/"+hook.ID+"?token="+secret, "", body).wantError(t, http.StatusUnauthorized, "unauthorized")
	tb.do("DELETE", tokens+"/"+tok.ID, tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")

	// Both changes are in the audit log, without the secret.
	res = tb.do("GET", "/api/v1/audit?resource_type=webhook_token&resource_id="+tok.ID, tb.admin, nil).want(t, http.StatusOK)
	var audit kalcifer.Page[kalcifer.AuditEntry]
	res.into(t, &audit)
	if len(audit.Data) != 2 || audit.Data[0].Action != "webhook_token.revoke" || audit.Data[1].Action != "webhook_token.create" ||
		strings.Contains(string(res.body), secret) {
		t.Fatalf("audit: %s", res.body)
	}
}

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for name, header := range map[string]string{
		"missing":      "",
		"unknown key":  "Bearer kal_nosuchkeynosuchkeynosuchkey",
		"wrong scheme": "Basic " + tb.admin,
		"empty bearer": "Bearer ",
	} {
		h := http.Header{}
		if header != "" {
			h.Set("Authorization", header)
		}
		res := tb.doWith("GET", "/api/v1/journeys", "", nil, h)
		res.wantError(t, http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%s: WWW-Authenticate = %q", name, res.header.Get("WWW-Authenticate"))
		}
	}
	// The scheme is case-insensitive.
	tb.doWith("GET", "/api/v1/journeys", "", nil, http.Header{"Authorization": {"bearer " + tb.viewer}}).
		want(t, http.StatusOK)
	// The OpenAPI document and the system routes are public.
	tb.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK)
	tb.do("GET", "/info", "", nil).want(t, http.StatusOK)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	j := tb.createJourney("J", true)

	// Viewers read but do not write.
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK)
	e := tb.do("POST", "/api/v1/journeys", tb.viewer, map[string]any{"name": "x"}).
		wantError(t, http.StatusForbidden, "forbidden")
	if e.State["role"] != "viewer" || e.State["required_role"] != "editor" {
		t.Fatalf("forbidden state = %v", e.State)
	}
	for _, r := range []struct{ method, path string }{
		{"PUT", "/api/v1/journeys/" + j.ID},
		{"DELETE", "/api/v1/journeys/" + j.ID},
		{"POST", "/api/v1/journeys/" + j.ID + "/activate"},
		{"POST", "/api/v1/journeys/" + j.ID + "/pause"},
		{"POST", "/api/v1/journeys/" + j.ID + "/resume"},
		{"POST", "/api/v1/journeys/" + j.ID + "/archive"},
		{"POST", "/api/v1/journeys/" + j.ID + "/duplicate"},
	} {
		tb.do(r.method, r.path, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")
	}

	// Editors write journeys but do not see the audit log or keys.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/audit"},
		{"GET", "/api/v1/api-keys"},
		{"POST", "/api/v1/api-keys"},
		{"DELETE", "/api/v1/api-keys/key_x"},
	} {
		tb.do(r.method, r.path, tb.editor, nil).wantError(t, http.StatusForbidden, "forbidden")
		tb.do(r.method, r.path, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")
	}

	// Admins may do everything.
	tb.do("POST", "/api/v1/journeys", tb.admin, map[string]any{"name": "by admin"}).want(t, http.StatusCreated)
	tb.do("GET", "/api/v1/audit", tb.admin, nil).want(t, http.StatusOK)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	j := tb.createJourney("Mine", true)
	path := "/api/v1/journeys/" + j.ID

	var page kalcifer.Page[kalcifer.Journey]
	tb.do("GET", "/api/v1/journeys", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("another tenant's journeys are listed: %+v", page.Data)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", path, ""},
		{"PUT", path, `{"name":"stolen"}`},
		{"DELETE", path, ""},
		{"POST", path + "/activate", ""},
		{"POST", path + "/archive", ""},
		{"POST", path + "/duplicate", ""},
		{"GET", path + "/versions", ""},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		tb.do(r.method, r.path, tb.otherAdmin, body).wantError(t, http.StatusNotFound, "not_found")
	}
	tb.do("POST", path+"/activate", tb.editor, nil).want(t, http.StatusOK)
	tb.do("GET", path+"/versions/1", tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")

	// Nothing the other tenant tried changed the journey.
	var got kalcifer.Journey
	tb.do("GET", path, tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.Name != "Mine" || got.Status != kalcifer.JourneyActive {
		t.Fatalf("journey = %+v", got)
	}

	// Keys and audit are per tenant too.
	var keys kalcifer.Page[kalcifer.APIKey]
	tb.do("GET", "/api/v1/api-keys", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &keys)
	if len(keys.Data) != 1 || keys.Data[0].TenantID != "acme" {
		t.Fatalf("acme keys = %+v", keys.Data)
	}
	var audit kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit?resource_type=journey", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &audit)
	if len(audit.Data) != 0 {
		t.Fatalf("acme sees default's audit: %+v", audit.Data)
	}
	var defaultKeys kalcifer.Page[kalcifer.APIKey]
	tb.do("GET", "/api/v1/api-keys", tb.admin, nil).want(t, http.StatusOK).into(t, &defaultKeys)
	tb.do("DELETE", "/api/v1/api-keys/"+defaultKeys.Data[0].ID, tb.otherAdmin, nil).
		wantError(t, http.StatusNotFound, "not_found")
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var created struct {
		Key    kalcifer.APIKey `json:"key"`
		Secret string          `json:"secret"`
	}
	res := tb.do("POST", "/api/v1/api-keys", tb.admin, map[string]any{"name": "ci", "role": "editor"}).
		want(t, http.StatusCreated)
	res.into(t, &created)
	if !strings.HasPrefix(created.Secret, "kal_") || created.Key.ID == "" || created.Key.Name != "ci" ||
		created.Key.Role != kalcifer.RoleEditor || created.Key.TenantID != "default" {
		t.Fatalf("created = %+v", created)
	}
	if strings.Contains(string(res.body), `"hash"`) {
		t.Fatalf("the hash must never be shown: %s", res.body)
	}

	// The new key works with its role.
	tb.do("POST", "/api/v1/journeys", created.Secret, map[string]any{"name": "by ci"}).want(t, http.StatusCreated)
	tb.do("GET", "/api/v1/audit", created.Secret, nil).wantError(t, http.StatusForbidden, "forbidden")

	var keys kalcifer.Page[kalcifer.APIKey]
	tb.do("GET", "/api/v1/api-keys", tb.admin, nil).want(t, http.StatusOK).into(t, &keys)
	if len(keys.Data) != 4 || keys.Data[0].ID != created.Key.ID {
		t.Fatalf("keys = %+v", keys.Data)
	}
	// The list shows the key's lookup id, which is not part of its secret,
	// and nothing of the secret.
	listed := string(tb.do("GET", "/api/v1/api-keys", tb.admin, nil).body)
	lookup, _ := kalcifer.APIKeyLookup(created.Secret)
	if strings.Contains(listed, created.Secret[len("kal_")+len(lookup)+1:][:8]) || keys.Data[0].Prefix != "kal_"+lookup {
		t.Fatalf("a listed key shows part of its secret or not its lookup id: %s", listed)
	}

	tb.do("POST", "/api/v1/api-keys", tb.admin, map[string]any{"name": "x", "role": "root"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/api-keys", tb.admin, map[string]any{"name": "x"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/api-keys", tb.admin, nil).wantError(t, http.StatusBadRequest, "invalid")

	// Revoked keys stop working at once.
	tb.do("DELETE", "/api/v1/api-keys/"+created.Key.ID, tb.admin, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/journeys", created.Secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	tb.do("DELETE", "/api/v1/api-keys/"+created.Key.ID, tb.admin, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("DELETE", "/api/v1/api-keys/key_nope", tb.admin, nil).wantError(t, http.StatusNotFound, "not_found")
}

func TestAudit(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	j := tb.createJourney("Audited", true)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)
	other := tb.createJourney("Other", false)

	var page kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit?resource_type=journey&resource_id="+j.ID, tb.admin, nil).
		want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 2 || page.Data[0].Action != "journey.activate" || page.Data[1].Action != "journey.create" {
		t.Fatalf("audit = %+v", page.Data)
	}
	// The actor is the calling key.
	var keys kalcifer.Page[kalcifer.APIKey]
	tb.do("GET", "/api/v1/api-keys", tb.admin, nil).want(t, http.StatusOK).into(t, &keys)
	editorKey := ""
	for _, k := range keys.Data {
		if k.Role == kalcifer.RoleEditor {
			editorKey = k.ID
		}
	}
	for _, e := range page.Data {
		if e.Actor != "key:"+editorKey || e.ResourceID != j.ID || e.TenantID != "default" {
			t.Fatalf("entry = %+v", e)
		}
	}

	// Pages of one: newest first, then older, without repeats.
	var p1, p2 kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit?resource_type=journey&limit=1", tb.admin, nil).want(t, http.StatusOK).into(t, &p1)
	if len(p1.Data) != 1 || p1.Data[0].ResourceID != other.ID || p1.NextCursor == "" {
		t.Fatalf("first page = %+v", p1)
	}
	tb.do("GET", "/api/v1/audit?resource_type=journey&limit=1&cursor="+p1.NextCursor, tb.admin, nil).
		want(t, http.StatusOK).into(t, &p2)
	if len(p2.Data) != 1 || p2.Data[0].ID == p1.Data[0].ID || p2.Data[0].Action != "journey.activate" {
		t.Fatalf("second page = %+v", p2)
	}
	tb.do("GET", "/api/v1/audit?limit=x", tb.admin, nil).wantError(t, http.StatusBadRequest, "invalid")
}

// Admins can read the webhook signing secret; it is stable and per tenant.
func TestWebhookSecret(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var a, b, other struct{ Secret string }
	tb.do("GET", "/api/v1/webhook-secret", tb.admin, nil).want(t, http.StatusOK).into(t, &a)
	tb.do("GET", "/api/v1/webhook-secret", tb.admin, nil).want(t, http.StatusOK).into(t, &b)
	tb.do("GET", "/api/v1/webhook-secret", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &other)
	if len(a.Secret) < 32 || a.Secret != b.Secret || a.Secret == other.Secret {
		t.Fatalf("secrets: %q, %q, other tenant %q", a.Secret, b.Secret, other.Secret)
	}
	tb.do("GET", "/api/v1/webhook-secret", tb.editor, nil).wantError(t, http.StatusForbidden, "forbidden")
}

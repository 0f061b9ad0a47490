package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// sendGridStub speaks SendGrid's Mail Send API: it records the credential
// and the message of each request and accepts it.
type sendGridStub struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
	body []map[string]any
}

func newSendGridStub(t *testing.T) *sendGridStub {
	s := &sendGridStub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.URL.Path != "/v3/mail/send" || json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.auth, s.body = append(s.auth, r.Header.Get("Authorization")), append(s.body, body)
		s.mu.Unlock()
		w.Header().Set("X-Message-Id", "msg-1")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s
}

// Provider accounts: admins create, change, test and delete them; viewers
// read them; credentials are never returned, nor logged; config problems
// are 422s naming the field; another tenant's are 404.
func TestProviderAccounts(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	sg := newSendGridStub(t)
	const key = "SG.very-secret-api-key"
	create := map[string]any{"name": "marketing", "channel": "email", "type": "sendgrid", "is_default": true,
		"config": map[string]any{"api_key": key, "from": "news@example.com", "base_url": sg.URL}}

	tb.do("POST", "/api/v1/providers", tb.editor, create).wantError(t, http.StatusForbidden, "forbidden")
	res := tb.do("POST", "/api/v1/providers", tb.admin, create).want(t, http.StatusCreated)
	var a kalcifer.ProviderAccount
	res.into(t, &a)
	if !strings.HasPrefix(a.ID, "prv_") || !a.IsDefault || len(a.SecretsSet) != 1 || a.SecretsSet[0] != "api_key" {
		t.Fatalf("created %s", res.body)
	}
	tb.do("POST", "/api/v1/providers", tb.admin, create).wantError(t, http.StatusConflict, "conflict")

	// Nothing returns the key: create, get, list, update, the audit.
	bodies := []string{string(res.body)}
	for _, cred := range []string{tb.viewer, tb.editor, tb.admin} {
		bodies = append(bodies, string(tb.do("GET", "/api/v1/providers/"+a.ID, cred, nil).want(t, http.StatusOK).body),
			string(tb.do("GET", "/api/v1/providers?channel=email", cred, nil).want(t, http.StatusOK).body))
	}
	upd := tb.do("PUT", "/api/v1/providers/"+a.ID, tb.admin, map[string]any{"name": "newsletters",
		"config": map[string]any{"from": "hi@example.com", "base_url": sg.URL}}).want(t, http.StatusOK)
	bodies = append(bodies, string(upd.body), string(tb.do("GET", "/api/v1/audit", tb.admin, nil).want(t, http.StatusOK).body))
	for _, b := range bodies {
		if strings.Contains(b, key) || strings.Contains(b, "very-secret") {
			t.Fatalf("a response shows the credential: %s", b)
		}
	}
	// Pointing the account elsewhere does not take the stored key along:
	// whoever edits it must send the key again.
	e := tb.do("PUT", "/api/v1/providers/"+a.ID, tb.admin, map[string]any{
		"config": map[string]any{"from": "hi@example.com", "base_url": "https://attacker.example"}}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if !strings.Contains(e.Message, "base_url") || len(e.Details) != 1 || e.Details[0].Field != "config.api_key" {
		t.Fatalf("moving the account without its key: %+v", e)
	}
	var changed kalcifer.ProviderAccount
	upd.into(t, &changed)
	if changed.Name != "newsletters" || changed.Revision != 2 || len(changed.SecretsSet) != 1 || !strings.Contains(string(changed.Config), "hi@example.com") {
		t.Fatalf("updated %s", upd.body)
	}

	// The test action sends one real message, with the kept key.
	tb.do("POST", "/api/v1/providers/"+a.ID+"/test", tb.editor, map[string]any{"to": "ada@example.com"}).
		wantError(t, http.StatusForbidden, "forbidden")
	var outcome struct{ Status, Detail string }
	tb.do("POST", "/api/v1/providers/"+a.ID+"/test", tb.admin, map[string]any{"to": "ada@example.com"}).
		want(t, http.StatusOK).into(t, &outcome)
	if outcome.Status != "sent" || !strings.Contains(outcome.Detail, "msg-1") {
		t.Fatalf("test answered %+v", outcome)
	}
	sg.mu.Lock()
	if len(sg.auth) != 1 || sg.auth[0] != "Bearer "+key || !strings.Contains(mustJSON(t, sg.body[0]), `"ada@example.com"`) ||
		!strings.Contains(mustJSON(t, sg.body[0]), "Kalcifer test message") {
		t.Fatalf("SendGrid got %v %v", sg.auth, sg.body)
	}
	sg.mu.Unlock()
	tb.do("POST", "/api/v1/providers/"+a.ID+"/test", tb.admin, map[string]any{"to": "not an address"}).
		wantError(t, http.StatusBadRequest, "invalid")
	if strings.Contains(tb.logs.String(), key) {
		t.Fatal("the logs hold the credential")
	}

	// Config problems name the field.
	for field, body := range map[string]map[string]any{
		"config.api_key": {"name": "x", "channel": "email", "type": "sendgrid", "config": map[string]any{"from": "a@example.com"}},
		"config.apikey":  {"name": "x", "channel": "email", "type": "sendgrid", "config": map[string]any{"apikey": "k", "from": "a@example.com"}},
		"config.port":    {"name": "x", "channel": "email", "type": "smtp", "config": map[string]any{"host": "h", "port": "25", "tls": "none", "from": "a@example.com"}},
		"type":           {"name": "x", "channel": "email", "type": "mailgun", "config": map[string]any{}},
		"channel":        {"name": "x", "channel": "sms", "type": "sendgrid", "config": map[string]any{}},
	} {
		e := tb.do("POST", "/api/v1/providers", tb.admin, body).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		if !strings.Contains(e.Message+mustJSON(t, e.Details), strings.TrimPrefix(field, "config.")) {
			t.Errorf("%s: the error does not name it: %+v", field, e)
		}
	}
	tb.do("PUT", "/api/v1/providers/"+a.ID, tb.admin, map[string]any{"type": "smtp"}).wantError(t, http.StatusUnprocessableEntity, "unprocessable")

	// Another tenant's admin finds nothing.
	tb.do("GET", "/api/v1/providers/"+a.ID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("PUT", "/api/v1/providers/"+a.ID, tb.otherAdmin, map[string]any{"name": "x"}).wantError(t, http.StatusNotFound, "not_found")
	tb.do("DELETE", "/api/v1/providers/"+a.ID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/providers/"+a.ID+"/test", tb.otherAdmin, map[string]any{"to": "x@example.com"}).wantError(t, http.StatusNotFound, "not_found")
	var list kalcifer.Page[kalcifer.ProviderAccount]
	tb.do("GET", "/api/v1/providers", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &list)
	if len(list.Data) != 0 {
		t.Fatalf("another tenant lists %d accounts", len(list.Data))
	}

	tb.do("DELETE", "/api/v1/providers/"+a.ID, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("DELETE", "/api/v1/providers/"+a.ID, tb.admin, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/providers/"+a.ID, tb.admin, nil).wantError(t, http.StatusNotFound, "not_found")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

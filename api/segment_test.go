package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// basic is the Authorization header of a Segment SDK: the write key as the
// basic-auth user, no password.
func basic(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

// segmentAnswer is the answer of a Segment call.
type segmentAnswer struct {
	Success bool `json:"success"`
	Errors  []struct {
		Index     int    `json:"index"`
		MessageID string `json:"message_id"`
		Code      string `json:"code"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// Every Segment call, on both path families and both backends, as an SDK
// sends them (basic auth with an ingest key as the write key).
func TestSegmentCalls(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		key := basic(tb.newKey("default", kalcifer.RoleIngest), "")
		call := func(path, body string) *response {
			t.Helper()
			return tb.doWith("POST", path, "", body, key)
		}
		call("/v1/identify", `{"userId":"u1","traits":{"email":"u1@example.com","plan":"free","age":41},"context":{"ip":"1.2.3.4"},"integrations":{}}`).
			want(t, http.StatusOK)
		call("/api/v1/segment/identify", `{"type":"identify","userId":42,"traits":{"plan":"pro"}}`).want(t, http.StatusOK)
		call("/v1/identify", `{"userId":"u1","traits":{"plan":"pro","age":null}}`).want(t, http.StatusOK)
		var c kalcifer.Customer
		tb.do("GET", "/api/v1/customers/u1/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
		if _, ok := c.Attributes["age"]; c.Attributes["email"] != "u1@example.com" || c.Attributes["plan"] != "pro" || ok {
			t.Fatalf("identified profile = %+v", c.Attributes)
		}
		tb.do("GET", "/api/v1/customers/42/profile", tb.viewer, nil).want(t, http.StatusOK)

		// track: the event as named, properties as data, messageId as its
		// idempotency key.
		track := `{"userId":"u1","event":"Order Completed","properties":{"total":42},"messageId":"m-1","timestamp":"2026-01-02T03:04:05.678Z"}`
		call("/v1/track", track).want(t, http.StatusOK).into(t, new(segmentAnswer))
		call("/api/v1/segment/track", track).want(t, http.StatusOK)
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE customer_id = 'u1' AND event_type = 'Order Completed'
			AND client_id = 'm-1' AND occurred_at = 1767323045678000`); n != 1 {
			t.Fatalf("%d Order Completed events, want 1", n)
		}
		call("/v1/page", `{"anonymousId":"anon-1","name":"Home","properties":{"path":"/"},"messageId":"m-2"}`).want(t, http.StatusOK)
		call("/v1/screen", `{"userId":"u1","name":"Settings","messageId":"m-3"}`).want(t, http.StatusOK)
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE customer_id = 'anon-1' AND event_type = 'page_viewed'`); n != 1 {
			t.Fatalf("%d page_viewed events, want 1", n)
		}
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE customer_id = 'u1' AND event_type = 'screen_viewed'`); n != 1 {
			t.Fatalf("%d screen_viewed events, want 1", n)
		}
		call("/v1/group", `{"userId":"u1","groupId":"acme-inc","traits":{"name":"Acme"}}`).want(t, http.StatusOK)

		// alias: the anonymous visitor's page view is u1's; later ones too.
		call("/v1/alias", `{"previousId":"anon-1","userId":"u1"}`).want(t, http.StatusOK)
		call("/v1/alias", `{"previousId":"anon-1","userId":"u1"}`).want(t, http.StatusOK) // a retry
		call("/v1/page", `{"anonymousId":"anon-1","name":"Pricing","messageId":"m-4"}`).want(t, http.StatusOK)
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE customer_id = 'u1' AND event_type = 'page_viewed'`); n != 2 {
			t.Fatalf("%d page views of u1 after the alias, want 2", n)
		}
		tb.do("GET", "/api/v1/customers/u1/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
		if c.Attributes["group_id"] != "acme-inc" {
			t.Fatalf("profile after group = %+v", c.Attributes)
		}
		call("/v1/alias", `{"previousId":"anon-1","userId":"u2"}`).wantError(t, http.StatusConflict, "conflict")

		// A batch: valid calls are stored in order, the others listed.
		var ans segmentAnswer
		call("/v1/batch", `{"batch":[
			{"type":"track","userId":"b1","event":"a","messageId":"b-0"},
			{"type":"track","userId":"b1","messageId":"b-1"},
			{"type":"identify","anonymousId":"b2","traits":{"plan":"trial"}},
			{"type":"launch","userId":"b1"},
			{"type":"alias","previousId":"anon-1","userId":"b3"},
			{"type":"page","userId":"b1","timestamp":"yesterday"},
			{"type":"track","userId":"b1","event":"a","messageId":"b-0"},
			{"type":"track","userId":"b1","event":"b","messageId":"b-7"}
		],"writeKey":"","sentAt":"2026-01-02T03:04:05Z"}`).want(t, http.StatusOK).into(t, &ans)
		wantIdx := []int{1, 3, 4, 5}
		if !ans.Success || len(ans.Errors) != len(wantIdx) {
			t.Fatalf("batch answer = %+v, want calls %v refused", ans, wantIdx)
		}
		for i, e := range ans.Errors {
			if e.Index != wantIdx[i] {
				t.Fatalf("batch errors = %+v, want calls %v refused", ans.Errors, wantIdx)
			}
		}
		if ans.Errors[0].MessageID != "b-1" || ans.Errors[2].Code != kalcifer.ECONFLICT {
			t.Fatalf("batch errors = %+v", ans.Errors)
		}
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE customer_id = 'b1'`); n != 2 {
			t.Fatalf("%d events of b1, want 2 (a once, b)", n)
		}
		tb.do("GET", "/api/v1/customers/b2/profile", tb.viewer, nil).want(t, http.StatusOK)

		// Calls that can never be stored, and bodies over Segment's limits.
		call("/v1/track", `{"event":"a"}`).wantError(t, http.StatusBadRequest, "invalid")
		call("/v1/track", `{"userId":"u1"}`).wantError(t, http.StatusBadRequest, "invalid")
		call("/v1/track", `{"type":"identify","userId":"u1"}`).wantError(t, http.StatusBadRequest, "invalid")
		call("/v1/batch", `{"batch":[]}`).wantError(t, http.StatusBadRequest, "invalid")
		call("/v1/alias", `{"previousId":"u1","userId":"u1"}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		big := `{"userId":"u1","event":"a","properties":{"x":"` + pad(32<<10) + `"}}`
		call("/v1/track", big).wantError(t, http.StatusRequestEntityTooLarge, "too_large")
	})
}

// The write key is a Kalcifer API key of the ingest role or higher, as the
// user of basic auth with an empty password.
func TestSegmentAuth(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	ingest := tb.newKey("default", kalcifer.RoleIngest)
	body := `{"userId":"u1","event":"a"}`
	for _, k := range []string{ingest, tb.editor, tb.admin} {
		tb.doWith("POST", "/v1/track", "", body, basic(k, "")).want(t, http.StatusOK)
	}
	tb.do("POST", "/v1/track", ingest, body).want(t, http.StatusOK) // a bearer key
	tb.doWith("POST", "/v1/track", "", body, basic(tb.viewer, "")).wantError(t, http.StatusForbidden, "forbidden")
	for name, h := range map[string]http.Header{
		"a password":       basic(ingest, "secret"),
		"no user":          basic("", ""),
		"an unknown key":   basic("kal_nosuchkeynosuchkeynosuchkeynosuchkey12", ""),
		"not base64":       {"Authorization": {"Basic !!!"}},
		"no colon":         {"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(ingest))}},
		"no header":        {},
		"another tenant's": basic(tb.otherAdmin+"x", ""),
	} {
		if res := tb.doWith("POST", "/v1/track", "", body, h); res.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401: %s", name, res.status, res.body)
		}
	}
	res := tb.doWith("POST", "/v1/track", "", body, nil)
	if e := res.wantError(t, http.StatusUnauthorized, "unauthorized"); !strings.Contains(e.Message, "basic auth") {
		t.Fatalf("no credentials: %q, want it to say how Segment SDKs send the write key", e.Message)
	}
	// The body's writeKey, when given, is the header's key.
	tb.doWith("POST", "/v1/track", "", `{"userId":"u1","event":"a","writeKey":"`+ingest+`"}`, basic(ingest, "")).want(t, http.StatusOK)
	tb.doWith("POST", "/v1/batch", "", `{"batch":[{"type":"track","userId":"u1","event":"a"}],"writeKey":"other"}`, basic(ingest, "")).
		wantError(t, http.StatusUnauthorized, "unauthorized")
	// A call of the other tenant's key lands in the other tenant.
	tb.doWith("POST", "/v1/identify", "", `{"userId":"acme-user"}`, basic(tb.otherAdmin, "")).want(t, http.StatusOK)
	tb.do("GET", "/api/v1/customers/acme-user/profile", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
}

// POST /customers/{id}/alias merges another id into an existing customer.
func TestAliasRoute(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	tb.do("PATCH", "/api/v1/customers/known/profile", tb.editor, `{"attributes":{"plan":"pro"}}`).want(t, http.StatusOK)
	tb.do("PATCH", "/api/v1/customers/visitor/profile", tb.editor, `{"attributes":{"plan":"free","utm":"ad"},"add_tags":["visitor"]}`).
		want(t, http.StatusOK)
	var res kalcifer.AliasResult
	tb.do("POST", "/api/v1/customers/known/alias", tb.editor, `{"previous_id":"visitor"}`).want(t, http.StatusOK).into(t, &res)
	if !res.Merged || res.Customer.Attributes["plan"] != "pro" || res.Customer.Attributes["utm"] != "ad" || len(res.Customer.Tags) != 1 {
		t.Fatalf("alias = %+v", res)
	}

	// The customer routes follow the merged id to the survivor and say so;
	// an erasure does not.
	var c kalcifer.Customer
	got := tb.do("GET", "/api/v1/customers/visitor/profile", tb.viewer, nil).want(t, http.StatusOK)
	if got.into(t, &c); c.ID != "known" || got.header.Get("Kalcifer-Merged-Into") != "known" {
		t.Fatalf("profile of the merged id: %+v, header %q", c, got.header.Get("Kalcifer-Merged-Into"))
	}
	got = tb.do("PATCH", "/api/v1/customers/visitor/profile", tb.editor, `{"attributes":{"seen":true}}`).want(t, http.StatusOK)
	if got.into(t, &c); c.ID != "known" || c.Attributes["seen"] != true || got.header.Get("Kalcifer-Merged-Into") != "known" {
		t.Fatalf("patch of the merged id: %+v", c)
	}
	if n := tb.count(`SELECT COUNT(*) FROM customers WHERE id = 'visitor'`); n != 0 {
		t.Fatalf("the patch made a profile for the merged id")
	}
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "visitor", "event_type": "browsed"})
	for _, path := range []string{"events", "journeys"} {
		got := tb.do("GET", "/api/v1/customers/visitor/"+path, tb.viewer, nil).want(t, http.StatusOK)
		var page kalcifer.Page[json.RawMessage]
		if got.into(t, &page); got.header.Get("Kalcifer-Merged-Into") != "known" || (path == "events" && len(page.Data) != 1) {
			t.Fatalf("%s of the merged id: %s, header %q", path, got.body, got.header.Get("Kalcifer-Merged-Into"))
		}
	}
	if h := tb.do("GET", "/api/v1/customers/known/profile", tb.viewer, nil).want(t, http.StatusOK).header.Get("Kalcifer-Merged-Into"); h != "" {
		t.Fatalf("the survivor's own profile says merged into %q", h)
	}
	e := tb.do("DELETE", "/api/v1/customers/visitor", tb.admin, nil).wantError(t, http.StatusConflict, "conflict")
	if e.State["merged_into"] != "known" {
		t.Fatalf("erasure of the merged id: %+v", e)
	}
	tb.do("POST", "/api/v1/customers/known/alias", tb.editor, `{"previous_id":"visitor"}`).want(t, http.StatusOK).into(t, &res)
	if res.Merged {
		t.Fatalf("repeated alias = %+v, want merged false", res)
	}
	tb.do("POST", "/api/v1/customers/nobody/alias", tb.editor, `{"previous_id":"x"}`).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/customers/known/alias", tb.editor, `{"previous_id":""}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/customers/known/alias", tb.editor, `{"previous_id":"known"}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/customers/known/alias", tb.editor, `{"previous":"x"}`).wantError(t, http.StatusBadRequest, "invalid")
	if n := tb.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.merge' AND resource_id = 'known'`); n != 1 {
		t.Fatalf("%d audit rows of the merge, want 1", n)
	}
}

func pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// ingestRoutes are the only routes an ingest key may call: events,
// webhook entries and the Segment calls.
var ingestRoutes = []string{
	"POST /api/v1/events",
	"POST /api/v1/events/batch",
	"POST /api/v1/webhooks/{journey_id}",
}

func init() {
	for _, prefix := range []string{"/api/v1/segment/", "/v1/"} {
		for _, call := range []string{"identify", "track", "page", "screen", "group", "alias", "batch"} {
			ingestRoutes = append(ingestRoutes, "POST "+prefix+call)
		}
	}
}

// An ingest key, made through the API on either backend (so the database
// accepts the role), sends events, batches and webhook entries.
func TestIngestKeySends(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		var created struct {
			Key    kalcifer.APIKey `json:"key"`
			Secret string          `json:"secret"`
		}
		tb.do("POST", "/api/v1/api-keys", tb.admin, map[string]any{"name": "website", "role": "ingest"}).
			want(t, http.StatusCreated).into(t, &created)
		if created.Key.Role != kalcifer.RoleIngest {
			t.Fatalf("created key = %+v", created.Key)
		}
		var keys kalcifer.Page[kalcifer.APIKey]
		tb.do("GET", "/api/v1/api-keys", tb.admin, nil).want(t, http.StatusOK).into(t, &keys)
		if len(keys.Data) == 0 || keys.Data[0].ID != created.Key.ID || keys.Data[0].Role != kalcifer.RoleIngest {
			t.Fatalf("listed keys = %+v", keys.Data)
		}
		ingest := created.Secret
		hook := tb.activeJourney("Hooked", webhookGraph)

		tb.do("POST", "/api/v1/events", ingest, `{"customer_id":"i1","event_type":"signed_up"}`).
			want(t, http.StatusAccepted)
		tb.do("POST", "/api/v1/events/batch", ingest,
			`{"events":[{"customer_id":"i2","event_type":"a"},{"customer_id":"i3","event_type":"b"}]}`).
			want(t, http.StatusAccepted)
		tb.do("POST", "/api/v1/webhooks/"+hook.ID, ingest, `{"customer_id":"i4","data":{"plan":"pro"}}`).
			want(t, http.StatusAccepted)
		tb.eventually("i4 enters by webhook", func() bool {
			list := tb.customerJourneys(tb.viewer, "i4")
			return len(list) == 1 && list[0].JourneyID == hook.ID
		})

		// Editors and admins keep these routes.
		for _, key := range []string{tb.editor, tb.admin} {
			tb.do("POST", "/api/v1/events", key, `{"customer_id":"e1","event_type":"a"}`).want(t, http.StatusAccepted)
		}
		tb.do("POST", "/api/v1/events", tb.viewer, `{"customer_id":"v1","event_type":"a"}`).
			wantError(t, http.StatusForbidden, "forbidden")
	})
}

// An ingest key gets 403 forbidden, naming the role needed, on every route
// but the ingest ones. The routes come from the router, so a new route is
// covered without editing this test.
func TestIngestKeyRefusedElsewhere(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ingest := tb.newKey("default", kalcifer.RoleIngest)
	served := tb.servedRoutes()
	for _, r := range ingestRoutes {
		if !slices.Contains(served, r) {
			t.Fatalf("ingest route %s is not served", r)
		}
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	checked := 0
	for _, route := range served {
		if slices.Contains(ingestRoutes, route) {
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		path := param.ReplaceAllString(pattern, "x1")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue // the system routes (/health, /info) are public
		}
		if res := tb.do(method, path, "", nil); res.status != http.StatusUnauthorized {
			continue // public, like the OpenAPI document
		}
		res := tb.do(method, path, ingest, nil)
		if res.status != http.StatusForbidden {
			t.Errorf("%s as ingest: status %d, want 403: %.200s", route, res.status, res.body)
			continue
		}
		e := res.wantError(t, http.StatusForbidden, "forbidden")
		need, _ := e.State["required_role"].(string)
		if e.State["role"] != "ingest" || need == "" || need == "ingest" || !strings.Contains(e.Message, need) {
			t.Errorf("%s as ingest: refusal %q, state %v", route, e.Message, e.State)
		}
		checked++
	}
	if checked < 40 {
		t.Fatalf("only %d routes checked", checked)
	}
}

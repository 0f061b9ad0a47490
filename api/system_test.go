package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var body map[string]any
	tb.do("GET", "/health", "", nil).want(t, http.StatusOK).into(t, &body)
	if body["status"] != "ok" {
		t.Fatalf("health = %v", body)
	}
	tb.do("GET", "/health/ready", "", nil).want(t, http.StatusOK).into(t, &body)
	if body["status"] != "ready" {
		t.Fatalf("ready = %v", body)
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.createJourney("One", true)
	var info struct {
		Version       string `json:"version"`
		UptimeSeconds int64  `json:"uptime_seconds"`
		Store         string `json:"store"`
		Counts        struct {
			Tenants, Journeys, ActiveJourneys int
		} `json:"counts"`
	}
	tb.do("GET", "/info", "", nil).want(t, http.StatusOK).into(t, &info)
	if info.Version != "test-1.2.3" || info.Store != "sqlite" || info.UptimeSeconds < 90 {
		t.Fatalf("info = %+v", info)
	}
	if info.Counts.Tenants != 2 || info.Counts.Journeys != 1 {
		t.Fatalf("counts = %+v", info.Counts)
	}
}

// When the database is gone, liveness stays up, readiness says why, and a
// failing handler answers a bare 500 while the cause is logged with the
// request id.
func TestStoreDown(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	if err := tb.backend.Close(); err != nil {
		t.Fatalf("close backend: %v", err)
	}
	tb.do("GET", "/health", "", nil).want(t, http.StatusOK)

	var ready map[string]string
	tb.do("GET", "/health/ready", "", nil).want(t, http.StatusServiceUnavailable).into(t, &ready)
	if ready["status"] != "unavailable" || ready["error"] == "" {
		t.Fatalf("ready = %v", ready)
	}

	res := tb.doWith("GET", "/info", "", nil, http.Header{"X-Request-Id": {"trace-42"}})
	e := res.wantError(t, http.StatusInternalServerError, "internal")
	if e.Message != "internal error" {
		t.Fatalf("internal details leaked: %q", e.Message)
	}
	if res.header.Get("X-Request-ID") != "trace-42" {
		t.Fatalf("request id not echoed: %q", res.header.Get("X-Request-ID"))
	}
	logs := tb.logs.String()
	if !strings.Contains(logs, `"request_id":"trace-42"`) || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("internal error not logged with the request id:\n%s", logs)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	gen := tb.do("GET", "/health", "", nil).header.Get("X-Request-ID")
	if !strings.HasPrefix(gen, "req_") {
		t.Fatalf("generated request id = %q", gen)
	}
	// A header that could forge log lines is replaced, not echoed.
	got := tb.doWith("GET", "/health", "", nil, http.Header{"X-Request-Id": {"a b\"c"}}).header.Get("X-Request-ID")
	if got == "a b\"c" || !strings.HasPrefix(got, "req_") {
		t.Fatalf("unsafe request id echoed: %q", got)
	}
	// Every request is logged at debug level.
	if !strings.Contains(tb.logs.String(), `"msg":"http request"`) {
		t.Fatalf("no access log:\n%s", tb.logs.String())
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.do("GET", "/nope", "", nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/nope", tb.admin, nil).wantError(t, http.StatusNotFound, "not_found")
	// Unknown routes under /api/v1 are 404 even without a key.
	tb.do("GET", "/api/v1/nope", "", nil).wantError(t, http.StatusNotFound, "not_found")

	res := tb.do("PATCH", "/api/v1/journeys", tb.admin, map[string]any{})
	res.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := res.header.Get("Allow"); allow != "GET, POST" {
		t.Fatalf("Allow = %q", allow)
	}
	tb.do("POST", "/health", "", nil).wantError(t, http.StatusMethodNotAllowed, "method_not_allowed")
}

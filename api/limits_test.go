package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/api"
)

// manualClock is a clock the test moves by hand, so no test sleeps.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func ptr(n int) *int { return &n }

// setLimits sets the operator's overrides of a tenant, as kalcifer tenant
// limits does.
func (tb *testBundle) setLimits(tenant string, o kalcifer.LimitOverrides) {
	tb.t.Helper()
	if err := tb.store.SetLimitOverrides(context.Background(), "cli", tenant, o); err != nil {
		tb.t.Fatalf("set limits of %s: %v", tenant, err)
	}
}

// wantRateLimited checks a 429 in the API's error shape, with a
// Retry-After of want whole seconds.
func wantRateLimited(t *testing.T, res *response, want int) apiError {
	t.Helper()
	e := res.wantError(t, http.StatusTooManyRequests, kalcifer.ERATELIMITED)
	if got := res.header.Get("Retry-After"); got != strconv.Itoa(want) {
		t.Fatalf("Retry-After = %q, want %d; body: %s", got, want, res.body)
	}
	return e
}

// The API budget: every authenticated route takes a request from the
// tenant's bucket; past it, 429 with Retry-After, until time refills it.
// Other tenants have their own buckets.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	tb := setup(t, withClock(clock))
	tb.setLimits("default", kalcifer.LimitOverrides{APIPerMinute: ptr(3)})
	for range 3 {
		tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	}
	// 3 per minute: one request refills in 20 s.
	e := wantRateLimited(t, tb.do("GET", "/api/v1/journeys", tb.viewer, nil), 20)
	if !strings.Contains(e.Message, "3 API requests per minute") {
		t.Fatalf("message = %q", e.Message)
	}
	// Every key of the tenant shares the budget, whatever the route.
	wantRateLimited(t, tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "x"}), 20)
	// Another tenant is not affected, and unauthenticated routes are not limited.
	tb.do("GET", "/api/v1/journeys", tb.otherAdmin, nil).want(t, http.StatusOK)
	tb.do("GET", "/health", "", nil).want(t, http.StatusOK)

	clock.advance(19 * time.Second)
	wantRateLimited(t, tb.do("GET", "/api/v1/journeys", tb.viewer, nil), 1)
	clock.advance(time.Second)
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	wantRateLimited(t, tb.do("GET", "/api/v1/limits", tb.viewer, nil), 20)
}

// The event budget counts each event of a batch and each webhook entry. A
// batch that does not fit is refused whole, nothing stored; one larger than
// the whole budget is refused as never acceptable.
func TestEventRateLimit(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	tb := setup(t, withRuntime, withClock(clock))
	hook := tb.activeJourney("Hooked", webhookGraph)
	tb.setLimits("default", kalcifer.LimitOverrides{EventsPerSecond: ptr(5)})
	clock.advance(api.LimitsTTL) // the limits read while the journey was made expire
	batch := func(n int) map[string]any {
		evs := make([]map[string]any, n)
		for i := range evs {
			evs[i] = map[string]any{"customer_id": fmt.Sprintf("c%d", i), "event_type": "clicked"}
		}
		return map[string]any{"events": evs}
	}
	tb.do("POST", "/api/v1/events/batch", tb.editor, batch(3)).want(t, http.StatusAccepted)
	before := tb.countEvents()
	// 2 left: a batch of 3 is refused whole; 1 event refills in 200 ms.
	e := wantRateLimited(t, tb.do("POST", "/api/v1/events/batch", tb.editor, batch(3)), 1)
	if !strings.Contains(e.Message, "batch of 3 events") || !strings.Contains(e.Message, "nothing was stored") {
		t.Fatalf("message = %q", e.Message)
	}
	if n := tb.countEvents(); n != before {
		t.Fatalf("a refused batch stored %d events", n-before)
	}
	// The 2 left are still there: the refused batch took none.
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "a", "event_type": "clicked"}).want(t, http.StatusAccepted)
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.editor, map[string]any{"customer_id": "h1"}).want(t, http.StatusAccepted)
	wantRateLimited(t, tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "a", "event_type": "clicked"}), 1)
	wantRateLimited(t, tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.editor, map[string]any{"customer_id": "h2"}), 1)
	// A batch larger than a second's worth can never fit.
	e = tb.do("POST", "/api/v1/events/batch", tb.editor, batch(6)).wantError(t, http.StatusUnprocessableEntity, kalcifer.EUNPROCESSABLE)
	if !strings.Contains(e.Message, "batches of at most 5") {
		t.Fatalf("message = %q", e.Message)
	}
	clock.advance(time.Second)
	tb.do("POST", "/api/v1/events/batch", tb.editor, batch(5)).want(t, http.StatusAccepted)
	if n := tb.countEvents(); n != before+2+5 {
		t.Fatalf("stored %d events after the refusals, want %d", n-before, 2+5)
	}
	// Invalid batches are refused before they take any budget.
	clock.advance(time.Second)
	tb.do("POST", "/api/v1/events/batch", tb.editor, `{"events":[{"customer_id":""}]}`).want(t, http.StatusUnprocessableEntity)
	tb.do("POST", "/api/v1/events/batch", tb.editor, batch(5)).want(t, http.StatusAccepted)
}

// An operator's change reaches a running server within api.LimitsTTL: the
// server keeps the limits it read until then.
func TestLimitChangesApplyWithinTTL(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	tb := setup(t, withClock(clock))
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK) // reads the limits: unlimited
	tb.setLimits("default", kalcifer.LimitOverrides{APIPerMinute: ptr(1)})
	for range 5 {
		tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	}
	clock.advance(api.LimitsTTL)
	tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	wantRateLimited(t, tb.do("GET", "/api/v1/journeys", tb.viewer, nil), 60)
	// Back to the default (unlimited here).
	tb.setLimits("default", kalcifer.LimitOverrides{})
	clock.advance(api.LimitsTTL)
	for range 5 {
		tb.do("GET", "/api/v1/journeys", tb.viewer, nil).want(t, http.StatusOK)
	}
}

// The journeys quota refuses creating, duplicating and applying a designed
// journey past it: 403 quota_exceeded, which waiting does not lift.
func TestJourneyQuota(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.setLimits("default", kalcifer.LimitOverrides{Journeys: ptr(1)})
	j := tb.createJourney("First", false)
	e := tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "Second"}).wantError(t, http.StatusForbidden, kalcifer.EQUOTA)
	if e.State["quota"] != "journeys" || e.State["limit"] != 1.0 || e.State["used"] != 1.0 {
		t.Fatalf("state = %v", e.State)
	}
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/duplicate", tb.editor, nil).wantError(t, http.StatusForbidden, kalcifer.EQUOTA)
	var conv struct {
		ID string `json:"conversation_id"`
	}
	tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": "When a user signs up, send a welcome email."}).
		want(t, http.StatusOK).into(t, &conv)
	tb.do("POST", "/api/v1/ai/conversations/"+conv.ID+"/apply", tb.editor, map[string]any{"name": "Designed"}).
		wantError(t, http.StatusForbidden, kalcifer.EQUOTA)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/archive", tb.editor, nil).want(t, http.StatusOK)
	tb.createJourney("Second", false)
}

// Uploads per UTC day: past the quota, 429 with Retry-After until midnight.
func TestUploadQuota(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.setLimits("default", kalcifer.LimitOverrides{UploadsPerDay: ptr(1)})
	upload := func() *response {
		body := "--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
			"Day 0: send a welcome email.\r\n--X--\r\n"
		return tb.doWith("POST", "/api/v1/ai/upload", tb.editor, body, http.Header{"Content-Type": {"multipart/form-data; boundary=X"}})
	}
	upload().want(t, http.StatusOK)
	res := upload()
	e := res.wantError(t, http.StatusTooManyRequests, kalcifer.ERATELIMITED)
	wait, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 86400 {
		t.Fatalf("Retry-After = %q, want whole seconds until 00:00 UTC", res.header.Get("Retry-After"))
	}
	if !strings.Contains(e.Message, "1 uploads per day") {
		t.Fatalf("message = %q", e.Message)
	}
}

// GET /limits shows any ranked key its tenant's effective limits and usage;
// nothing in the API lets a tenant change them.
func TestGetLimits(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.store.SetDefaultLimits(kalcifer.Limits{EventsPerSecond: 1000, APIPerMinute: 600})
	tb.setLimits("default", kalcifer.LimitOverrides{Journeys: ptr(10), APIPerMinute: ptr(0)})
	tb.createJourney("One", false)
	res := tb.do("GET", "/api/v1/limits", tb.viewer, nil).want(t, http.StatusOK)
	schemaChecker(t)("LimitsResponse", res)
	var got struct {
		TenantID string          `json:"tenant_id"`
		Limits   kalcifer.Limits `json:"limits"`
		Usage    kalcifer.Usage  `json:"usage"`
	}
	res.into(t, &got)
	want := kalcifer.Limits{EventsPerSecond: 1000, APIPerMinute: 0, Journeys: 10}
	if got.TenantID != "default" || got.Limits != want || got.Usage.Journeys != 1 {
		t.Fatalf("GET /limits = %+v", got)
	}
	ingest := tb.newKey("default", kalcifer.RoleIngest)
	tb.do("GET", "/api/v1/limits", ingest, nil).wantError(t, http.StatusForbidden, kalcifer.EFORBIDDEN)
	for _, m := range []string{"PUT", "PATCH", "POST"} {
		if res := tb.do(m, "/api/v1/limits", tb.admin, `{"journeys":1000}`); res.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s /limits = %d, want 405", m, res.status)
		}
	}
}

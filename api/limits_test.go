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

// onBothBackendsWith is onBothBackends with more setup options.
func onBothBackendsWith(t *testing.T, fn func(t *testing.T, tb *testBundle), opts ...func(*setupOptions)) {
	for name, backend := range map[string][]func(*setupOptions){"sqlite": nil, "postgres": {onPostgres}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, append(append([]func(*setupOptions){withRuntime}, backend...), opts...)...))
		})
	}
}

// count runs a COUNT query on the bundle's database.
func (tb *testBundle) count(query string, args ...any) int {
	tb.t.Helper()
	var n int
	if err := tb.store.Backend().Q().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		tb.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Under a flood above the event budget, every request is answered 202 or
// 429 — no third outcome — and every event answered 202 is routed: each
// starts its own customer in a journey. The clock moves only between
// rounds, so each round may accept at most one second's budget.
func TestFloodLosesNoAcceptedEvent(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	onBothBackendsWith(t, func(t *testing.T, tb *testBundle) {
		j := tb.activeJourney("Flooded", validGraph)
		tb.setLimits("default", kalcifer.LimitOverrides{EventsPerSecond: ptr(40)})
		const rounds, senders, perSender = 3, 8, 6
		var mu sync.Mutex
		accepted, refused := 0, 0
		for round := range rounds {
			clock.advance(api.LimitsTTL) // a full bucket each round (and the new limits at first)
			roundAccepted := 0
			var wg sync.WaitGroup
			for s := range senders {
				wg.Go(func() {
					for i := range perSender {
						customer := fmt.Sprintf("r%d-s%d-%d", round, s, i)
						var res *response
						n := 1
						if i%2 == 0 { // every other request a batch of 4
							n = 4
							evs := make([]map[string]any, n)
							for k := range evs {
								evs[k] = map[string]any{"customer_id": fmt.Sprintf("%s-%d", customer, k), "event_type": "signed_up"}
							}
							res = tb.do("POST", "/api/v1/events/batch", tb.editor, map[string]any{"events": evs})
						} else {
							res = tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": customer, "event_type": "signed_up"})
						}
						mu.Lock()
						switch res.status {
						case http.StatusAccepted:
							accepted += n
							roundAccepted += n
						case http.StatusTooManyRequests:
							refused += n
						default:
							t.Errorf("status %d: %s", res.status, res.body)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if roundAccepted == 0 || roundAccepted > 40 {
				t.Fatalf("round %d accepted %d events, want 1 to 40 (the budget)", round, roundAccepted)
			}
		}
		sent := rounds * senders * (perSender / 2) * (1 + 4)
		if accepted+refused != sent || refused == 0 {
			t.Fatalf("accepted %d + refused %d, sent %d", accepted, refused, sent)
		}
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE tenant_id = 'default'`); n != accepted {
			t.Fatalf("stored %d events, accepted %d", n, accepted)
		}
		tb.eventually("every accepted event starts its customer", func() bool {
			return tb.count(`SELECT COUNT(*) FROM instances WHERE journey_id = $1`, j.ID) == accepted
		})
		if n := tb.count(`SELECT COUNT(*) FROM events WHERE processed_at IS NULL`); n != 0 {
			t.Fatalf("%d events left unrouted", n)
		}
		t.Logf("sent %d events: %d accepted and routed, %d refused with 429", sent, accepted, refused)
	}, withClock(clock))
}

// waitingDayGraph holds every customer at a one-day wait, so instances stay
// active.
const waitingDayGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"wait","type":"wait","position":{"x":0,"y":100},"config":{"duration":"1d"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":200}}],
	"edges":[{"id":"e1","source":"entry","target":"wait"},{"id":"e2","source":"wait","target":"exit"}]}`

// Past the active-instance quota the engine starts nobody: each refused
// entry is counted (GET /limits) and logged; the event is still accepted
// and routed. A customer already in the journey is not a skip.
func TestActiveInstanceQuota(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		j := tb.activeJourney("Held", waitingDayGraph)
		tb.setLimits("default", kalcifer.LimitOverrides{ActiveInstances: ptr(2)})
		for i := range 5 {
			tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": fmt.Sprintf("c%d", i), "event_type": "signed_up"}).
				want(t, http.StatusAccepted)
		}
		usage := func() kalcifer.Usage {
			var got struct {
				Usage kalcifer.Usage `json:"usage"`
			}
			tb.do("GET", "/api/v1/limits", tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
			return got.Usage
		}
		tb.eventually("every event is routed", func() bool {
			return tb.count(`SELECT COUNT(*) FROM events WHERE processed_at IS NULL`) == 0
		})
		if u := usage(); u.ActiveInstances != 2 || u.SkippedEntriesToday != 3 {
			t.Fatalf("usage = %+v, want 2 active instances and 3 skipped entries", u)
		}
		if n := tb.count(`SELECT COUNT(*) FROM instances WHERE journey_id = $1`, j.ID); n != 2 {
			t.Fatalf("%d instances started, want 2", n)
		}
		if logs := tb.logs.String(); strings.Count(logs, "active-instance quota is reached") != 3 {
			t.Fatalf("want 3 logged skips; logs:\n%s", logs)
		}
		// A customer in the journey (no re-entry) signs up again: no skip.
		var inside string
		if err := tb.store.Backend().Q().QueryRow(context.Background(),
			`SELECT customer_id FROM instances WHERE journey_id = $1 LIMIT 1`, j.ID).Scan(&inside); err != nil {
			t.Fatal(err)
		}
		tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": inside, "event_type": "signed_up"}).want(t, http.StatusAccepted)
		tb.eventually("the event is routed", func() bool {
			return tb.count(`SELECT COUNT(*) FROM events WHERE processed_at IS NULL`) == 0
		})
		if u := usage(); u.SkippedEntriesToday != 3 {
			t.Fatalf("usage after %s signed up again = %+v, want still 3 skipped entries", inside, u)
		}
		// Raising the quota lets the next entries in.
		tb.setLimits("default", kalcifer.LimitOverrides{ActiveInstances: ptr(3)})
		tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c9", "event_type": "signed_up"}).want(t, http.StatusAccepted)
		tb.eventually("c9 starts", func() bool { return usage().ActiveInstances == 3 })
	})
}

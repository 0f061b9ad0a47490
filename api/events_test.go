package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// stubEngine is an api.Engine that records what it is asked and answers
// with fixed values, for tests of the routes' own logic: validation and
// error mapping. The real runtime is exercised in execution_test.go.
type stubEngine struct {
	mu     sync.Mutex
	events [][]*kalcifer.Event // one entry per Ingest call
	calls  []string            // every call, "Ingest", "Trigger j1 [a b]"…
	dup    bool                // Ingest reports every event a duplicate
	err    error               // returned by every call when set
}

// record notes a call and returns the error to answer it with.
func (e *stubEngine) record(call string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
	return e.err
}

func (e *stubEngine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// ingested returns the first event of the i-th Ingest call.
func (e *stubEngine) ingested(i int) *kalcifer.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.events[i][0]
}

func (e *stubEngine) setDup(dup bool) {
	e.mu.Lock()
	e.dup = dup
	e.mu.Unlock()
}

func (e *stubEngine) setErr(err error) {
	e.mu.Lock()
	e.err = err
	e.mu.Unlock()
}

func (e *stubEngine) Ingest(_ context.Context, events []*kalcifer.Event) ([]bool, error) {
	if err := e.record("Ingest"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, events)
	dup := make([]bool, len(events))
	for i, ev := range events {
		ev.ID = fmt.Sprintf("evt_%d", i)
		dup[i] = e.dup
	}
	return dup, nil
}

func (e *stubEngine) Trigger(_ context.Context, tenantID, journeyID string, customerIDs []string) ([]*kalcifer.Event, error) {
	if err := e.record(fmt.Sprintf("Trigger %s %s %v", tenantID, journeyID, customerIDs)); err != nil {
		return nil, err
	}
	out := make([]*kalcifer.Event, len(customerIDs))
	for i, id := range customerIDs {
		out[i] = &kalcifer.Event{ID: "evt_t" + id, CustomerID: id}
	}
	return out, nil
}

func (e *stubEngine) Webhook(_ context.Context, tenantID, journeyID, customerID string, data json.RawMessage) (*kalcifer.Event, error) {
	if err := e.record(fmt.Sprintf("Webhook %s %s %s %s", tenantID, journeyID, customerID, data)); err != nil {
		return nil, err
	}
	return &kalcifer.Event{ID: "evt_w"}, nil
}

func (e *stubEngine) control(what, tenantID, id string) (*kalcifer.Instance, error) {
	if err := e.record(fmt.Sprintf("%s %s %s", what, tenantID, id)); err != nil {
		return nil, err
	}
	return &kalcifer.Instance{ID: id, TenantID: tenantID, Status: kalcifer.InstancePaused, Nodes: []string{}}, nil
}

func (e *stubEngine) PauseInstance(_ context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	return e.control("Pause", tenantID, id)
}

func (e *stubEngine) ResumeInstance(_ context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	return e.control("Resume", tenantID, id)
}

func (e *stubEngine) ExitInstance(_ context.Context, tenantID, id string) (*kalcifer.Instance, error) {
	return e.control("Exit", tenantID, id)
}

// fields lists the fields an error's details name, in order.
func fields(e apiError) []string {
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestEventValidation(t *testing.T) {
	t.Parallel()
	eng := &stubEngine{}
	tb := setup(t, withEngine(eng))
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		fields []string
	}{
		{"empty object", `{}`, 422, []string{"customer_id", "event_type"}},
		{"blank customer", `{"customer_id":"  ","event_type":"a"}`, 422, []string{"customer_id"}},
		{"long customer", `{"customer_id":"` + long + `","event_type":"a"}`, 422, []string{"customer_id"}},
		{"long type", `{"customer_id":"c","event_type":"` + long + `"}`, 422, []string{"event_type"}},
		{"reserved type", `{"customer_id":"c","event_type":"$trigger"}`, 422, []string{"event_type"}},
		{"long id", `{"id":"` + long + `","customer_id":"c","event_type":"a"}`, 422, []string{"id"}},
		{"every problem", `{"id":"` + long + `","event_type":"$x"}`, 422, []string{"id", "customer_id", "event_type"}},
		{"data not object", `{"customer_id":"c","event_type":"a","data":"x"}`, 400, []string{"data"}},
		{"data array", `{"customer_id":"c","event_type":"a","data":[1]}`, 400, []string{"data"}},
		{"bad timestamp", `{"customer_id":"c","event_type":"a","timestamp":"yesterday"}`, 400, []string{"timestamp"}},
		{"timestamp without zone", `{"customer_id":"c","event_type":"a","timestamp":"2024-05-01T12:00:00"}`, 400, []string{"timestamp"}},
		{"wrong type", `{"customer_id":5,"event_type":"a"}`, 400, []string{"customer_id"}},
		{"unknown field", `{"customer_id":"c","event_type":"a","colour":"red"}`, 400, []string{"colour"}},
		{"not an object", `["c"]`, 400, nil},
		{"no body", ``, 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := "invalid"
			if tc.status == 422 {
				code = "unprocessable"
			}
			e := tb.do("POST", "/api/v1/events", tb.editor, tc.body).wantError(t, tc.status, code)
			if got := fields(e); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields = %v, want %v (%s)", got, tc.fields, e.Message)
			}
		})
	}
	if calls := eng.Calls(); len(calls) != 0 {
		t.Fatalf("invalid events reached the engine: %v", calls)
	}
}

func TestEventAccepted(t *testing.T) {
	t.Parallel()
	eng := &stubEngine{}
	tb := setup(t, withEngine(eng))
	// 200 characters is the limit, counted in characters, not bytes.
	customer := strings.Repeat("é", 200)
	var res struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{
		"id": "c-1", "customer_id": customer, "event_type": "signed_up",
		"data": map[string]any{"plan": "pro"}, "timestamp": "2024-05-01T14:00:00.5+02:00",
	}).want(t, http.StatusAccepted).into(t, &res)
	if res.ID != "evt_0" || res.Duplicate {
		t.Fatalf("response = %+v", res)
	}
	ev := eng.ingested(0)
	want := time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC)
	if ev.TenantID != "default" || ev.ClientID != "c-1" || ev.CustomerID != customer || ev.Type != "signed_up" ||
		string(ev.Data) != `{"plan":"pro"}` || !ev.OccurredAt.Equal(want) || ev.OccurredAt.Location() != time.UTC {
		t.Fatalf("event handed to the engine = %+v", ev)
	}

	// Without a timestamp or data the engine gets zero values (it fills in
	// the time of receipt and an empty object).
	tb.do("POST", "/api/v1/events", tb.editor, `{"customer_id":"c","event_type":"a","data":null}`).want(t, http.StatusAccepted)
	if ev := eng.ingested(1); !ev.OccurredAt.IsZero() || ev.Data != nil || ev.ClientID != "" {
		t.Fatalf("bare event = %+v", ev)
	}

	// A repeat answers 200.
	eng.setDup(true)
	tb.do("POST", "/api/v1/events", tb.editor, `{"id":"c-1","customer_id":"c","event_type":"a"}`).
		want(t, http.StatusOK).into(t, &res)
	if !res.Duplicate || res.ID != "evt_0" {
		t.Fatalf("duplicate response = %+v", res)
	}
}

func TestEventBatchValidation(t *testing.T) {
	t.Parallel()
	eng := &stubEngine{}
	tb := setup(t, withEngine(eng))
	good := `{"customer_id":"c","event_type":"a"}`
	many := strings.Repeat(good+",", 1000) + good
	for _, tc := range []struct {
		name    string
		body    string
		status  int
		fields  []string
		message string
	}{
		{"no events", `{"events":[]}`, 422, []string{"events"}, "a batch holds 1 to 1000 events; this one has 0"},
		{"missing events", `{}`, 422, []string{"events"}, ""},
		{"too many", `{"events":[` + many + `]}`, 422, []string{"events"}, "a batch holds 1 to 1000 events; this one has 1001"},
		{"every bad one", `{"events":[` + good + `,{"event_type":"a"},` + good + `,{"customer_id":"c","event_type":"$a"},{}]}`, 422,
			[]string{"events[1].customer_id", "events[3].event_type", "events[4].customer_id", "events[4].event_type"},
			"3 of 5 events are invalid; nothing was stored"},
		{"malformed beats invalid", `{"events":[{"event_type":"a"},{"customer_id":"c","event_type":"a","data":1},{"customer_id":[]}]}`, 400,
			[]string{"events[1].data", "events[2].customer_id"}, "2 of 3 events are malformed; nothing was stored"},
		{"not an object", `{"events":[` + good + `,7]}`, 400, []string{"events[1]"}, ""},
		{"unknown field", `{"events":[` + good + `,{"customer_id":"c","event_type":"a","nope":1}]}`, 400, []string{"events[1].nope"}, ""},
		{"events not array", `{"events":{}}`, 400, []string{"events"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := "invalid"
			if tc.status == 422 {
				code = "unprocessable"
			}
			e := tb.do("POST", "/api/v1/events/batch", tb.editor, tc.body).wantError(t, tc.status, code)
			if got := fields(e); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields = %v, want %v (%s)", got, tc.fields, e.Message)
			}
			if !strings.HasPrefix(e.Message, tc.message) {
				t.Fatalf("message = %q, want it to start %q", e.Message, tc.message)
			}
		})
	}
	if calls := eng.Calls(); len(calls) != 0 {
		t.Fatalf("an invalid batch reached the engine: %v", calls)
	}

	// 1000 events is allowed, and the answer counts and lists them.
	var res struct {
		Accepted   int      `json:"accepted"`
		Duplicates int      `json:"duplicates"`
		IDs        []string `json:"ids"`
	}
	tb.do("POST", "/api/v1/events/batch", tb.editor, `{"events":[`+strings.Repeat(good+",", 999)+good+`]}`).
		want(t, http.StatusAccepted).into(t, &res)
	if res.Accepted != 1000 || res.Duplicates != 0 || len(res.IDs) != 1000 || res.IDs[999] != "evt_999" {
		t.Fatalf("response = %d accepted, %d duplicates, %d ids", res.Accepted, res.Duplicates, len(res.IDs))
	}
}

func TestTriggerAndWebhookValidation(t *testing.T) {
	t.Parallel()
	eng := &stubEngine{}
	tb := setup(t, withEngine(eng))
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i)
	}
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		fields     []string
	}{
		{"trigger without customers", "/api/v1/journeys/j1/trigger", `{}`, 422, []string{"customer_ids"}},
		{"trigger empty list", "/api/v1/journeys/j1/trigger", `{"customer_ids":[]}`, 422, []string{"customer_ids"}},
		{"trigger too many", "/api/v1/journeys/j1/trigger", map[string]any{"customer_ids": ids}, 422, []string{"customer_ids"}},
		{"trigger bad ids", "/api/v1/journeys/j1/trigger", `{"customer_ids":["a","","b","a","` + strings.Repeat("x", 201) + `"]}`, 422,
			[]string{"customer_ids[1]", "customer_ids[3]", "customer_ids[4]"}},
		{"trigger wrong type", "/api/v1/journeys/j1/trigger", `{"customer_ids":"a"}`, 400, []string{"customer_ids"}},
		{"webhook without customer", "/api/v1/webhooks/j1", `{"data":{}}`, 422, []string{"customer_id"}},
		{"webhook data not object", "/api/v1/webhooks/j1", `{"customer_id":"c","data":"x"}`, 400, []string{"data"}},
		{"webhook unknown field", "/api/v1/webhooks/j1", `{"customer_id":"c","event_type":"x"}`, 400, []string{"event_type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := "invalid"
			if tc.status == 422 {
				code = "unprocessable"
			}
			e := tb.do("POST", tc.path, tb.editor, tc.body).wantError(t, tc.status, code)
			if got := fields(e); !slices.Equal(got, tc.fields) {
				t.Fatalf("fields = %v, want %v (%s)", got, tc.fields, e.Message)
			}
		})
	}
	if calls := eng.Calls(); len(calls) != 0 {
		t.Fatalf("invalid requests reached the engine: %v", calls)
	}

	// Valid requests reach the engine with the caller's tenant.
	tb.do("POST", "/api/v1/journeys/j1/trigger", tb.editor, `{"customer_ids":["a","b"]}`).want(t, http.StatusAccepted)
	tb.do("POST", "/api/v1/webhooks/j1", tb.editor, `{"customer_id":"c","data":{"k":1}}`).want(t, http.StatusAccepted)
	tb.do("POST", "/api/v1/webhooks/j1", tb.otherAdmin, `{"customer_id":"c"}`).want(t, http.StatusAccepted)
	want := []string{"Trigger default j1 [a b]", `Webhook default j1 c {"k":1}`, "Webhook acme j1 c "}
	if calls := eng.Calls(); !slices.Equal(calls, want) {
		t.Fatalf("calls = %q, want %q", calls, want)
	}
}

// The engine's errors are mapped like the store's: its conflicts keep their
// state, anything else is a logged 500 that shows nothing.
func TestEngineErrors(t *testing.T) {
	t.Parallel()
	eng := &stubEngine{err: &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "cannot pause an instance that is exited",
		State: map[string]any{"status": "exited"}}}
	tb := setup(t, withEngine(eng))
	e := tb.do("POST", "/api/v1/instances/ins_1/pause", tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
	if e.State["status"] != "exited" {
		t.Fatalf("state = %v", e.State)
	}
	eng.setErr(kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "journey %q has no webhook_entry node", "j1"))
	tb.do("POST", "/api/v1/webhooks/j1", tb.editor, `{"customer_id":"c"}`).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	eng.setErr(fmt.Errorf("disk on fire"))
	e = tb.do("POST", "/api/v1/events", tb.editor, `{"customer_id":"c","event_type":"a"}`).wantError(t, http.StatusInternalServerError, "internal")
	if strings.Contains(e.Message, "fire") || !strings.Contains(tb.logs.String(), "disk on fire") {
		t.Fatalf("internal error leaked (%q) or was not logged", e.Message)
	}
	// Instance commands take no body but an empty object.
	tb.do("POST", "/api/v1/instances/ins_1/exit", tb.editor, `{"now":true}`).wantError(t, http.StatusBadRequest, "invalid")
	eng.setErr(nil)
	tb.do("POST", "/api/v1/instances/ins_1/resume", tb.editor, `{}`).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/instances/ins_1/exit", tb.admin, nil).want(t, http.StatusOK)
	calls := eng.Calls()
	if want := []string{"Pause default ins_1", "Webhook default j1 c ", "Ingest", "Resume default ins_1", "Exit default ins_1"}; !slices.Equal(calls, want) {
		t.Fatalf("calls = %q, want %q", calls, want)
	}
}

// Without an engine the engine routes answer 503 and the rest still works;
// roles are still checked first.
func TestWithoutEngine(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for _, path := range []string{"/api/v1/events", "/api/v1/events/batch", "/api/v1/webhooks/j1",
		"/api/v1/journeys/j1/trigger", "/api/v1/instances/i1/pause", "/api/v1/instances/i1/resume", "/api/v1/instances/i1/exit"} {
		e := tb.do("POST", path, tb.editor, `{}`).wantError(t, http.StatusServiceUnavailable, "unavailable")
		if !strings.Contains(e.Message, "engine") {
			t.Fatalf("%s: message = %q", path, e.Message)
		}
		tb.do("POST", path, tb.viewer, `{}`).wantError(t, http.StatusForbidden, "forbidden")
	}
	j := tb.createJourney("No engine", true)
	var page kalcifer.Page[kalcifer.Instance]
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
	if page.Data == nil || len(page.Data) != 0 {
		t.Fatalf("instances of a new journey = %+v", page)
	}
	tb.do("PATCH", "/api/v1/customers/c1/profile", tb.editor, `{"add_tags":["x"]}`).want(t, http.StatusOK)
}

func (e *stubEngine) Publish(_ context.Context, p store.PublishParams) (*kalcifer.PublishPlan, error) {
	tenantID, journeyID, version, rollback, req := p.TenantID, p.JourneyID, p.Version, p.Rollback, p.Request
	if err := e.record(fmt.Sprintf("publish %s %s v%d rollback=%v %s", tenantID, journeyID, version, rollback, req.Strategy)); err != nil {
		return nil, err
	}
	return &kalcifer.PublishPlan{ToVersion: version, Migration: &kalcifer.Migration{ID: "mig_1"}}, nil
}

func (e *stubEngine) ControlMigration(_ context.Context, p store.ControlMigrationParams) (*kalcifer.Migration, error) {
	tenantID, id, action, percent := p.TenantID, p.MigrationID, p.Action, p.Percent
	if err := e.record(fmt.Sprintf("%s %s %s %d", action, tenantID, id, percent)); err != nil {
		return nil, err
	}
	return &kalcifer.Migration{ID: id}, nil
}

func (e *stubEngine) Warnings(string, *graph.Graph) []kalcifer.Warning { return nil }

func (e *stubEngine) On() []string { return nil }

func (e *stubEngine) ReleaseHeld(_ context.Context, tenantID, migrationID string, req kalcifer.ReleaseRequest) (*kalcifer.ReleaseResult, error) {
	if err := e.record("release " + tenantID + " " + migrationID); err != nil {
		return nil, err
	}
	return &kalcifer.ReleaseResult{Skipped: []string{}}, nil
}

func (e *stubEngine) RecordDeliveries(_ context.Context, tenantID, provider string, statuses []channel.Status) (kalcifer.DeliveryResult, error) {
	if err := e.record(fmt.Sprintf("deliveries %s %s %d", tenantID, provider, len(statuses))); err != nil {
		return kalcifer.DeliveryResult{}, err
	}
	return kalcifer.DeliveryResult{Recorded: len(statuses)}, nil
}

func (e *stubEngine) EraseCustomer(_ context.Context, tenantID, customerID, actor string) (*kalcifer.Erasure, error) {
	if err := e.record("erase " + tenantID + " " + customerID); err != nil {
		return nil, err
	}
	return &kalcifer.Erasure{ErasedBy: actor}, nil
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kalcifer/kalcifer"
)

// The tests in this file run the real engine: events go in over HTTP, and
// their effects are polled for over HTTP, as a client would.

// waitingGraph sends a welcome email on sign-up, then waits three days for
// the email to be opened: an instance stays active at "wait" long enough
// to be inspected and steered.
const waitingGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"mail","type":"send_email","position":{"x":0,"y":100},"config":{"subject":"Hi","text":"Hi","to":"a@example.com"}},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":200},"config":{"event_type":"email_opened","timeout":"3d"}},
	{"id":"opened","type":"journey_exit","position":{"x":0,"y":300}},
	{"id":"late","type":"journey_exit","position":{"x":200,"y":300}}],
	"edges":[{"id":"e1","source":"entry","target":"mail"},{"id":"e2","source":"mail","target":"wait"},
	{"id":"e3","source":"wait","branch":"event_received","target":"opened"},
	{"id":"e4","source":"wait","branch":"timed_out","target":"late"}]}`

// webhookGraph is entered through its webhook and waits, like waitingGraph.
const webhookGraph = `{"nodes":[
	{"id":"hook","type":"webhook_entry","position":{"x":0,"y":0}},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":100},"config":{"event_type":"paid","timeout":"3d"}},
	{"id":"done","type":"journey_exit","position":{"x":0,"y":200}}],
	"edges":[{"id":"e1","source":"hook","target":"wait"},
	{"id":"e2","source":"wait","branch":"event_received","target":"done"},
	{"id":"e3","source":"wait","branch":"timed_out","target":"done"}]}`

// activeJourney creates a journey with graph and activates it.
func (tb *testBundle) activeJourney(name, graph string) kalcifer.Journey {
	tb.t.Helper()
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": name, "graph": json.RawMessage(graph)}).
		want(tb.t, http.StatusCreated).into(tb.t, &j)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(tb.t, http.StatusOK).into(tb.t, &j)
	return j
}

// Activating a journey whose emails the log provider would only record
// answers a warning naming the node: nothing is silently not delivered.
func TestActivateWarnsOfMessagesOnlyLogged(t *testing.T) {
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "welcome", "graph": json.RawMessage(waitingGraph)}).
		want(t, http.StatusCreated).into(t, &j)
	var got struct {
		Status   string             `json:"status"`
		Warnings []kalcifer.Warning `json:"warnings"`
	}
	res := tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)
	res.into(t, &got)
	check("ActivatedJourney", res)
	if got.Status != "active" || len(got.Warnings) != 1 || got.Warnings[0].NodeID != "mail" ||
		!strings.Contains(got.Warnings[0].Message, "recorded, not delivered") {
		t.Fatalf("activation = %+v, want active with one warning about node mail", got)
	}
}

// instanceDetail is the body of GET /instances/{id}.
type instanceDetail struct {
	kalcifer.Instance
	Steps []kalcifer.Step `json:"steps"`
	Sends []kalcifer.Send `json:"sends"`
}

func (tb *testBundle) instance(id string) instanceDetail {
	tb.t.Helper()
	var in instanceDetail
	tb.do("GET", "/api/v1/instances/"+id, tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &in)
	return in
}

// instances lists a journey's instances; query is the query string.
func (tb *testBundle) instances(journeyID, query string) kalcifer.Page[kalcifer.Instance] {
	tb.t.Helper()
	var page kalcifer.Page[kalcifer.Instance]
	tb.do("GET", "/api/v1/journeys/"+journeyID+"/instances?"+query, tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &page)
	return page
}

// customerJourneys lists the instances a customer is in, as key sees them.
func (tb *testBundle) customerJourneys(key, customerID string) []kalcifer.Instance {
	tb.t.Helper()
	var page kalcifer.Page[kalcifer.Instance]
	tb.do("GET", "/api/v1/customers/"+url.PathEscape(customerID)+"/journeys", key, nil).want(tb.t, http.StatusOK).into(tb.t, &page)
	if page.Data == nil {
		tb.t.Fatalf("customer journeys: data is null")
	}
	return page.Data
}

// sendEvent posts one event and returns its id.
func (tb *testBundle) sendEvent(key string, ev map[string]any) string {
	tb.t.Helper()
	var res struct{ ID string }
	tb.do("POST", "/api/v1/events", key, ev).want(tb.t, http.StatusAccepted).into(tb.t, &res)
	return res.ID
}

// schemaChecker holds responses against the OpenAPI document's schemas.
func schemaChecker(t *testing.T) func(name string, res *response) {
	schema := responseSchemas(t)
	return func(name string, res *response) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema(name).Validate(v); err != nil {
			t.Fatalf("response does not match schema %s: %v\n%s", name, err, res.body)
		}
	}
}

func nodeIDs(steps []kalcifer.Step) []string {
	var out []string
	for _, s := range steps {
		if s.NodeID != "" {
			out = append(out, s.NodeID)
		}
	}
	return out
}

func TestEventsRunJourneys(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	j := tb.activeJourney("Welcome", waitingGraph)

	ev := map[string]any{"id": "cli-1", "customer_id": "c1", "event_type": "signed_up", "data": map[string]any{"plan": "pro"}}
	res := tb.do("POST", "/api/v1/events", tb.editor, ev).want(t, http.StatusAccepted)
	check("EventResponse", res)
	var first, again struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	res.into(t, &first)
	if first.ID == "" || first.Duplicate {
		t.Fatalf("first = %+v", first)
	}
	res = tb.do("POST", "/api/v1/events", tb.editor, ev).want(t, http.StatusOK)
	check("EventResponse", res)
	if res.into(t, &again); again.ID != first.ID || !again.Duplicate {
		t.Fatalf("repeat = %+v, want the original id %s and duplicate", again, first.ID)
	}

	// The engine routes the event: the customer enters, is mailed, and waits.
	var id string
	tb.eventually("c1 waits at node wait", func() bool {
		page := tb.instances(j.ID, "")
		if len(page.Data) != 1 {
			return false
		}
		id = page.Data[0].ID
		return slices.Equal(page.Data[0].Nodes, []string{"wait"})
	})
	res = tb.do("GET", "/api/v1/instances/"+id, tb.viewer, nil).want(t, http.StatusOK)
	check("InstanceDetail", res)
	in := tb.instance(id)
	if in.JourneyID != j.ID || in.CustomerID != "c1" || in.Version != 1 || in.Status != kalcifer.InstanceActive || in.TenantID != "default" {
		t.Fatalf("instance = %+v", in.Instance)
	}
	// A send node steps twice: when it sends and when the outcome is in.
	if got := slices.Compact(nodeIDs(in.Steps)); !slices.Equal(got, []string{"entry", "mail", "wait"}) {
		t.Fatalf("steps at nodes %v, want entry, mail, wait", got)
	}
	if len(in.Sends) != 1 || in.Sends[0].NodeID != "mail" || in.Sends[0].Channel != "email" || in.Sends[0].Status != kalcifer.SendLogged ||
		in.Sends[0].InstanceID != id {
		t.Fatalf("sends = %+v", in.Sends)
	}

	// A second customer goes all the way through: the event they wait for
	// is routed to their wait.
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "c2", "event_type": "signed_up"})
	var id2 string
	tb.eventually("c2 waits", func() bool {
		list := tb.customerJourneys(tb.viewer, "c2")
		if len(list) == 1 && slices.Equal(list[0].Nodes, []string{"wait"}) {
			id2 = list[0].ID
			return true
		}
		return false
	})
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "c2", "event_type": "email_opened"})
	tb.eventually("c2 leaves through opened", func() bool { return tb.instance(id2).Status == kalcifer.InstanceExited })
	if got := nodeIDs(tb.instance(id2).Steps); !slices.Contains(got, "opened") || slices.Contains(got, "late") {
		t.Fatalf("c2 went through %v", got)
	}
	if list := tb.customerJourneys(tb.viewer, "c2"); len(list) != 0 {
		t.Fatalf("c2 is still in %+v", list)
	}

	// Filters and pages.
	res = tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances", tb.viewer, nil).want(t, http.StatusOK)
	check("InstancePage", res)
	for query, want := range map[string][]string{
		"":                 {id2, id},
		"status=active":    {id},
		"status=exited":    {id2},
		"status=completed": nil,
		"node_id=wait":     {id},
		"node_id=mail":     nil,
		"version=1":        {id2, id},
		"version=2":        nil,
	} {
		var got []string
		for _, in := range tb.instances(j.ID, query).Data {
			got = append(got, in.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("instances?%s = %v, want %v", query, got, want)
		}
	}
	p1 := tb.instances(j.ID, "limit=1")
	if len(p1.Data) != 1 || p1.Data[0].ID != id2 || p1.NextCursor == "" {
		t.Fatalf("page 1 = %+v", p1)
	}
	p2 := tb.instances(j.ID, "limit=1&cursor="+url.QueryEscape(p1.NextCursor))
	if len(p2.Data) != 1 || p2.Data[0].ID != id || p2.NextCursor != "" {
		t.Fatalf("page 2 = %+v", p2)
	}
	for _, q := range []string{"version=0", "version=x", "version=01", "status=waiting", "limit=0", "limit=501"} {
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances?"+q, tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")
	}
	tb.do("GET", "/api/v1/journeys/jrn_nope/instances", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")

	// Only c1 is still in the journey.
	res = tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances/by-version", tb.viewer, nil).want(t, http.StatusOK)
	check("InstanceCountByVersion", res)
	var counts map[string]int
	if res.into(t, &counts); len(counts) != 1 || counts["v1"] != 1 {
		t.Fatalf("by version = %v", counts)
	}
	tb.do("GET", "/api/v1/journeys/jrn_nope/instances/by-version", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/instances/ins_nope", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")

	// Routing created c1's profile.
	res = tb.do("GET", "/api/v1/customers/c1/profile", tb.viewer, nil).want(t, http.StatusOK)
	check("Customer", res)
}

func TestInstanceControl(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	j := tb.activeJourney("Welcome", waitingGraph)
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "c1", "event_type": "signed_up"})
	var id string
	tb.eventually("c1 waits", func() bool {
		list := tb.customerJourneys(tb.viewer, "c1")
		if len(list) == 1 && slices.Equal(list[0].Nodes, []string{"wait"}) {
			id = list[0].ID
			return true
		}
		return false
	})
	path := "/api/v1/instances/" + id

	// Another tenant cannot see or steer it; a viewer cannot steer it.
	for _, r := range []struct{ method, path string }{
		{"GET", path}, {"POST", path + "/pause"}, {"POST", path + "/resume"}, {"POST", path + "/exit"},
		{"GET", "/api/v1/journeys/" + j.ID + "/instances"}, {"GET", "/api/v1/journeys/" + j.ID + "/instances/by-version"},
	} {
		tb.do(r.method, r.path, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	}
	if list := tb.customerJourneys(tb.otherAdmin, "c1"); len(list) != 0 {
		t.Fatalf("acme sees default's instances: %+v", list)
	}
	for _, action := range []string{"pause", "resume", "exit"} {
		tb.do("POST", path+"/"+action, tb.viewer, nil).wantError(t, http.StatusForbidden, "forbidden")
	}

	step := func(action string, want kalcifer.InstanceStatus) {
		t.Helper()
		res := tb.do("POST", path+"/"+action, tb.editor, nil).want(t, http.StatusOK)
		check("Instance", res)
		var in kalcifer.Instance
		if res.into(t, &in); in.ID != id || in.Status != want {
			t.Fatalf("%s: instance = %+v", action, in)
		}
		if got := tb.instance(id).Status; got != want {
			t.Fatalf("after %s the stored status is %s, want %s", action, got, want)
		}
	}
	conflict := func(action string, status kalcifer.InstanceStatus) {
		t.Helper()
		res := tb.do("POST", path+"/"+action, tb.editor, nil)
		check("Error", res)
		if e := res.wantError(t, http.StatusConflict, "conflict"); e.State["status"] != string(status) {
			t.Fatalf("%s on a %s instance: state = %v", action, status, e.State)
		}
	}
	conflict("resume", kalcifer.InstanceActive)
	step("pause", kalcifer.InstancePaused)
	conflict("pause", kalcifer.InstancePaused)
	if list := tb.customerJourneys(tb.viewer, "c1"); len(list) != 1 || list[0].Status != kalcifer.InstancePaused {
		t.Fatalf("a paused instance is still one the customer is in: %+v", list)
	}
	step("resume", kalcifer.InstanceActive)
	step("pause", kalcifer.InstancePaused)
	step("exit", kalcifer.InstanceExited) // a paused instance can be exited too
	for _, action := range []string{"pause", "resume", "exit"} {
		conflict(action, kalcifer.InstanceExited)
	}
	tb.do("POST", "/api/v1/instances/ins_nope/pause", tb.editor, nil).wantError(t, http.StatusNotFound, "not_found")

	in := tb.instance(id)
	var results []string
	for _, s := range in.Steps {
		results = append(results, s.Result)
	}
	for _, want := range []string{"paused", "resumed", "exited"} {
		if !slices.Contains(results, want) {
			t.Fatalf("history %v lacks %q", results, want)
		}
	}
	if list := tb.customerJourneys(tb.viewer, "c1"); len(list) != 0 {
		t.Fatalf("c1 is still in %+v", list)
	}
	var counts map[string]int
	if tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances/by-version", tb.viewer, nil).want(t, http.StatusOK).into(t, &counts); len(counts) != 0 {
		t.Fatalf("by version after exit = %v", counts)
	}
}

func TestTriggerAndWebhook(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	j := tb.activeJourney("Manual", waitingGraph)
	hook := tb.activeJourney("Hooked", webhookGraph)

	res := tb.do("POST", "/api/v1/journeys/"+j.ID+"/trigger", tb.editor, `{"customer_ids":["t1","t2"]}`).want(t, http.StatusAccepted)
	check("TriggerResponse", res)
	var trig struct {
		Enrolled int      `json:"enrolled"`
		EventIDs []string `json:"event_ids"`
	}
	if res.into(t, &trig); trig.Enrolled != 2 || len(trig.EventIDs) != 2 || trig.EventIDs[0] == trig.EventIDs[1] {
		t.Fatalf("trigger = %+v", trig)
	}
	for _, c := range []string{"t1", "t2"} {
		tb.eventually(c+" enters by trigger", func() bool {
			list := tb.customerJourneys(tb.viewer, c)
			return len(list) == 1 && list[0].JourneyID == j.ID
		})
	}

	res = tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.editor, `{"customer_id":"w1","data":{"plan":"pro"}}`).want(t, http.StatusAccepted)
	check("WebhookResponse", res)
	var wh struct{ ID string }
	if res.into(t, &wh); wh.ID == "" {
		t.Fatalf("webhook answer: %s", res.body)
	}
	tb.eventually("w1 enters by webhook", func() bool {
		list := tb.customerJourneys(tb.viewer, "w1")
		return len(list) == 1 && list[0].JourneyID == hook.ID && slices.Equal(list[0].Nodes, []string{"wait"})
	})

	// What the engine refuses: no webhook entry, not active, unknown, another tenant's.
	res = tb.do("POST", "/api/v1/webhooks/"+j.ID, tb.editor, `{"customer_id":"w2"}`)
	res.wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	draft := tb.createJourney("Draft", true)
	for _, path := range []string{"/api/v1/webhooks/" + draft.ID, "/api/v1/journeys/" + draft.ID + "/trigger"} {
		body := `{"customer_id":"w2"}`
		if path != "/api/v1/webhooks/"+draft.ID {
			body = `{"customer_ids":["w2"]}`
		}
		if e := tb.do("POST", path, tb.editor, body).wantError(t, http.StatusConflict, "conflict"); e.State["status"] != "draft" {
			t.Fatalf("%s on a draft: state = %v", path, e.State)
		}
		tb.do("POST", path, tb.viewer, body).wantError(t, http.StatusForbidden, "forbidden")
	}
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/pause", tb.editor, nil).want(t, http.StatusOK)
	e := tb.do("POST", "/api/v1/journeys/"+j.ID+"/trigger", tb.editor, `{"customer_ids":["t3"]}`).wantError(t, http.StatusConflict, "conflict")
	if e.State["status"] != "paused" {
		t.Fatalf("trigger on a paused journey: state = %v", e.State)
	}
	for _, key := range []string{tb.editor, tb.otherAdmin} {
		tb.do("POST", "/api/v1/webhooks/jrn_nope", key, `{"customer_id":"w2"}`).wantError(t, http.StatusNotFound, "not_found")
		tb.do("POST", "/api/v1/journeys/jrn_nope/trigger", key, `{"customer_ids":["w2"]}`).wantError(t, http.StatusNotFound, "not_found")
	}
	tb.do("POST", "/api/v1/webhooks/"+hook.ID, tb.otherAdmin, `{"customer_id":"w2"}`).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/journeys/"+hook.ID+"/trigger", tb.otherAdmin, `{"customer_ids":["w2"]}`).wantError(t, http.StatusNotFound, "not_found")
}

func TestEventBatch(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	j := tb.activeJourney("Welcome", waitingGraph)
	batch := map[string]any{"events": []map[string]any{
		{"id": "b-1", "customer_id": "b1", "event_type": "signed_up"},
		{"id": "b-1", "customer_id": "b1", "event_type": "signed_up"}, // a repeat inside the batch
		{"customer_id": "b2", "event_type": "signed_up"},
		{"id": "b-3", "customer_id": "b3", "event_type": "browsed", "timestamp": "2024-05-01T12:00:00Z"},
	}}
	type batchResponse struct {
		Accepted   int      `json:"accepted"`
		Duplicates int      `json:"duplicates"`
		IDs        []string `json:"ids"`
	}
	res := tb.do("POST", "/api/v1/events/batch", tb.editor, batch).want(t, http.StatusAccepted)
	check("EventBatchResponse", res)
	var first batchResponse
	res.into(t, &first)
	if first.Accepted != 3 || first.Duplicates != 1 || len(first.IDs) != 4 || first.IDs[0] != first.IDs[1] ||
		first.IDs[0] == first.IDs[2] || first.IDs[2] == first.IDs[3] {
		t.Fatalf("batch = %+v", first)
	}
	if n := tb.countEvents(); n != 3 {
		t.Fatalf("%d events stored, want 3", n)
	}

	// Sent again, only the event without an id is new.
	var again batchResponse
	tb.do("POST", "/api/v1/events/batch", tb.editor, batch).want(t, http.StatusAccepted).into(t, &again)
	if again.Accepted != 1 || again.Duplicates != 3 || again.IDs[0] != first.IDs[0] || again.IDs[3] != first.IDs[3] ||
		again.IDs[2] == first.IDs[2] {
		t.Fatalf("batch again = %+v (first %+v)", again, first)
	}
	if n := tb.countEvents(); n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}

	// Client ids are per tenant: acme's b-1 is its own.
	var other struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	tb.do("POST", "/api/v1/events", tb.otherAdmin, `{"id":"b-1","customer_id":"b1","event_type":"signed_up"}`).
		want(t, http.StatusAccepted).into(t, &other)
	if other.Duplicate || other.ID == first.IDs[0] {
		t.Fatalf("acme's b-1 = %+v", other)
	}

	for _, c := range []string{"b1", "b2"} {
		tb.eventually(c+" enters", func() bool {
			list := tb.customerJourneys(tb.viewer, c)
			return len(list) == 1 && list[0].JourneyID == j.ID
		})
	}
	if list := tb.customerJourneys(tb.otherAdmin, "b1"); len(list) != 0 {
		t.Fatalf("acme's b1 entered default's journey: %+v", list)
	}
	for _, path := range []string{"/api/v1/events", "/api/v1/events/batch"} {
		tb.do("POST", path, tb.viewer, `{}`).wantError(t, http.StatusForbidden, "forbidden")
	}
}

// countEvents counts the stored events of every tenant.
func (tb *testBundle) countEvents() int {
	tb.t.Helper()
	var n int
	if err := tb.backend.Q().QueryRow(context.Background(), `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		tb.t.Fatalf("count events: %v", err)
	}
	return n
}

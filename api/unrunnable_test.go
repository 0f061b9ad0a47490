package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// withUnrunnableEntries has, beside a working event entry, a custom_code
// node, which a server without custom code cannot run.
const withUnrunnableEntries = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"lua","type":"custom_code","position":{"x":100,"y":0},"config":{"language":"lua","code":"return {}"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":100}}],
	"edges":[{"id":"e1","source":"entry","target":"lua"},{"id":"e2","source":"lua","target":"exit"}]}`

// wantUnrunnable checks a refusal names the node and says how to run it.
func wantUnrunnable(t *testing.T, res *response) {
	t.Helper()
	e := res.wantError(t, http.StatusUnprocessableEntity, kalcifer.EUNPROCESSABLE)
	if len(e.Details) != 1 || e.Details[0].NodeID != "lua" || !strings.Contains(e.Details[0].Message, "KALCIFER_ENABLE_CUSTOM_CODE=true") {
		t.Errorf("want one detail naming node lua and how to turn custom code on, got %+v", e)
	}
}

// A draft may hold a node the server cannot run, but activating it is
// refused (422): an active journey that silently never runs it would break
// the README's promise.
func TestActivateRefusesEntriesThatCannotRun(t *testing.T) {
	t.Parallel()
	onBothBackends(t, testActivateRefusesEntriesThatCannotRun)
}

func testActivateRefusesEntriesThatCannotRun(t *testing.T, tb *testBundle) {
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "unrunnable", "graph": json.RawMessage(withUnrunnableEntries)}).
		want(t, http.StatusCreated).into(t, &j)
	wantUnrunnable(t, tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil))

	var got kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.Status != kalcifer.JourneyDraft || got.CurrentVersion != 0 {
		t.Fatalf("a refused activation changed the journey: %+v", got)
	}
	var versions struct{ Data []kalcifer.Version }
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/versions", tb.viewer, nil).want(t, http.StatusOK).into(t, &versions)
	if len(versions.Data) != 0 {
		t.Fatalf("a refused activation stored versions: %+v", versions.Data)
	}

	// Drafts keep working: once the entries go, it activates.
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, map[string]any{"graph": json.RawMessage(validGraph)}).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)
}

// Publishing a version with such entries is refused the same way, dry run
// or not, and so is rolling back to one (published before this check).
func TestPublishRefusesEntriesThatCannotRun(t *testing.T) {
	t.Parallel()
	onBothBackends(t, testPublishRefusesEntriesThatCannotRun)
}

func testPublishRefusesEntriesThatCannotRun(t *testing.T, tb *testBundle) {
	j := tb.createJourney("publish unrunnable", true)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)
	v2 := tb.draft(j.ID, withUnrunnableEntries)

	newOnly := map[string]any{"migration_strategy": "new_entries_only"}
	dryRun := map[string]any{"migration_strategy": "new_entries_only", "dry_run": true}
	publish := fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v2)
	wantUnrunnable(t, tb.do("POST", publish, tb.editor, dryRun))
	wantUnrunnable(t, tb.do("POST", publish, tb.editor, newOnly))
	var v kalcifer.Version
	tb.do("GET", fmt.Sprintf("/api/v1/journeys/%s/versions/%d", j.ID, v2), tb.viewer, nil).want(t, http.StatusOK).into(t, &v)
	if v.Status != kalcifer.VersionDraft {
		t.Fatalf("a refused publish changed version %d to %s", v2, v.Status)
	}

	// A version published before the check existed: the store takes it.
	m := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 1, ToVersion: v2,
		Strategy: kalcifer.StrategyNewEntriesOnly, Mapping: map[string]string{}, Actor: "test"}
	if err := tb.store.Publish(context.Background(), m); err != nil {
		t.Fatalf("publish version %d in the store: %v", v2, err)
	}
	v3 := tb.draft(j.ID, validGraph)
	tb.publish(j.ID, v3, newOnly)
	rollback := fmt.Sprintf("/api/v1/journeys/%s/versions/%d/rollback", j.ID, v2)
	wantUnrunnable(t, tb.do("POST", rollback, tb.editor, dryRun))
	wantUnrunnable(t, tb.do("POST", rollback, tb.editor, newOnly))
	var got kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.CurrentVersion != v3 {
		t.Fatalf("a refused rollback made version %d current", got.CurrentVersion)
	}
	// Rolling back to a version that can run still works.
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/1/rollback", j.ID), tb.editor, newOnly).want(t, http.StatusCreated)
}

// withCustomCode is a journey whose second node runs Lua.
const withCustomCode = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"bought"}},
	{"id":"lua","type":"custom_code","position":{"x":0,"y":100},"config":{"language":"lua","code":"return {total = event.data.amount * 2}"}}],
	"edges":[{"id":"e1","source":"entry","target":"lua"}]}`

// customCodeType is custom_code as GET /node-types describes it.
func customCodeType(t *testing.T, tb *testBundle) graph.NodeType {
	t.Helper()
	var types kalcifer.Page[graph.NodeType]
	tb.do("GET", "/api/v1/node-types", tb.viewer, nil).want(t, http.StatusOK).into(t, &types)
	for _, nt := range types.Data {
		if nt.Type == graph.TypeCustomCode {
			return nt
		}
	}
	t.Fatal("no custom_code in the catalog")
	return graph.NodeType{}
}

// Where custom code is off, the catalog says so and activating a journey
// with custom_code is refused, saying how to turn it on; a draft keeps it.
func TestCustomCodeOff(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	if nt := customCodeType(t, tb); !strings.Contains(nt.NotRunnable, "KALCIFER_ENABLE_CUSTOM_CODE=true") {
		t.Errorf("catalog: not_runnable %q", nt.NotRunnable)
	}
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "lua", "graph": json.RawMessage(withCustomCode)}).
		want(t, http.StatusCreated).into(t, &j)
	e := tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).wantError(t, http.StatusUnprocessableEntity, kalcifer.EUNPROCESSABLE)
	if len(e.Details) != 1 || e.Details[0].NodeID != "lua" || !strings.Contains(e.Message, "custom_code is off on this server") ||
		!strings.Contains(e.Message, "KALCIFER_ENABLE_CUSTOM_CODE=true") {
		t.Fatalf("refusal %+v", e)
	}
}

// Where it is on, the catalog says it runs, the journey activates and its
// instances carry what the code returned in their data.
func TestCustomCodeOn(t *testing.T) {
	t.Parallel()
	tb := setup(t, withLua)
	if nt := customCodeType(t, tb); nt.NotRunnable != "" {
		t.Errorf("catalog: not_runnable %q", nt.NotRunnable)
	}
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "lua", "graph": json.RawMessage(withCustomCode)}).
		want(t, http.StatusCreated).into(t, &j)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c1", "event_type": "bought", "data": map[string]any{"amount": 21}}).
		want(t, http.StatusAccepted)
	for range 1000 {
		var page kalcifer.Page[kalcifer.Instance]
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
		if len(page.Data) == 1 && page.Data[0].Status.Ended() {
			if in := page.Data[0]; in.Status != kalcifer.InstanceCompleted || !strings.Contains(string(in.State), `"data":{"total":42}`) {
				t.Fatalf("instance %s (%s): %s", in.Status, in.Reason, in.State)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the instance did not end")
}

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// withUnrunnableEntries has, beside a working event entry, a segment entry
// and a scheduled entry: entries that enrol nobody yet.
const withUnrunnableEntries = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"seg","type":"segment_entry","position":{"x":100,"y":0},"config":{"segment_id":"vip"}},
	{"id":"sched","type":"scheduled_entry","position":{"x":200,"y":0},"config":{"cron":"0 9 * * 1"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":100}}],
	"edges":[{"id":"e1","source":"entry","target":"exit"},{"id":"e2","source":"seg","target":"exit"},{"id":"e3","source":"sched","target":"exit"}]}`

// wantUnrunnable checks a refusal names both entries and says why and what
// to use instead.
func wantUnrunnable(t *testing.T, res *response) {
	t.Helper()
	e := res.wantError(t, http.StatusUnprocessableEntity, kalcifer.EUNPROCESSABLE)
	said := map[string]string{}
	for _, d := range e.Details {
		said[d.NodeID] = d.Message
	}
	for id, why := range map[string]string{
		"seg":   "segment_entry cannot enrol customers yet: segments are not implemented",
		"sched": "scheduled_entry cannot enrol customers yet",
	} {
		if !strings.Contains(said[id], why) || !strings.Contains(said[id], "use event_entry, webhook_entry or POST /journeys/{id}/trigger") {
			t.Errorf("node %s: detail %q does not say %q and what to use instead; error: %+v", id, said[id], why, e)
		}
	}
	if len(e.Details) != 2 {
		t.Errorf("want a detail for each of the 2 nodes, got %+v", e.Details)
	}
}

// A draft may hold segment_entry and scheduled_entry nodes, but activating
// it is refused (422) until those entries can enrol anyone: an active
// journey that silently never starts would break the README's promise.
func TestActivateRefusesEntriesThatCannotRun(t *testing.T) {
	t.Parallel()
	onBothBackends(t, testActivateRefusesEntriesThatCannotRun)
}

func testActivateRefusesEntriesThatCannotRun(t *testing.T, tb *testBundle) {
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "segments", "graph": json.RawMessage(withUnrunnableEntries)}).
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
	j := tb.createJourney("publish segments", true)
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

package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// The live-versioning tests run the real engine: customers enter over HTTP,
// a new version is published over HTTP, and its effect on them is read back
// over HTTP.

// twoWaits sends an email, then waits 3 days, then waits up to 3 days for
// the email to be opened: customers rest at "w1" long enough to be moved.
func twoWaits(w1 string) string {
	return `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"mail","type":"send_email","position":{"x":0,"y":100},"config":{"template_id":"welcome"}},
	{"id":"w1","type":"wait","position":{"x":0,"y":200},"config":{"duration":"` + w1 + `"}},
	{"id":"w2","type":"wait_for_event","position":{"x":0,"y":300},"config":{"event_type":"email_opened","timeout":"3d"}},
	{"id":"done","type":"journey_exit","position":{"x":0,"y":400}}],
	"edges":[{"id":"e1","source":"entry","target":"mail"},{"id":"e2","source":"mail","target":"w1"},
	{"id":"e3","source":"w1","target":"w2"},
	{"id":"e4","source":"w2","branch":"event_received","target":"done"},
	{"id":"e5","source":"w2","branch":"timed_out","target":"done"}]}`
}

// withoutW1 is twoWaits with w1 removed: the email leads to w2.
const withoutW1 = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"mail","type":"send_email","position":{"x":0,"y":100},"config":{"template_id":"welcome"}},
	{"id":"w2","type":"wait_for_event","position":{"x":0,"y":300},"config":{"event_type":"email_opened","timeout":"3d"}},
	{"id":"done","type":"journey_exit","position":{"x":0,"y":400}}],
	"edges":[{"id":"e1","source":"entry","target":"mail"},{"id":"e2","source":"mail","target":"w2"},
	{"id":"e4","source":"w2","branch":"event_received","target":"done"},
	{"id":"e5","source":"w2","branch":"timed_out","target":"done"}]}`

type migrationDetail struct {
	kalcifer.Migration
	Batches []kalcifer.MigrationBatch `json:"batches"`
}

// enter signs customers up and waits until each rests at w1.
func (tb *testBundle) enter(journeyID string, customers ...string) {
	tb.t.Helper()
	for _, c := range customers {
		tb.sendEvent(tb.editor, map[string]any{"customer_id": c, "event_type": "signed_up"})
	}
	tb.eventually("customers at w1", func() bool {
		return len(tb.instances(journeyID, "node_id=w1").Data) == len(customers)
	})
}

// draft stores graph as the journey's next version and returns its number.
func (tb *testBundle) draft(journeyID, graph string) int {
	tb.t.Helper()
	var v kalcifer.Version
	tb.do("POST", "/api/v1/journeys/"+journeyID+"/versions", tb.editor,
		map[string]any{"graph": json.RawMessage(graph), "changelog": "edit"}).want(tb.t, http.StatusCreated).into(tb.t, &v)
	if v.Status != kalcifer.VersionDraft {
		tb.t.Fatalf("new version is %s", v.Status)
	}
	return v.Version
}

// publish publishes version v with body and returns the migration started.
func (tb *testBundle) publish(journeyID string, v int, body map[string]any) kalcifer.Migration {
	tb.t.Helper()
	var plan kalcifer.PublishPlan
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", journeyID, v), tb.editor, body).
		want(tb.t, http.StatusCreated).into(tb.t, &plan)
	return *plan.Migration
}

// settled waits until the migration stops by itself and returns it.
func (tb *testBundle) settled(id string) migrationDetail {
	tb.t.Helper()
	var m migrationDetail
	tb.eventually("migration "+id+" settles", func() bool {
		tb.do("GET", "/api/v1/migrations/"+id, tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &m)
		return m.Status != kalcifer.MigrationRunning && m.Status != kalcifer.MigrationAborting
	})
	return m
}

func (tb *testBundle) byVersion(journeyID string) map[string]int {
	tb.t.Helper()
	var counts map[string]int
	tb.do("GET", "/api/v1/journeys/"+journeyID+"/instances/by-version", tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &counts)
	return counts
}

func TestVersionsDraftDiffAndRefusals(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)

	// A journey never activated has nothing to migrate from.
	j := tb.createJourney("draft only", true)
	v := tb.draft(j.ID, twoWaits("3d"))
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v), tb.editor,
		map[string]any{"migration_strategy": "migrate_all"}).wantError(t, http.StatusConflict, "conflict")

	j = tb.activeJourney("versions", twoWaits("3d"))
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/versions", tb.editor, map[string]any{"graph": map[string]any{"nodes": []any{}}}).
		wantError(t, http.StatusUnprocessableEntity, "invalid_graph")
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/versions", tb.viewer, map[string]any{"graph": json.RawMessage(withoutW1)}).
		wantError(t, http.StatusForbidden, "forbidden")
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/versions", tb.otherAdmin, map[string]any{"graph": json.RawMessage(withoutW1)}).
		wantError(t, http.StatusNotFound, "not_found")
	v2 := tb.draft(j.ID, twoWaits("5d"))
	v3 := tb.draft(j.ID, withoutW1)
	if v2 != 2 || v3 != 3 {
		t.Fatalf("versions numbered %d, %d", v2, v3)
	}

	// The diff names the changed wait field by field, and the removed node
	// and edges.
	res := tb.do("GET", fmt.Sprintf("/api/v1/journeys/%s/versions/1/diff/%d", j.ID, v2), tb.viewer, nil).want(t, http.StatusOK)
	check("VersionDiff", res)
	var d struct {
		ChangedNodes []struct {
			ID     string `json:"id"`
			Fields []struct {
				Field string          `json:"field"`
				Old   json.RawMessage `json:"old"`
				New   json.RawMessage `json:"new"`
			} `json:"fields"`
		} `json:"changed_nodes"`
		Proposed struct {
			Mapping map[string]string `json:"suggested_mapping"`
		} `json:"proposed_mapping"`
	}
	res.into(t, &d)
	if len(d.ChangedNodes) != 1 || d.ChangedNodes[0].ID != "w1" || d.ChangedNodes[0].Fields[0].Field != "config.duration" ||
		string(d.ChangedNodes[0].Fields[0].Old) != `"3d"` || string(d.ChangedNodes[0].Fields[0].New) != `"5d"` ||
		d.Proposed.Mapping["w1"] != "w1" {
		t.Fatalf("diff 1→2 = %s", res.body)
	}
	var d3 struct {
		Removed []kalcifer.Journey `json:"removed_nodes"`
		Edges   []struct {
			Change string `json:"change"`
			ID     string `json:"id"`
		} `json:"changed_edges"`
	}
	tb.do("GET", fmt.Sprintf("/api/v1/journeys/%s/versions/1/diff/%d", j.ID, v3), tb.viewer, nil).want(t, http.StatusOK).into(t, &d3)
	if len(d3.Removed) != 1 || d3.Removed[0].ID != "w1" || len(d3.Edges) != 3 {
		t.Fatalf("diff 1→3 = %+v", d3)
	}
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/versions/1/diff/9", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/versions/1/diff/x", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")

	// With a customer at w1, removing it needs a policy or a mapping.
	tb.enter(j.ID, "c1")
	e := tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor,
		map[string]any{"migration_strategy": "migrate_all"}).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if len(e.Details) != 1 || e.Details[0].NodeID != "w1" || !strings.Contains(e.Details[0].Message, "1 customers") {
		t.Fatalf("details = %+v", e.Details)
	}
	// A mapping to a missing node, or one that sends customers backwards.
	e = tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor,
		map[string]any{"migration_strategy": "migrate_all", "node_mapping": map[string]string{"w1": "nope"}}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if !strings.Contains(e.Details[0].Message, "nope") {
		t.Fatalf("details = %+v", e.Details)
	}
	e = tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v2), tb.editor,
		map[string]any{"migration_strategy": "migrate_all", "node_mapping": map[string]string{"w1": "w2", "w2": "w1"}}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	if !strings.Contains(e.Message, "invalid") || !strings.Contains(e.Details[0].Message, "backwards") {
		t.Fatalf("error = %+v", e)
	}
	// Bad strategy settings.
	for _, body := range []map[string]any{
		{},
		{"migration_strategy": "sometimes"},
		{"migration_strategy": "gradual"},
		{"migration_strategy": "gradual", "migration_config": map[string]any{"rollout_percent": 101}},
		{"migration_strategy": "migrate_all", "migration_config": map[string]any{"batch_size": -1}},
		{"migration_strategy": "migrate_all", "migration_config": map[string]any{"removed_node_policy": "vanish"}},
	} {
		tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor, body).
			wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	}
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor,
		map[string]any{"migration_strategy": "migrate_all", "surprise": 1}).wantError(t, http.StatusBadRequest, "invalid")

	// A dry run answers the plan and changes nothing.
	res = tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor,
		map[string]any{"migration_strategy": "migrate_all", "dry_run": true,
			"migration_config": map[string]any{"removed_node_policy": "skip_to_next_mapped"}}).want(t, http.StatusOK)
	check("PublishPlan", res)
	var plan kalcifer.PublishPlan
	res.into(t, &plan)
	if plan.Migration != nil || plan.Populated["w1"] != 1 || !slices.Equal(plan.Unmapped, []string{"w1"}) || plan.Confidence["mail"] != 1 {
		t.Fatalf("plan = %s", res.body)
	}
	var jr kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &jr)
	if jr.CurrentVersion != 1 {
		t.Fatalf("a dry run changed the current version to %d", jr.CurrentVersion)
	}

	// Published versions are immutable: publishing one again is refused.
	m := tb.publish(j.ID, v2, map[string]any{"migration_strategy": "new_entries_only"})
	if m.Status != kalcifer.MigrationCompleted || m.Progress.Total != 1 {
		t.Fatalf("new_entries_only migration = %+v", m)
	}
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v2), tb.editor,
		map[string]any{"migration_strategy": "migrate_all"}).wantError(t, http.StatusConflict, "conflict")
	// The audit trail says who published what, and why the version exists.
	var audit kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit", tb.admin, nil).want(t, http.StatusOK).into(t, &audit)
	var actions []string
	for _, a := range audit.Data {
		actions = append(actions, a.Action)
	}
	if !slices.Contains(actions, "version.publish") || !slices.Contains(actions, "version.create") {
		t.Fatalf("audit actions = %v", actions)
	}
}

// new_entries_only leaves running customers where they are; new customers
// enter the new version.
func TestNewEntriesOnly(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	j := tb.activeJourney("new entries", twoWaits("3d"))
	tb.enter(j.ID, "old")
	m := tb.publish(j.ID, tb.draft(j.ID, twoWaits("5d")), map[string]any{"migration_strategy": "new_entries_only"})
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "new", "event_type": "signed_up"})
	tb.eventually("new customer on version 2", func() bool { return tb.byVersion(j.ID)["v2"] == 1 })
	if got := tb.byVersion(j.ID); got["v1"] != 1 {
		t.Fatalf("by version = %v", got)
	}
	var list kalcifer.Page[kalcifer.Migration]
	res := tb.do("GET", "/api/v1/journeys/"+j.ID+"/migrations", tb.viewer, nil).want(t, http.StatusOK)
	schemaChecker(t)("MigrationPage", res)
	res.into(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != m.ID || list.Data[0].Strategy != kalcifer.StrategyNewEntriesOnly {
		t.Fatalf("migrations = %+v", list.Data)
	}
}

// migrate_all with each removed-node policy.
func TestMigrateAllPolicies(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)

	// skip_to_next_mapped: the customer at the removed w1 moves on to w2.
	j := tb.activeJourney("skip", twoWaits("3d"))
	tb.enter(j.ID, "s1", "s2")
	m := tb.publish(j.ID, tb.draft(j.ID, withoutW1), map[string]any{"migration_strategy": "migrate_all",
		"migration_config": map[string]any{"removed_node_policy": "skip_to_next_mapped", "batch_size": 1}})
	done := tb.settled(m.ID)
	res := tb.do("GET", "/api/v1/migrations/"+m.ID, tb.viewer, nil).want(t, http.StatusOK)
	check("MigrationDetail", res)
	if done.Status != kalcifer.MigrationCompleted || done.Progress.Migrated != 2 || len(done.Batches) != 2 || done.Batches[0].Migrated != 1 {
		t.Fatalf("migration = %+v", done)
	}
	tb.eventually("customers enter w2", func() bool { return len(tb.instances(j.ID, "node_id=w2&version=2").Data) == 2 })
	in := tb.instance(tb.instances(j.ID, "customer_id=s1").Data[0].ID)
	var migrated bool
	for _, s := range in.Steps {
		migrated = migrated || (s.Type == "migration" && s.Result == "migrated" && s.Version == 2)
	}
	if !migrated || len(in.Sends) != 1 {
		t.Fatalf("trace: %+v, sends %d (the welcome email must not be sent again)", in.Steps, len(in.Sends))
	}
	if got := tb.byVersion(j.ID); got["v2"] != 2 || got["v1"] != 0 {
		t.Fatalf("by version = %v", got)
	}

	// exit: the customer leaves the journey.
	j = tb.activeJourney("exit", twoWaits("3d"))
	tb.enter(j.ID, "x1")
	m = tb.publish(j.ID, tb.draft(j.ID, withoutW1), map[string]any{"migration_strategy": "migrate_all",
		"migration_config": map[string]any{"removed_node_policy": "exit"}})
	if done := tb.settled(m.ID); done.Progress.Exited != 1 {
		t.Fatalf("exit migration = %+v", done.Progress)
	}
	if in := tb.instances(j.ID, "customer_id=x1").Data[0]; in.Status != kalcifer.InstanceExited || !strings.Contains(in.Reason, "w1") {
		t.Fatalf("instance = %s %q", in.Status, in.Reason)
	}

	// hold: the customer waits for review, then is released.
	j = tb.activeJourney("hold", twoWaits("3d"))
	tb.enter(j.ID, "h1", "h2")
	m = tb.publish(j.ID, tb.draft(j.ID, withoutW1), map[string]any{"migration_strategy": "migrate_all",
		"migration_config": map[string]any{"removed_node_policy": "hold"}})
	if done := tb.settled(m.ID); done.Progress.Held != 2 {
		t.Fatalf("hold migration = %+v", done.Progress)
	}
	var held kalcifer.Page[kalcifer.Instance]
	tb.do("GET", "/api/v1/migrations/"+m.ID+"/held", tb.viewer, nil).want(t, http.StatusOK).into(t, &held)
	if len(held.Data) != 2 || held.Data[0].Status != kalcifer.InstancePaused || held.Data[0].Version != 1 {
		t.Fatalf("held = %+v", held.Data)
	}
	var rel kalcifer.ReleaseResult
	res = tb.do("POST", "/api/v1/migrations/"+m.ID+"/release", tb.editor, map[string]any{
		"instance_ids": []string{held.Data[0].ID}, "node_mapping": map[string]string{"w1": "w2"}}).want(t, http.StatusOK)
	check("ReleaseResult", res)
	res.into(t, &rel)
	if rel.Migrated != 1 {
		t.Fatalf("release = %+v", rel)
	}
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/release", tb.editor, map[string]any{"removed_node_policy": "exit"}).
		want(t, http.StatusOK).into(t, &rel)
	if rel.Exited != 1 {
		t.Fatalf("second release = %+v", rel)
	}
	tb.do("GET", "/api/v1/migrations/"+m.ID+"/held", tb.viewer, nil).want(t, http.StatusOK).into(t, &held)
	if len(held.Data) != 0 {
		t.Fatalf("still held: %+v", held.Data)
	}
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/release", tb.editor, map[string]any{"removed_node_policy": "hold"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("GET", "/api/v1/migrations/nope", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/migrations/"+m.ID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
}

// gradual: a share first, raised to everyone; then pause, resume and abort
// rules, and an abort that puts everyone back; then a rollback.
func TestGradualAbortAndRollback(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	j := tb.activeJourney("gradual", twoWaits("3d"))
	var customers []string
	for i := range 20 {
		customers = append(customers, fmt.Sprintf("g%02d", i))
	}
	tb.enter(j.ID, customers...)
	before := map[string]kalcifer.Instance{}
	for _, in := range tb.instances(j.ID, "limit=100").Data {
		before[in.ID] = in
	}
	v2 := tb.draft(j.ID, twoWaits("5d"))
	m := tb.publish(j.ID, v2, map[string]any{"migration_strategy": "gradual", "migration_config": map[string]any{"rollout_percent": 30}})
	done := tb.settled(m.ID)
	want := 0
	for id := range before {
		if kalcifer.SelectedForRollout(id, 30) {
			want++
		}
	}
	if done.Status != kalcifer.MigrationPartial || done.Progress.Migrated != want || tb.byVersion(j.ID)["v2"] != want {
		t.Fatalf("30%%: %+v, by version %v, want %d", done.Migration, tb.byVersion(j.ID), want)
	}
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/pause", tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
	// A partial rollout must be finished or aborted before another publish:
	// the customers it left behind would be out of every migration's reach.
	v3 := tb.draft(j.ID, withoutW1)
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v3), tb.editor,
		map[string]any{"migration_strategy": "migrate_all", "migration_config": map[string]any{"removed_node_policy": "exit"}}).
		wantError(t, http.StatusConflict, "conflict")
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/rollout", tb.editor, map[string]any{"rollout_percent": 10}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/rollout", tb.editor, map[string]any{"rollout_percent": 100}).want(t, http.StatusOK)
	if done = tb.settled(m.ID); done.Status != kalcifer.MigrationCompleted || tb.byVersion(j.ID)["v2"] != 20 {
		t.Fatalf("100%%: %+v, by version %v", done.Migration, tb.byVersion(j.ID))
	}
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/resume", tb.editor, nil).wantError(t, http.StatusConflict, "conflict")

	// Abort: everyone back on version 1 exactly as before; version 1 is
	// current again.
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/abort", tb.editor, nil).want(t, http.StatusOK)
	if done = tb.settled(m.ID); done.Status != kalcifer.MigrationAborted || done.Progress.Restored != 20 {
		t.Fatalf("abort: %+v", done.Migration)
	}
	for _, in := range tb.instances(j.ID, "limit=100").Data {
		b := before[in.ID]
		if in.Version != 1 || string(in.State) != string(b.State) || in.Status != b.Status {
			t.Fatalf("after abort %s: v%d %s %s; before %s %s", in.ID, in.Version, in.Status, in.State, b.Status, b.State)
		}
	}
	var jr kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &jr)
	if jr.CurrentVersion != 1 {
		t.Fatalf("current version after abort = %d", jr.CurrentVersion)
	}
	tb.do("POST", "/api/v1/migrations/"+m.ID+"/abort", tb.editor, nil).wantError(t, http.StatusConflict, "conflict")

	// Version 2 is published: move everyone there, then roll back to 1.
	var plan kalcifer.PublishPlan
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/rollback", j.ID, v2), tb.editor, nil).
		want(t, http.StatusCreated).into(t, &plan)
	toV2 := tb.settled(plan.Migration.ID)
	if tb.byVersion(j.ID)["v2"] != 20 {
		t.Fatalf("by version = %v", tb.byVersion(j.ID))
	}
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/1/rollback", j.ID), tb.editor,
		map[string]any{"migration_strategy": "migrate_all"}).want(t, http.StatusCreated).into(t, &plan)
	if done := tb.settled(plan.Migration.ID); !done.Rollback || done.Progress.Migrated != 20 || tb.byVersion(j.ID)["v1"] != 20 {
		t.Fatalf("rollback: %+v, by version %v", done.Migration, tb.byVersion(j.ID))
	}
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/rollback", j.ID, 9), tb.editor, nil).
		wantError(t, http.StatusNotFound, "not_found")
	// Version 2's migration was superseded by the rollback: undoing it now
	// would strand customers.
	e := tb.do("POST", "/api/v1/migrations/"+toV2.ID+"/abort", tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
	if !strings.Contains(e.Message, "no longer current") {
		t.Fatalf("abort of a superseded migration: %+v", e)
	}
	// Refused alike in a dry run: rolling back to a draft, or to the current version.
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/rollback", j.ID, v3), tb.editor, map[string]any{"dry_run": true}).
		wantError(t, http.StatusConflict, "conflict")
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/1/rollback", j.ID), tb.editor, map[string]any{"dry_run": true}).
		wantError(t, http.StatusConflict, "conflict")
}

package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// waitGraph is validGraph with a three-day wait before the exit: a second
// version that differs from the first.
func waitGraph() *graph.Graph {
	return &graph.Graph{
		Nodes: []graph.Node{
			{ID: "entry", Type: "event_entry", Config: json.RawMessage(`{"event_type":"signed_up"}`)},
			{ID: "w", Type: "wait", Config: json.RawMessage(`{"duration":"3d"}`)},
			{ID: "exit", Type: "journey_exit"},
		},
		Edges: []graph.Edge{{ID: "e1", Source: "entry", Target: "w"}, {ID: "e2", Source: "w", Target: "exit"}},
	}
}

// newVersion stores g as the journey's next draft version.
func newVersion(t *testing.T, s *store.Store, j *kalcifer.Journey, g *graph.Graph) *kalcifer.Version {
	t.Helper()
	v, err := s.CreateVersion(context.Background(), store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Graph: g, Changelog: "change"})
	if err != nil {
		t.Fatalf("create version: %v", err)
	}
	return v
}

// auditActions lists the actions of a resource's audit rows, newest first.
func auditActions(t *testing.T, s *store.Store, resourceType, id string) []string {
	t.Helper()
	page, err := s.ListAudit(context.Background(), kalcifer.AuditFilter{TenantID: "default", ResourceType: resourceType, ResourceID: id})
	must(t, err)
	var out []string
	for _, e := range page.Data {
		out = append(out, e.Action)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testVersions: drafts are numbered after every earlier version, listed
// newest first, and a published version cannot be published again.
func testVersions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Versioned", validGraph())

	// A draft journey may hold draft versions; numbering starts at 1.
	v1, err := s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Graph: waitGraph(), Changelog: "first draft"})
	must(t, err)
	if v1.Version != 1 || v1.Status != kalcifer.VersionDraft || v1.Author != actor || v1.Changelog != "first draft" ||
		v1.PublishedAt != nil || v1.CreatedAt.IsZero() || len(v1.Graph.Nodes) != 3 {
		t.Fatalf("first draft = %+v", v1)
	}
	// Activation publishes the journey's graph as the next number.
	j, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: kalcifer.ActionActivate})
	must(t, err)
	if j.CurrentVersion != 2 {
		t.Fatalf("activation after a draft published version %d, want 2", j.CurrentVersion)
	}
	v3, err := s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Graph: waitGraph(), Changelog: "a wait"})
	must(t, err)
	if v3.Version != 3 {
		t.Fatalf("next draft = %d, want 3", v3.Version)
	}

	// Refusals store nothing.
	bad := &graph.Graph{Nodes: []graph.Node{{ID: "a", Type: "no_such_type"}}}
	_, err = s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Graph: bad})
	wantCode(t, err, kalcifer.EINVALIDGRAPH)
	_, err = s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: "jrn_ghost", Graph: waitGraph()})
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	_, err = s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "other", JourneyID: j.ID, Graph: waitGraph()})
	wantCode(t, err, kalcifer.ENOTFOUND)

	list, err := s.ListVersions(ctx, "default", j.ID)
	must(t, err)
	if len(list) != 3 || list[0].Version != 3 || list[1].Version != 2 || list[2].Version != 1 ||
		list[0].Status != kalcifer.VersionDraft || list[1].Status != kalcifer.VersionPublished || list[2].Status != kalcifer.VersionDraft {
		t.Fatalf("versions = %+v", list)
	}
	got, err := s.GetVersion(ctx, "default", j.ID, 3)
	must(t, err)
	if got.Status != kalcifer.VersionDraft || got.Changelog != "a wait" || len(got.Graph.Nodes) != 3 || got.Graph.Nodes[1].Type != "wait" ||
		!got.CreatedAt.Equal(v3.CreatedAt) {
		t.Fatalf("version 3 = %+v", got)
	}
	// The engine reads versions inside its transaction.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		v, err := tx.Version("default", j.ID, 2)
		must(t, err)
		if v.Version != 2 || v.Status != kalcifer.VersionPublished || len(v.Graph.Nodes) != 2 {
			t.Fatalf("engine read of version 2 = %+v", v)
		}
		_, err = tx.Version("default", j.ID, 9)
		wantCode(t, err, kalcifer.ENOTFOUND)
		_, err = tx.Version("other", j.ID, 2)
		wantCode(t, err, kalcifer.ENOTFOUND)
		return nil
	}))

	// Publishing makes the draft a published version, for good.
	m := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 2, ToVersion: 3,
		Strategy: kalcifer.StrategyNewEntriesOnly, Actor: actor}
	must(t, s.Publish(ctx, m))
	pub, err := s.GetVersion(ctx, "default", j.ID, 3)
	must(t, err)
	if pub.Status != kalcifer.VersionPublished || pub.PublishedAt == nil || pub.Changelog != "a wait" || len(pub.Graph.Nodes) != 3 {
		t.Fatalf("published version = %+v", pub)
	}
	// It cannot be published again, even once it is no longer current.
	back := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 3, ToVersion: 2, Rollback: true,
		Strategy: kalcifer.StrategyNewEntriesOnly, Actor: actor}
	must(t, s.Publish(ctx, back))
	again := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 2, ToVersion: 3,
		Strategy: kalcifer.StrategyNewEntriesOnly, Actor: actor}
	err = s.Publish(ctx, again)
	wantCode(t, err, kalcifer.ECONFLICT)
	if e := err.(*kalcifer.Error); e.State["version_status"] != string(kalcifer.VersionPublished) {
		t.Fatalf("409 must carry the version's status: %#v", e)
	}
	still, err := s.GetVersion(ctx, "default", j.ID, 3)
	must(t, err)
	if !still.PublishedAt.Equal(*pub.PublishedAt) || len(still.Graph.Nodes) != 3 {
		t.Fatalf("a published version changed: %+v", still)
	}

	if !contains(auditActions(t, s, "journey", j.ID), "version.create") {
		t.Fatal("no version.create audit row")
	}
	// An archived journey takes no new versions.
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: kalcifer.ActionArchive})
	must(t, err)
	_, err = s.CreateVersion(ctx, store.CreateVersionParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Graph: waitGraph()})
	wantCode(t, err, kalcifer.ECONFLICT)
	list, err = s.ListVersions(ctx, "default", j.ID)
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("versions after refusals = %d, want 3", len(list))
	}
}

// testPublish: publishing and rolling back switch the journey's current
// version and record the migration, or change nothing when refused.
func testPublish(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	// Running instances of version 1: active, paused, and one that ended.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		newInstance(t, tx, j, "c1", true)
		paused, _ := newInstance(t, tx, j, "c2", true)
		paused.Status = kalcifer.InstancePaused
		must(t, tx.SaveInstance(paused, nil, nil))
		done, _ := newInstance(t, tx, j, "c3", true)
		done.Status = kalcifer.InstanceCompleted
		must(t, tx.SaveInstance(done, nil, nil))
		return nil
	}))
	v2 := newVersion(t, s, j, waitGraph())

	refused := func(m kalcifer.Migration, code string) *kalcifer.Error {
		t.Helper()
		m.TenantID, m.JourneyID, m.Actor = "default", j.ID, actor
		if m.Strategy == "" {
			m.Strategy = kalcifer.StrategyMigrateAll
		}
		err := s.Publish(ctx, &m)
		wantCode(t, err, code)
		e, _ := err.(*kalcifer.Error)
		return e
	}
	if e := refused(kalcifer.Migration{FromVersion: 2, ToVersion: 2}, kalcifer.ECONFLICT); e.State["current_version"] != 1 {
		t.Fatalf("a stale from version must name the current one: %#v", e)
	}
	refused(kalcifer.Migration{FromVersion: 1, ToVersion: 1}, kalcifer.ECONFLICT)
	refused(kalcifer.Migration{FromVersion: 1, ToVersion: 9}, kalcifer.ENOTFOUND)
	refused(kalcifer.Migration{FromVersion: 1, ToVersion: v2.Version, Rollback: true}, kalcifer.ECONFLICT)
	// A draft journey publishes only by activation.
	d := newJourney(t, s, "default", "Draft", validGraph())
	newVersion(t, s, d, waitGraph())
	err := s.Publish(ctx, &kalcifer.Migration{TenantID: "default", JourneyID: d.ID, FromVersion: 0, ToVersion: 1,
		Strategy: kalcifer.StrategyMigrateAll, Actor: actor})
	wantCode(t, err, kalcifer.ECONFLICT)
	if got, _ := s.GetJourney(ctx, "default", j.ID); got.CurrentVersion != 1 {
		t.Fatalf("a refused publish changed the current version to %d", got.CurrentVersion)
	}
	if page, _ := s.ListMigrations(ctx, "default", j.ID, 0, ""); len(page.Data) != 0 {
		t.Fatalf("a refused publish recorded %d migrations", len(page.Data))
	}

	m := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 1, ToVersion: v2.Version,
		Strategy: kalcifer.StrategyMigrateAll, Config: kalcifer.MigrationConfig{RolloutPercent: 100, BatchSize: 10,
			RemovedNodePolicy: kalcifer.PolicyHold, FailureThreshold: 0.1},
		Mapping: map[string]string{"entry": "entry", "exit": "exit"}, Confidence: map[string]float64{"entry": 1, "exit": 0.9}, Actor: actor}
	must(t, s.Publish(ctx, m))
	if m.ID == "" || m.Status != kalcifer.MigrationRunning || m.Progress.Total != 2 || m.FinishedAt != nil ||
		m.CreatedAt.IsZero() || m.LockVersion != 1 {
		t.Fatalf("published migration = %+v", m)
	}
	got, err := s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if got.CurrentVersion != 2 {
		t.Fatalf("current version after publish = %d", got.CurrentVersion)
	}
	v, err := s.GetVersion(ctx, "default", j.ID, 2)
	must(t, err)
	if v.Status != kalcifer.VersionPublished || v.PublishedAt == nil {
		t.Fatalf("version 2 after publish = %+v", v)
	}
	stored, err := s.GetMigration(ctx, "default", m.ID)
	must(t, err)
	if stored.FromVersion != 1 || stored.ToVersion != 2 || stored.Strategy != kalcifer.StrategyMigrateAll || stored.Rollback ||
		stored.Config != m.Config || stored.Mapping["exit"] != "exit" || len(stored.Mapping) != 2 || stored.Confidence["exit"] != 0.9 ||
		stored.Progress.Total != 2 || stored.Actor != actor || stored.Status != kalcifer.MigrationRunning || !stored.CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("stored migration = %+v", stored)
	}
	_, err = s.GetMigration(ctx, "other", m.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)

	// While it runs, no other publish or rollback of the journey.
	v3 := newVersion(t, s, j, validGraph())
	if e := refused(kalcifer.Migration{FromVersion: 2, ToVersion: v3.Version}, kalcifer.ECONFLICT); e.State["migration_id"] != m.ID {
		t.Fatalf("409 must name the migration under way: %#v", e)
	}
	refused(kalcifer.Migration{FromVersion: 2, ToVersion: 1, Rollback: true}, kalcifer.ECONFLICT)

	// Once it finished, roll back to version 1: the version stays
	// published, and new_entries_only completes at once.
	_, err = s.ChangeMigration(ctx, store.ChangeMigrationParams{Actor: actor, TenantID: "default", MigrationID: m.ID, Action: "finish"}, func(_ *kalcifer.Journey, m *kalcifer.Migration) error {
		now := m.UpdatedAt
		m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
		return nil
	})
	must(t, err)
	rb := &kalcifer.Migration{TenantID: "default", JourneyID: j.ID, FromVersion: 2, ToVersion: 1, Rollback: true,
		Strategy: kalcifer.StrategyNewEntriesOnly, Actor: actor}
	must(t, s.Publish(ctx, rb))
	if rb.Status != kalcifer.MigrationCompleted || rb.FinishedAt == nil || rb.ID == m.ID {
		t.Fatalf("rollback migration = %+v", rb)
	}
	got, err = s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if got.CurrentVersion != 1 {
		t.Fatalf("current version after rollback = %d", got.CurrentVersion)
	}
	if stored, _ := s.GetMigration(ctx, "default", rb.ID); stored == nil || !stored.Rollback || stored.Status != kalcifer.MigrationCompleted {
		t.Fatalf("stored rollback = %+v", stored)
	}
	// A published version is rolled back to, never published again.
	refused(kalcifer.Migration{FromVersion: 1, ToVersion: 2}, kalcifer.ECONFLICT)

	actions := auditActions(t, s, "journey", j.ID)
	if !contains(actions, "version.publish") || !contains(actions, "version.rollback") {
		t.Fatalf("audit actions = %v", actions)
	}
	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "journey", ResourceID: j.ID, Limit: 1})
	must(t, err)
	var data map[string]any
	must(t, json.Unmarshal(page.Data[0].Data, &data))
	if page.Data[0].Action != "version.rollback" || data["migration_id"] != rb.ID || data["version"] != float64(1) {
		t.Fatalf("rollback audit = %s %s", page.Data[0].Action, page.Data[0].Data)
	}
}

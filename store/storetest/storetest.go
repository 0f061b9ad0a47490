// Package storetest is the conformance suite every store backend must pass.
// A backend's test calls Run with a function that opens a fresh, empty
// backend; Run migrates it and checks the Store's behaviour on it.
//
// Extend this suite whenever the store seam changes.
package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Open returns a fresh, empty backend for one test. It is closed by Run.
type Open func(t *testing.T) store.Backend

// Run runs the conformance suite against backends made by open.
func Run(t *testing.T, open Open) {
	tests := map[string]func(t *testing.T, s *store.Store){
		"Migrations":          testMigrations,
		"Tenants":             testTenants,
		"APIKeys":             testAPIKeys,
		"JourneyCRUD":         testJourneyCRUD,
		"JourneyList":         testJourneyList,
		"JourneyLifecycle":    testJourneyLifecycle,
		"JourneyInvalid":      testJourneyInvalid,
		"TenantIsolation":     testTenantIsolation,
		"StaleWriteRefused":   testStaleWrite,
		"Audit":               testAudit,
		"TransactionsAtomic":  testAtomic,
		"Events":              testEvents,
		"Gauges":              testGauges,
		"Customers":           testCustomers,
		"Instances":           testInstances,
		"WorkingSet":          testWorkingSet,
		"Sends":               testSends,
		"SendsInWorkingSet":   testSendsInWorkingSet,
		"Replicas":            testReplicas,
		"WebhookSecret":       testWebhookSecret,
		"SealedColumns":       testSealedColumns,
		"SealPlaintext":       testSealPlaintext,
		"WebhookSecretsLoad":  testWebhookSecretsAtStart,
		"Rotation":            testRotation,
		"APIKeyScheme":        testAPIKeyScheme,
		"LegacyAPIKeys":       testLegacyAPIKeys,
		"Versions":            testVersions,
		"Publish":             testPublish,
		"MigrationMoves":      testMigrationMoves,
		"MigrationRestore":    testMigrationRestore,
		"ReleaseHeld":         testReleaseHeld,
		"MigrationControl":    testMigrationControl,
		"Conversations":       testConversations,
		"AISettings":          testAISettings,
		"EngineCustomers":     testEngineCustomers,
		"CustomerInstances":   testCustomerInstances,
		"JourneyIndex":        testJourneyIndex,
		"Lanes":               testLanes,
		"LedgerReads":         testLedgerReads,
		"Info":                testInfo,
		"Templates":           testTemplates,
		"ProviderAccounts":    testProviderAccounts,
		"LimitOverrides":      testLimitOverrides,
		"JourneyQuota":        testJourneyQuota,
		"UploadQuota":         testUploadQuota,
		"ActiveInstanceQuota": testActiveInstanceQuota,
		"WebhookTokens":       testWebhookTokens,
		"Segments":            testSegments,
		"SegmentRules":        testSegmentRules,
		"SegmentMembership":   testSegmentMembership,
		"BulkLoad":            testBulkLoad,
		"Identify":            testIdentify,
		"IdentifyBatch":       testIdentifyBatch,
		"IdentifyConcurrent":  testIdentifyConcurrent,
		"ListCustomers":       testListCustomers,
		"CustomerEvents":      testCustomerEvents,
		"EraseCustomer":       testEraseCustomer,
		"CustomerMerge":       testCustomerMerge,
		"AliasInbox":          testAliasInbox,
		"LiveCounts":          testLiveCounts,
		"CustomerLanes":       testCustomerLanes,
		"Observers":           testObservers,
		"ProfileNoLostUpdate": testProfileNoLostUpdate,
		"HookSubscriptions":   testHookSubscriptions,
		"ClickHouseOutbox":    testClickHouseOutbox,
		"AnalyticsCounts":     testAnalyticsCounts,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("close backend: %v", err)
				}
			})
			if err := b.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			s := store.New(b, kalcifer.SystemClock{}, testKeyring(t, oldKey))
			if _, _, err := s.EnsureTenant(context.Background(), "system", kalcifer.DefaultTenantID); err != nil {
				t.Fatalf("ensure default tenant: %v", err)
			}
			fn(t, s)
		})
	}
}

const actor = "key:test"

// validGraph is the smallest valid journey: an entry and an exit.
func validGraph() *graph.Graph {
	return &graph.Graph{
		Nodes: []graph.Node{
			{ID: "entry", Type: "event_entry", Config: json.RawMessage(`{"event_type":"signed_up"}`)},
			{ID: "exit", Type: "journey_exit"},
		},
		Edges: []graph.Edge{{ID: "e1", Source: "entry", Target: "exit"}},
	}
}

func newJourney(t *testing.T, s *store.Store, tenant, name string, g *graph.Graph) *kalcifer.Journey {
	t.Helper()
	j := &kalcifer.Journey{TenantID: tenant, Name: name, Graph: g}
	if err := s.CreateJourney(context.Background(), actor, j); err != nil {
		t.Fatalf("create journey %q: %v", name, err)
	}
	return j
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := kalcifer.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testMigrations(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.Ready(ctx))
	// Migrating again is a no-op.
	must(t, s.Backend().Migrate(ctx))
	n, err := s.Backend().PendingMigrations(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("pending migrations after migrate = %d", n)
	}
}

func testTenants(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if _, err := s.CreateTenant(ctx, actor, "acme"); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateTenant(ctx, actor, "acme")
	wantCode(t, err, kalcifer.ECONFLICT)
	_, err = s.CreateTenant(ctx, actor, "Bad Name!")
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	_, created, err := s.EnsureTenant(ctx, actor, "acme")
	must(t, err)
	if created {
		t.Fatal("EnsureTenant created a tenant that existed")
	}
	_, err = s.GetTenant(ctx, "nope")
	wantCode(t, err, kalcifer.ENOTFOUND)
	ts, err := s.ListTenants(ctx)
	must(t, err)
	if len(ts) != 2 || ts[0].ID != "acme" || ts[1].ID != "default" {
		t.Fatalf("tenants = %+v, want acme and default", ts)
	}
}

func testAPIKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	k, secret, err := s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Name: "ci", Role: kalcifer.RoleEditor})
	must(t, err)
	if secret == "" || k.Hash == "" || strings.Contains(k.Hash, secret) {
		t.Fatalf("key must be stored hashed: %+v", k)
	}
	p, err := s.Authenticate(ctx, secret)
	must(t, err)
	if p.TenantID != "default" || p.Role != kalcifer.RoleEditor || p.KeyID != k.ID {
		t.Fatalf("principal = %+v", p)
	}
	_, err = s.Authenticate(ctx, secret+"x")
	wantCode(t, err, kalcifer.EUNAUTHORIZED)

	_, _, err = s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "ghost", Role: kalcifer.RoleAdmin})
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, _, err = s.CreateAPIKey(ctx, actor, store.CreateAPIKeyParams{TenantID: "default", Role: "root"})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)

	// The seeded admin key: created once, then found.
	seed := store.CreateAPIKeyParams{TenantID: "default", Name: "admin", Role: kalcifer.RoleAdmin, Secret: "seeded-admin-key-0123456789abcdefghij"}
	a1, err := s.EnsureAPIKey(ctx, actor, seed)
	must(t, err)
	a2, err := s.EnsureAPIKey(ctx, actor, seed)
	must(t, err)
	if a1.ID != a2.ID {
		t.Fatalf("EnsureAPIKey made a second key: %s, %s", a1.ID, a2.ID)
	}

	keys, err := s.ListAPIKeys(ctx, "default")
	must(t, err)
	if len(keys) != 2 {
		t.Fatalf("keys = %d, want 2", len(keys))
	}
	must(t, s.RevokeAPIKey(ctx, actor, "default", k.ID))
	_, err = s.Authenticate(ctx, secret)
	wantCode(t, err, kalcifer.EUNAUTHORIZED)
	wantCode(t, s.RevokeAPIKey(ctx, actor, "default", k.ID), kalcifer.ENOTFOUND)
}

func testJourneyCRUD(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Welcome", validGraph())
	if j.ID == "" || j.Status != kalcifer.JourneyDraft || j.CreatedAt.IsZero() {
		t.Fatalf("created journey = %+v", j)
	}
	got, err := s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if got.Name != "Welcome" || len(got.Graph.Nodes) != 2 || got.Graph.Nodes[0].ID != "entry" {
		t.Fatalf("got journey = %+v", got)
	}
	if !got.CreatedAt.Equal(j.CreatedAt) {
		t.Fatalf("created_at round trip: %v != %v", got.CreatedAt, j.CreatedAt)
	}

	name, desc := "Welcome v2", "new customers"
	up, err := s.UpdateJourney(ctx, actor, "default", j.ID, kalcifer.JourneyUpdate{
		Name: &name, Description: &desc, Settings: &kalcifer.JourneySettings{AllowReentry: true}})
	must(t, err)
	if up.Name != name || up.Description != desc || !up.Settings.AllowReentry || len(up.Graph.Nodes) != 2 {
		t.Fatalf("updated = %+v", up)
	}
	got, err = s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if got.Name != name || !got.Settings.AllowReentry {
		t.Fatalf("update not stored: %+v", got)
	}

	dup, err := s.DuplicateJourney(ctx, actor, "default", j.ID, "")
	must(t, err)
	if dup.ID == j.ID || dup.Name != name+" (copy)" || dup.Status != kalcifer.JourneyDraft || len(dup.Graph.Nodes) != 2 {
		t.Fatalf("duplicate = %+v", dup)
	}

	must(t, s.DeleteJourney(ctx, actor, "default", j.ID))
	_, err = s.GetJourney(ctx, "default", j.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	wantCode(t, s.DeleteJourney(ctx, actor, "default", j.ID), kalcifer.ENOTFOUND)

	// A journey may start without a graph, but cannot be activated so.
	empty := newJourney(t, s, "default", "Empty", nil)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: empty.ID, Action: kalcifer.ActionActivate})
	wantCode(t, err, kalcifer.EINVALIDGRAPH)
}

func testJourneyList(t *testing.T, s *store.Store) {
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"Alpha onboarding", "Beta", "Gamma ONBOARDING", "Delta", "100%_off", "Epsilon", "Zeta"} {
		ids = append(ids, newJourney(t, s, "default", name, validGraph()).ID)
	}
	_, err := s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: ids[1], Action: kalcifer.ActionActivate})
	must(t, err)

	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		page, err := s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default", Limit: 3, Cursor: cursor})
		must(t, err)
		pages++
		for _, j := range page.Data {
			if seen[j.ID] {
				t.Fatalf("journey %s listed twice", j.ID)
			}
			seen[j.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("paged through %d journeys in %d pages, want 7 in 3", len(seen), pages)
	}

	page, err := s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default"})
	must(t, err)
	if page.Data[0].ID != ids[6] {
		t.Fatalf("newest first: got %s first, want %s", page.Data[0].ID, ids[6])
	}
	page, err = s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default", Status: kalcifer.JourneyActive})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != ids[1] {
		t.Fatalf("status filter = %d journeys", len(page.Data))
	}
	page, err = s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default", Name: "onboarding"})
	must(t, err)
	if len(page.Data) != 2 {
		t.Fatalf("name filter (case-insensitive) = %d journeys, want 2", len(page.Data))
	}
	page, err = s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default", Name: "%_"})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].Name != "100%_off" {
		t.Fatalf("wildcards must match literally, got %d journeys", len(page.Data))
	}
	_, err = s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default", Status: "running"})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
}

func testJourneyLifecycle(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Lifecycle", validGraph())
	step := func(action kalcifer.JourneyAction, want kalcifer.JourneyStatus) *kalcifer.Journey {
		t.Helper()
		got, err := s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: action, Changelog: "because"})
		must(t, err)
		if got.Status != want {
			t.Fatalf("%s: status %s, want %s", action, got.Status, want)
		}
		return got
	}
	conflict := func(action kalcifer.JourneyAction, current kalcifer.JourneyStatus) {
		t.Helper()
		_, err := s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: action})
		wantCode(t, err, kalcifer.ECONFLICT)
		if e, ok := err.(*kalcifer.Error); !ok || e.State["status"] != string(current) {
			t.Fatalf("409 must carry the current status %s: %#v", current, err)
		}
	}
	conflict(kalcifer.ActionPause, kalcifer.JourneyDraft)
	conflict(kalcifer.ActionResume, kalcifer.JourneyDraft)
	got := step(kalcifer.ActionActivate, kalcifer.JourneyActive)
	if got.CurrentVersion != 1 {
		t.Fatalf("activation must publish version 1, current = %d", got.CurrentVersion)
	}
	conflict(kalcifer.ActionActivate, kalcifer.JourneyActive)
	// An active journey's graph is no longer a draft.
	_, err := s.UpdateJourney(ctx, actor, "default", j.ID, kalcifer.JourneyUpdate{Graph: validGraph()})
	wantCode(t, err, kalcifer.ECONFLICT)
	wantCode(t, s.DeleteJourney(ctx, actor, "default", j.ID), kalcifer.ECONFLICT)
	step(kalcifer.ActionPause, kalcifer.JourneyPaused)
	conflict(kalcifer.ActionPause, kalcifer.JourneyPaused)
	step(kalcifer.ActionResume, kalcifer.JourneyActive)
	step(kalcifer.ActionArchive, kalcifer.JourneyArchived)
	conflict(kalcifer.ActionArchive, kalcifer.JourneyArchived)
	conflict(kalcifer.ActionActivate, kalcifer.JourneyArchived)

	versions, err := s.ListVersions(ctx, "default", j.ID)
	must(t, err)
	if len(versions) != 1 || versions[0].Version != 1 || versions[0].Status != kalcifer.VersionPublished ||
		versions[0].Author != actor || versions[0].Changelog != "because" || versions[0].PublishedAt == nil {
		t.Fatalf("versions = %+v", versions)
	}
	v, err := s.GetVersion(ctx, "default", j.ID, 1)
	must(t, err)
	if len(v.Graph.Nodes) != 2 {
		t.Fatalf("version graph = %+v", v.Graph)
	}
	_, err = s.GetVersion(ctx, "default", j.ID, 2)
	wantCode(t, err, kalcifer.ENOTFOUND)

	// A duplicate of an active journey is a fresh draft that publishes its own v1.
	dup, err := s.DuplicateJourney(ctx, actor, "default", j.ID, "Copy")
	must(t, err)
	dup, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: dup.ID, Action: kalcifer.ActionActivate})
	must(t, err)
	if dup.CurrentVersion != 1 {
		t.Fatalf("duplicate's first version = %d", dup.CurrentVersion)
	}
}

func testJourneyInvalid(t *testing.T, s *store.Store) {
	ctx := context.Background()
	bad := &graph.Graph{
		Nodes: []graph.Node{
			{ID: "a", Type: "event_entry", Config: json.RawMessage(`{}`)},
			{ID: "b", Type: "no_such_type"},
		},
		Edges: []graph.Edge{{ID: "e1", Source: "a", Target: "b"}, {ID: "e2", Source: "a", Target: "ghost"}},
	}
	err := s.CreateJourney(ctx, actor, &kalcifer.Journey{TenantID: "default", Name: "Bad", Graph: bad})
	wantCode(t, err, kalcifer.EINVALIDGRAPH)
	e := err.(*kalcifer.Error)
	if len(e.Details) < 3 {
		t.Fatalf("every problem must be listed, got %+v", e.Details)
	}
	err = s.CreateJourney(ctx, actor, &kalcifer.Journey{TenantID: "default", Name: "  "})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	page, err := s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "default"})
	must(t, err)
	if len(page.Data) != 0 {
		t.Fatalf("a refused journey was stored")
	}

	j := newJourney(t, s, "default", "Good", validGraph())
	_, err = s.UpdateJourney(ctx, actor, "default", j.ID, kalcifer.JourneyUpdate{Graph: bad})
	wantCode(t, err, kalcifer.EINVALIDGRAPH)
	got, err := s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if len(got.Graph.Nodes) != 2 || got.Graph.Nodes[1].Type != "journey_exit" {
		t.Fatalf("a refused update was stored: %+v", got.Graph)
	}
}

func testTenantIsolation(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.CreateTenant(ctx, actor, "other")
	must(t, err)
	j := newJourney(t, s, "default", "Mine", validGraph())
	_, err = s.GetJourney(ctx, "other", j.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.UpdateJourney(ctx, actor, "other", j.ID, kalcifer.JourneyUpdate{})
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "other", JourneyID: j.ID, Action: kalcifer.ActionActivate})
	wantCode(t, err, kalcifer.ENOTFOUND)
	wantCode(t, s.DeleteJourney(ctx, actor, "other", j.ID), kalcifer.ENOTFOUND)
	_, err = s.DuplicateJourney(ctx, actor, "other", j.ID, "")
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.ListVersions(ctx, "other", j.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	page, err := s.ListJourneys(ctx, kalcifer.JourneyFilter{TenantID: "other"})
	must(t, err)
	if len(page.Data) != 0 {
		t.Fatalf("other tenant sees %d journeys", len(page.Data))
	}
	audit, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "other", ResourceType: "journey"})
	must(t, err)
	if len(audit.Data) != 0 {
		t.Fatalf("other tenant sees %d audit rows of ours", len(audit.Data))
	}
}

// testStaleWrite: two writers that read the same journey; the second write
// must not silently overwrite the first.
func testStaleWrite(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Race", validGraph())
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			name := "writer"
			_, err := s.UpdateJourney(ctx, actor, "default", j.ID, kalcifer.JourneyUpdate{Name: &name})
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil && kalcifer.ErrorCode(err) != kalcifer.ECONFLICT {
			t.Fatalf("concurrent update: %v", err)
		}
	}
	got, err := s.GetJourney(ctx, "default", j.ID)
	must(t, err)
	if got.LockVersion < 2 {
		t.Fatalf("lock version = %d after updates", got.LockVersion)
	}
}

func testAudit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Audited", validGraph())
	name := "Audited 2"
	_, err := s.UpdateJourney(ctx, actor, "default", j.ID, kalcifer.JourneyUpdate{Name: &name})
	must(t, err)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: kalcifer.ActionActivate, Changelog: "first"})
	must(t, err)
	_, err = s.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: actor, TenantID: "default", JourneyID: j.ID, Action: kalcifer.ActionArchive})
	must(t, err)
	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "journey", ResourceID: j.ID})
	must(t, err)
	var actions []string
	for _, e := range page.Data {
		actions = append(actions, e.Action)
		if e.Actor != actor || e.CreatedAt.IsZero() {
			t.Fatalf("audit entry = %+v", e)
		}
	}
	want := []string{"journey.archive", "journey.activate", "journey.update", "journey.create"}
	if len(actions) != len(want) {
		t.Fatalf("audit actions = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit actions = %v, want %v", actions, want)
		}
	}
	var data map[string]any
	must(t, json.Unmarshal(page.Data[1].Data, &data))
	if data["version"] != float64(1) {
		t.Fatalf("activation audit data = %s", page.Data[1].Data)
	}
	first, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", Limit: 1})
	must(t, err)
	if len(first.Data) != 1 || first.NextCursor == "" {
		t.Fatalf("audit paging: %+v", first)
	}
}

// testAtomic: a failing transaction leaves nothing behind.
func testAtomic(t *testing.T, s *store.Store) {
	ctx := context.Background()
	boom := kalcifer.Errorf(kalcifer.ECONFLICT, "boom")
	err := s.Backend().WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, created_at) VALUES ($1, $2)`, "ghost", time.Now().UnixMicro()); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("WithTx returned %v, want the callback's error", err)
	}
	_, err = s.GetTenant(ctx, "ghost")
	wantCode(t, err, kalcifer.ENOTFOUND)
}

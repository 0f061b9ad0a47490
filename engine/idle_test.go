package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
)

// replica is one Runtime on its own store and connection pool over a
// shared PostgreSQL database, as a separate process would have them.
type replica struct {
	st *store.Store
	rt *engine.Runtime
	// created are the instances this replica's transactions started.
	mu      sync.Mutex
	created map[string]bool
}

// InTx does nothing (store.Observer).
func (r *replica) InTx(*store.EngineTx, *store.Written) error { return nil }

// Committed notes the instances this replica started (store.Observer).
func (r *replica) Committed(w *store.Written) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, in := range w.Instances {
		if in.Created {
			r.created[in.ID] = true
		}
	}
}

func (r *replica) started(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.created[id]
}

// newReplica opens url and runs a Runtime on it with cfg, in real time.
// Its safety poll is cfg's; started says whether its loops run.
func newReplica(t *testing.T, url string, keys *secrets.Keyring, cfg engine.Config) *replica {
	t.Helper()
	ctx := context.Background()
	b, err := postgres.Open(ctx, url, postgres.WithReplicaGrace(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := &replica{st: store.New(b, kalcifer.SystemClock{}, keys), created: map[string]bool{}}
	t.Cleanup(func() { r.st.Close() })
	r.st.Observe(r)
	if _, _, err := r.st.EnsureTenant(ctx, "test", kalcifer.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	log := logprovider.New(nil)
	cfg.Store, cfg.Providers = r.st, channel.NewRegistry(map[string]channel.Provider{"email": log, "sms": log, "push": log, "whatsapp": log})
	r.rt = engine.New(cfg)
	if err := r.rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.rt.Stop)
	return r
}

// activate creates and activates a journey on st.
func activate(t *testing.T, st *store.Store, rt *engine.Runtime, g string) string {
	t.Helper()
	ctx := context.Background()
	var gr graph.Graph
	if err := json.Unmarshal([]byte(g), &gr); err != nil {
		t.Fatal(err)
	}
	j := &kalcifer.Journey{TenantID: kalcifer.DefaultTenantID, Name: "j", Graph: &gr}
	if err := st.CreateJourney(ctx, "test", j); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TransitionJourney(ctx, store.TransitionJourneyParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
		JourneyID: j.ID, Action: kalcifer.ActionActivate, On: rt.On()}); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// waitFor polls the journey's instances until one satisfies ok.
func waitFor(t *testing.T, st *store.Store, journeyID string, within time.Duration, ok func(*kalcifer.Instance) bool) *kalcifer.Instance {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		page, err := st.ListInstances(context.Background(), store.InstanceFilter{TenantID: kalcifer.DefaultTenantID, JourneyID: journeyID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Data {
			if ok(in) {
				return in
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

const waitGraph = `{"nodes":[
	{"id":"in","type":"event_entry","config":{"event_type":"signed_up"}},
	{"id":"wait","type":"wait","config":{"duration":"%s"}},
	{"id":"out","type":"journey_exit"}],
	"edges":[{"id":"e1","source":"in","target":"wait"},{"id":"e2","source":"wait","target":"out"}]}`

func ingest(t *testing.T, rt *engine.Runtime, customer string) {
	t.Helper()
	ev := &kalcifer.Event{TenantID: kalcifer.DefaultTenantID, CustomerID: customer, Type: "signed_up", Data: json.RawMessage(`{}`),
		OccurredAt: time.Now()}
	if _, err := rt.Ingest(context.Background(), []*kalcifer.Event{ev}); err != nil {
		t.Fatal(err)
	}
}

// An idle server on PostgreSQL, with a timer pending an hour ahead, issues
// next to no statements once its loops have backed off: the old loops
// polled every second (~70 statements/s, 18 transactions/s).
func TestIdlePostgresIssuesAlmostNoStatements(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		t.Skipf("pg_stat_statements is not available on this server: %v", err)
	}
	statements := func() int64 {
		t.Helper()
		var n int64
		// This session's own reads name pg_stat_statements: left out.
		if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(calls), 0)::bigint FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query NOT LIKE '%pg_stat_statements%'`).Scan(&n); err != nil {
			t.Skipf("pg_stat_statements is not loaded (shared_preload_libraries): %v", err)
		}
		return n
	}
	statements()
	r := newReplica(t, url, secrets.Generate(), engine.Config{}) // the server's defaults: a poll from 1 s, backing off to 60 s
	jid := activate(t, r.st, r.rt, fmt.Sprintf(waitGraph, "1h"))
	ingest(t, r.rt, "c1")
	if waitFor(t, r.st, jid, 30*time.Second, func(in *kalcifer.Instance) bool { return true }) == nil {
		t.Fatal("the event started no instance")
	}
	// The work just done poked every loop: their polls come 1, 3 and 7 s
	// later. Count between the second and the third.
	time.Sleep(4 * time.Second)
	before := statements()
	time.Sleep(2500 * time.Millisecond)
	if n := statements() - before; n >= 5 {
		rows, _ := db.Query(ctx, `SELECT calls, query FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC LIMIT 10`)
		for rows.Next() {
			var calls int64
			var q string
			_ = rows.Scan(&calls, &q)
			t.Logf("%6d  %.100s", calls, q)
		}
		rows.Close()
		t.Fatalf("an idle server issued %d statements in 2.5 s; want fewer than 5", n)
	}
}

// A replica that dies with a wait due soon leaves it to another replica,
// which fires it on time: the NOTIFY the dead one sent when it wrote the
// wait told the other when to look. Both safety polls are an hour, so
// nothing else can wake the survivor.
func TestReplicaFiresTheTimerOfOneThatDied(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	keys := secrets.Generate()
	cfg := engine.Config{PollInterval: time.Hour}
	a, b := newReplica(t, url, keys, cfg), newReplica(t, url, keys, cfg)
	jid := activate(t, a.st, a.rt, fmt.Sprintf(waitGraph, "4s"))
	ingest(t, b.rt, "c1")
	in := waitFor(t, a.st, jid, 30*time.Second, func(*kalcifer.Instance) bool { return true })
	if in == nil {
		t.Fatal("the event started no instance")
	}
	// Whichever replica started the instance (both route events) dies a
	// moment later (its NOTIFY, sent right after its commit, has left),
	// well before the wait falls due; the other must fire it.
	dead, survivor := b, a
	if a.started(in.ID) {
		dead, survivor = a, b
	}
	time.Sleep(500 * time.Millisecond)
	dead.rt.Stop()
	if in.Status != kalcifer.InstanceActive {
		t.Fatalf("the instance is %s before its wait fell due", in.Status)
	}
	done := waitFor(t, survivor.st, jid, 30*time.Second, func(in *kalcifer.Instance) bool { return in.Status != kalcifer.InstanceActive })
	if done == nil {
		t.Fatal("the surviving replica did not fire the wait within 30 s of the dead one's writing it (its poll is an hour)")
	}
	if done.Status != kalcifer.InstanceExited {
		t.Fatalf("instance %s at %v; want exited by the journey_exit after the wait", done.Status, done.Nodes)
	}
}

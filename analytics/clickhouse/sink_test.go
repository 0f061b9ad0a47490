package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/chtest"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// newStore is an empty SQLite store (the end-to-end test in cmd/kalcifer
// runs the sink on both backends).
func newStore(t *testing.T) *store.Store {
	t.Helper()
	b, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	return st
}

func newSink(t *testing.T, c Config) *Sink {
	t.Helper()
	if c.Database == "" {
		c.Database = "kalcifer_test"
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// written is what a transaction that ran a customer through two nodes,
// finished an email and recorded its delivery wrote.
func written(at time.Time, customer string) *store.Written {
	send := kalcifer.Send{Key: "ins_1/mail/1", TenantID: "default", JourneyID: "jrn_1", Version: 2, InstanceID: "ins_1",
		NodeID: "mail", NodeType: "send_email", CustomerID: customer, Channel: "email", Target: "smtp-main"}
	return &store.Written{At: at,
		Instances: []store.SavedInstance{{ID: "ins_1", TenantID: "default", JourneyID: "jrn_1", CustomerID: customer, Version: 2,
			Steps: []kalcifer.Step{
				{Version: 2, PathID: 0, NodeID: "entry", Type: "event_entry", Visit: 1, Result: "default", At: at},
				{Version: 2, PathID: 0, NodeID: "mail", Type: "send_email", Visit: 1, Result: "waiting", At: at.Add(time.Millisecond)},
			}}},
		Sends:      []kalcifer.Send{func() kalcifer.Send { s := send; s.Status, s.Detail = kalcifer.SendSent, "250 OK"; return s }()},
		Deliveries: []store.AdvancedDelivery{{Send: send, Delivery: "opened", At: at.Add(time.Minute)}},
	}
}

// queue writes w through the sink inside an engine transaction, as the
// store does for a registered observer.
func queue(t *testing.T, st *store.Store, s *Sink, w *store.Written) {
	t.Helper()
	if err := st.WithEngineTx(context.Background(), func(tx *store.EngineTx) error { return s.InTx(tx, w) }); err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, srv *chtest.Server, sql string) string {
	t.Helper()
	out, err := srv.Query(sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func backlog(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.ClickHouseBacklog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShipsStepsAndDeliveries writes a transaction's events through the
// outbox into a real ClickHouse and reads every column back.
func TestShipsStepsAndDeliveries(t *testing.T) {
	srv := chtest.New(t)
	st := newStore(t)
	s := newSink(t, Config{URL: srv.URL(), User: "kalcifer", Password: "secret", Store: st})
	at := time.Date(2026, 12, 7, 17, 30, 15, 123456000, time.UTC)
	queue(t, st, s, written(at, "cust-1"))
	if n := backlog(t, st); n != 4 {
		t.Fatalf("outbox holds %d rows, want 4 (2 steps, a finished send, a delivery)", n)
	}
	if more, err := s.round(context.Background()); err != nil || more {
		t.Fatalf("round: more %v, %v", more, err)
	}
	if n := backlog(t, st); n != 0 {
		t.Fatalf("%d rows left in the outbox after ClickHouse accepted them", n)
	}
	if got := s.Stats(); got.Shipped != 4 || got.Failures != 0 {
		t.Fatalf("stats %+v", got)
	}

	var steps []map[string]any
	for line := range strings.SplitSeq(query(t, srv, "SELECT * FROM kalcifer_test.kalcifer_steps ORDER BY time_us FORMAT JSONEachRow"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !strings.HasPrefix(m["event_id"].(string), "che_") {
			t.Errorf("event_id %v", m["event_id"])
		}
		delete(m, "event_id")
		steps = append(steps, m)
	}
	want := []string{
		`map[customer_id:cust-1 detail: instance_id:ins_1 journey_id:jrn_1 node_id:entry node_type:event_entry path_id:0 result:default tenant_id:default time:2026-12-07 17:30:15 time_us:1796664615123456 version:2 visit:1]`,
		`map[customer_id:cust-1 detail: instance_id:ins_1 journey_id:jrn_1 node_id:mail node_type:send_email path_id:0 result:waiting tenant_id:default time:2026-12-07 17:30:15 time_us:1796664615124456 version:2 visit:1]`,
	}
	if len(steps) != 2 || fmt.Sprint(steps[0]) != want[0] || fmt.Sprint(steps[1]) != want[1] {
		t.Fatalf("steps in ClickHouse:\n%v\nwant\n%v", steps, want)
	}
	got := query(t, srv, "SELECT kind, status, detail, send_key, channel, target, node_type, customer_id, version, time FROM kalcifer_test.kalcifer_deliveries ORDER BY time_us FORMAT TabSeparated")
	wantDeliveries := "finished\tsent\t250 OK\tins_1/mail/1\temail\tsmtp-main\tsend_email\tcust-1\t2\t2026-12-07 17:30:15\n" +
		"delivery\topened\t\tins_1/mail/1\temail\tsmtp-main\tsend_email\tcust-1\t2\t2026-12-07 17:31:15"
	if got != wantDeliveries {
		t.Fatalf("deliveries in ClickHouse:\n%s\nwant\n%s", got, wantDeliveries)
	}

	// Creating the schema again (a restart) keeps what is there.
	again := newSink(t, Config{URL: srv.URL(), User: "kalcifer", Password: "secret", Store: st})
	if _, err := again.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := query(t, srv, "SELECT count() FROM kalcifer_test.kalcifer_steps"); n != "2" {
		t.Fatalf("%s steps after a second start, want 2", n)
	}
}

// TestRefusedRowsStay: what ClickHouse refuses stays in the outbox, and is
// shipped once ClickHouse takes it; rows it took are not sent twice.
func TestRefusedRowsStay(t *testing.T) {
	srv := chtest.New(t)
	st := newStore(t)
	s := newSink(t, Config{URL: srv.URL(), Store: st})
	if _, err := s.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	query(t, srv, "DROP TABLE kalcifer_test.kalcifer_deliveries")
	queue(t, st, s, written(time.Now(), "cust-1"))
	if _, err := s.round(context.Background()); err == nil || !strings.Contains(err.Error(), "kalcifer_deliveries") {
		t.Fatalf("round with a table missing: %v", err)
	}
	if n := backlog(t, st); n != 2 {
		t.Fatalf("outbox holds %d rows, want the 2 delivery rows ClickHouse refused", n)
	}
	s.ready = false // a restart: the schema is created again
	if _, err := s.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, st); n != 0 {
		t.Fatalf("outbox holds %d rows after ClickHouse took them", n)
	}
	if got := query(t, srv, "SELECT (SELECT count() FROM kalcifer_test.kalcifer_steps), (SELECT count() FROM kalcifer_test.kalcifer_deliveries) FORMAT TabSeparated"); got != "2\t2" {
		t.Fatalf("steps, deliveries in ClickHouse = %q, want 2 and 2", got)
	}
}

// TestDownThenUp stops ClickHouse while events are written: they wait in
// the outbox (up to its cap, beyond which they are counted as dropped) and
// arrive, each once, when it is back.
func TestDownThenUp(t *testing.T) {
	srv := chtest.New(t)
	st := newStore(t)
	s := newSink(t, Config{URL: srv.URL(), Store: st, BatchSize: 1000, Interval: 10 * time.Millisecond, MaxBacklog: 2000})
	if _, err := s.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	// 600 transactions of 4 events: 2,400 rows, over the cap of 2,000.
	at := time.Now()
	for i := range 600 {
		queue(t, st, s, written(at, fmt.Sprint("cust-", i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the sink to fail twice and see the outbox full", func() bool { return s.Stats().Failures >= 2 && s.full.Load() })
	if n := backlog(t, st); n != 2400 {
		t.Fatalf("outbox holds %d rows while ClickHouse is down, want 2400", n)
	}
	// Full: a transaction's events are dropped and counted, never stored.
	queue(t, st, s, written(at, "dropped"))
	if n, d := backlog(t, st), s.Stats().Dropped; n != 2400 || d != 4 {
		t.Fatalf("outbox %d rows, %d dropped; want 2400 and 4", n, d)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the outbox to drain and have room", func() bool { return backlog(t, st) == 0 && !s.full.Load() })
	queue(t, st, s, written(at, "after"))
	waitFor(t, "the events written after to ship", func() bool { return backlog(t, st) == 0 })
	if got := query(t, srv, `SELECT count(), uniqExact(event_id), uniqExact(customer_id), countIf(customer_id = 'dropped')
		FROM kalcifer_test.kalcifer_steps FORMAT TabSeparated`); got != "1202\t1202\t601\t0" {
		t.Fatalf("steps in ClickHouse: count, distinct events, customers, dropped = %q, want 1202, 1202, 601, 0", got)
	}
	if got := query(t, srv, "SELECT count(), uniqExact(event_id) FROM kalcifer_test.kalcifer_deliveries FORMAT TabSeparated"); got != "1202\t1202" {
		t.Fatalf("deliveries in ClickHouse = %q, want 1202 each", got)
	}
}

// waitFor polls cond for up to a minute (a bound for a loaded machine, not
// a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		c    Config
		want string
	}{
		{Config{URL: "localhost:8123", Database: "k"}, "HTTP interface"},
		{Config{URL: "tcp://localhost:9000", Database: "k"}, "HTTP interface"},
		{Config{URL: "http://localhost:8123/?database=x", Database: "k"}, "no query"},
		{Config{URL: "http://u:p@localhost:8123", Database: "k"}, "credentials"},
		{Config{URL: "http://localhost:8123", Database: "my-db"}, "plain name"},
		{Config{URL: "http://localhost:8123", Database: ""}, "plain name"},
		{Config{URL: "http://localhost:8123", Database: "k", Password: "p"}, "without a user"},
	} {
		err := c.c.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.c, err, c.want)
		}
	}
	if err := (Config{URL: "https://ch.example.com:8443/", Database: "kalcifer", User: "u", Password: "p"}).Check(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

func TestStatements(t *testing.T) {
	got := statements(Schema)
	if len(got) != 2 || !strings.HasPrefix(got[0], "CREATE TABLE IF NOT EXISTS kalcifer_steps") ||
		!strings.HasPrefix(got[1], "CREATE TABLE IF NOT EXISTS kalcifer_deliveries") {
		t.Fatalf("schema statements: %q", got)
	}
}

// BenchmarkInTx is the sink's cost inside an engine transaction on SQLite:
// a transaction writing a journey's events (2 steps, a finished send, a
// delivery) through the sink, against the same transaction without it.
func BenchmarkInTx(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("sink_%v", on), func(b *testing.B) {
			b.StopTimer()
			dir := b.TempDir()
			be, err := sqlite.Open(context.Background(), dir)
			if err != nil {
				b.Fatal(err)
			}
			if err := be.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			st := store.New(be, kalcifer.SystemClock{}, secrets.Generate())
			defer st.Close()
			s, err := New(Config{URL: "http://127.0.0.1:1", Database: "k", Store: st})
			if err != nil {
				b.Fatal(err)
			}
			w := written(time.Now(), "c")
			b.StartTimer()
			for range b.N {
				err := st.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
					// A write of the transaction's own, so that both runs
					// commit to disk.
					if _, err := tx.Tx().Exec(context.Background(), `INSERT INTO customer_changes (tenant_id, customer_id) VALUES ('default', 'c')`); err != nil {
						return err
					}
					if on {
						return s.InTx(tx, w)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRows is the CPU the sink spends turning a transaction's 4
// events into outbox rows.
func BenchmarkRows(b *testing.B) {
	w := written(time.Now(), "c")
	for range b.N {
		if _, err := rows(w); err != nil {
			b.Fatal(err)
		}
	}
}

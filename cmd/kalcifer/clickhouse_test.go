package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/chtest"
)

func TestClickHouseConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envOf(map[string]string{}), nil)
	if err != nil || c.ClickHouse.URL != "" {
		t.Fatalf("the ClickHouse sink is on by default: %+v, %v", c.ClickHouse, err)
	}
	c, err = LoadConfig(envOf(map[string]string{"KALCIFER_CLICKHOUSE_URL": "http://ch:8123", "KALCIFER_CLICKHOUSE_USER": "k"}),
		[]string{"-clickhouse-password", "p", "-clickhouse-max-backlog", "50000"})
	if err != nil || c.ClickHouse.URL != "http://ch:8123" || c.ClickHouse.User != "k" || c.ClickHouse.Password != "p" ||
		c.ClickHouse.Database != "kalcifer" || c.ClickHouse.MaxBacklog != 50000 {
		t.Fatalf("config: %+v, %v", c.ClickHouse, err)
	}
	on := "http://ch:8123"
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no scheme":        {map[string]string{"KALCIFER_CLICKHOUSE_URL": "ch:8123"}, "must be its HTTP interface"},
		"credentials":      {map[string]string{"KALCIFER_CLICKHOUSE_URL": "http://u:p@ch:8123"}, "must not carry credentials"},
		"bad database":     {map[string]string{"KALCIFER_CLICKHOUSE_URL": on, "KALCIFER_CLICKHOUSE_DATABASE": "a;DROP"}, "plain name"},
		"small backlog":    {map[string]string{"KALCIFER_CLICKHOUSE_URL": on, "KALCIFER_CLICKHOUSE_MAX_BACKLOG": "10"}, "KALCIFER_CLICKHOUSE_MAX_BACKLOG must be"},
		"password alone":   {map[string]string{"KALCIFER_CLICKHOUSE_URL": on, "KALCIFER_CLICKHOUSE_PASSWORD": "p"}, "without a user"},
		"user, sink off":   {map[string]string{"KALCIFER_CLICKHOUSE_USER": "k"}, "KALCIFER_CLICKHOUSE_USER is set, but the ClickHouse sink is off"},
		"db, sink off":     {map[string]string{"KALCIFER_CLICKHOUSE_DATABASE": "x"}, "KALCIFER_CLICKHOUSE_DATABASE is set, but the ClickHouse sink is off"},
		"cap, sink off":    {map[string]string{"KALCIFER_CLICKHOUSE_MAX_BACKLOG": "20000"}, "KALCIFER_CLICKHOUSE_MAX_BACKLOG is set, but"},
		"secret not shown": {map[string]string{"KALCIFER_CLICKHOUSE_PASSWORD": "hunter2-secret"}, "KALCIFER_CLICKHOUSE_PASSWORD is set, but"},
	} {
		_, err := LoadConfig(envOf(c.env), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

// A journey runs on the real server with the sink on, on each backend: every
// step and every finished send arrives in a real ClickHouse, as the store
// recorded them. With the sink off, nothing is written to the outbox.
func TestClickHouseSink(t *testing.T) {
	srv := chtest.New(t)
	rcv, calls := countingServer(t, func(w http.ResponseWriter, _ *http.Request) {})
	graph := `{"nodes":[
		{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
		{"id":"hook","type":"call_webhook","position":{"x":0,"y":100},"config":{"url":"` + rcv.URL + `/hook"}},
		{"id":"exit","type":"journey_exit","position":{"x":0,"y":200}}],
		"edges":[{"id":"e1","source":"entry","target":"hook"},{"id":"e2","source":"hook","target":"exit"}]}`
	const customers = 25
	for name, envFor := range backends(t) {
		for _, on := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/sink_%v", name, on), func(t *testing.T) {
				t.Parallel()
				env := envFor(t)
				env["KALCIFER_ADMIN_API_KEY"] = adminKey
				env["KALCIFER_ALLOW_PRIVATE_NETWORKS"] = "true"
				db := "kalcifer_" + name
				if on {
					env["KALCIFER_CLICKHOUSE_URL"] = srv.URL()
					env["KALCIFER_CLICKHOUSE_USER"], env["KALCIFER_CLICKHOUSE_PASSWORD"] = "kalcifer", "secret"
					env["KALCIFER_CLICKHOUSE_DATABASE"] = db
				}
				m := start(t, env, io.Discard)
				defer m.Close()
				c := client{t, "http://" + m.Addr().String()}
				var j kalcifer.Journey
				c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Hook","graph":`+graph+`}`, 201, &j)
				c.do("POST", "/api/v1/journeys/"+j.ID+"/activate", adminKey, "", 200, nil)
				for i := range customers {
					c.do("POST", "/api/v1/events", adminKey, fmt.Sprintf(`{"customer_id":"c%d","event_type":"signed_up"}`, i), 202, nil)
				}
				var list kalcifer.Page[kalcifer.Instance]
				waitUntil(t, "every instance to end", func() bool {
					c.do("GET", "/api/v1/journeys/"+j.ID+"/instances?limit=100", adminKey, "", 200, &list)
					return len(list.Data) == customers && !slices.ContainsFunc(list.Data, func(in kalcifer.Instance) bool { return in.EndedAt == nil })
				})
				// What the store recorded, as "node result" lines.
				var want []string
				for _, in := range list.Data {
					steps, err := m.Store.InstanceSteps(t.Context(), in.ID)
					if err != nil {
						t.Fatal(err)
					}
					for _, st := range steps {
						want = append(want, st.NodeID+" "+st.Type+" "+st.Result)
					}
				}
				slices.Sort(want)
				if !on {
					if n, err := m.Store.ClickHouseBacklog(t.Context()); err != nil || n != 0 {
						t.Fatalf("the sink is off, yet the outbox holds %d rows (%v)", n, err)
					}
					return
				}
				var got string
				defer func() {
					if t.Failed() {
						t.Logf("the sink: %+v; the last count read from ClickHouse: %q of %d steps", m.ClickHouse.Stats(), got, len(want))
					}
				}()
				waitUntil(t, "every step in ClickHouse", func() bool {
					got, _ = srv.Query("SELECT count() FROM " + db + ".kalcifer_steps WHERE journey_id = '" + j.ID + "'")
					return got == fmt.Sprint(len(want))
				})
				lines, err := srv.Query("SELECT concat(node_id, ' ', node_type, ' ', result) AS l FROM " + db +
					".kalcifer_steps WHERE journey_id = '" + j.ID + "' ORDER BY l")
				if err != nil {
					t.Fatal(err)
				}
				if lines != strings.Join(want, "\n") {
					t.Fatalf("steps in ClickHouse:\n%s\nin the store:\n%s", lines, strings.Join(want, "\n"))
				}
				waitUntil(t, "every finished send in ClickHouse", func() bool {
					got, _ = srv.Query("SELECT count(), uniqExact(customer_id), countIf(kind = 'finished' AND status = 'sent' AND channel = 'webhook') FROM " +
						db + ".kalcifer_deliveries WHERE journey_id = '" + j.ID + "' FORMAT TabSeparated")
					return got == fmt.Sprintf("%d\t%d\t%d", customers, customers, customers)
				})
				// Shipped rows leave the outbox once ClickHouse took them.
				waitUntil(t, "the outbox to drain", func() bool {
					n, err := m.Store.ClickHouseBacklog(t.Context())
					return err == nil && n == 0
				})
			})
		}
	}
	t.Cleanup(func() {
		if n := calls.Load(); n != 4*customers {
			t.Errorf("the receiver got %d calls, want %d", n, 4*customers)
		}
	})
}

// waitUntil polls cond for up to a minute (a bound for a loaded machine, not
// a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

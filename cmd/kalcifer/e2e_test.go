package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/pgtest"
)

const adminKey = "e2e-admin-key-0123456789abcdef0123456789"

// backends are the stores the end-to-end test runs on: the embedded SQLite
// default and PostgreSQL.
func backends(t *testing.T) map[string]func(t *testing.T) map[string]string {
	return map[string]func(t *testing.T) map[string]string{
		"sqlite": func(t *testing.T) map[string]string { return map[string]string{"KALCIFER_DATA_DIR": t.TempDir()} },
		// PostgreSQL deployments set their keys, as the README says.
		"postgres": func(t *testing.T) map[string]string {
			return map[string]string{"KALCIFER_DATABASE_URL": pgtest.URL(t), "KALCIFER_ENCRYPTION_KEY": "k1:" + testKey1, "KALCIFER_API_KEY_PEPPER": testPepper}
		},
	}
}

// Keys for tests that set KALCIFER_ENCRYPTION_KEY: base64 of 32 bytes each.
const (
	testKey1   = "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE="
	testKey2   = "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI="
	testPepper = "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHA="
)

// start runs the real server on a free port with env and returns it.
func start(t *testing.T, env map[string]string, out io.Writer) *Main {
	t.Helper()
	env["KALCIFER_ADDR"] = "127.0.0.1:0"
	c, err := LoadConfig(envOf(env), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := &serverLog{}
	m := &Main{Config: c, Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), Out: out}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log (the last %d lines):\n%s", serverLogLines, log.tail())
		}
	})
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	return m
}

// serverLogLines is how much of a server's log a failed test shows.
const serverLogLines = 150

// serverLog keeps a test server's log, to show with its failure.
type serverLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail returns the log's last serverLogLines lines.
func (l *serverLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.buf.String(), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-serverLogLines, 0):], "\n")
}

// client speaks to one running server.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, key, body string, wantStatus int, into any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, wantStatus, raw)
	}
	if into != nil {
		// Decode into a zero value: json.Unmarshal into a value used before
		// keeps what this answer leaves out. A poll of an instance list once
		// kept another instance's ended_at (omitted when empty) on a row that
		// had not ended, so a test read the history before it was written.
		reflect.ValueOf(into).Elem().SetZero()
		if err := json.Unmarshal(raw, into); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

const e2eGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"wait","type":"wait","position":{"x":0,"y":100},"config":{"duration":"1d"}},
	{"id":"exit","type":"journey_exit","position":{"x":0,"y":200}}],
	"edges":[{"id":"e1","source":"entry","target":"wait"},{"id":"e2","source":"wait","target":"exit"}]}`

// TestEndToEnd builds the real server on :0 and drives the journeys API
// over HTTP, on each backend, then restarts it on the same database.
func TestEndToEnd(t *testing.T) {
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := envFor(t)
			env["KALCIFER_ADMIN_API_KEY"] = adminKey
			m := start(t, env, io.Discard)
			c := client{t: t, base: "http://" + m.Addr().String()}

			c.do("GET", "/health", "", "", 200, nil)
			c.do("GET", "/health/ready", "", "", 200, nil)
			var info struct {
				Store  string                `json:"store"`
				Counts struct{ Tenants int } `json:"counts"`
			}
			c.do("GET", "/info", "", "", 200, &info)
			if info.Store != name || info.Counts.Tenants != 1 {
				t.Fatalf("info = %+v", info)
			}
			c.do("GET", "/api/v1/journeys", "", "", 401, nil)
			c.do("GET", "/api/v1/journeys", "wrong-key-wrong-key", "", 401, nil)

			var types struct{ Data []struct{ Type string } }
			c.do("GET", "/api/v1/node-types", adminKey, "", 200, &types)
			if len(types.Data) != 21 {
				t.Fatalf("node types = %d, want 21", len(types.Data))
			}

			// A viewer key made through the API can read but not write.
			var viewer struct{ Secret string }
			c.do("POST", "/api/v1/api-keys", adminKey, `{"name":"ro","role":"viewer"}`, 201, &viewer)
			c.do("POST", "/api/v1/journeys", viewer.Secret, `{"name":"x"}`, 403, nil)

			// Every problem of a bad graph comes back at once.
			var bad struct {
				Error struct{ Details []kalcifer.Detail }
			}
			c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Bad","graph":{"nodes":[
				{"id":"a","type":"wait","position":{"x":0,"y":0},"config":{}},
				{"id":"b","type":"no_such_type","position":{"x":0,"y":0}}],"edges":[]}}`, 422, &bad)
			if len(bad.Error.Details) < 3 {
				t.Fatalf("problems = %+v, want entry, config and type problems", bad.Error.Details)
			}

			var j kalcifer.Journey
			c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Welcome","graph":`+e2eGraph+`}`, 201, &j)
			path := "/api/v1/journeys/" + j.ID
			c.do("POST", path+"/pause", adminKey, "", 409, nil)
			c.do("POST", path+"/activate", adminKey, `{"changelog":"launch"}`, 200, &j)
			if j.Status != kalcifer.JourneyActive || j.CurrentVersion != 1 {
				t.Fatalf("activated = %+v", j)
			}
			c.do("POST", path+"/pause", adminKey, "", 200, nil)
			c.do("POST", path+"/resume", adminKey, "", 200, nil)
			var dup kalcifer.Journey
			c.do("POST", path+"/duplicate", adminKey, "", 201, &dup)
			if dup.Status != kalcifer.JourneyDraft || dup.ID == j.ID {
				t.Fatalf("duplicate = %+v", dup)
			}
			c.do("DELETE", "/api/v1/journeys/"+dup.ID, adminKey, "", 204, nil)
			var list kalcifer.Page[kalcifer.Journey]
			c.do("GET", "/api/v1/journeys?status=active", viewer.Secret, "", 200, &list)
			if len(list.Data) != 1 || list.Data[0].ID != j.ID {
				t.Fatalf("active journeys = %+v", list.Data)
			}
			var audit kalcifer.Page[kalcifer.AuditEntry]
			c.do("GET", "/api/v1/audit", adminKey, "", 200, &audit)
			if len(audit.Data) < 5 {
				t.Fatalf("audit rows = %d, want one per change", len(audit.Data))
			}
			if err := m.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}

			// Restarted on the same database, everything is still there.
			m = start(t, env, io.Discard)
			defer m.Close()
			c.base = "http://" + m.Addr().String()
			var got kalcifer.Journey
			c.do("GET", path, viewer.Secret, "", 200, &got)
			if got.Status != kalcifer.JourneyActive || got.CurrentVersion != 1 || got.Name != "Welcome" {
				t.Fatalf("after restart = %+v", got)
			}
			c.do("GET", path+"/versions/1", viewer.Secret, "", 200, nil)
		})
	}
}

// With no key configured and none stored, the first start makes an admin
// key and shows it once; the second start does not make another.
func TestFirstStartMakesAdminKey(t *testing.T) {
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir()}
	var out bytes.Buffer
	m := start(t, env, &out)
	var key string
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "kal_") {
			key = f
			break
		}
	}
	if key == "" {
		t.Fatalf("no key shown: %q", out.String())
	}
	c := client{t: t, base: "http://" + m.Addr().String()}
	c.do("GET", "/api/v1/journeys", key, "", 200, nil)
	m.Close()

	out.Reset()
	m = start(t, env, &out)
	defer m.Close()
	// Only the app's address, no key, the second time.
	if want := "Kalcifer is running: open http://" + m.Addr().String() + "/\n"; out.String() != want {
		t.Fatalf("second start printed %q, want only %q", out.String(), want)
	}
}

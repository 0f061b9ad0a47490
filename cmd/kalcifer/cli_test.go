package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/api"
)

// cli runs one command line and returns its exit code and output.
func cli(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, envOf(env), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		code, out, _ := cli(nil, args...)
		if code != 0 || !strings.Contains(out, "kalcifer serve") || !strings.Contains(out, "apikey create") ||
			!strings.Contains(out, "(CSV, XLSX, DOCX, PDF, TXT, MD)") {
			t.Fatalf("%v: code %d, out %q", args, code, out)
		}
	}
	if code, out, _ := cli(nil, "version"); code != 0 || !strings.HasPrefix(out, "kalcifer dev (go") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errOut := cli(nil, "fly"); code != 2 || !strings.Contains(errOut, `unknown command "fly"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := cli(nil, "serve", "--help"); code != 0 || !strings.Contains(errOut, "KALCIFER_DATABASE_URL") {
		t.Fatalf("serve --help: %d %q", code, errOut)
	}
}

func TestCLIBadConfig(t *testing.T) {
	cases := map[string]map[string]string{
		"KALCIFER_DATABASE_URL":                            {"KALCIFER_DATABASE_URL": "mysql://x"},
		"KALCIFER_ADMIN_API_KEY":                           {"KALCIFER_ADMIN_API_KEY": "only-twenty-chars-ab"},
		"KALCIFER_ENCRYPTION_KEY: key 1: 16 bytes":         {"KALCIFER_ENCRYPTION_KEY": "k1:MTExMTExMTExMTExMTExMQ==", "KALCIFER_API_KEY_PEPPER": testPepper},
		"KALCIFER_ENCRYPTION_KEY: key 1: not valid base64": {"KALCIFER_ENCRYPTION_KEY": "k1:***", "KALCIFER_API_KEY_PEPPER": testPepper},
		"so KALCIFER_API_KEY_PEPPER must be too":           {"KALCIFER_ENCRYPTION_KEY": testKey1},
		"KALCIFER_API_KEY_PEPPER: 3 bytes":                 {"KALCIFER_API_KEY_PEPPER": "YWJj"},
		"KALCIFER_LOG_LEVEL":                               {"KALCIFER_LOG_LEVEL": "loud"},
		"KALCIFER_DATABASE_POOL_SIZE":                      {"KALCIFER_DATABASE_POOL_SIZE": "0"},
		"KALCIFER_QUOTA_JOURNEYS":                          {"KALCIFER_QUOTA_JOURNEYS": "-1"},
		"KALCIFER_RATE_LIMIT_EVENTS_PER_SECOND":            {"KALCIFER_RATE_LIMIT_EVENTS_PER_SECOND": "lots"},
	}
	for want, env := range cases {
		env["KALCIFER_DATA_DIR"] = t.TempDir()
		code, _, errOut := cli(env, "serve")
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("%v: code %d, stderr %q; want 2 naming %s", env, code, errOut, want)
		}
	}
	if code, _, errOut := cli(nil, "apikey", "create", "--role", "owner"); code != 2 || !strings.Contains(errOut, "owner") {
		t.Errorf("bad role: %d %q", code, errOut)
	}
	if code, _, errOut := cli(nil, "apikey", "create", "--role", "owner"); !strings.Contains(errOut, "ingest") {
		t.Errorf("bad role: %d %q; the message must list ingest", code, errOut)
	}
	if code, _, _ := cli(nil, "migrate", "now"); code != 2 {
		t.Errorf("migrate with an argument: %d", code)
	}
}

// The admin commands work on both backends against the configured store.
func TestCLIAdminCommands(t *testing.T) {
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			env := envFor(t)
			if code, out, errOut := cli(env, "migrate"); code != 0 || !strings.Contains(out, name) {
				t.Fatalf("migrate: %d %q %q", code, out, errOut)
			}
			if code, out, errOut := cli(env, "tenant", "create", "acme"); code != 0 || out != "tenant acme created\n" {
				t.Fatalf("tenant create: %d %q %q", code, out, errOut)
			}
			if code, _, errOut := cli(env, "tenant", "create", "acme"); code != 1 || !strings.Contains(errOut, "acme") {
				t.Fatalf("tenant create twice: %d %q", code, errOut)
			}
			code, key, errOut := cli(env, "apikey", "create", "--tenant", "acme", "--role", "editor", "--name", "ci")
			key = strings.TrimSpace(key)
			if code != 0 || !strings.HasPrefix(key, "kal_") {
				t.Fatalf("apikey create: %d %q %q", code, key, errOut)
			}
			if code, _, errOut := cli(env, "apikey", "create", "--tenant", "nobody", "--role", "admin"); code != 1 || errOut == "" {
				t.Fatalf("key for a missing tenant: %d %q", code, errOut)
			}

			// The key works, for its own tenant only.
			m := start(t, env, io.Discard)
			defer m.Close()
			c := client{t: t, base: "http://" + m.Addr().String()}
			var j kalcifer.Journey
			c.do("POST", "/api/v1/journeys", key, `{"name":"Acme welcome"}`, 201, &j)
			if j.TenantID != "acme" {
				t.Fatalf("journey tenant = %q", j.TenantID)
			}
			_, defaultKey, _ := cli(env, "apikey", "create", "--role", "admin")
			c.do("GET", "/api/v1/journeys/"+j.ID, strings.TrimSpace(defaultKey), "", 404, nil)

			// An ingest key sends events and reads nothing.
			code, ingestKey, errOut := cli(env, "apikey", "create", "--tenant", "acme", "--role", "ingest", "--name", "website")
			ingestKey = strings.TrimSpace(ingestKey)
			if code != 0 || !strings.HasPrefix(ingestKey, "kal_") {
				t.Fatalf("apikey create --role ingest: %d %q %q", code, ingestKey, errOut)
			}
			c.do("POST", "/api/v1/events", ingestKey, `{"customer_id":"c1","event_type":"signed_up"}`, 202, nil)
			c.do("GET", "/api/v1/journeys/"+j.ID, ingestKey, "", 403, nil)

			// The operator sets a tenant's limits; the running server applies
			// them within api.LimitsTTL.
			code, out, errOut := cli(env, "tenant", "limits", "acme", "--journeys", "1", "--api-per-minute", "1", "--uploads-per-day", "0")
			if code != 0 || !strings.Contains(out, "journeys                    1  set for this tenant") ||
				!strings.Contains(out, "events-per-second        1000  default") {
				t.Fatalf("tenant limits: %d %q %q", code, out, errOut)
			}
			c.do("POST", "/api/v1/journeys", key, `{"name":"Second"}`, 403, nil) // read in the transaction: at once
			deadline := time.Now().Add(3 * api.LimitsTTL)
			for {
				res, err := http.Get("http://" + m.Addr().String() + "/health") // unauthenticated: unlimited
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				req, _ := http.NewRequest("GET", "http://"+m.Addr().String()+"/api/v1/limits", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				if res, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode == 429 && res.Header.Get("Retry-After") != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the running server did not apply api-per-minute 1 within %s", 3*api.LimitsTTL)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if code, out, _ := cli(env, "tenant", "limits", "acme", "--journeys", "default"); code != 0 || !strings.Contains(out, "journeys                    0  default") {
				t.Fatalf("tenant limits --journeys default: %d %q", code, out)
			}
			for _, bad := range [][]string{{"acme", "--journeys", "-1"}, {"acme", "--journeys", "many"}, {"acme", "--rps", "1"}, {"acme", "extra"}} {
				if code, _, errOut := cli(env, append([]string{"tenant", "limits"}, bad...)...); code != 2 || errOut == "" {
					t.Fatalf("tenant limits %v: %d %q", bad, code, errOut)
				}
			}
			if code, _, errOut := cli(env, "tenant", "limits", "nobody"); code != 1 || !strings.Contains(errOut, "nobody") {
				t.Fatalf("tenant limits nobody: %d %q", code, errOut)
			}

			// health asks the running server.
			env["KALCIFER_ADDR"] = m.Addr().String()
			if code, out, errOut := cli(env, "health"); code != 0 || out != "ready\n" {
				t.Fatalf("health: %d %q %q", code, out, errOut)
			}
		})
	}
}

// One-off commands print their answer and nothing else: no log lines, even on a fresh store whose migrations they apply.
// apikey create prints exactly the key, so that scripts can capture it.
func TestCLIQuiet(t *testing.T) {
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			env := envFor(t)
			code, out, errOut := cli(env, "apikey", "create", "--role", "admin")
			if code != 0 || errOut != "" || !regexp.MustCompile(`^kal_[0-9a-z]{8}_[0-9a-z]{43}\n$`).MatchString(out) {
				t.Fatalf("apikey create on a fresh store: code %d, stdout %q, stderr %q; want only the key", code, out, errOut)
			}
			for _, args := range [][]string{
				{"migrate"}, {"tenant", "create", "acme"}, {"apikey", "create", "--tenant", "acme", "--role", "viewer"},
				{"version"}, {"design", "send a welcome email, then wait 2 days"},
			} {
				if code, out, errOut := cli(env, args...); code != 0 || errOut != "" || out == "" {
					t.Errorf("%v: code %d, stdout %q, stderr %q; want output on stdout only", args, code, out, errOut)
				}
			}
		})
	}
}

func TestCLIHealthWithoutServer(t *testing.T) {
	if code, _, errOut := cli(map[string]string{"KALCIFER_ADDR": "127.0.0.1:1"}, "health"); code != 1 || errOut == "" {
		t.Fatalf("health with nothing listening: %d %q", code, errOut)
	}
}

package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/web"
)

// TestWebApp checks that the real server serves the embedded web app at /
// and on its client-side paths, keeps the API's JSON answers under /api/,
// and prints the app's URL when it starts.
func TestWebApp(t *testing.T) {
	var out bytes.Buffer
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}, &out)
	t.Cleanup(func() { m.Close() })
	base := "http://" + m.Addr().String()

	if want := "Kalcifer is running: open " + base + "/"; !strings.Contains(out.String(), want) {
		t.Fatalf("start-up output %q does not say %q", out.String(), want)
	}

	fetch := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}

	for _, path := range []string{"/", "/journeys/jrn_1"} {
		res, body := fetch(http.MethodGet, path)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
			t.Fatalf("GET %s = %d %.80q, want the app", path, res.StatusCode, body)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != web.CSP {
			t.Fatalf("GET %s: CSP %q, want the app's, not the API's", path, got)
		}
	}
	// The API keeps its own answers: JSON 404s under /api/, its routes, and
	// a JSON refusal for methods the app does not serve.
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/v1/no-such-route", http.StatusNotFound},
		{http.MethodGet, "/api", http.StatusNotFound},
		{http.MethodGet, "/api/v1/journeys", http.StatusUnauthorized},
		{http.MethodPost, "/journeys", http.StatusNotFound},
	} {
		res, body := fetch(c.method, c.path)
		if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(body, `"error"`) {
			t.Fatalf("%s %s = %d %s %.80q, want the API's JSON %d", c.method, c.path, res.StatusCode,
				res.Header.Get("Content-Type"), body, c.status)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
			t.Fatalf("%s %s: CSP %q, want the API's", c.method, c.path, got)
		}
	}
	if res, body := fetch(http.MethodGet, "/health"); res.StatusCode != http.StatusOK || strings.Contains(body, "<div") {
		t.Fatalf("GET /health = %d %.80q, want the API's", res.StatusCode, body)
	}

	// Segment's SDKs post to /v1/… at the root, beside the app's paths: every
	// call reaches the intake (the key as the basic auth user), none the app.
	for call, body := range map[string]string{
		"identify": `{"userId":"u1","traits":{"plan":"pro"}}`,
		"track":    `{"userId":"u1","event":"order_completed"}`,
		"page":     `{"userId":"u1","name":"Home"}`,
		"screen":   `{"userId":"u1","name":"Home"}`,
		"group":    `{"userId":"u1","groupId":"g1"}`,
		"alias":    `{"userId":"u1","previousId":"anon-1"}`,
		"batch":    `{"batch":[{"type":"track","userId":"u1","event":"x"}]}`,
	} {
		req, err := http.NewRequest(http.MethodPost, base+"/v1/"+call, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(adminKey, "")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/%s: %v", call, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("POST /v1/%s = %d %s %.120q, want the intake's 200", call, res.StatusCode, res.Header.Get("Content-Type"), got)
		}
	}
	if res, body := fetch(http.MethodGet, "/v1/track"); res.StatusCode != http.StatusMethodNotAllowed || strings.Contains(body, "<div") {
		t.Fatalf("GET /v1/track = %d %.80q, want the API's 405", res.StatusCode, body)
	}
}

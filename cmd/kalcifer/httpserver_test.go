package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A client that sends its body a byte at a time is cut off once
// KALCIFER_HTTP_READ_TIMEOUT has passed, instead of holding its connection
// (and a handler) for as long as it likes.
func TestTrickledBodyIsCutOff(t *testing.T) {
	t.Parallel()
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_HTTP_READ_TIMEOUT": "500ms"}, io.Discard)
	defer m.Close()
	conn, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: kalcifer\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", adminKey)
	closed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, conn) // returns once the server closes the connection
		closed <- err
	}()
	began := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(5 * time.Second) // the trickle alone would last 100 s
	for {
		select {
		case <-closed:
			if d := time.Since(began); d > 3*time.Second {
				t.Fatalf("the connection was closed only after %v", d)
			}
			return
		case <-tick.C:
			conn.Write([]byte(" ")) // fails once the server hung up; the reader notices
		case <-giveUp:
			t.Fatalf("a body trickled a byte every 100ms is still being read after %v", time.Since(began))
		}
	}
}

// slowLLM is an OpenAI-compatible server that takes delay to answer, so a
// designer turn outlasts a short write timeout.
func slowLLM(t *testing.T, delay time.Duration) (url string, calls *atomic.Int32) {
	calls = new(atomic.Int32)
	fake := fakeOpenAI(t, calls)
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		fake.Config.Handler.ServeHTTP(w, r)
	}), ReadHeaderTimeout: time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go slow.Serve(ln)
	t.Cleanup(func() { slow.Close() })
	return "http://" + ln.Addr().String() + "/v1", calls
}

// A designer turn that takes longer than KALCIFER_HTTP_WRITE_TIMEOUT still
// streams to its end (and, asked for JSON, still gets its answer): the
// designer's routes have the AI timeout to answer.
func TestDesignerOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	llm, calls := slowLLM(t, 700*time.Millisecond)
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_HTTP_WRITE_TIMEOUT": "200ms", "KALCIFER_AI_PROVIDER": "openai", "KALCIFER_AI_BASE_URL": llm,
		"KALCIFER_AI_MODEL": "fake-model", "KALCIFER_AI_TIMEOUT": "5s", "KALCIFER_ALLOW_PRIVATE_NETWORKS": "true"}, io.Discard)
	defer m.Close()
	base := "http://" + m.Addr().String()

	for _, accept := range []string{"text/event-stream", "application/json"} {
		req, err := http.NewRequest("POST", base+"/api/v1/ai/conversations", strings.NewReader(`{"message":"`+us1+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		began := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", accept, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(began)
		if err != nil {
			t.Fatalf("%s: the answer was cut off after %v: %v (read %q)", accept, took, err, body)
		}
		if took < 700*time.Millisecond {
			t.Fatalf("%s: answered in %v, before the slow model did", accept, took)
		}
		want := `"graph"`
		if accept == "text/event-stream" {
			want = "event: result\n"
		}
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d after %v, no %q in %q", accept, res.StatusCode, took, want, body)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("the model was asked %d times, want 2", calls.Load())
	}
}

// Every answer carries the headers that keep browsers from misreading,
// framing or caching it.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}, io.Discard)
	defer m.Close()
	base := "http://" + m.Addr().String()
	for _, tc := range []struct {
		path, key string
		status    int
		noStore   bool
	}{
		{"/health", "", 200, false},
		{"/api/v1/openapi.json", "", 200, false},
		{"/api/v1/journeys", adminKey, 200, true},
		{"/api/v1/journeys", "", 401, true},
		{"/api/v1/nowhere", adminKey, 404, false},
	} {
		res := get(t, base+tc.path, tc.key, nil)
		if res.StatusCode != tc.status {
			t.Fatalf("GET %s = %d, want %d", tc.path, res.StatusCode, tc.status)
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"X-Frame-Options":         "DENY",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, name, got, want)
			}
		}
		if got := res.Header.Get("Cache-Control"); tc.noStore && got != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store", tc.path, got)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET %s without KALCIFER_CORS_ORIGINS: Access-Control-Allow-Origin = %q", tc.path, got)
		}
	}
}

// get sends GET (OPTIONS when preflight names a method) with the headers
// given and returns the answer, its body read.
func get(t *testing.T, url, key string, header map[string]string) *http.Response {
	t.Helper()
	method := "GET"
	if header["Access-Control-Request-Method"] != "" {
		method = "OPTIONS"
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// Browsers on the configured origins may call the API; others get no CORS
// headers, so their browsers refuse to hand them the answer.
func TestCORS(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	for _, origins := range []string{app + ", http://localhost:5173", "*"} {
		m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
			"KALCIFER_CORS_ORIGINS": origins}, io.Discard)
		url := "http://" + m.Addr().String() + "/api/v1/journeys"
		allowed := app
		if origins == "*" {
			allowed = "*"
		}

		preflight := map[string]string{"Origin": app, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization,content-type"}
		res := get(t, url, "", preflight)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != allowed ||
			res.Header.Get("Access-Control-Allow-Methods") != "GET, POST, PUT, PATCH, DELETE" ||
			res.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type" {
			t.Fatalf("%s: preflight from %s = %d %v", origins, app, res.StatusCode, res.Header)
		}
		res = get(t, url, adminKey, map[string]string{"Origin": app})
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != allowed ||
			!strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
			t.Fatalf("%s: GET from %s = %d %v", origins, app, res.StatusCode, res.Header)
		}
		if origins != "*" && res.Header.Get("Vary") != "Origin" {
			t.Fatalf("%s: Vary = %q, want Origin", origins, res.Header.Get("Vary"))
		}

		if origins != "*" {
			const evil = "https://evil.example.com"
			preflight["Origin"] = evil
			res = get(t, url, "", preflight)
			if res.StatusCode == http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "" ||
				res.Header.Get("Access-Control-Allow-Methods") != "" {
				t.Fatalf("preflight from %s = %d %v", evil, res.StatusCode, res.Header)
			}
			res = get(t, url, adminKey, map[string]string{"Origin": evil})
			if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Expose-Headers") != "" {
				t.Fatalf("GET from %s: %v", evil, res.Header)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHTTPConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envOf(map[string]string{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPReadTimeout != 30*time.Second || c.HTTPWriteTimeout != time.Minute || c.CORSOrigins != nil {
		t.Fatalf("defaults: read %v, write %v, origins %q", c.HTTPReadTimeout, c.HTTPWriteTimeout, c.CORSOrigins)
	}
	if got := c.StreamTimeout(); got != 3*120*time.Second+time.Minute {
		t.Fatalf("stream timeout %v", got)
	}
	if c.CustomCode || c.CustomCodeWorkers != 2 || c.CustomCodeMemory != 512<<20 {
		t.Fatalf("custom code defaults: %v %d %d", c.CustomCode, c.CustomCodeWorkers, c.CustomCodeMemory)
	}
	c, err = LoadConfig(envOf(map[string]string{"KALCIFER_CORS_ORIGINS": " https://App.example.com:8443 ,http://localhost:5173,"}), nil)
	if err != nil || strings.Join(c.CORSOrigins, " ") != "https://app.example.com:8443 http://localhost:5173" {
		t.Fatalf("origins %q, %v", c.CORSOrigins, err)
	}
	for name, bad := range map[string]string{
		"KALCIFER_HTTP_READ_TIMEOUT":     "0s",
		"KALCIFER_HTTP_WRITE_TIMEOUT":    "soon",
		"KALCIFER_CORS_ORIGINS":          "*,https://app.example.com",
		"KALCIFER_ENABLE_CUSTOM_CODE":    "yes please",
		"KALCIFER_CUSTOM_CODE_WORKERS":   "0",
		"KALCIFER_CUSTOM_CODE_MEMORY_MB": "16",
		"KALCIFER_PUBLIC_URL":            "kalcifer.example.com",
	} {
		if _, err := LoadConfig(envOf(map[string]string{name: bad}), nil); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, bad, err)
		}
	}
	c, err = LoadConfig(envOf(map[string]string{"KALCIFER_PUBLIC_URL": "https://kalcifer.example.com/"}), nil)
	if err != nil || c.PublicURL != "https://kalcifer.example.com" {
		t.Fatalf("public URL %q, %v", c.PublicURL, err)
	}
	for _, bad := range []string{"ftp://x", "https://", "https://u@x", "https://x?q=1", "https://x/#top"} {
		if _, err := LoadConfig(envOf(map[string]string{"KALCIFER_PUBLIC_URL": bad}), nil); err == nil {
			t.Errorf("KALCIFER_PUBLIC_URL=%q accepted", bad)
		}
	}
	for _, bad := range []string{"app.example.com", "https://app.example.com/", "ftp://x", "https://u@x", "https://x?q", "https://"} {
		if _, err := LoadConfig(envOf(map[string]string{"KALCIFER_CORS_ORIGINS": bad}), nil); err == nil {
			t.Errorf("KALCIFER_CORS_ORIGINS=%q accepted", bad)
		}
	}
	// History retention: off by default, days or a duration of an hour
	// or more.
	for v, want := range map[string]time.Duration{"": 0, "90d": 90 * 24 * time.Hour, "720h": 720 * time.Hour, "1h": time.Hour} {
		c, err := LoadConfig(envOf(map[string]string{"KALCIFER_HISTORY_RETENTION": v}), nil)
		if err != nil || c.HistoryRetention != want {
			t.Errorf("KALCIFER_HISTORY_RETENTION=%q: %v, %v; want %v", v, c.HistoryRetention, err, want)
		}
	}
	for _, bad := range []string{"59m", "0d", "-1d", "forever", "1.5d", "99999d"} {
		if _, err := LoadConfig(envOf(map[string]string{"KALCIFER_HISTORY_RETENTION": bad}), nil); err == nil ||
			!strings.Contains(err.Error(), "KALCIFER_HISTORY_RETENTION") {
			t.Errorf("KALCIFER_HISTORY_RETENTION=%q: %v", bad, err)
		}
	}
}

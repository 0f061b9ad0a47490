package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
)

// sdkDir holds the Node program that drives @segment/analytics-node, with
// its package.json and package-lock.json.
const sdkDir = "testdata/segmentsdk"

// node returns the node binary, installing the SDK (npm ci) when it is not
// yet. Without node the test is skipped, except in CI, where it fails.
func node(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed, and CI must run the Segment SDK test: install Node.js 20+ (%v)", err)
		}
		t.Skipf("node is not installed: the test with the real @segment/analytics-node is skipped (it runs in CI)")
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "node_modules/@segment/analytics-node/package.json")); err == nil {
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not, so @segment/analytics-node cannot be installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = sdkDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", sdkDir, err, out)
	}
	return bin
}

// failFirst serves h, but answers the first batch 500 after h has stored it,
// as if the answer were lost: the SDK retries, and the retry must store
// nothing twice.
type failFirst struct {
	h       http.Handler
	mu      sync.Mutex
	failed  bool
	batches int
	retries int // requests with X-Retry-Count
}

func (f *failFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	first := !f.failed && r.URL.Path == "/v1/batch"
	f.failed = f.failed || first
	if r.URL.Path == "/v1/batch" {
		f.batches++
		if r.Header.Get("X-Retry-Count") != "" {
			f.retries++
		}
	}
	f.mu.Unlock()
	if !first {
		f.h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		http.Error(w, "the first batch failed: "+rec.Body.String(), http.StatusBadGateway)
		return
	}
	http.Error(w, "failing the first batch once, after storing it", http.StatusInternalServerError)
}

// The real @segment/analytics-node, pointed at Kalcifer: identify, track,
// page, screen, group, a flush of many calls in several batches, a retry
// after a 500, and an alias.
func TestSegmentSDK(t *testing.T) {
	t.Parallel()
	bin := node(t)
	tb := setup(t, withRuntime)
	proxy := &failFirst{h: tb.handler}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run.mjs")
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(), "KALCIFER_HOST="+srv.URL, "WRITE_KEY="+tb.newKey("default", kalcifer.RoleIngest))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node run.mjs: %v\n%s\n%s", err, out, stderr)
	}
	var run struct {
		Statuses []int    `json:"statuses"`
		Failures []string `json:"failures"`
	}
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	t.Logf("the SDK's HTTP statuses: %v; batches %d, retries %d", run.Statuses, proxy.batches, proxy.retries)
	if len(run.Failures) > 0 {
		t.Fatalf("the SDK reports failures: %v", run.Failures)
	}
	if !slices.Contains(run.Statuses, http.StatusInternalServerError) || proxy.retries != 1 || proxy.batches < 4 {
		t.Fatalf("statuses %v, %d batches, %d retries: want several batches, the first failed once and retried",
			run.Statuses, proxy.batches, proxy.retries)
	}

	// Everything once, even the first batch, which was stored twice over.
	for query, want := range map[string]int{
		`SELECT COUNT(*) FROM events WHERE event_type = 'Bulk Event'`:                                    25,
		`SELECT COUNT(DISTINCT customer_id) FROM events WHERE event_type = 'Bulk Event'`:                 5,
		`SELECT COUNT(*) FROM events WHERE customer_id = 'sdk-user' AND event_type = 'Order Completed'`:  1,
		`SELECT COUNT(*) FROM events WHERE customer_id = 'sdk-user' AND event_type = 'page_viewed'`:      1,
		`SELECT COUNT(*) FROM events WHERE customer_id = 'sdk-user' AND event_type = 'screen_viewed'`:    1,
		`SELECT COUNT(*) FROM events WHERE customer_id = 'sdk-user' AND event_type = 'After Alias'`:      1,
		`SELECT COUNT(*) FROM events WHERE customer_id = 'sdk-anon'`:                                     0,
		`SELECT COUNT(*) FROM events WHERE client_id IS NULL`:                                            0,
		`SELECT COUNT(*) FROM customer_aliases WHERE alias_id = 'sdk-anon' AND customer_id = 'sdk-user'`: 1,
	} {
		if n := tb.count(query); n != want {
			t.Errorf("%s = %d, want %d", query, n, want)
		}
	}
	var c kalcifer.Customer
	tb.do("GET", "/api/v1/customers/sdk-user/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
	if c.Attributes["email"] != "sdk@example.com" || c.Attributes["plan"] != "pro" || c.Attributes["group_id"] != "acme-inc" {
		t.Fatalf("profile = %+v", c.Attributes)
	}
	var data string
	if err := tb.store.Backend().Q().QueryRow(context.Background(),
		`SELECT data FROM events WHERE event_type = 'Order Completed'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(data), &props); err != nil || props["total"] != 42.0 || props["currency"] != "EUR" {
		t.Fatalf("Order Completed data = %s (%v)", data, err)
	}
}

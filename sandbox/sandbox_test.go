package sandbox_test

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/sandbox"
)

// TestMain lets the test binary stand in for "kalcifer lua-worker": the
// pool re-executes it with that argument.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.WorkerCommand {
		os.Exit(sandbox.ServeWorker(os.Args[2:]))
	}
	os.Exit(m.Run())
}

var (
	shared     *sandbox.Pool
	sharedErr  error
	sharedOnce sync.Once
)

// pool is one pool of real worker processes that the tests share, as the
// server's runs do: every test leaves it serving.
func pool(t testing.TB) *sandbox.Pool {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = sandbox.New(sandbox.Options{Workers: 2}) })
	if sharedErr != nil {
		t.Fatalf("start the pool: %v", sharedErr)
	}
	return shared
}

func globals() map[string]any {
	return map[string]any{
		"customer": map[string]any{"id": "c1", "plan": "pro", "visits": 3, "tags": []string{"vip"}},
		"event":    map[string]any{"type": "purchase", "data": map[string]any{"amount": 42.5}},
		"instance": map[string]any{"id": "i1", "journey": map[string]any{"id": "j1", "version": 2}, "data": map[string]any{"seen": true}},
	}
}

// A run reads customer, event and instance and its returned table comes
// back as JSON values; print is captured, not written to the protocol.
func TestRunReturnsTable(t *testing.T) {
	t.Parallel()
	res, err := pool(t).Run(sandbox.Request{Timeout: time.Second, Globals: globals(), Code: `
		print("scoring", customer.id)
		local tags = {}
		for i, t in ipairs(customer.tags) do tags[i] = string.upper(t) end
		return {
			score = customer.visits * 10 + math.floor(event.data.amount),
			tier = customer.plan == "pro" and "gold" or "silver",
			tags = tags, again = instance.data.seen, journey = instance.journey.id,
			nested = {a = {b = {1, 2, 3}}}, nothing = nil,
		}`})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `map[again:true journey:j1 nested:map[a:map[b:[1 2 3]]] score:72 tags:[VIP] tier:gold]`
	if got := sprint(res.Data); got != want {
		t.Errorf("data %s, want %s", got, want)
	}
	if res.Printed != "scoring\tc1\n" {
		t.Errorf("printed %q", res.Printed)
	}
	// No return, or return nil: nothing to merge.
	res, err = pool(t).Run(sandbox.Request{Timeout: time.Second, Code: `local x = 1`})
	if err != nil || res.Data != nil {
		t.Fatalf("no return: %+v, %v", res, err)
	}
}

// Warm runs start no process.
func TestWarmRunsStartNoProcess(t *testing.T) {
	p, err := sandbox.New(sandbox.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 20 {
		if _, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `return {ok = true}`}); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Starts(); n != 1 {
		t.Fatalf("%d processes started for 20 runs on one worker", n)
	}
}

// A pool refuses a worker command that does not start, saying which.
func TestPoolThatCannotStart(t *testing.T) {
	t.Parallel()
	_, err := sandbox.New(sandbox.Options{Workers: 1, Command: []string{"/bin/true"}})
	if err == nil || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("got %v", err)
	}
	_, err = sandbox.New(sandbox.Options{Workers: 1, Memory: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "64 MiB") {
		t.Fatalf("got %v", err)
	}
}

// Close stops the workers; later runs answer ErrClosed.
func TestClose(t *testing.T) {
	t.Parallel()
	p, err := sandbox.New(sandbox.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `return {}`}); err != sandbox.ErrClosed {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkWarmRun is a run on a warm worker: what a custom_code node
// costs. BenchmarkColdStart is what starting a worker costs, which a warm
// pool keeps off the run.
func BenchmarkWarmRun(b *testing.B) {
	p := pool(b)
	req := sandbox.Request{Timeout: time.Second, Globals: globals(), Code: `return {score = customer.visits * 2, tier = "gold"}`}
	for b.Loop() {
		if _, err := p.Run(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkColdStart(b *testing.B) {
	for b.Loop() {
		p, err := sandbox.New(sandbox.Options{Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/bench"
)

// TestCrashAudit SIGKILLs a real `kalcifer serve` under load, restarts it
// on the same database, and audits the send ledger against what a local
// webhook receiver got: nothing lost, nothing delivered twice. The long
// version is `kalcifer bench crash` (docs/PERFORMANCE.md).
//
// With webhooks that are not idempotent, a send whose in-flight mark
// committed but whose request had not left in full when the server died
// cannot be told from one that arrived: the run reports those ("never
// called") without failing on them, and fails on every other loss or any
// duplicate. With idempotent webhooks such sends are sent again, so none
// may be lost or left ambiguous.
func TestCrashAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers")
	}
	binary := buildKalcifer(t)
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			for _, run := range []struct {
				idempotent bool
				n, kills   int
			}{{false, 400, 3}, {true, 200, 2}} {
				idempotent := run.idempotent
				env := envFor(t) // a fresh database: the runs reuse customer and event ids
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				var progress strings.Builder
				res, err := bench.RunCrash(ctx, bench.CrashOptions{Binary: binary, DatabaseURL: env["KALCIFER_DATABASE_URL"],
					N: run.n, Clients: 8, Kills: run.kills, Timeout: time.Second, Idempotent: idempotent, Out: &progress})
				if err != nil {
					t.Fatalf("crash run: %v\n%s", err, progress.String())
				}
				var table strings.Builder
				res.Print(&table)
				t.Log(table.String())
				// Only calls under way at a kill may be in doubt: at most the
				// sender's slots per kill.
				inDoubt := res.Ambiguous <= run.kills*64
				if !idempotent {
					res.NeverCalled = 0 // reported above; see the comment
				}
				if !res.OK() || res.Completed != run.n || res.Sent+res.Ambiguous != 2*run.n || !inDoubt {
					t.Fatalf("audit failed:\n%s", table.String())
				}
			}
		})
	}
}

// TestCrashWithSlowReceiver is the reproduction of a report: a receiver
// taking a second per call, 300 events in one batch, SIGKILL while calls
// are held. The sender used to mark 200 sends in flight and call 64, so 136
// customers never got their message; now only the calls that reached the
// receiver may be ambiguous, and every other send is delivered after the
// restart (with an idempotent webhook, those in doubt too).
func TestCrashWithSlowReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers")
	}
	binary := buildKalcifer(t)
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			for _, idempotent := range []bool{false, true} {
				env := envFor(t) // a fresh database: the runs reuse customer and event ids
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				var progress strings.Builder
				res, err := bench.RunSlowCrash(ctx, bench.SlowCrashOptions{Binary: binary, DatabaseURL: env["KALCIFER_DATABASE_URL"],
					N: 300, Delay: time.Second, KillAfter: 1500 * time.Millisecond, Idempotent: idempotent, Out: &progress})
				if err != nil {
					t.Fatalf("crash run: %v\n%s", err, progress.String())
				}
				var table strings.Builder
				res.Print(&table)
				t.Log(progress.String() + table.String())
				// A send whose in-flight mark committed just before the kill
				// but whose request had not left yet is ambiguous and never
				// called: the window issue 10 could not close for a receiver
				// that does not drop repeats (docs/ARCHITECTURE.md). It is a
				// few sends at most even on a loaded machine (0 in most runs,
				// 2 seen once); the sender this test reproduces stranded 136.
				// Runs under heavy load used to strand 9–10: each call read
				// the tenant's webhook secret from the database after its
				// mark, and the first wave's reads queued on the pool for up
				// to 0.66 s. The secret is now read before the engine starts.
				strict := *res
				strict.NeverCalled = 0
				if !strict.OK() || res.NeverCalled > neverCalledAllowance || res.Completed != 300 || res.Sent+res.Ambiguous != 300 ||
					res.Ambiguous > 64 || res.DistinctKeys+res.NeverCalled != 300 {
					t.Fatalf("audit failed:\n%s", table.String())
				}
			}
		})
	}
}

// neverCalledAllowance is how many sends TestCrashWithSlowReceiver lets
// the kill strand between their in-flight mark and their request.
const neverCalledAllowance = 8

// buildKalcifer builds the server binary the crash runs start and kill,
// once for the test binary (TestMain removes it).
func buildKalcifer(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "kalcifer-test-binary-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "kalcifer")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// built is the server binary buildKalcifer made.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/bench"
)

// TestCrashAudit SIGKILLs a real `kalcifer serve` under load, restarts it
// on the same database, and audits the send ledger against what a local
// webhook receiver got: nothing lost, nothing delivered twice. The long
// version is `kalcifer bench crash` (docs/PERFORMANCE.md).
func TestCrashAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers")
	}
	// A short lease, so that sends a killed PostgreSQL server had in flight
	// are settled within the test; webhook calls here take milliseconds.
	t.Setenv("KALCIFER_SEND_LEASE", "10s")
	binary := filepath.Join(t.TempDir(), "kalcifer")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			env := envFor(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var progress strings.Builder
			res, err := bench.RunCrash(ctx, bench.CrashOptions{Binary: binary, DatabaseURL: env["KALCIFER_DATABASE_URL"],
				N: 400, Clients: 8, Kills: 3, Timeout: time.Second, Out: &progress})
			if err != nil {
				t.Fatalf("crash run: %v\n%s", err, progress.String())
			}
			var table strings.Builder
			res.Print(&table)
			t.Log(table.String())
			if !res.OK() || res.Completed != 400 || res.Sent+res.Ambiguous != 800 {
				t.Fatalf("audit failed:\n%s", table.String())
			}
		})
	}
}

package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunMigrate runs scenario M small against a real `kalcifer serve` on
// SQLite: customers rest at all five wait nodes, the automatic mapping
// follows the renamed node, and every instance ends on version 2.
func TestRunMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real server")
	}
	binary := filepath.Join(t.TempDir(), "kalcifer")
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/kalcifer").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	res, err := RunMigrate(ctx, MigrateOptions{Binary: binary, N: 200, Rate: 50, Baseline: 200 * time.Millisecond, Out: &progress})
	if err != nil {
		t.Fatalf("migrate run: %v\n%s", err, progress.String())
	}
	var table strings.Builder
	res.Print(&table)
	t.Log(table.String())
	if !res.OK() {
		t.Fatalf("not every instance was migrated to version 2:\n%s", table.String())
	}
	total := 0
	for _, id := range []string{restWait3d, restUntil, restClicked, restCooldown, restRemind} {
		if res.Populated[id] == 0 {
			t.Errorf("nobody rested at %q before the migration: %v", id, res.Populated)
		}
		total += res.Populated[id]
	}
	if total != 200 {
		t.Errorf("%d customers rested at the wait nodes, want 200: %v", total, res.Populated)
	}
	if _, ok := res.Mapping[restCooldown]; ok || res.Mapping[restRemind] != "remind_2d" {
		t.Errorf("mapping %v: want cooldown unmapped and remind → remind_2d", res.Mapping)
	}
}

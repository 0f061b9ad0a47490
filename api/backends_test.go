package api_test

import (
	"os"
	"testing"

	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/sandbox"
)

// TestMain stops the private PostgreSQL server the backend tests start. It
// also lets the test binary stand in for "kalcifer lua-worker".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.WorkerCommand {
		os.Exit(sandbox.ServeWorker(os.Args[2:]))
	}
	os.Exit(pgtest.Main(m))
}

// onBothBackends runs fn as a subtest on SQLite and on PostgreSQL, each
// with a running engine. The PostgreSQL run starts a private server through
// pgtest and skips under -short.
func onBothBackends(t *testing.T, fn func(t *testing.T, tb *testBundle)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, setup(t, withRuntime))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, setupPostgres(t))
	})
}

// onPostgres makes setup use a fresh PostgreSQL database (through pgtest)
// instead of SQLite; the bundle's backend field (SQLite's) stays nil.
func onPostgres(o *setupOptions) { o.postgres = true }

// setupPostgres is setup(t, withRuntime) over a fresh PostgreSQL database.
func setupPostgres(t *testing.T) *testBundle { return setup(t, withRuntime, onPostgres) }

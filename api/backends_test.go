package api_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/api"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/postgres"
)

// TestMain stops the private PostgreSQL server the backend tests start.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

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

// setupPostgres is setup(t, withRuntime) over a fresh PostgreSQL database.
// The bundle's backend field (SQLite's) stays nil.
func setupPostgres(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	b, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	st := store.New(b, kalcifer.SystemClock{})
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Logf("close store: %v", err)
		}
	})
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	lp := logprovider.New(logger)
	rt := engine.New(engine.Config{
		Store:  st,
		Logger: logger,
		Providers: channel.NewRegistry(map[string]channel.Provider{
			"email": lp, "sms": lp, "push": lp, "whatsapp": lp, "webhook": lp,
		}),
	})
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(rt.Stop) // before the store closes
	h := api.NewHandler(api.Config{
		Store:     st,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:   "test-1.2.3",
		StartedAt: time.Now().Add(-90 * time.Second),
		Engine:    rt,
		Designer:  offlineDesigner(st),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tb := &testBundle{t: t, srv: srv, handler: h, store: st, logs: logs, rt: rt}
	tb.admin = tb.newKey("default", kalcifer.RoleAdmin)
	tb.editor = tb.newKey("default", kalcifer.RoleEditor)
	tb.viewer = tb.newKey("default", kalcifer.RoleViewer)
	tb.otherAdmin = tb.newKey("acme", kalcifer.RoleAdmin)
	return tb
}

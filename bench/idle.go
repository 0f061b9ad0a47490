package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdleOptions configures the idle scenario.
type IdleOptions struct {
	Binary      string
	DatabaseURL string
	// Seconds is how long the server sits idle while measured (default
	// 60), after idling for Settle first (the command's default is 2
	// minutes: the loops' safety polls back off from 1 s to 60 s over
	// about that long).
	Seconds int
	Settle  time.Duration
	// Timer, when set, first starts one customer on a journey that waits
	// an hour, so that a timer is pending while the server idles.
	Timer bool
	Out   io.Writer
}

// IdleResult is what an idle server cost, and how fast it reacted after.
type IdleResult struct {
	Backend string
	Seconds float64
	Settle  time.Duration
	Timer   bool
	// CPU is the server's CPU time over the idle period, as a share of one
	// core (utime + stime of /proc/PID/stat).
	CPU float64
	// Transactions and Statements are the database's, per second, over the
	// idle period (PostgreSQL: pg_stat_database's commits and rollbacks;
	// pg_stat_statements' calls when it is installed, else -1). SQLite
	// exposes no statement counter: both are -1.
	Transactions, Statements float64
	// Reaction is the time from POST /events, sent after the idle period,
	// to the first step of the instance the event starts.
	Reaction time.Duration
}

// idleGraph starts a customer on event idle_start, then waits an hour.
func idleGraph() map[string]any {
	return map[string]any{
		"nodes": []any{
			map[string]any{"id": "entry", "type": "event_entry", "config": map[string]any{"event_type": "idle_start"}},
			map[string]any{"id": "wait", "type": "wait", "config": map[string]any{"duration": "1h"}},
			map[string]any{"id": "exit", "type": "journey_exit"},
		},
		"edges": []any{
			map[string]any{"id": "e1", "source": "entry", "target": "wait"},
			map[string]any{"id": "e2", "source": "wait", "target": "exit"},
		},
	}
}

// RunIdle starts a server, lets it settle, measures it idle for
// o.Seconds, then times its first reaction to an event.
func RunIdle(ctx context.Context, o IdleOptions) (*IdleResult, error) {
	if o.Seconds <= 0 {
		o.Seconds = 60
	}
	if o.Settle < 0 {
		o.Settle = 0
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &IdleResult{Backend: backendOf(o.DatabaseURL), Timer: o.Timer, Transactions: -1, Statements: -1}
	journey, err := createActive(srv, "idle", idleGraph())
	if err != nil {
		return nil, err
	}
	if o.Timer {
		if err := srv.call("POST", "/api/v1/events", map[string]any{"customer_id": "idle-timer", "event_type": "idle_start"}, nil); err != nil {
			return nil, err
		}
		if _, err := firstStep(ctx, srv, journey, "idle-timer", time.Now()); err != nil {
			return nil, err
		}
	}
	var db *pgx.Conn
	if o.DatabaseURL != "" {
		if db, err = pgx.Connect(ctx, o.DatabaseURL); err != nil {
			return nil, fmt.Errorf("connect to read the database's counters: %w", err)
		}
		defer db.Close(context.Background())
	}
	// The loops back off from 1 s while they find nothing: let them.
	res.Settle = o.Settle
	fmt.Fprintf(o.Out, "idle: server on %s settling for %s, then idle for %d s\n", res.Backend, o.Settle, o.Seconds)
	if err := sleep(ctx, o.Settle); err != nil {
		return nil, err
	}
	xacts0, calls0, err := dbCounters(ctx, db)
	if err != nil {
		return nil, err
	}
	cpu0, err := cpuTicks(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if err := sleep(ctx, time.Duration(o.Seconds)*time.Second); err != nil {
		return nil, err
	}
	cpu1, err := cpuTicks(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	xacts1, calls1, err := dbCounters(ctx, db)
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(began).Seconds()
	res.CPU = float64(cpu1-cpu0) / clockTicks / res.Seconds
	if db != nil {
		// Less the one transaction of our own first read.
		res.Transactions = float64(xacts1-xacts0-1) / res.Seconds
		if calls0 >= 0 && calls1 >= 0 {
			res.Statements = float64(calls1-calls0) / res.Seconds
		}
	}
	sent := time.Now()
	if err := srv.call("POST", "/api/v1/events", map[string]any{"customer_id": "idle-reaction", "event_type": "idle_start"}, nil); err != nil {
		return nil, err
	}
	if res.Reaction, err = firstStep(ctx, srv, journey, "idle-reaction", sent); err != nil {
		return nil, err
	}
	return res, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times
// (100 on every Linux this runs on).
const clockTicks = 100

// cpuTicks reads utime + stime of process pid, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read the server's CPU time: %w", err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis (state is field 3, utime 14, stime 15).
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	return utime + stime, nil
}

// dbCounters reads the database's transactions so far and, when
// pg_stat_statements is installed, the statements of every other session
// (calls = -1 without it); nothing without a database.
func dbCounters(ctx context.Context, db *pgx.Conn) (xacts, calls int64, err error) {
	if db == nil {
		return 0, -1, nil
	}
	if err := db.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).
		Scan(&xacts); err != nil {
		return 0, 0, fmt.Errorf("read pg_stat_database: %w", err)
	}
	err = db.QueryRow(ctx, `SELECT COALESCE(SUM(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_%'`).Scan(&calls)
	if err != nil {
		return xacts, -1, nil // not installed: transactions only
	}
	return xacts, calls, nil
}

// firstStep waits until customer has an instance of journey and returns
// the time from sent to its creation (the transaction of its first step).
func firstStep(ctx context.Context, srv *server, journey, customer string, sent time.Time) (time.Duration, error) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		var page struct {
			Data []struct {
				CreatedAt time.Time `json:"created_at"`
			} `json:"data"`
		}
		if err := srv.call("GET", "/api/v1/journeys/"+journey+"/instances?customer_id="+customer, nil, &page); err != nil {
			return 0, err
		}
		if len(page.Data) > 0 {
			return page.Data[0].CreatedAt.Sub(sent), nil
		}
		if err := sleep(ctx, 2*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("customer %s entered no instance within a minute", customer)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Print writes the figures as a table.
func (r *IdleResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nidle — an idle server (docs/PERFORMANCE.md), backend %s, %.0f s after %s settling, machine: %s\n\n", r.Backend, r.Seconds, r.Settle, machine())
	rate := func(v float64, what string) string {
		if v < 0 {
			return "not measured (" + what + ")"
		}
		return fmt.Sprintf("%.2f /s", v)
	}
	timer := "no"
	if r.Timer {
		timer = "yes (one wait due in an hour)"
	}
	rows := [][2]string{
		{"timer pending", timer},
		{"server CPU (share of one core)", fmt.Sprintf("%.2f %%", 100*r.CPU)},
		{"database transactions", rate(r.Transactions, "SQLite has no counter")},
		{"database statements", rate(r.Statements, "needs PostgreSQL with pg_stat_statements")},
		{"first reaction: POST /events → first step", ms(r.Reaction)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-44s %s\n", row[0], row[1])
	}
}

package engine_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// countingBackend counts the statements and transactions the store runs
// through a backend: every Exec, Query and QueryRow is one round trip to
// PostgreSQL, and every transaction adds two more (BEGIN, COMMIT).
type countingBackend struct {
	store.Backend
	statements, txs atomic.Int64
}

func (b *countingBackend) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	b.txs.Add(1)
	return b.Backend.WithTx(ctx, func(tx store.Tx) error { return fn(countingTx{tx, &b.statements}) })
}

func (b *countingBackend) Q() store.Querier { return countingTx{b.Backend.Q(), &b.statements} }

// take returns the counts since the last take, and resets them.
func (b *countingBackend) take() (statements, txs int64) {
	return b.statements.Swap(0), b.txs.Swap(0)
}

type countingTx struct {
	q store.Querier
	n *atomic.Int64
}

func (c countingTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	c.n.Add(1)
	return c.q.Exec(ctx, query, args...)
}

func (c countingTx) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	c.n.Add(1)
	return c.q.Query(ctx, query, args...)
}

func (c countingTx) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	c.n.Add(1)
	return c.q.QueryRow(ctx, query, args...)
}

// statementBudget is the most statements the engine may spend per started
// instance and per fired timer, by backend, batches included: the engine
// works on batches set-wise (issue 12), so on PostgreSQL the figure falls
// as batches grow, and a return to statements per instance shows here as a
// failure. SQLite, in process, writes a cached statement a row.
var statementBudget = map[string]struct{ start, timer float64 }{
	"postgres": {start: 2, timer: 0.1},
	"sqlite":   {start: 7, timer: 8},
}

// TestStatementsPerInstance counts the statements (and PostgreSQL round
// trips) the engine spends per started instance and per fired timer (its
// path adds a tag, as T100K's does), over n of each: go test ./engine -run TestStatementsPerInstance -v prints them
// (docs/PERFORMANCE.md, "Set-based engine transactions").
func TestStatementsPerInstance(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := &countingBackend{Backend: open(t)}
			e := newEnv(t, b)
			// T100K's shape: the timer leads to a profile change.
			j := e.journey(false, g([]string{`in:event_entry:{"event_type":"signed_up"}`, `w:wait:{"duration":"1d"}`,
				`tag:add_tag:{"tag":"waited"}`, "x:journey_exit"},
				[]string{"in->w", "w->tag", "tag->x"}, ""))
			events := make([]*kalcifer.Event, n)
			for i := range events {
				events[i] = &kalcifer.Event{TenantID: kalcifer.DefaultTenantID, CustomerID: fmt.Sprintf("c%05d", i),
					Type: "signed_up", Data: []byte(`{}`), OccurredAt: e.clock.Now()}
			}
			if _, err := e.rt.Ingest(e.ctx, events); err != nil {
				t.Fatal(err)
			}
			b.take()
			for {
				k, err := e.rt.ProcessEvents(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					break
				}
			}
			startStmts, startTxs := b.take()
			e.clock.advance(25 * time.Hour)
			fired := 0
			for {
				k, err := e.rt.FireTimers(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					break
				}
				fired += k
			}
			timerStmts, timerTxs := b.take()
			if fired != n {
				t.Fatalf("%d timers fired, want %d", fired, n)
			}
			for _, in := range e.instances(j) {
				wantStatus(t, in, kalcifer.InstanceExited)
			}
			report := func(what string, stmts, txs int64, budget float64) {
				per := float64(stmts) / float64(n)
				t.Logf("%s, %s: %d statements in %d transactions for %d: %.2f statements, %.2f round trips each",
					name, what, stmts, txs, n, per, float64(stmts+2*txs)/float64(n))
				if per > budget {
					t.Errorf("%s: %.2f statements each, budget %.1f", what, per, budget)
				}
			}
			report("start", startStmts, startTxs, statementBudget[name].start)
			report("timer", timerStmts, timerTxs, statementBudget[name].timer)
		})
	}
}

// sendBudget is the most statements the engine may spend per journey of
// the J1 shape (entry, webhook, wait for an event, tag, webhook, exit):
// its start, both send completions and its event, batches included.
var sendBudget = map[string]float64{"postgres": 4, "sqlite": 30}

// TestStatementsPerSendJourney counts the statements the engine spends on
// journeys that send, J1's shape with a profile change and a frequency
// cap added: n customers start (each writes a send), their sends complete
// (each wakes its instance), an event moves each on (a tag, another
// send), and those sends complete (each ends its instance). go test
// ./engine -run TestStatementsPerSendJourney -v prints the figures per
// phase (docs/PERFORMANCE.md, "Set-based engine transactions").
func TestStatementsPerSendJourney(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := &countingBackend{Backend: open(t)}
			e := newEnv(t, b)
			hook := `{"url":"` + e.hook.URL + `/hook"}`
			j := e.journey(false, g([]string{`in:event_entry:{"event_type":"signed_up"}`, "welcome:call_webhook:" + hook,
				`w:wait_for_event:{"event_type":"email_opened","timeout":"30d"}`, `tag:add_tag:{"tag":"opened"}`,
				"followup:call_webhook:" + hook, "x:journey_exit"},
				[]string{"in->welcome", "welcome->w", "w-event_received->tag", "w-timed_out->tag", "tag->followup", "followup->x"},
				`"frequency_cap":{"webhook":{"max":5,"window":"1d"}}`))
			ingest := func(typ string) {
				events := make([]*kalcifer.Event, n)
				for i := range events {
					events[i] = &kalcifer.Event{TenantID: kalcifer.DefaultTenantID, CustomerID: fmt.Sprintf("c%05d", i),
						Type: typ, Data: []byte(`{}`), OccurredAt: e.clock.Now()}
				}
				if _, err := e.rt.Ingest(e.ctx, events); err != nil {
					t.Fatal(err)
				}
			}
			until := func(step func(context.Context) (int, error)) int {
				total := 0
				for {
					k, err := step(e.ctx)
					if err != nil {
						t.Fatal(err)
					}
					if k == 0 {
						return total
					}
					total += k
				}
			}
			var all int64
			report := func(what string, done int) {
				stmts, txs := b.take()
				all += stmts
				if done != n {
					t.Fatalf("%s: %d done, want %d", what, done, n)
				}
				t.Logf("%s, %s: %d statements in %d transactions for %d: %.2f statements, %.2f round trips each",
					name, what, stmts, txs, n, float64(stmts)/float64(n), float64(stmts+2*txs)/float64(n))
			}
			ingest("signed_up")
			b.take()
			report("start and send", until(e.rt.ProcessEvents))
			report("send completion (welcome → wait)", until(e.rt.DeliverSends))
			ingest("email_opened")
			b.take()
			report("event (tag, send)", until(e.rt.ProcessEvents))
			report("send completion (followup → exit)", until(e.rt.DeliverSends))
			if got := len(e.hook.calls()); got != 2*n {
				t.Fatalf("%d webhook calls, want %d", got, 2*n)
			}
			for _, in := range e.instances(j) {
				wantStatus(t, in, kalcifer.InstanceExited)
			}
			per := float64(all) / float64(n)
			t.Logf("%s, whole journey: %.2f statements each", name, per)
			if per > sendBudget[name] {
				t.Errorf("%.2f statements per journey, budget %.1f", per, sendBudget[name])
			}
		})
	}
}

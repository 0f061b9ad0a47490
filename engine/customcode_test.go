package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/sandbox/sandboxtest"
	"github.com/kalcifer/kalcifer/store"
)

var (
	luaPool    *sandbox.Pool
	luaPoolErr error
	luaOnce    sync.Once
)

// withLua gives e's runtime a pool of real worker processes (this test
// binary, re-executed), shared by the tests as a server's runs share it.
func (e *env) withLua() *env {
	e.t.Helper()
	luaOnce.Do(func() { luaPool, luaPoolErr = sandbox.New(sandbox.Options{Workers: 2}) })
	if luaPoolErr != nil {
		e.t.Fatalf("start the Lua pool: %v", luaPoolErr)
	}
	e.lua = luaPool
	e.rt = e.newRuntime()
	return e
}

// data is the instance's data, as its state holds it.
func data(t *testing.T, in *kalcifer.Instance) string {
	t.Helper()
	var s struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(in.State, &s); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(s.Data)
}

// custom_code reads the customer, the event and the instance, and what it
// returns is merged into instance.data, where the next custom_code reads
// it; a failing one fails only its instance, saying why.
func TestCustomCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.withLua()
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"bought"}`,
			`score:custom_code:{"language":"lua","code":"print('scoring', customer.id) return {score = customer.visits * 10 + event.data.amount, journey = instance.journey.id}"}`,
			`tag:add_tag:{"tag":"scored"}`,
			`double:custom_code:{"language":"lua","code":"return {double = instance.data.score * 2, seen = #customer.tags}","timeout":"2s"}`,
		}, []string{"in->score", "score->tag", "tag->double"}, ""))
		if _, err := e.st.PatchCustomer(e.ctx, store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: "c1", Set: map[string]any{"visits": 3}}); err != nil {
			t.Fatal(err)
		}
		e.event("c1", "bought", `{"amount":5}`)
		e.event("c2", "bought", `{"amount":5}`) // no visits: nil * 10 raises an error
		e.drain()

		in := e.only(j, "c1")
		wantStatus(t, in, kalcifer.InstanceCompleted)
		if got, want := data(t, in), "map[double:70 journey:"+j+" score:35 seen:1]"; got != want {
			t.Errorf("data %s, want %s", got, want)
		}
		steps, err := e.st.InstanceSteps(e.ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := steps[1].Detail; steps[1].NodeID != "score" || d != "set journey, score; printed: scoring\tc1" {
			t.Errorf("step %+v", steps[1])
		}
		failed := e.only(j, "c2")
		wantStatus(t, failed, kalcifer.InstanceFailed)
		if !strings.Contains(failed.Reason, `node "score": custom code: the code raised an error:`) || !strings.Contains(failed.Reason, "cannot perform mul operation between nil and number") {
			t.Errorf("reason %q", failed.Reason)
		}
	})
}

// Every escape of the corpus, each in its own journey, fails its instance
// with its reason (or runs harmlessly), writes nothing, and the engine goes
// on running journeys afterwards.
func TestCustomCodeEscapes(t *testing.T) {
	e := newEnv(t, backends["sqlite"](t)).withLua()
	mark := filepath.Join(t.TempDir(), "escaped")
	escapes := sandboxtest.Escapes()
	journeys := make([]string, len(escapes))
	for i, esc := range escapes {
		code, _ := json.Marshal(strings.ReplaceAll(esc.Code, "MARK", mark))
		journeys[i] = e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`,
			`lua:custom_code:{"language":"lua","timeout":"300ms","code":` + string(code) + `}`}, []string{"in->lua"}, ""))
	}
	e.event("c", "go", "")
	e.drain()
	for i, esc := range escapes {
		in := e.only(journeys[i], "c")
		if esc.Data != "" {
			if in.Status != kalcifer.InstanceCompleted || data(t, in) != esc.Data {
				t.Errorf("%s: %s (%s) with %s, want completed with %s", esc.Name, in.Status, in.Reason, data(t, in), esc.Data)
			}
			continue
		}
		if in.Status != kalcifer.InstanceFailed || !containsAny(in.Reason, esc.Why) {
			t.Errorf("%s: %s (%q), want failed naming one of %q", esc.Name, in.Status, in.Reason, esc.Why)
		}
	}
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Fatalf("a run created %s: %v", mark, err)
	}
	after := e.journey(false, g([]string{`in:event_entry:{"event_type":"after"}`,
		`lua:custom_code:{"language":"lua","code":"return {ok = true}"}`}, []string{"in->lua"}, ""))
	e.event("c", "after", "")
	e.drain()
	if in := e.only(after, "c"); in.Status != kalcifer.InstanceCompleted || data(t, in) != "map[ok:true]" {
		t.Fatalf("after the corpus: %s (%s) with %s", in.Status, in.Reason, data(t, in))
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// A failure of the pool itself (here: closed) is not the code's: the
// transaction rolls back, no instance fails, and the event runs once a
// pool answers again.
func TestCustomCodePoolFailureRetries(t *testing.T) {
	e := newEnv(t, backends["sqlite"](t))
	closed, err := sandbox.New(sandbox.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.lua = closed
	e.rt = e.newRuntime()
	j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `lua:custom_code:{"language":"lua","code":"return {ok = true}"}`}, []string{"in->lua"}, ""))
	closed.Close()
	e.event("c", "go", "")
	if _, err := e.rt.ProcessEvents(e.ctx); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("process events with a closed pool: %v", err)
	}
	if ins := e.instances(j); len(ins) != 0 {
		t.Fatalf("a rolled-back run left %d instances: %s (%s)", len(ins), ins[0].Status, ins[0].Reason)
	}
	e.withLua()
	e.drain()
	if in := e.only(j, "c"); in.Status != kalcifer.InstanceCompleted || data(t, in) != "map[ok:true]" {
		t.Fatalf("after the retry: %s (%s) with %s", in.Status, in.Reason, data(t, in))
	}
}

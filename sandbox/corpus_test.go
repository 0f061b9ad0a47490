package sandbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/sandbox/sandboxtest"
)

// Every escape fails with its reason (or runs harmlessly), nothing is
// written, and the pool keeps answering normal runs after each.
func TestEscapeCorpus(t *testing.T) {
	t.Parallel()
	p := pool(t)
	mark := filepath.Join(t.TempDir(), "escaped")
	for _, e := range sandboxtest.Escapes() {
		res, err := p.Run(sandbox.Request{Timeout: 300 * time.Millisecond, Globals: globals(), Code: strings.ReplaceAll(e.Code, "MARK", mark)})
		checkEscape(t, e, res, err)
		if res, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `return {ok = 1 + 1}`}); err != nil || sprint(res.Data) != "map[ok:2]" {
			t.Fatalf("after %s, a normal run gave %+v, %v", e.Name, res, err)
		}
	}
	if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a run created %s: %v", mark, err)
	}
}

func checkEscape(t *testing.T, e sandboxtest.Escape, res sandbox.Result, err error) {
	t.Helper()
	if e.Data != "" {
		if err != nil || sprint(res.Data) != e.Data {
			t.Errorf("%s: got %v, %v; want %s", e.Name, sprint(res.Data), err, e.Data)
		}
		return
	}
	var ce *sandbox.CodeError
	if !errors.As(err, &ce) {
		t.Errorf("%s: want a CodeError, got %+v, %v", e.Name, res, err)
		return
	}
	for _, why := range e.Why {
		if strings.Contains(ce.Reason, why) {
			return
		}
	}
	t.Errorf("%s: %q names none of %q", e.Name, ce.Reason, e.Why)
}

// Runs share nothing: what one run does to globals, libraries and the
// string metatable is gone in the next, on every worker.
func TestRunsShareNothing(t *testing.T) {
	t.Parallel()
	p, err := sandbox.New(sandbox.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 { // both workers
		_, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `
			string.upper = function() return "pwned" end
			rawset(_G, "leak", 1)
			string.len = function() return -1 end
			math.floor = nil`})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		res, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `return {u = string.upper("a"), leak = leak, len = ("abc"):len(), f = math.floor(1.5)}`})
		if err != nil || sprint(res.Data) != "map[f:1 len:3 u:A]" {
			t.Fatalf("got %v, %v", sprint(res.Data), err)
		}
	}
}

// Input beyond MaxInput is refused before any worker sees it.
func TestInputBounded(t *testing.T) {
	t.Parallel()
	_, err := pool(t).Run(sandbox.Request{Timeout: time.Second, Code: `return {}`,
		Globals: map[string]any{"customer": map[string]any{"bio": strings.Repeat("x", sandbox.MaxInput)}}})
	var ce *sandbox.CodeError
	if !errors.As(err, &ce) || !strings.Contains(ce.Reason, "at most 1048576") {
		t.Fatalf("got %v", err)
	}
}

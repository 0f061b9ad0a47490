package sandbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/sandbox"
)

// escape is one attempt to get out of the sandbox or to harm the worker.
// It must fail with a CodeError saying one of why, or, when it is allowed
// to run, return data.
type escape struct {
	name string
	code string
	why  []string // the error names one of these
	data string   // or the run succeeds with this data
}

// EscapeCorpus is every way out the tests know of. MARK in the code is a
// path that must never be created. The engine's end-to-end test runs it too.
func EscapeCorpus() []escape {
	noCall := []string{"attempt to call a non-function object"}
	noIndex := []string{"attempt to index a non-table object(nil)"}
	timeout := []string{"did not finish within"}
	return []escape{
		// Files.
		{name: "io.open", code: `local f = io.open("MARK", "w") f:write("x") f:close()`, why: noIndex},
		{name: "io.popen", code: `io.popen("touch MARK")`, why: noIndex},
		{name: "dofile", code: `dofile("/etc/passwd")`, why: noCall},
		{name: "loadfile", code: `loadfile("/etc/passwd")()`, why: noCall},
		{name: "require", code: `require("os")`, why: noCall},
		{name: "module", code: `module("x")`, why: noCall},
		{name: "package.loadlib", code: `package.loadlib("libc.so.6", "system")`, why: noIndex},
		// Processes, environment, network.
		{name: "os.execute", code: `os.execute("touch MARK")`, why: noIndex},
		{name: "os.exit", code: `os.exit(3)`, why: noIndex},
		{name: "os.getenv", code: `return {v = os.getenv("HOME")}`, why: noIndex},
		{name: "os.remove", code: `os.remove("MARK")`, why: noIndex},
		{name: "socket", code: `local s = require("socket") s.connect("127.0.0.1", 80)`, why: noCall},
		{name: "debug", code: `debug.getregistry()`, why: noIndex},
		{name: "coroutine", code: `coroutine.create(print)`, why: noIndex},
		{name: "printregs writes to the protocol", code: `_printregs()`, why: noCall},
		{name: "getfenv", code: `getfenv(0).os = 1`, why: noCall},
		{name: "newproxy", code: `newproxy(true)`, why: noCall},
		{name: "collectgarbage", code: `collectgarbage("stop")`, why: noCall},
		// Loading code.
		{name: "load", code: `load("return 1")()`, why: noCall},
		{name: "loadstring", code: `loadstring("return 1")()`, why: noCall},
		{name: "bytecode", code: `load(string.char(27) .. "LuaQ")()`, why: noCall},
		{name: "string.dump", code: `string.dump(function() end)`, why: noCall},
		{name: "dump through the string metatable", code: `return {t = type(getmetatable("").__index.dump)}`, why: []string{"non-table object(boolean)"}},
		// Metatables and globals stay inside the run (see TestRunsShareNothing).
		{name: "setmetatable on a string", code: `setmetatable("", {__index = {}})`, why: []string{"cannot change a protected metatable"}},
		{name: "string methods still work", code: `return {n = ("abc"):len(), u = ("x"):upper()}`, data: `map[n:3 u:X]`},
		{name: "rawset on _G", code: `rawset(_G, "os", {execute = print}) os.execute("x") return {ok = os.execute == print}`, data: `map[ok:true]`},
		{name: "only the allowed globals", code: `local n = {} for k in pairs(_G) do n[#n+1] = k end table.sort(n) return {g = table.concat(n, " ")}`,
			data: `map[g:_G _VERSION assert customer error event getmetatable instance ipairs math next pairs pcall print rawequal rawget rawset select setmetatable string table tonumber tostring type unpack xpcall]`},
		// Time.
		{name: "endless loop", code: `while true do end`, why: timeout},
		{name: "endless loop under pcall", code: `while true do pcall(function() while true do end end) end`, why: timeout},
		{name: "endless gsub", code: `local s = string.rep("a", 5000) while true do s:gsub(".", "%0") end`, why: timeout},
		// Stack.
		{name: "deep recursion", code: `local function f(n) return 1 + f(n + 1) end return {x = f(1)}`, why: []string{"stack overflow"}},
		{name: "deep pcall recursion", code: `local function f() pcall(f) f() end f()`, why: []string{"stack overflow", "did not finish within"}},
		// Memory.
		{name: "string.rep bomb", code: `return {s = string.rep("x", 2^31)}`, why: []string{"out of memory"}},
		{name: "concatenation bomb", code: `local s = "x" for i = 1, 40 do s = s .. s end`, why: []string{"out of memory", "did not finish within"}},
		{name: "table growth", code: `local t = {} for i = 1, 1e10 do t[i] = {i} end`, why: []string{"out of memory", "did not finish within"}},
		// Output.
		{name: "huge output", code: `local t = {} for i = 1, 5000 do t["k" .. i] = string.rep("y", 100) end return t`, why: []string{"at most 65536"}},
		{name: "too many values", code: `local t = {} for i = 1, 100000 do t[i] = i end return {t = t}`, why: []string{"more than 10000 values"}},
		{name: "too deep", code: `local t = {} local c = t for i = 1, 100 do c.n = {} c = c.n end return t`, why: []string{"nested deeper than 32"}},
		{name: "cycle", code: `local t = {} t.self = t return t`, why: []string{"result.self contains itself"}},
		{name: "function", code: `return {f = print}`, why: []string{"result.f is a function"}},
		{name: "NaN", code: `return {x = 0/0}`, why: []string{"JSON cannot hold"}},
		{name: "not a table", code: `return "x"`, why: []string{"must return a table"}},
		{name: "syntax", code: `return {`, why: []string{"does not compile"}},
		{name: "error", code: `error("boom")`, why: []string{"boom"}},
	}
}

// Every escape fails with its reason (or runs harmlessly), nothing is
// written, and the pool keeps answering normal runs after each.
func TestEscapeCorpus(t *testing.T) {
	t.Parallel()
	p := pool(t)
	mark := filepath.Join(t.TempDir(), "escaped")
	for _, e := range EscapeCorpus() {
		res, err := p.Run(sandbox.Request{Timeout: 300 * time.Millisecond, Globals: globals(), Code: strings.ReplaceAll(e.code, "MARK", mark)})
		checkEscape(t, e, res, err)
		if res, err := p.Run(sandbox.Request{Timeout: time.Second, Code: `return {ok = 1 + 1}`}); err != nil || sprint(res.Data) != "map[ok:2]" {
			t.Fatalf("after %s, a normal run gave %+v, %v", e.name, res, err)
		}
	}
	if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a run created %s: %v", mark, err)
	}
}

func checkEscape(t *testing.T, e escape, res sandbox.Result, err error) {
	t.Helper()
	if e.data != "" {
		if err != nil || sprint(res.Data) != e.data {
			t.Errorf("%s: got %v, %v; want %s", e.name, sprint(res.Data), err, e.data)
		}
		return
	}
	var ce *sandbox.CodeError
	if !errors.As(err, &ce) {
		t.Errorf("%s: want a CodeError, got %+v, %v", e.name, res, err)
		return
	}
	for _, why := range e.why {
		if strings.Contains(ce.Reason, why) {
			return
		}
	}
	t.Errorf("%s: %q names none of %q", e.name, ce.Reason, e.why)
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

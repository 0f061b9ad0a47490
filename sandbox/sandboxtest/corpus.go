// Package sandboxtest holds the escape corpus: code that tries to leave the
// Lua sandbox or to harm its worker, and what each must give instead.
package sandboxtest

// Escape is one attempt to get out of the sandbox or to harm the worker.
// It must fail with a reason naming one of Why or, when it is allowed to
// run, return Data.
type Escape struct {
	Name string
	Code string   // MARK stands for a path that must never be created
	Why  []string // the run fails with a reason naming one of these,
	Data string   // or it succeeds and returns this (fmt.Sprint of the table)
}

// Escapes is every way out the tests know of: the sandbox's tests run them
// on a pool, the engine's through journeys.
func Escapes() []Escape {
	noCall := []string{"attempt to call a non-function object"}
	noIndex := []string{"attempt to index a non-table object(nil)"}
	timeout := []string{"did not finish within"}
	return []Escape{
		// Files.
		{Name: "io.open", Code: `local f = io.open("MARK", "w") f:write("x") f:close()`, Why: noIndex},
		{Name: "io.popen", Code: `io.popen("touch MARK")`, Why: noIndex},
		{Name: "dofile", Code: `dofile("/etc/passwd")`, Why: noCall},
		{Name: "loadfile", Code: `loadfile("/etc/passwd")()`, Why: noCall},
		{Name: "require", Code: `require("os")`, Why: noCall},
		{Name: "module", Code: `module("x")`, Why: noCall},
		{Name: "package.loadlib", Code: `package.loadlib("libc.so.6", "system")`, Why: noIndex},
		// Processes, environment, network.
		{Name: "os.execute", Code: `os.execute("touch MARK")`, Why: noIndex},
		{Name: "os.exit", Code: `os.exit(3)`, Why: noIndex},
		{Name: "os.getenv", Code: `return {v = os.getenv("HOME")}`, Why: noIndex},
		{Name: "os.remove", Code: `os.remove("MARK")`, Why: noIndex},
		{Name: "socket", Code: `local s = require("socket") s.connect("127.0.0.1", 80)`, Why: noCall},
		{Name: "debug", Code: `debug.getregistry()`, Why: noIndex},
		{Name: "coroutine", Code: `coroutine.create(print)`, Why: noIndex},
		{Name: "printregs writes to the protocol", Code: `_printregs()`, Why: noCall},
		{Name: "getfenv", Code: `getfenv(0).os = 1`, Why: noCall},
		{Name: "newproxy", Code: `newproxy(true)`, Why: noCall},
		{Name: "collectgarbage", Code: `collectgarbage("stop")`, Why: noCall},
		// Loading code.
		{Name: "load", Code: `load("return 1")()`, Why: noCall},
		{Name: "loadstring", Code: `loadstring("return 1")()`, Why: noCall},
		{Name: "bytecode", Code: `load(string.char(27) .. "LuaQ")()`, Why: noCall},
		{Name: "string.dump", Code: `string.dump(function() end)`, Why: noCall},
		{Name: "dump through the string metatable", Code: `return {t = type(getmetatable("").__index.dump)}`, Why: []string{"non-table object(boolean)"}},
		// Metatables and globals stay inside the run (see TestRunsShareNothing).
		{Name: "setmetatable on a string", Code: `setmetatable("", {__index = {}})`, Why: []string{"cannot change a protected metatable"}},
		{Name: "string methods still work", Code: `return {n = ("abc"):len(), u = ("x"):upper()}`, Data: `map[n:3 u:X]`},
		{Name: "rawset on _G", Code: `rawset(_G, "os", {execute = print}) os.execute("x") return {ok = os.execute == print}`, Data: `map[ok:true]`},
		{Name: "only the allowed globals", Code: `local n = {} for k in pairs(_G) do n[#n+1] = k end table.sort(n) return {g = table.concat(n, " ")}`,
			Data: `map[g:_G _VERSION assert customer error event getmetatable instance ipairs math next pairs pcall print rawequal rawget rawset select setmetatable string table tonumber tostring type unpack xpcall]`},
		// Time.
		{Name: "endless loop", Code: `while true do end`, Why: timeout},
		{Name: "endless loop under pcall", Code: `while true do pcall(function() while true do end end) end`, Why: timeout},
		{Name: "endless gsub", Code: `local s = string.rep("a", 5000) while true do s:gsub(".", "%0") end`, Why: timeout},
		// Stack.
		{Name: "deep recursion", Code: `local function f(n) return 1 + f(n + 1) end return {x = f(1)}`, Why: []string{"stack overflow"}},
		{Name: "deep pcall recursion", Code: `local function f() pcall(f) f() end f()`, Why: []string{"stack overflow", "did not finish within"}},
		// Memory.
		{Name: "string.rep bomb", Code: `return {s = string.rep("x", 2^31)}`, Why: []string{"out of memory"}},
		{Name: "concatenation bomb", Code: `local s = "x" for i = 1, 40 do s = s .. s end`, Why: []string{"out of memory", "did not finish within"}},
		{Name: "table growth", Code: `local t = {} for i = 1, 1e10 do t[i] = {i} end`, Why: []string{"out of memory", "did not finish within"}},
		// Output.
		{Name: "huge output", Code: `local t = {} for i = 1, 5000 do t["k" .. i] = string.rep("y", 100) end return t`, Why: []string{"at most 65536"}},
		{Name: "too many values", Code: `local t = {} for i = 1, 20000 do t[i] = i end return {t = t}`, Why: []string{"more than 10000 values"}},
		{Name: "too deep", Code: `local t = {} local c = t for i = 1, 100 do c.n = {} c = c.n end return t`, Why: []string{"nested deeper than 32"}},
		{Name: "cycle", Code: `local t = {} t.self = t return t`, Why: []string{"result.self contains itself"}},
		{Name: "function", Code: `return {f = print}`, Why: []string{"result.f is a function"}},
		{Name: "NaN", Code: `return {x = 0/0}`, Why: []string{"JSON cannot hold"}},
		{Name: "not a table", Code: `return "x"`, Why: []string{"must return a table"}},
		{Name: "syntax", Code: `return {`, Why: []string{"does not compile"}},
		{Name: "error", Code: `error("boom")`, Why: []string{"boom"}},
	}
}

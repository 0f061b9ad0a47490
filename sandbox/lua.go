package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The Lua state's own limits: a call depth and a value stack that stop deep
// recursion with an error, and how much of the returned table is converted.
const (
	callStackSize   = 200
	registrySize    = 4 << 10
	registryMaxSize = 256 << 10
	maxDepth        = 32     // nesting of the returned table
	maxValues       = 10_000 // values in the returned table
)

// allowed are the only globals a run sees. Everything else the base library
// defines is removed: dofile, loadfile, load, loadstring, require, module
// (files and code loading), collectgarbage, getfenv, setfenv, newproxy and
// _printregs (which writes to the worker's stdout, the protocol's channel).
// No os, io, debug, package or coroutine library is opened at all.
var allowed = map[string]bool{
	"_G": true, "_VERSION": true, "assert": true, "error": true, "getmetatable": true, "ipairs": true, "next": true,
	"pairs": true, "pcall": true, "print": true, "rawequal": true, "rawget": true, "rawset": true, "select": true,
	"setmetatable": true, "tonumber": true, "tostring": true, "type": true, "unpack": true, "xpcall": true,
	"string": true, "table": true, "math": true,
}

// run executes one request in a fresh Lua state and returns the table the
// code returned, or a CodeError.
func run(req Request) (res Result, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: callStackSize,
		RegistrySize: registrySize, RegistryMaxSize: registryMaxSize, MinimizeStackMemory: true})
	defer L.Close()
	defer func() { // gopher-lua panics on a few overflows outside PCall
		if v := recover(); v != nil {
			err = &CodeError{Reason: fmt.Sprintf("the code failed: %v", v)}
		}
	}()
	var printed strings.Builder
	open(L, &printed)
	for name, v := range req.Globals {
		L.SetGlobal(name, toLua(L, v))
	}
	fn, err := L.LoadString(req.Code)
	if err != nil {
		return Result{}, &CodeError{Reason: "the code does not compile: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	L.SetContext(ctx)
	L.Push(fn)
	err = L.PCall(0, 1, nil)
	L.RemoveContext()
	if ctx.Err() != nil {
		return Result{}, &CodeError{Reason: fmt.Sprintf("the code did not finish within %s", req.Timeout)}
	}
	if err != nil {
		return Result{}, &CodeError{Reason: "the code raised an error: " + luaMessage(err)}
	}
	res.Printed = printed.String()
	ret := L.Get(-1)
	if ret == lua.LNil {
		return res, nil
	}
	t, ok := ret.(*lua.LTable)
	if !ok {
		return Result{}, &CodeError{Reason: fmt.Sprintf("the code must return a table (or nothing), not a %s", ret.Type())}
	}
	c := converter{seen: map[*lua.LTable]bool{}}
	v, err := c.table(t, "result", 0, true)
	if err != nil {
		return Result{}, &CodeError{Reason: "the returned table cannot be stored: " + err.Error()}
	}
	res.Data = v.(map[string]any)
	if raw, err := json.Marshal(res.Data); err != nil {
		return Result{}, &CodeError{Reason: "the returned table cannot be stored: " + err.Error()}
	} else if len(raw) > MaxOutput {
		return Result{}, &CodeError{Reason: fmt.Sprintf("the returned table is %d bytes of JSON; at most %d", len(raw), MaxOutput)}
	}
	return res, nil
}

// open loads base, table, string and math into L and removes every global
// that is not allowed, and string.dump; it protects the strings' metatable.
// print appends to printed.
func open(L *lua.LState, printed *strings.Builder) {
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	var drop []lua.LValue
	L.G.Global.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); !ok || !allowed[string(s)] {
			drop = append(drop, k)
		}
	})
	for _, k := range drop {
		L.G.Global.RawSet(k, lua.LNil)
	}
	L.GetGlobal("string").(*lua.LTable).RawSetString("dump", lua.LNil)
	// Strings share one metatable: protected, getmetatable("") answers
	// false and setmetatable refuses to replace it.
	L.GetMetatable(lua.LString("")).(*lua.LTable).RawSetString("__metatable", lua.LFalse)
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		line := strings.Join(parts, "\t") + "\n"
		if room := MaxPrinted - printed.Len(); room > 0 {
			printed.WriteString(line[:min(room, len(line))])
		}
		return 0
	}))
}

// luaMessage is a Lua error without gopher-lua's Go stack trace.
func luaMessage(err error) string {
	var api *lua.ApiError
	if errors.As(err, &api) && api.Object != nil {
		return api.Object.String()
	}
	return err.Error()
}

// toLua converts a JSON value (as encoding/json decodes it) to Lua.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	}
	return lua.LString(fmt.Sprint(v))
}

// converter turns a returned table into JSON values, refusing functions,
// userdata, threads, cycles, non-finite numbers and tables too deep or too
// big, each with where it was found.
type converter struct {
	seen   map[*lua.LTable]bool
	values int
}

func (c *converter) value(v lua.LValue, path string, depth int) (any, error) {
	if c.values++; c.values > maxValues {
		return nil, fmt.Errorf("more than %d values", maxValues)
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s is %v, which JSON cannot hold", path, f)
		}
		return float64(v), nil
	case lua.LString:
		return string(v), nil
	case *lua.LTable:
		return c.table(v, path, depth, false)
	}
	return nil, fmt.Errorf("%s is a %s: only tables, strings, numbers, booleans and nil can be returned", path, v.Type())
}

// table converts t: a sequence 1..n becomes an array, any other table an
// object whose number keys become strings. The result table (top) is
// always an object.
func (c *converter) table(t *lua.LTable, path string, depth int, top bool) (any, error) {
	if depth >= maxDepth {
		return nil, fmt.Errorf("%s is nested deeper than %d tables", path, maxDepth)
	}
	if c.seen[t] {
		return nil, fmt.Errorf("%s contains itself", path)
	}
	c.seen[t] = true
	defer delete(c.seen, t)
	n, count := t.MaxN(), 0
	var keys []lua.LValue
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if c.values+count > maxValues {
			return nil, fmt.Errorf("more than %d values", maxValues)
		}
		keys = append(keys, k)
		count++
	}
	if !top && n > 0 && n == count {
		arr := make([]any, n)
		for i := range n {
			v, err := c.value(t.RawGetInt(i+1), fmt.Sprintf("%s[%d]", path, i+1), depth+1)
			if err != nil {
				return nil, err
			}
			arr[i] = v
		}
		return arr, nil
	}
	obj := make(map[string]any, count)
	slices.SortFunc(keys, func(a, b lua.LValue) int { return strings.Compare(a.String(), b.String()) }) // stable errors
	for _, k := range keys {
		var key string
		switch k := k.(type) {
		case lua.LString:
			key = string(k)
		case lua.LNumber:
			key = k.String()
		default:
			return nil, fmt.Errorf("%s has a %s key: keys must be strings or numbers", path, k.Type())
		}
		v, err := c.value(t.RawGet(k), path+"."+key, depth+1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	return obj, nil
}

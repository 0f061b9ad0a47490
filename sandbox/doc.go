// Package sandbox runs custom_code Lua in warm child processes, so that
// code a journey author wrote can use neither the server's memory, files,
// network nor secrets, and a memory bomb or an endless loop costs one worker
// process, never the server.
//
// A Pool keeps Options.Workers worker processes started and ready: the
// kalcifer binary itself run as "kalcifer lua-worker" (ServeWorker). Each
// worker first limits itself (address space, CPU time, open files, file
// size, core dumps, a Go memory limit) and then answers requests one at a
// time over its stdin and stdout, length-prefixed JSON frames. Every run gets
// a fresh Lua state with only base, string, table and math, minus every
// function that reads files, loads code or reaches outside the state. A
// worker that crashes, runs out of memory or misses its deadline (the parent
// kills it) is replaced by a fresh one, and the run fails with a CodeError
// saying why.
//
// It imports only the standard library and gopher-lua.
package sandbox

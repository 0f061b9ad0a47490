package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
)

// WorkerCommand is the hidden subcommand that makes the kalcifer binary a
// worker: "kalcifer lua-worker MEMORY". A test binary that stands in for it
// calls ServeWorker from TestMain when its first argument is WorkerCommand.
const WorkerCommand = "lua-worker"

// ServeWorker is a worker process's main: args are what follows
// WorkerCommand (the address-space limit in bytes). It limits the process,
// says it is ready, then runs requests from stdin and answers on stdout
// until stdin closes. It returns the process's exit code.
func ServeWorker(args []string) int {
	in, out := bufio.NewReader(os.Stdin), os.Stdout
	if err := serve(args, in, out); err != nil {
		fmt.Fprintf(os.Stderr, "lua worker: %v\n", err)
		return 1
	}
	return 0
}

func serve(args []string, in io.Reader, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: %s MEMORY_BYTES", WorkerCommand)
	}
	memory, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || memory < 64<<20 {
		return fmt.Errorf("memory %q: want a number of bytes, at least 64 MiB", args[0])
	}
	// Before any code is read: the limits, and a Go memory limit below the
	// address space so the collector works hard before allocation fails.
	if err := limitProcess(memory); err != nil {
		_ = writeFrame(out, response{Error: "limit the worker: " + err.Error()})
		return err
	}
	debug.SetMemoryLimit(memory / 2)
	if err := writeFrame(out, response{Ready: true}); err != nil {
		return err
	}
	for {
		var req Request
		if err := readFrame(in, MaxInput, &req); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		if err := limitCPU(req.Timeout); err != nil {
			return fmt.Errorf("limit CPU time: %w", err)
		}
		var resp response
		res, err := run(req)
		if err != nil {
			resp.Error = err.Error()
		} else {
			resp.Result = res
		}
		if err := writeFrame(out, resp); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
}

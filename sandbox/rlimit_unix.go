//go:build unix

package sandbox

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// openFiles is the worker's RLIMIT_NOFILE: stdin, stdout, stderr and the
// few descriptors the Go runtime opens for itself; no more can be opened.
const openFiles = 8

// limitProcess sets the worker's own resource limits: address space
// (memory bombs end the process, not the server) of memory bytes beyond what
// the Go runtime had reserved when it started (about 1.2 GiB on linux/amd64,
// nearly all of it never backed by memory), no file may be written
// (RLIMIT_FSIZE 0 leaves pipes alone), no core dumps, a handful of
// descriptors. RLIMIT_NPROC is not set: it counts every process of the user
// and the Go runtime needs to start threads, so it would kill the worker;
// nothing in the Lua state can start a process anyway.
func limitProcess(memory int64) error {
	for _, l := range []struct {
		name     string
		resource int
		value    uint64
	}{
		{"RLIMIT_CORE", syscall.RLIMIT_CORE, 0},
		{"RLIMIT_FSIZE", syscall.RLIMIT_FSIZE, 0},
		{"RLIMIT_NOFILE", syscall.RLIMIT_NOFILE, openFiles},
		{"RLIMIT_AS", syscall.RLIMIT_AS, reserved() + uint64(memory)},
	} {
		if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: l.value, Max: l.value}); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}
	return nil
}

// limitCPU sets RLIMIT_CPU to the CPU time used so far plus the run's
// timeout and two seconds, so that a run that escaped its deadline is
// killed by the kernel (SIGXCPU) even if the parent could not kill it. The
// limit is counted over the worker's life, hence moved before each run.
func limitCPU(timeout time.Duration) error {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	secs := uint64((used+timeout+2*time.Second)/time.Second) + 1
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CPU, &l); err != nil {
		return err
	}
	l.Cur = min(secs, l.Max)
	return syscall.Setrlimit(syscall.RLIMIT_CPU, &l)
}

// cpuKilled reports whether the kernel ended a worker for its CPU time.
func cpuKilled(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGXCPU
}

// reserved is the process's address space now (/proc/self/statm), 0 where
// there is no /proc.
func reserved() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	pages, err := strconv.ParseUint(strings.Fields(string(b))[0], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

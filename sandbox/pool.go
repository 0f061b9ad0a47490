package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Pool.
type Options struct {
	// Workers is how many worker processes are kept warm, the most runs
	// at once (default 2).
	Workers int
	// Memory is each worker's address-space limit in bytes (default
	// DefaultMemory, at least 64 MiB).
	Memory int64
	// Command starts a worker; the memory limit is appended to it. The
	// default is this executable with WorkerCommand.
	Command []string
}

// How long a pool waits for its workers.
const (
	// startTimeout bounds a worker's start, until it says it is ready.
	startTimeout = 10 * time.Second
	// grace is how long past a run's timeout the parent waits for an
	// answer before it kills the worker: the worker stops the code itself
	// at the timeout, so only a worker stuck in one long Go call (a huge
	// string.rep, a collector fighting its memory limit) needs it.
	grace = time.Second
	// waitIdle bounds the wait for a free worker.
	waitIdle = 10 * time.Second
)

// ErrClosed is returned by Run once the pool is closed.
var ErrClosed = errors.New("sandbox: the Lua worker pool is closed")

// Pool runs Lua on warm worker processes.
type Pool struct {
	opts   Options
	idle   chan *worker
	closed chan struct{}
	once   sync.Once
	starts atomic.Int64

	mu      sync.Mutex
	workers map[*worker]bool // every live worker, idle or busy
	pending sync.WaitGroup   // replacements being started
}

// New starts opts.Workers workers and returns once each is ready.
func New(opts Options) (*Pool, error) {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Memory == 0 {
		opts.Memory = DefaultMemory
	}
	if opts.Memory < 64<<20 {
		return nil, fmt.Errorf("sandbox: a worker needs at least 64 MiB of address space, not %d bytes", opts.Memory)
	}
	if len(opts.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: find the kalcifer executable to run Lua workers: %w", err)
		}
		opts.Command = []string{exe, WorkerCommand}
	}
	p := &Pool{opts: opts, idle: make(chan *worker, opts.Workers), closed: make(chan struct{}), workers: map[*worker]bool{}}
	for range opts.Workers {
		w, err := p.start()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.idle <- w
	}
	return p, nil
}

// Starts counts the worker processes the pool has started: its warm-up
// and every replacement.
func (p *Pool) Starts() int64 { return p.starts.Load() }

// Run runs req on a free worker. The error is a *CodeError when the code
// failed (its message says why); any other error is the pool's.
func (p *Pool) Run(req Request) (Result, error) {
	if req.Timeout <= 0 {
		return Result{}, fmt.Errorf("sandbox: a run needs a timeout")
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return Result{}, &CodeError{Reason: "the code's input cannot be encoded: " + err.Error()}
	}
	if len(raw) > MaxInput {
		return Result{}, &CodeError{Reason: fmt.Sprintf("the code and its input (customer, event, instance data) are %d bytes of JSON; at most %d", len(raw), MaxInput)}
	}
	var w *worker
	select {
	case w = <-p.idle:
	case <-p.closed:
		return Result{}, ErrClosed
	case <-time.After(waitIdle):
		return Result{}, fmt.Errorf("sandbox: no Lua worker was free within %s", waitIdle)
	}
	res, err, alive := w.call(raw, req.Timeout)
	if alive {
		p.idle <- w // never blocks: idle holds every worker
		return res, err
	}
	p.forget(w)
	if p.isClosed() {
		return Result{}, ErrClosed
	}
	p.pending.Add(1)
	go p.replace()
	return res, err
}

// Close stops every worker, busy ones too; their runs answer ErrClosed.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.closed) })
	p.mu.Lock()
	for w := range p.workers {
		w.kill()
	}
	p.mu.Unlock()
	p.pending.Wait()
}

func (p *Pool) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

func (p *Pool) forget(w *worker) {
	p.mu.Lock()
	delete(p.workers, w)
	p.mu.Unlock()
}

// replace starts a worker in place of one that died, trying again until it
// starts or the pool closes.
func (p *Pool) replace() {
	defer p.pending.Done()
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		if w, err := p.start(); err == nil {
			p.idle <- w
			return
		}
		select {
		case <-p.closed:
			return
		case <-time.After(delay):
		}
	}
}

// worker is one child process.
type worker struct {
	cmd    *exec.Cmd
	in     *os.File // the worker's stdin
	out    *os.File // the worker's stdout
	stderr *head
	memory int64
	done   chan struct{} // closed once the process has been waited for
}

// start starts a worker and waits until it has limited itself.
func (p *Pool) start() (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isClosed() {
		return nil, ErrClosed
	}
	args := append(p.opts.Command[1:len(p.opts.Command):len(p.opts.Command)], strconv.FormatInt(p.opts.Memory, 10))
	cmd := exec.Command(p.opts.Command[0], args...)
	cmd.Env = []string{"GOMAXPROCS=1"} // none of the server's settings or secrets
	cmd.Dir = "/"
	cmd.SysProcAttr = procAttr()
	w := &worker{cmd: cmd, stderr: &head{}, memory: p.opts.Memory, done: make(chan struct{})}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: start a Lua worker: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("sandbox: start a Lua worker: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, w.stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("sandbox: start a Lua worker (%s): %w", p.opts.Command[0], err)
	}
	p.starts.Add(1)
	w.in, w.out = inW, outR
	go func() {
		_ = cmd.Wait() // the state is read from cmd.ProcessState
		inW.Close()
		outR.Close()
		close(w.done)
	}()
	var ready response
	_ = outR.SetReadDeadline(time.Now().Add(startTimeout))
	if err := readFrame(outR, MaxInput, &ready); err != nil || !ready.Ready {
		w.kill()
		<-w.done
		why := ready.Error
		if why == "" {
			why = fmt.Sprintf("%v; %s", errOr(err, "no ready answer"), w.stderr.lastLine())
		}
		return nil, fmt.Errorf("sandbox: a Lua worker (%s) did not start: %s", strings.Join(p.opts.Command, " "), why)
	}
	p.workers[w] = true
	return w, nil
}

// call sends one request and reads the answer. alive is false when the
// worker died or was killed, and must be replaced.
func (w *worker) call(raw []byte, timeout time.Duration) (res Result, err error, alive bool) {
	_ = w.out.SetReadDeadline(time.Now().Add(timeout + grace))
	var resp response
	_, err = w.in.Write(frame(raw))
	if err == nil {
		err = readFrame(w.out, MaxInput, &resp)
	}
	if err == nil {
		if resp.Error != "" {
			return Result{}, &CodeError{Reason: resp.Error}, true
		}
		return resp.Result, nil, true
	}
	timedOut := errors.Is(err, os.ErrDeadlineExceeded)
	w.kill()
	<-w.done
	return Result{}, w.death(timedOut, timeout), false
}

// death says why the worker of a run stopped answering.
func (w *worker) death(timedOut bool, timeout time.Duration) error {
	log := w.stderr.String()
	switch {
	case timedOut:
		return &CodeError{Reason: fmt.Sprintf("the code did not finish within %s; its worker process was stopped", timeout)}
	case strings.Contains(log, "out of memory") || strings.Contains(log, "cannot allocate memory"):
		return &CodeError{Reason: fmt.Sprintf("the code ran out of memory (a worker may use %d MiB); its worker process was replaced", w.memory>>20)}
	case cpuKilled(w.cmd.ProcessState):
		return &CodeError{Reason: "the code used more CPU time than its timeout allows; its worker process was replaced"}
	}
	return &CodeError{Reason: fmt.Sprintf("the worker process running the code died (%v: %s); it was replaced", w.cmd.ProcessState, w.stderr.lastLine())}
}

func (w *worker) kill() { _ = w.cmd.Process.Kill() }

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// head keeps the first few KiB a worker wrote to stderr: a Go crash says
// there, first, why it died.
type head struct {
	mu  sync.Mutex
	buf []byte
}

const headSize = 4 << 10

func (t *head) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := headSize - len(t.buf); room > 0 {
		t.buf = append(t.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (t *head) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLine is the first line of the worker's last words, such as "fatal
// error: runtime: out of memory", or "" when it said nothing.
func (t *head) lastLine() string {
	s := strings.TrimSpace(t.String())
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "lua worker:") {
			return line
		}
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

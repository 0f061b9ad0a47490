package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kalcifer/kalcifer"
)

// server is a `kalcifer serve` child process and a client for its API.
type server struct {
	binary      string
	addr        string
	databaseURL string
	cmd         *exec.Cmd
	base        string
	key         string
	dataDir     string
	client      *http.Client
	log         *bytes.Buffer
}

// launch starts a webhook receiver and a server: binary (default: this
// executable) on databaseURL, or on SQLite in a fresh temporary directory.
// stop ends both and removes the directory.
func launch(ctx context.Context, binary, databaseURL string) (srv *server, rcv *receiver, stop func(), err error) {
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return nil, nil, nil, err
		}
	}
	dir, err := os.MkdirTemp("", "kalcifer-bench-")
	if err != nil {
		return nil, nil, nil, err
	}
	if rcv, err = newReceiver(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	if srv, err = startServer(ctx, binary, databaseURL, dir, "bench-admin-key-"+kalcifer.RandomToken(32)); err != nil {
		rcv.close()
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	return srv, rcv, func() { srv.stop(); rcv.close(); os.RemoveAll(dir) }, nil
}

// startServer runs binary serve on a free port with the admin key key and
// waits until it is ready.
func startServer(ctx context.Context, binary, databaseURL, dataDir, key string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{binary: binary, addr: addr, databaseURL: databaseURL, base: "http://" + addr,
		key: key, dataDir: dataDir,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}}
	if _, err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// replica starts another server on s's database, data directory (so the
// same key file) and admin key, on a port of its own.
func (s *server) replica(ctx context.Context) (*server, error) {
	return startServer(ctx, s.binary, s.databaseURL, s.dataDir, s.key)
}

// start runs the child on the server's address and data and returns how
// long it took to answer ready.
func (s *server) start(ctx context.Context) (time.Duration, error) {
	s.log = new(bytes.Buffer)
	s.cmd = exec.CommandContext(ctx, s.binary, "serve")
	s.cmd.Env = append(os.Environ(),
		"KALCIFER_ADDR="+s.addr, "KALCIFER_DATA_DIR="+s.dataDir, "KALCIFER_DATABASE_URL="+s.databaseURL,
		"KALCIFER_ADMIN_API_KEY="+s.key, "KALCIFER_LOG_LEVEL=warn",
		// The benchmark's webhook receivers listen on 127.0.0.1.
		"KALCIFER_ALLOW_PRIVATE_NETWORKS=true", "KALCIFER_ALLOWED_PRIVATE_ADDRESSES=",
		// Benchmarks measure the engine, not the per-tenant rate limits.
		"KALCIFER_RATE_LIMIT_EVENTS_PER_SECOND=0", "KALCIFER_RATE_LIMIT_API_PER_MINUTE=0")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	began := time.Now()
	if err := s.cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s serve: %w", s.binary, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	probe := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := probe.Get(s.base + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(began), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.stop()
	return 0, fmt.Errorf("server not ready within 60s; its output:\n%s", s.log.String())
}

// kill ends the child with SIGKILL, as a crash would, and reaps it.
func (s *server) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// call sends a JSON request and decodes a JSON answer into out.
func (s *server) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// peakRSS is the child's high-water resident memory, in bytes.
func (s *server) peakRSS() int64 { return s.status("VmHWM:") }

// storeBytes is the size of the embedded database files (SQLite only).
func (s *server) storeBytes() int64 {
	var total int64
	matches, _ := filepath.Glob(filepath.Join(s.dataDir, "kalcifer.db*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			total += fi.Size()
		}
	}
	return total
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
}

// Package pgtest gives tests a fresh, empty PostgreSQL database each.
//
// With TEST_DATABASE_URL set, databases are created on that server.
// Otherwise the first test to ask starts a private server for the test
// binary: initdb and pg_ctl into a temporary directory on a free port, as an
// unprivileged user when running as root (initdb refuses root). Main stops it.
//
// With -short, PostgreSQL tests skip. When PostgreSQL is not installed, tests skip — except under CI (CI set),
// where they fail: CI always runs every backend.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	adminURL string // where CREATE DATABASE is run
	startErr error
	server   *Server // the private server, if one was started
	dbSeq    atomic.Int64
)

// Main runs the tests, then stops the private server if one was started.
// Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// URL returns the URL of a new empty database for t.
func URL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("PostgreSQL tests are skipped with -short")
	}
	once.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		server, startErr = Start()
		if startErr == nil {
			adminURL = server.URL("postgres")
		}
	})
	if startErr != nil {
		if os.Getenv("CI") == "" && isNotInstalled(startErr) {
			t.Skipf("PostgreSQL is not installed (%v); install it or set TEST_DATABASE_URL", startErr)
		}
		t.Fatalf("start PostgreSQL: %v", startErr)
	}
	name := fmt.Sprintf("kt_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", adminURL, err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

type notInstalledError struct{ error }

func isNotInstalled(err error) bool {
	_, ok := err.(notInstalledError)
	return ok
}

// Server is a private PostgreSQL server in a temporary directory.
type Server struct {
	Dir  string
	Port int
	bin  string // directory of initdb, pg_ctl
	user string // runs the server when we are root
}

// URL is the address of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Start initialises and starts a private server on a free port.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, notInstalledError{err}
	}
	dir, err := os.MkdirTemp("", "kalcifer-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		s.user = "postgres"
		if _, err := user.Lookup(s.user); err != nil {
			s.user = "nobody"
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, err
		}
	}
	if s.Port, err = freePort(); err != nil {
		return nil, err
	}
	if out, err := s.run("initdb", "-D", s.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

// Restart starts the server (again), retrying while the backends of a
// killed postmaster are still exiting.
func (s *Server) Restart() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200",
		s.Port, s.Dir)
	// Tests that count statements (an idle server's) read
	// pg_stat_statements when the server has it.
	if _, err := os.Stat(filepath.Join(s.bin, "..", "lib", "pg_stat_statements.so")); err == nil {
		opts += " -c shared_preload_libraries=pg_stat_statements"
	}
	var out []byte
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		out, err = s.run("pg_ctl", "-D", s.dataDir(), "-o", opts, "-l", filepath.Join(s.Dir, "log"), "-w", "-t", "60", "start")
		if err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "log"))
	return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	out, err := s.run("pg_ctl", "-D", s.dataDir(), "-m", "immediate", "-w", "stop")
	if rmErr := os.RemoveAll(s.Dir); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// findBin finds the directory holding initdb and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return "", fmt.Errorf("pg_ctl not found in PATH or /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

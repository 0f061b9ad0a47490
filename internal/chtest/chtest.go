// Package chtest gives tests a private, throwaway ClickHouse server: its
// own configuration, data directory and free ports in a temporary
// directory, run as an unprivileged user when the test runs as root.
//
// It runs Debian's clickhouse-server (18.16) or a current single
// "clickhouse" binary, whichever is installed. When neither is, tests
// skip — except under CI (CI set), where they fail: CI installs it.
package chtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a private ClickHouse server.
type Server struct {
	Dir      string
	HTTPPort int
	bin      []string // the command that starts a server, before its flags
	cred     *syscall.Credential
	cmd      *exec.Cmd
	exited   chan struct{}
}

// New starts a private server for t and stops it when t ends. It skips t
// when ClickHouse is not installed, outside CI.
func New(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("ClickHouse tests are skipped with -short")
	}
	bin, err := findBin()
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("ClickHouse is not installed (%v): apt-get install clickhouse-server", err)
		}
		t.Fatalf("ClickHouse: %v", err)
	}
	s, err := start(bin)
	if err != nil {
		t.Fatalf("start ClickHouse: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop ClickHouse: %v", err)
		}
	})
	return s
}

// URL is the server's HTTP interface.
func (s *Server) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.HTTPPort) }

func start(bin []string) (*Server, error) {
	dir, err := os.MkdirTemp("", "kalcifer-ch-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return nil, fmt.Errorf("running as root, and no user nobody to run ClickHouse as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s.HTTPPort = ports[0]
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(fmt.Sprintf(configXML, dir, ports[0], ports[1])), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o644); err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Start starts the server (again, after Stop) on its ports and data, and
// waits until it answers.
func (s *Server) Start() error {
	if s.cmd != nil {
		return errors.New("ClickHouse is already running")
	}
	log, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(s.bin[0], append(s.bin[1:], "--config-file="+filepath.Join(s.Dir, "config.xml"))...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.Dir, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin[0], err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.cmd = nil
			out, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
			return fmt.Errorf("ClickHouse exited at start: %s", tail(out))
		default:
		}
		if s.ping() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return errors.New("ClickHouse did not answer /ping within 60s")
}

// ping reports whether the server answers on its HTTP interface.
func (s *Server) ping() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/ping", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// Stop kills the server, as a crash would (a graceful shutdown takes 10 s),
// and waits for it to exit; its data stays for Start.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill ClickHouse: %w", err)
	}
	<-s.exited
	s.cmd = nil
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	return errors.Join(s.Stop(), os.RemoveAll(s.Dir))
}

// findBin finds a ClickHouse server: Debian's clickhouse-server, or the
// single clickhouse binary of current releases.
func findBin() ([]string, error) {
	for _, p := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server"} {
		if path, err := exec.LookPath(p); err == nil {
			return []string{path}, nil
		}
	}
	if path, err := exec.LookPath("clickhouse"); err == nil {
		return []string{path, "server"}, nil
	}
	return nil, errors.New("neither clickhouse-server nor clickhouse is in PATH or /usr/sbin")
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// configXML is a server of its own: %[1]s the directory, %[2]d the HTTP
// port, %[3]d the native port. <yandex> is the root both 18.16 and current
// releases read.
const configXML = `<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>%[2]d</http_port>
  <tcp_port>%[3]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`

// usersXML has the default user without a password, and a user kalcifer
// with the password "secret", for tests of authentication.
const usersXML = `<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <kalcifer><password>secret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></kalcifer>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// Query runs one statement as the default user and returns the answer's
// body, trimmed.
func (s *Server) Query(sql string) (string, error) {
	resp, err := http.Post(s.URL()+"/", "text/plain", strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, tail(body))
	}
	return strings.TrimSpace(string(body)), nil
}

// Command kalcifer runs the Kalcifer journey engine and manages its tenants
// and API keys. It is the only package that names concrete adapters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/sandbox"
	"github.com/kalcifer/kalcifer/store"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `kalcifer — customer journey orchestration

Usage:
  kalcifer serve [flags]                 run the server (SQLite in ./data unless KALCIFER_DATABASE_URL is set)
  kalcifer migrate                       apply database migrations and exit
  kalcifer version                       print the version
  kalcifer bench SCENARIO [flags]        run a standard benchmark scenario (see --help)
  kalcifer health                        ask the local server /health/ready; exit 0 when ready
  kalcifer tenant create NAME            add a tenant
  kalcifer tenant limits NAME [--events-per-second N] [--api-per-minute N]
         [--active-instances N] [--journeys N] [--uploads-per-day N]
                                         set a tenant's limits (N, 0 for unlimited, or
                                         "default"); prints the effective values
  kalcifer apikey create --tenant NAME --role admin|editor|viewer|ingest [--name LABEL]
                                         make an API key; prints only the key
  kalcifer keys rotate [--batch N]       re-seal stored secrets under a new key (the key
                                         file gets one; with KALCIFER_ENCRYPTION_KEY, put
                                         the new key first) and name old keys no longer used
  kalcifer customers import FILE [--url URL] [--key KEY] [--format csv|ndjson]
                                         import profiles (CSV or NDJSON) into a running
                                         server with a progress bar; the key defaults to
                                         $KALCIFER_API_KEY, the URL to $KALCIFER_URL
  kalcifer design "DESCRIPTION" | --file PLAN [--json]
                                         design a journey from plain language or a
                                         campaign plan (CSV, XLSX, DOCX, PDF, TXT, MD);
                                         prints the graph and its explanation
  kalcifer design eval DIR [--json] [-v] design every case of a design-eval corpus
                                         (docs/DESIGN_EVAL.md) with the configured
                                         designer; prints pass rates per feature

Run "kalcifer serve --help" for the server's flags; every flag is also a
KALCIFER_* environment variable (see README.md).
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 on
// success, 1 on failure, 2 on a usage error.
func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], env, stderr)
	case "migrate":
		err = migrate(args[1:], env, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "kalcifer %s (%s)\n", version, runtime.Version())
	case "bench":
		err = benchCmd(args[1:], stdout, stderr)
	case "health":
		err = health(env, stdout)
	case "tenant":
		err = tenant(args[1:], env, stdout, stderr)
	case "apikey":
		err = apikey(args[1:], env, stdout, stderr)
	case "keys":
		err = keys(args[1:], env, stdout, stderr)
	case "design":
		err = design(args[1:], env, stdout, stderr)
	case "customers":
		err = customers(args[1:], env, stdout, stderr)
	case sandbox.WorkerCommand: // hidden: a Lua worker the server starts (KALCIFER_ENABLE_CUSTOM_CODE)
		return sandbox.ServeWorker(args[1:])
	default:
		fmt.Fprintf(stderr, "kalcifer: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "kalcifer: %v\n", err)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "kalcifer: %s\n", message(err))
		return 1
	}
}

// usageError is a mistake in the command line.
type usageError struct{ error }

// message is what a user reads for err: the domain message when there is one.
func message(err error) string {
	if code := kalcifer.ErrorCode(err); code != kalcifer.EINTERNAL {
		return kalcifer.ErrorMessage(err)
	}
	return err.Error()
}

func newLogger(c Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func serve(args []string, env func(string) string, stderr io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(stderr, "Usage: kalcifer serve [flags]\n\nFlags (each also a KALCIFER_* variable):")
			for _, s := range settings {
				fmt.Fprintf(stderr, "  --%-20s %s (%s, default %q)\n", s.flag, s.usage, s.env, s.def)
			}
			return flag.ErrHelp
		}
	}
	c, err := LoadConfig(env, args)
	if err != nil {
		return usageError{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Config: c, Logger: newLogger(c, stderr), Out: stderr}
	if err := m.Run(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case err := <-waitErr(m):
		if err != nil {
			m.Close()
			return err
		}
	}
	return m.Close()
}

func waitErr(m *Main) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- m.Wait() }()
	return ch
}

// openFor opens and migrates the configured store for a one-off command.
// A command's output is its answer alone (apikey create prints only the
// key, for scripts), so its logger drops all but warnings and errors unless
// KALCIFER_LOG_LEVEL asks for more.
func openFor(env func(string) string, stderr io.Writer) (*store.Store, error) {
	c, err := LoadConfig(env, nil)
	if err != nil {
		return nil, usageError{err}
	}
	if env("KALCIFER_LOG_LEVEL") == "" {
		c.LogLevel = max(c.LogLevel, slog.LevelWarn)
	}
	st, _, err := openStore(context.Background(), c, newLogger(c, stderr), nil)
	return st, err
}

func migrate(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("migrate takes no arguments")}
	}
	st, err := openFor(env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied (%s store, schema current)\n", st.Kind())
	return nil
}

func tenant(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "limits" {
		return tenantLimits(args[1], args[2:], env, stdout, stderr)
	}
	if len(args) != 2 || args[0] != "create" {
		return usageError{fmt.Errorf("usage: kalcifer tenant create NAME | kalcifer tenant limits NAME [flags]")}
	}
	st, err := openFor(env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.CreateTenant(context.Background(), "cli", args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tenant %s created\n", t.ID)
	return nil
}

// tenantLimits sets the overrides named by flags (a number, or "default" to
// follow the server's setting again) and prints the tenant's effective
// limits. Running servers apply a change within api.LimitsTTL.
func tenantLimits(name string, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant limits", flag.ContinueOnError)
	fs.SetOutput(stderr)
	type change struct {
		set   bool
		value *int // nil: back to the default
	}
	changes := map[string]*change{}
	for _, f := range new(kalcifer.LimitOverrides).Fields(&kalcifer.Limits{}) {
		c := &change{}
		changes[f.Name] = c
		fs.Func(f.Name, "a whole number (0: unlimited), or default", func(v string) error {
			c.set = true
			if v == "default" {
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > kalcifer.MaxLimit {
				return fmt.Errorf("must be a whole number from 0 (unlimited) to %d, or default, not %q", kalcifer.MaxLimit, v)
			}
			c.value = &n
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("tenant limits: unexpected argument %q (flags come after the tenant's name)", fs.Arg(0))}
	}
	st, err := openFor(env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	o, err := st.LimitOverrides(ctx, name)
	if err != nil {
		return err
	}
	changed := false
	for _, f := range o.Fields(&kalcifer.Limits{}) {
		if c := changes[f.Name]; c.set {
			*f.Override, changed = c.value, true
		}
	}
	if changed {
		if err := st.SetLimitOverrides(ctx, "cli", name, o); err != nil {
			return err
		}
	}
	eff := o.Over(st.DefaultLimits())
	fmt.Fprintf(stdout, "limits of tenant %s (0: unlimited)\n", name)
	for _, f := range o.Fields(&eff) {
		from := "default"
		if *f.Override != nil {
			from = "set for this tenant"
		}
		fmt.Fprintf(stdout, "  %-18s %10d  %s\n", f.Name, *f.Value, from)
	}
	return nil
}

func apikey(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{fmt.Errorf("usage: kalcifer apikey create --tenant NAME --role admin|editor|viewer|ingest [--name LABEL]")}
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenantID := fs.String("tenant", kalcifer.DefaultTenantID, "tenant the key belongs to")
	role := fs.String("role", "", "admin, editor, viewer or ingest (events and webhook entries only)")
	name := fs.String("name", "", "a label to recognise the key by")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	r, err := kalcifer.ParseRole(strings.TrimSpace(*role))
	if err != nil {
		return usageError{errors.New(kalcifer.ErrorMessage(err))}
	}
	st, err := openFor(env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	_, secret, err := st.CreateAPIKey(context.Background(), "cli", store.CreateAPIKeyParams{TenantID: *tenantID, Name: *name, Role: r})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

// health asks the server at KALCIFER_ADDR whether it is ready; container
// health checks use it, since the image has no shell or curl.
func health(env func(string) string, stdout io.Writer) error {
	c, err := LoadConfig(env, nil)
	if err != nil {
		return usageError{err}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return usageError{fmt.Errorf("KALCIFER_ADDR %q: %w", c.Addr, err)}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/health/ready")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}

package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/designer/llm"
)

// Config is the server's configuration: KALCIFER_* environment variables,
// each overridable by a serve flag of the same name in lower case.
type Config struct {
	Addr         string
	DataDir      string
	DatabaseURL  string
	PoolSize     int
	AdminAPIKey  string
	MaxBodyBytes int64
	// HTTPReadTimeout bounds reading one request, body included;
	// HTTPWriteTimeout bounds answering it, except on the AI designer
	// routes, which get StreamTimeout.
	HTTPReadTimeout, HTTPWriteTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API ("*":
	// any); none means no CORS headers at all.
	CORSOrigins     []string
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	DebugAddr       string
	SendLease       time.Duration
	// SendConcurrency, SendTenantConcurrency and SendTargetConcurrency
	// bound provider calls in flight: overall, per tenant, per target.
	SendConcurrency, SendTenantConcurrency, SendTargetConcurrency int
	// AI is the server's default AI designer; tenants may choose their own.
	AI AIConfig
}

// AIConfig chooses the AI designer: "offline" (built in, the default) or an
// LLM provider.
type AIConfig struct {
	Provider   string
	BaseURL    string
	APIKey     string
	Model      string
	MaxRepairs int
	Timeout    time.Duration
}

// settings lists every variable: name, flag, default and meaning. The README's
// configuration table is this list.
var settings = []struct {
	env, flag, def, usage string
}{
	{"KALCIFER_ADDR", "addr", ":4000", "address the HTTP server listens on"},
	{"KALCIFER_DATA_DIR", "data-dir", "./data", "directory of the embedded SQLite database"},
	{"KALCIFER_DATABASE_URL", "database-url", "", "postgres://… to use PostgreSQL instead of SQLite"},
	{"KALCIFER_DATABASE_POOL_SIZE", "database-pool-size", "20", "PostgreSQL connections at most"},
	{"KALCIFER_ADMIN_API_KEY", "admin-api-key", "", "an admin key of the default tenant with exactly this value"},
	{"KALCIFER_MAX_BODY_BYTES", "max-body-bytes", "1048576", "body limit of the journey, event and webhook routes (others have their own)"},
	{"KALCIFER_HTTP_READ_TIMEOUT", "http-read-timeout", "30s", "how long a client may take to send one request, body included (a 1 MiB body at 35 KB/s); slower ones are cut off"},
	{"KALCIFER_HTTP_WRITE_TIMEOUT", "http-write-timeout", "60s", "how long answering one request may take; the AI designer's routes get KALCIFER_AI_TIMEOUT for each model request on top"},
	{"KALCIFER_CORS_ORIGINS", "cors-origins", "", "comma-separated browser origins allowed to call the API, e.g. https://app.example.com, or * for any (no CORS headers when empty)"},
	{"KALCIFER_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"KALCIFER_LOG_FORMAT", "log-format", "json", "json or text"},
	{"KALCIFER_SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long in-flight requests get on shutdown"},
	{"KALCIFER_SEND_LEASE", "send-lease", "3m", "how long a send may stay in flight before it is settled even though its replica looks alive (a replica that dies is noticed at once); must exceed the longest provider timeout"},
	{"KALCIFER_SEND_CONCURRENCY", "send-concurrency", "128", "provider calls in flight at most"},
	{"KALCIFER_SEND_TENANT_CONCURRENCY", "send-tenant-concurrency", "96", "provider calls in flight at most for one tenant"},
	{"KALCIFER_SEND_TARGET_CONCURRENCY", "send-target-concurrency", "64", "provider calls in flight at most to one target (a webhook host, a provider), so a slow one cannot take every slot"},
	{"KALCIFER_DEBUG_ADDR", "debug-addr", "", "address of a Go pprof server, e.g. 127.0.0.1:6060 (off when empty)"},
	{"KALCIFER_AI_PROVIDER", "ai-provider", "offline", "AI designer: offline (built in, nothing leaves the server), anthropic, openai (any OpenAI-compatible server) or ollama"},
	{"KALCIFER_AI_BASE_URL", "ai-base-url", "", "the provider's API URL (default: its public one; e.g. http://localhost:11434 for Ollama)"},
	{"KALCIFER_AI_API_KEY", "ai-api-key", "", "the provider's API key"},
	{"KALCIFER_AI_MODEL", "ai-model", "", "the provider's model, e.g. claude-sonnet-4-5 or llama3.1:8b"},
	{"KALCIFER_AI_MAX_REPAIRS", "ai-max-repairs", "2", "how often an invalid graph goes back to the model with its problems"},
	{"KALCIFER_AI_TIMEOUT", "ai-timeout", "120s", "how long one model request may take"},
}

// LoadConfig reads the environment through env, then the flags in args.
func LoadConfig(env func(string) string, args []string) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	values := map[string]*string{}
	for _, s := range settings {
		v := s.def
		if e := env(s.env); e != "" {
			v = e
		}
		values[s.env] = fs.String(s.flag, v, s.usage+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("serve: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	get := func(name string) string { return *values[name] }
	c := Config{
		Addr: get("KALCIFER_ADDR"), DataDir: get("KALCIFER_DATA_DIR"), DatabaseURL: get("KALCIFER_DATABASE_URL"),
		AdminAPIKey: get("KALCIFER_ADMIN_API_KEY"), LogFormat: get("KALCIFER_LOG_FORMAT"), DebugAddr: get("KALCIFER_DEBUG_ADDR"),
	}
	var err error
	if c.PoolSize, err = strconv.Atoi(get("KALCIFER_DATABASE_POOL_SIZE")); err != nil || c.PoolSize < 1 {
		return Config{}, fmt.Errorf("KALCIFER_DATABASE_POOL_SIZE must be a positive whole number, not %q", get("KALCIFER_DATABASE_POOL_SIZE"))
	}
	if c.MaxBodyBytes, err = strconv.ParseInt(get("KALCIFER_MAX_BODY_BYTES"), 10, 64); err != nil || c.MaxBodyBytes < 1024 {
		return Config{}, fmt.Errorf("KALCIFER_MAX_BODY_BYTES must be a whole number of bytes, at least 1024, not %q", get("KALCIFER_MAX_BODY_BYTES"))
	}
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{{"KALCIFER_HTTP_READ_TIMEOUT", &c.HTTPReadTimeout}, {"KALCIFER_HTTP_WRITE_TIMEOUT", &c.HTTPWriteTimeout}} {
		if *v.dst, err = time.ParseDuration(get(v.name)); err != nil || *v.dst < 100*time.Millisecond {
			return Config{}, fmt.Errorf("%s must be a duration of at least 100ms, such as 30s, not %q", v.name, get(v.name))
		}
	}
	if c.CORSOrigins, err = corsOrigins(get("KALCIFER_CORS_ORIGINS")); err != nil {
		return Config{}, fmt.Errorf("KALCIFER_CORS_ORIGINS: %w", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("KALCIFER_LOG_LEVEL"))); err != nil {
		return Config{}, fmt.Errorf("KALCIFER_LOG_LEVEL must be debug, info, warn or error, not %q", get("KALCIFER_LOG_LEVEL"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return Config{}, fmt.Errorf("KALCIFER_LOG_FORMAT must be json or text, not %q", c.LogFormat)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("KALCIFER_SHUTDOWN_TIMEOUT")); err != nil || c.ShutdownTimeout < 0 {
		return Config{}, fmt.Errorf("KALCIFER_SHUTDOWN_TIMEOUT must be a duration such as 10s, not %q", get("KALCIFER_SHUTDOWN_TIMEOUT"))
	}
	if c.SendLease, err = time.ParseDuration(get("KALCIFER_SEND_LEASE")); err != nil || c.SendLease < time.Second {
		return Config{}, fmt.Errorf("KALCIFER_SEND_LEASE must be a duration of at least 1s, such as 3m, not %q", get("KALCIFER_SEND_LEASE"))
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"KALCIFER_SEND_CONCURRENCY", &c.SendConcurrency}, {"KALCIFER_SEND_TENANT_CONCURRENCY", &c.SendTenantConcurrency},
		{"KALCIFER_SEND_TARGET_CONCURRENCY", &c.SendTargetConcurrency}} {
		if *v.dst, err = strconv.Atoi(get(v.name)); err != nil || *v.dst < 1 || *v.dst > 10_000 {
			return Config{}, fmt.Errorf("%s must be a whole number from 1 to 10000, not %q", v.name, get(v.name))
		}
	}
	if c.SendTenantConcurrency > c.SendConcurrency || c.SendTargetConcurrency > c.SendConcurrency {
		return Config{}, fmt.Errorf("KALCIFER_SEND_TENANT_CONCURRENCY (%d) and KALCIFER_SEND_TARGET_CONCURRENCY (%d) cannot exceed KALCIFER_SEND_CONCURRENCY (%d)",
			c.SendTenantConcurrency, c.SendTargetConcurrency, c.SendConcurrency)
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return Config{}, fmt.Errorf("KALCIFER_DATABASE_URL must start with postgres:// (leave it empty for the embedded SQLite store)")
	}
	c.AI = AIConfig{Provider: get("KALCIFER_AI_PROVIDER"), BaseURL: get("KALCIFER_AI_BASE_URL"), APIKey: get("KALCIFER_AI_API_KEY"),
		Model: get("KALCIFER_AI_MODEL")}
	if c.AI.MaxRepairs, err = strconv.Atoi(get("KALCIFER_AI_MAX_REPAIRS")); err != nil || c.AI.MaxRepairs < 0 {
		return Config{}, fmt.Errorf("KALCIFER_AI_MAX_REPAIRS must be a whole number from 0, not %q", get("KALCIFER_AI_MAX_REPAIRS"))
	}
	if c.AI.Timeout, err = time.ParseDuration(get("KALCIFER_AI_TIMEOUT")); err != nil || c.AI.Timeout < time.Second {
		return Config{}, fmt.Errorf("KALCIFER_AI_TIMEOUT must be a duration of at least 1s, such as 120s, not %q", get("KALCIFER_AI_TIMEOUT"))
	}
	if _, err := newDesigner(c.AI); err != nil {
		return Config{}, fmt.Errorf("KALCIFER_AI_*: %w", err)
	}
	if c.AdminAPIKey != "" && len(c.AdminAPIKey) < 16 {
		return Config{}, fmt.Errorf("KALCIFER_ADMIN_API_KEY must be at least 16 characters long")
	}
	return c, nil
}

// StreamTimeout is how long answering a request on the AI designer's routes
// may take: one turn may ask the model 1 + max repairs times (a tenant's
// settings default to llm.DefaultMaxRepairs), each bounded by the AI
// timeout, and the answer then needs the ordinary write time.
func (c Config) StreamTimeout() time.Duration {
	requests := 1 + max(c.AI.MaxRepairs, llm.DefaultMaxRepairs)
	return time.Duration(requests)*c.AI.Timeout + c.HTTPWriteTimeout
}

// corsOrigins parses KALCIFER_CORS_ORIGINS: origins as browsers send them
// (scheme://host[:port], nothing after), or "*" alone. Any origin must be
// asked for explicitly, so an empty list allows none.
func corsOrigins(raw string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(raw, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
			return nil, fmt.Errorf("%q is not an origin such as https://app.example.com (scheme and host, no path)", o)
		}
		out = append(out, strings.ToLower(o))
	}
	if len(out) > 1 && slices.Contains(out, "*") {
		return nil, fmt.Errorf("* allows every origin, so it must stand alone, not with %d others", len(out)-1)
	}
	return out, nil
}

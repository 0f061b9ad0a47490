package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics/clickhouse"
	"github.com/kalcifer/kalcifer/designer/llm"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/jwtauth"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
)

// Config is the server's configuration: KALCIFER_* environment variables,
// each overridable by a serve flag of the same name in lower case.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	PoolSize    int
	AdminAPIKey string
	// EncryptionKeys seal stored credentials, the active key first; none
	// means the key file in DataDir. APIKeyPepper is what API keys are
	// hashed under; nil means the key file's.
	EncryptionKeys []secrets.Key
	APIKeyPepper   []byte
	MaxBodyBytes   int64
	// MaxImportBytes bounds a bulk import's streamed body.
	MaxImportBytes int64
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
	// SegmentRefresh is how often the stored members of segments with
	// time-relative rules are re-evaluated by a full pass.
	SegmentRefresh time.Duration
	// SendConcurrency, SendTenantConcurrency and SendTargetConcurrency
	// bound provider calls in flight: overall, per tenant, per target.
	SendConcurrency, SendTenantConcurrency, SendTargetConcurrency int
	// WebhookTimeout and WebhookMaxAttempts bound outgoing webhook
	// deliveries; AlertInterval is how often alert rules are evaluated.
	WebhookTimeout     time.Duration
	WebhookMaxAttempts int
	AlertInterval      time.Duration
	// AI is the server's default AI designer; tenants may choose their own.
	AI AIConfig
	// PublicURL is the server's public base URL, without a trailing slash
	// (KALCIFER_PUBLIC_URL); "" means emails carry no unsubscribe link.
	PublicURL string
	// Outbound says which internal addresses webhooks and AI providers may
	// reach (KALCIFER_ALLOW_PRIVATE_NETWORKS, KALCIFER_ALLOWED_PRIVATE_ADDRESSES).
	Outbound netguard.Policy
	// JWT configures sign-in with bearer JWTs beside API keys; off unless
	// JWT.Enabled().
	JWT jwtauth.Config
	// Limits are every tenant's rate limits and quotas unless the operator
	// overrides them (kalcifer tenant limits); 0 is unlimited.
	Limits kalcifer.Limits
	// CustomCode turns on custom_code nodes: CustomCodeWorkers worker
	// processes of CustomCodeMemory bytes of address space each run their
	// Lua.
	CustomCode        bool
	CustomCodeWorkers int
	CustomCodeMemory  int64
	// Metrics serves Prometheus metrics at /metrics (KALCIFER_METRICS), on
	// MetricsAddr when set, else on Addr.
	Metrics     bool
	MetricsAddr string
	// OTLPTracesURL is where traces are exported (OTLP over HTTP/protobuf),
	// from the standard OTEL_EXPORTER_OTLP_* variables; "" traces nothing.
	OTLPTracesURL string
	// ClickHouse is the ClickHouse sink's configuration (its Store and
	// Logger are set at start); off unless ClickHouse.URL is set.
	ClickHouse clickhouse.Config
	// HistoryRetention is how long the step history of ended instances is
	// kept (KALCIFER_HISTORY_RETENTION); 0 keeps it forever.
	HistoryRetention time.Duration
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
	{"KALCIFER_ADMIN_API_KEY", "admin-api-key", "", "an admin key of the default tenant with exactly this value (32+ characters)"},
	{"KALCIFER_ENCRYPTION_KEY", "encryption-key", "", "the keys stored credentials are sealed with: id:base64 of 32 random bytes, comma-separated, the active key first (one key may be bare base64); when empty, the key file <data dir>/encryption.key, made on first start"},
	{"KALCIFER_API_KEY_PEPPER", "api-key-pepper", "", "base64 of 32 random bytes that API keys are hashed under; never change it (when empty, the key file's; required with KALCIFER_ENCRYPTION_KEY)"},
	{"KALCIFER_MAX_BODY_BYTES", "max-body-bytes", "1048576", "body limit of the journey, event and webhook routes (others have their own)"},
	{"KALCIFER_MAX_IMPORT_BYTES", "max-import-bytes", "4294967296", "body limit of POST /customers/import (streamed, never held in memory)"},
	{"KALCIFER_HTTP_READ_TIMEOUT", "http-read-timeout", "30s", "how long a client may take to send one request, body included (a 1 MiB body at 35 KB/s); slower ones are cut off"},
	{"KALCIFER_HTTP_WRITE_TIMEOUT", "http-write-timeout", "60s", "how long answering one request may take; the AI designer's routes get KALCIFER_AI_TIMEOUT for each model request on top"},
	{"KALCIFER_CORS_ORIGINS", "cors-origins", "", "comma-separated browser origins allowed to call the API, e.g. https://app.example.com, or * for any (no CORS headers when empty)"},
	{"KALCIFER_LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"KALCIFER_LOG_FORMAT", "log-format", "json", "json or text"},
	{"KALCIFER_SHUTDOWN_TIMEOUT", "shutdown-timeout", "10s", "how long in-flight requests get on shutdown"},
	{"KALCIFER_SEND_LEASE", "send-lease", "3m", "how long a send may stay in flight before it is settled even though its replica looks alive (a replica that dies is noticed at once); must exceed the longest provider timeout"},
	{"KALCIFER_SEGMENT_REFRESH", "segment-refresh", "15m", "how often segments whose rules are time-relative (\"in the last 30 days\", event counts in a window) have their stored members re-evaluated by a full pass, in the background (1m to 24h); changes to profiles and events update them at once"},
	{"KALCIFER_SEND_CONCURRENCY", "send-concurrency", "128", "provider calls in flight at most"},
	{"KALCIFER_SEND_TENANT_CONCURRENCY", "send-tenant-concurrency", "96", "provider calls in flight at most for one tenant"},
	{"KALCIFER_SEND_TARGET_CONCURRENCY", "send-target-concurrency", "64", "provider calls in flight at most to one target (a webhook host, a provider), so a slow one cannot take every slot"},
	{"KALCIFER_WEBHOOK_TIMEOUT", "webhook-timeout", "10s", "how long one outgoing webhook delivery (a subscription's, not a call_webhook node's) may take, 1s to 2m"},
	{"KALCIFER_WEBHOOK_MAX_ATTEMPTS", "webhook-max-attempts", "8", "how many times an outgoing webhook delivery is tried (5xx, 429 and timeouts are retried with backoff from 10 s doubling to an hour) before it is given up, 1 to 30"},
	{"KALCIFER_ALERT_INTERVAL", "alert-interval", "30s", "how often alert rules are evaluated, 1s to 1h"},
	{"KALCIFER_DEBUG_ADDR", "debug-addr", "", "address of a Go pprof server, e.g. 127.0.0.1:6060 (off when empty)"},
	{"KALCIFER_METRICS", "metrics", "on", "on serves Prometheus metrics at /metrics without a key (they name no tenant or customer); off serves none"},
	{"KALCIFER_METRICS_ADDR", "metrics-addr", "", "serve /metrics on this address of its own instead (e.g. 127.0.0.1:9464, or :9464 inside a private network), not on KALCIFER_ADDR"},
	{"KALCIFER_PUBLIC_URL", "public-url", "", "the server's public base URL, e.g. https://kalcifer.example.com: emails carry unsubscribe links (and List-Unsubscribe headers) to its /u/ route, emails through SMTP accounts its open pixel and tracked links, and Twilio accounts report statuses to its /api/v1/providers/{id}/callbacks; when empty they carry none, and activation warns"},
	{"KALCIFER_ALLOW_PRIVATE_NETWORKS", "allow-private-networks", "false", "true lets webhooks and AI providers reach loopback, private and link-local addresses (self-hosters whose targets are internal, tests with local receivers); otherwise such targets are refused, whatever name resolves to them"},
	{"KALCIFER_ALLOWED_PRIVATE_ADDRESSES", "allowed-private-addresses", "", "comma-separated internal addresses or networks webhooks and AI providers may reach while the rest stay refused, e.g. 10.1.2.3,192.168.0.0/24 (every port of them, for every tenant)"},
	{"KALCIFER_AI_PROVIDER", "ai-provider", "offline", "AI designer: offline (built in, nothing leaves the server), anthropic, openai (any OpenAI-compatible server) or ollama"},
	{"KALCIFER_AI_BASE_URL", "ai-base-url", "", "the provider's API URL (default: its public one; e.g. http://localhost:11434 for Ollama, with KALCIFER_ALLOWED_PRIVATE_ADDRESSES=127.0.0.1,::1)"},
	{"KALCIFER_AI_API_KEY", "ai-api-key", "", "the provider's API key"},
	{"KALCIFER_AI_MODEL", "ai-model", "", "the provider's model, e.g. claude-sonnet-4-5 or llama3.1:8b"},
	{"KALCIFER_AI_MAX_REPAIRS", "ai-max-repairs", "2", "how often an invalid graph goes back to the model with its problems"},
	{"KALCIFER_AI_TIMEOUT", "ai-timeout", "120s", "how long one model request may take"},
	{"KALCIFER_JWT_HS256_SECRET", "jwt-hs256-secret", "", "shared secret (at least 32 bytes) that HS256 tokens are checked against; setting it turns JWT sign-in on"},
	{"KALCIFER_JWT_JWKS_URL", "jwt-jwks-url", "", "URL of the JWKS document whose RS256 and ES256 keys tokens are checked against, by kid; setting it turns JWT sign-in on"},
	{"KALCIFER_JWT_ISSUER", "jwt-issuer", "", "the iss every token must carry (not checked when empty)"},
	{"KALCIFER_JWT_AUDIENCE", "jwt-audience", "", "the aud every token must carry; required when JWT sign-in is on"},
	{"KALCIFER_JWT_CLOCK_SKEW", "jwt-clock-skew", "60s", "leeway on a token's exp, nbf and iat (0 to 10m)"},
	{"KALCIFER_JWT_TENANT_CLAIM", "jwt-tenant-claim", "tenant", "the claim holding the token user's tenant, by its name (a tenant's name is its id); the tenant must exist"},
	{"KALCIFER_JWT_ROLE_CLAIM", "jwt-role-claim", "role", "the claim holding the token user's role: viewer, editor, admin or ingest"},
	{"KALCIFER_RATE_LIMIT_EVENTS_PER_SECOND", "rate-limit-events-per-second", "1000", "events a tenant may send per second, each event of a batch and each webhook entry counting (bursts of one second's worth; per replica; 0: unlimited)"},
	{"KALCIFER_RATE_LIMIT_API_PER_MINUTE", "rate-limit-api-per-minute", "600", "authenticated API requests a tenant may make per minute (bursts of one minute's worth; per replica; 0: unlimited)"},
	{"KALCIFER_QUOTA_ACTIVE_INSTANCES", "quota-active-instances", "0", "instances of a tenant that may be running or waiting at once; entries beyond it are skipped and counted (0: unlimited)"},
	{"KALCIFER_QUOTA_JOURNEYS", "quota-journeys", "0", "journeys a tenant may have that are not archived (0: unlimited)"},
	{"KALCIFER_QUOTA_UPLOADS_PER_DAY", "quota-uploads-per-day", "0", "campaign-plan uploads (POST /ai/upload) a tenant may make per UTC day (0: unlimited)"},
	{"KALCIFER_ENABLE_CUSTOM_CODE", "enable-custom-code", "false", "true runs custom_code nodes' Lua in sandboxed worker processes; when false, journeys with custom_code are not activated or published"},
	{"KALCIFER_CUSTOM_CODE_WORKERS", "custom-code-workers", "2", "Lua worker processes kept warm, the most custom_code runs at once"},
	{"KALCIFER_HISTORY_RETENTION", "history-retention", "", "how long the step history of ended instances is kept, e.g. 90d or 720h (at least 1h); older steps are deleted in batches every 10 minutes while the analytics counters keep their figures (docs/ANALYTICS.md); empty keeps it forever"},
	{"KALCIFER_CUSTOM_CODE_MEMORY_MB", "custom-code-memory-mb", "512", "memory (MiB of address space beyond the Go runtime's own) each Lua worker may use; a run that needs more fails"},
	{"KALCIFER_CLICKHOUSE_URL", "clickhouse-url", "", "ClickHouse's HTTP interface, e.g. http://localhost:8123: every step and every send's outcome and delivery status are also copied there, through an outbox in the database (docs/CLICKHOUSE.md); off when empty"},
	{"KALCIFER_CLICKHOUSE_USER", "clickhouse-user", "", "the ClickHouse user (its default user when empty)"},
	{"KALCIFER_CLICKHOUSE_PASSWORD", "clickhouse-password", "", "the ClickHouse user's password"},
	{"KALCIFER_CLICKHOUSE_DATABASE", "clickhouse-database", "kalcifer", "the ClickHouse database of Kalcifer's tables, created with them at start when missing"},
	{"KALCIFER_CLICKHOUSE_MAX_BACKLOG", "clickhouse-max-backlog", "1000000", "events the outbox holds at most while ClickHouse is unreachable; beyond it new events are dropped (logged, counted) until it drains"},
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
	if c.MaxImportBytes, err = strconv.ParseInt(get("KALCIFER_MAX_IMPORT_BYTES"), 10, 64); err != nil || c.MaxImportBytes < c.MaxBodyBytes {
		return Config{}, fmt.Errorf("KALCIFER_MAX_IMPORT_BYTES must be a whole number of bytes, at least KALCIFER_MAX_BODY_BYTES (%d), not %q", c.MaxBodyBytes, get("KALCIFER_MAX_IMPORT_BYTES"))
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
	if c.WebhookTimeout, err = time.ParseDuration(get("KALCIFER_WEBHOOK_TIMEOUT")); err != nil || c.WebhookTimeout < time.Second || c.WebhookTimeout > 2*time.Minute {
		return Config{}, fmt.Errorf("KALCIFER_WEBHOOK_TIMEOUT must be a duration from 1s to 2m, such as 10s, not %q", get("KALCIFER_WEBHOOK_TIMEOUT"))
	}
	if c.WebhookMaxAttempts, err = strconv.Atoi(get("KALCIFER_WEBHOOK_MAX_ATTEMPTS")); err != nil || c.WebhookMaxAttempts < 1 || c.WebhookMaxAttempts > 30 {
		return Config{}, fmt.Errorf("KALCIFER_WEBHOOK_MAX_ATTEMPTS must be a whole number from 1 to 30, not %q", get("KALCIFER_WEBHOOK_MAX_ATTEMPTS"))
	}
	if c.AlertInterval, err = time.ParseDuration(get("KALCIFER_ALERT_INTERVAL")); err != nil || c.AlertInterval < time.Second || c.AlertInterval > time.Hour {
		return Config{}, fmt.Errorf("KALCIFER_ALERT_INTERVAL must be a duration from 1s to 1h, such as 30s, not %q", get("KALCIFER_ALERT_INTERVAL"))
	}
	if c.SegmentRefresh, err = time.ParseDuration(get("KALCIFER_SEGMENT_REFRESH")); err != nil || c.SegmentRefresh < time.Minute || c.SegmentRefresh > 24*time.Hour {
		return Config{}, fmt.Errorf("KALCIFER_SEGMENT_REFRESH must be a duration from 1m to 24h, such as 15m, not %q", get("KALCIFER_SEGMENT_REFRESH"))
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
	if c.PublicURL, err = publicURL(get("KALCIFER_PUBLIC_URL")); err != nil {
		return Config{}, err
	}
	if c.Outbound, err = outbound(get("KALCIFER_ALLOW_PRIVATE_NETWORKS"), get("KALCIFER_ALLOWED_PRIVATE_ADDRESSES")); err != nil {
		return Config{}, err
	}
	c.AI = AIConfig{Provider: get("KALCIFER_AI_PROVIDER"), BaseURL: get("KALCIFER_AI_BASE_URL"), APIKey: get("KALCIFER_AI_API_KEY"),
		Model: get("KALCIFER_AI_MODEL")}
	if c.AI.MaxRepairs, err = strconv.Atoi(get("KALCIFER_AI_MAX_REPAIRS")); err != nil || c.AI.MaxRepairs < 0 {
		return Config{}, fmt.Errorf("KALCIFER_AI_MAX_REPAIRS must be a whole number from 0, not %q", get("KALCIFER_AI_MAX_REPAIRS"))
	}
	if c.AI.Timeout, err = time.ParseDuration(get("KALCIFER_AI_TIMEOUT")); err != nil || c.AI.Timeout < time.Second {
		return Config{}, fmt.Errorf("KALCIFER_AI_TIMEOUT must be a duration of at least 1s, such as 120s, not %q", get("KALCIFER_AI_TIMEOUT"))
	}
	if _, err := newDesigner(c.AI, c.Outbound, nil); err != nil {
		return Config{}, fmt.Errorf("KALCIFER_AI_*: %w", err)
	}
	if c.CustomCode, err = strconv.ParseBool(get("KALCIFER_ENABLE_CUSTOM_CODE")); err != nil {
		return Config{}, fmt.Errorf("KALCIFER_ENABLE_CUSTOM_CODE must be true or false, not %q", get("KALCIFER_ENABLE_CUSTOM_CODE"))
	}
	if c.CustomCodeWorkers, err = strconv.Atoi(get("KALCIFER_CUSTOM_CODE_WORKERS")); err != nil || c.CustomCodeWorkers < 1 || c.CustomCodeWorkers > 64 {
		return Config{}, fmt.Errorf("KALCIFER_CUSTOM_CODE_WORKERS must be a whole number from 1 to 64, not %q", get("KALCIFER_CUSTOM_CODE_WORKERS"))
	}
	mb, err := strconv.Atoi(get("KALCIFER_CUSTOM_CODE_MEMORY_MB"))
	if err != nil || mb < 64 || mb > 16384 {
		return Config{}, fmt.Errorf("KALCIFER_CUSTOM_CODE_MEMORY_MB must be a whole number from 64 to 16384, not %q", get("KALCIFER_CUSTOM_CODE_MEMORY_MB"))
	}
	c.CustomCodeMemory = int64(mb) << 20
	if c.HistoryRetention, err = retention(get("KALCIFER_HISTORY_RETENTION")); err != nil {
		return Config{}, err
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"KALCIFER_RATE_LIMIT_EVENTS_PER_SECOND", &c.Limits.EventsPerSecond}, {"KALCIFER_RATE_LIMIT_API_PER_MINUTE", &c.Limits.APIPerMinute},
		{"KALCIFER_QUOTA_ACTIVE_INSTANCES", &c.Limits.ActiveInstances}, {"KALCIFER_QUOTA_JOURNEYS", &c.Limits.Journeys},
		{"KALCIFER_QUOTA_UPLOADS_PER_DAY", &c.Limits.UploadsPerDay}} {
		if *v.dst, err = strconv.Atoi(get(v.name)); err != nil || *v.dst < 0 || *v.dst > kalcifer.MaxLimit {
			return Config{}, fmt.Errorf("%s must be a whole number from 0 (unlimited) to %d, not %q", v.name, kalcifer.MaxLimit, get(v.name))
		}
	}
	if c.AdminAPIKey != "" && len(c.AdminAPIKey) < store.MinAPIKeyLength {
		return Config{}, fmt.Errorf("KALCIFER_ADMIN_API_KEY must be at least %d characters long, not %d (make one with `openssl rand -base64 32`)",
			store.MinAPIKeyLength, len(c.AdminAPIKey))
	}
	if v := get("KALCIFER_ENCRYPTION_KEY"); v != "" {
		if c.EncryptionKeys, err = secrets.ParseKeys(v); err != nil {
			return Config{}, fmt.Errorf("KALCIFER_ENCRYPTION_KEY: %w", err)
		}
	}
	if v := get("KALCIFER_API_KEY_PEPPER"); v != "" {
		if c.APIKeyPepper, err = secrets.ParsePepper(v); err != nil {
			return Config{}, fmt.Errorf("KALCIFER_API_KEY_PEPPER: %w", err)
		}
	}
	if c.EncryptionKeys != nil && c.APIKeyPepper == nil {
		return Config{}, fmt.Errorf("KALCIFER_ENCRYPTION_KEY is set, so KALCIFER_API_KEY_PEPPER must be too (base64 of 32 random bytes, `openssl rand -base64 32`; it never changes, unlike the encryption keys)")
	}
	if c.JWT, err = jwtConfig(get); err != nil {
		return Config{}, err
	}
	switch get("KALCIFER_METRICS") {
	case "on":
		c.Metrics = true
	case "off":
	default:
		return Config{}, fmt.Errorf("KALCIFER_METRICS must be on or off, not %q", get("KALCIFER_METRICS"))
	}
	c.MetricsAddr = get("KALCIFER_METRICS_ADDR")
	if c.MetricsAddr != "" {
		if !c.Metrics {
			return Config{}, fmt.Errorf("KALCIFER_METRICS_ADDR is set, but KALCIFER_METRICS=off serves no metrics: unset one of the two")
		}
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return Config{}, fmt.Errorf("KALCIFER_METRICS_ADDR must be host:port or :port, such as 127.0.0.1:9464, not %q", c.MetricsAddr)
		}
	}
	if c.OTLPTracesURL, err = otlpTracesURL(env); err != nil {
		return Config{}, err
	}
	if c.ClickHouse, err = clickHouseConfig(get); err != nil {
		return Config{}, err
	}
	return c, nil
}

// clickHouseConfig reads the KALCIFER_CLICKHOUSE_* settings. The sink is off
// unless the URL is set; the other settings are refused then, rather than
// quietly doing nothing.
func clickHouseConfig(get func(string) string) (clickhouse.Config, error) {
	c := clickhouse.Config{URL: get("KALCIFER_CLICKHOUSE_URL"), User: get("KALCIFER_CLICKHOUSE_USER"),
		Password: get("KALCIFER_CLICKHOUSE_PASSWORD"), Database: get("KALCIFER_CLICKHOUSE_DATABASE")}
	if c.URL == "" {
		for _, name := range []string{"KALCIFER_CLICKHOUSE_USER", "KALCIFER_CLICKHOUSE_PASSWORD", "KALCIFER_CLICKHOUSE_DATABASE",
			"KALCIFER_CLICKHOUSE_MAX_BACKLOG"} {
			if get(name) != settingDefault(name) {
				return c, fmt.Errorf("%s is set, but the ClickHouse sink is off: set KALCIFER_CLICKHOUSE_URL to turn it on", name)
			}
		}
		return c, nil
	}
	var err error
	if c.MaxBacklog, err = strconv.Atoi(get("KALCIFER_CLICKHOUSE_MAX_BACKLOG")); err != nil || c.MaxBacklog < 10_000 || c.MaxBacklog > 1_000_000_000 {
		return c, fmt.Errorf("KALCIFER_CLICKHOUSE_MAX_BACKLOG must be a whole number from 10000 to 1000000000, not %q", get("KALCIFER_CLICKHOUSE_MAX_BACKLOG"))
	}
	if err := c.Check(); err != nil {
		return c, fmt.Errorf("KALCIFER_CLICKHOUSE_*: %w", err)
	}
	return c, nil
}

// jwtConfig reads the KALCIFER_JWT_* settings. Sign-in with tokens is off
// unless a secret or a JWKS URL is set; the other settings are refused
// then, rather than quietly doing nothing.
func jwtConfig(get func(string) string) (jwtauth.Config, error) {
	c := jwtauth.Config{JWKSURL: get("KALCIFER_JWT_JWKS_URL"), Issuer: get("KALCIFER_JWT_ISSUER"),
		Audience: get("KALCIFER_JWT_AUDIENCE"), TenantClaim: get("KALCIFER_JWT_TENANT_CLAIM"), RoleClaim: get("KALCIFER_JWT_ROLE_CLAIM")}
	if secret := get("KALCIFER_JWT_HS256_SECRET"); secret != "" {
		c.HS256Secret = []byte(secret)
	}
	if !c.Enabled() {
		for _, name := range []string{"KALCIFER_JWT_ISSUER", "KALCIFER_JWT_AUDIENCE", "KALCIFER_JWT_CLOCK_SKEW",
			"KALCIFER_JWT_TENANT_CLAIM", "KALCIFER_JWT_ROLE_CLAIM"} {
			if get(name) != settingDefault(name) {
				return c, fmt.Errorf("%s is set, but JWT sign-in is off: set KALCIFER_JWT_HS256_SECRET or KALCIFER_JWT_JWKS_URL to turn it on", name)
			}
		}
		return c, nil
	}
	if n := len(c.HS256Secret); n > 0 && n < jwtauth.MinSecretBytes {
		return c, fmt.Errorf("KALCIFER_JWT_HS256_SECRET must be at least %d bytes long, not %d", jwtauth.MinSecretBytes, n)
	}
	if strings.HasPrefix(strings.TrimSpace(string(c.HS256Secret)), "-----BEGIN") {
		return c, fmt.Errorf("KALCIFER_JWT_HS256_SECRET looks like a PEM key: HS256 needs a shared secret; publish public keys as a JWKS (KALCIFER_JWT_JWKS_URL)")
	}
	if c.JWKSURL != "" {
		if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("KALCIFER_JWT_JWKS_URL must be an http(s) URL such as https://idp.example.com/.well-known/jwks.json, not %q", c.JWKSURL)
		}
	}
	if c.Audience == "" {
		return c, fmt.Errorf("KALCIFER_JWT_AUDIENCE is required when JWT sign-in is on: tokens are accepted only for this audience, so that a token your identity provider made for another service cannot be used here")
	}
	skew, err := time.ParseDuration(get("KALCIFER_JWT_CLOCK_SKEW"))
	if err != nil || skew < 0 || skew > 10*time.Minute {
		return c, fmt.Errorf("KALCIFER_JWT_CLOCK_SKEW must be a duration from 0s to 10m, such as 60s, not %q", get("KALCIFER_JWT_CLOCK_SKEW"))
	}
	c.ClockSkew = skew
	for _, name := range []string{"KALCIFER_JWT_TENANT_CLAIM", "KALCIFER_JWT_ROLE_CLAIM"} {
		if strings.TrimSpace(get(name)) == "" {
			return c, fmt.Errorf("%s cannot be empty", name)
		}
	}
	if c.TenantClaim == c.RoleClaim {
		return c, fmt.Errorf("KALCIFER_JWT_TENANT_CLAIM and KALCIFER_JWT_ROLE_CLAIM must name different claims, not both %q", c.TenantClaim)
	}
	if _, err := jwtauth.New(c); err != nil {
		return c, fmt.Errorf("KALCIFER_JWT_*: %w", err)
	}
	return c, nil
}

// settingDefault returns the default value of the setting named env.
func settingDefault(env string) string {
	for _, s := range settings {
		if s.env == env {
			return s.def
		}
	}
	panic("no setting " + env)
}

// StreamTimeout is how long answering a request on the AI designer's routes
// may take: one turn may ask the model 1 + max repairs times (a tenant's
// settings default to llm.DefaultMaxRepairs), each bounded by the AI
// timeout, and the answer then needs the ordinary write time.
func (c Config) StreamTimeout() time.Duration {
	requests := 1 + max(c.AI.MaxRepairs, llm.DefaultMaxRepairs)
	return time.Duration(requests)*c.AI.Timeout + c.HTTPWriteTimeout
}

// outbound reads the SSRF guard's settings.
func outbound(allowAll, allowed string) (netguard.Policy, error) {
	var p netguard.Policy
	var err error
	if p.AllowPrivate, err = strconv.ParseBool(allowAll); err != nil {
		return p, fmt.Errorf("KALCIFER_ALLOW_PRIVATE_NETWORKS must be true or false, not %q", allowAll)
	}
	if p.Allowed, err = netguard.ParseAllowed(allowed); err != nil {
		return p, fmt.Errorf("KALCIFER_ALLOWED_PRIVATE_ADDRESSES: %w", err)
	}
	if p.AllowPrivate && len(p.Allowed) > 0 {
		return p, fmt.Errorf("KALCIFER_ALLOWED_PRIVATE_ADDRESSES does nothing when KALCIFER_ALLOW_PRIVATE_NETWORKS=true lets every address through; set one of the two")
	}
	return p, nil
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

// publicURL checks KALCIFER_PUBLIC_URL: an http(s) base URL with a host and
// no query, fragment or credentials, which links are built on.
func publicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, "?# ") {
		return "", fmt.Errorf("KALCIFER_PUBLIC_URL must be the server's public base URL such as https://kalcifer.example.com (http or https, a host, an optional path, no query), not %q", v)
	}
	return strings.TrimSuffix(v, "/"), nil
}

// retention parses KALCIFER_HISTORY_RETENTION: a whole number of days
// ("90d") or a Go duration of at least an hour; "" is forever (0).
func retention(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
		if n > 100*365 {
			err = errors.New("too long")
		}
	}
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("KALCIFER_HISTORY_RETENTION must be a number of days such as 90d, or a duration of at least 1h such as 720h, or empty to keep history forever, not %q", v)
	}
	return d, nil
}

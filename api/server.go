package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/logctx"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/jwtauth"
	"github.com/kalcifer/kalcifer/liquid"
	"github.com/kalcifer/kalcifer/live"
	"github.com/kalcifer/kalcifer/metrics"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/tracking"
)

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes int64 = 1 << 20

// DefaultMaxImportBytes bounds bulk imports when Config.MaxImportBytes is
// 0: 4 GiB, about 20 million profiles of a dozen attributes. The body is
// streamed, so the limit bounds time spent, not memory.
const DefaultMaxImportBytes int64 = 4 << 30

// Config is what the API needs from the rest of the program.
type Config struct {
	// Store holds all state; it is the only dependency handlers call.
	Store *store.Store
	// Logger receives internal errors, recovered panics and (at debug level)
	// one access line per request. Nil means slog.Default().
	Logger *slog.Logger
	// Version and StartedAt are reported by GET /info.
	Version   string
	StartedAt time.Time
	// MaxBodyBytes bounds the bodies of the routes with a standard body
	// limit (journeys, versions, events, webhook entries; see bodyLimit);
	// larger bodies are answered 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxImportBytes bounds the body of POST /customers/import, which is
	// streamed and written in batches. Zero means DefaultMaxImportBytes.
	MaxImportBytes int64
	// Engine runs journeys: ingestion, manual enrolment and instance
	// control go through it. Nil answers those routes 503, so a handler
	// built for reads (or for tests of other routes) needs no runtime.
	Engine Engine
	// Designer serves the /ai routes: conversations, explanations,
	// suggestions, uploads and each tenant's AI settings. Required.
	Designer *designer.Service
	// DesignerTimeout is the write deadline of the routes that wait for the
	// AI designer (streamed as server-sent events or not), which may take
	// longer than the http.Server's WriteTimeout. Zero leaves that deadline.
	DesignerTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API, as the
	// Origin header spells them; "*" allows any. None sends no CORS headers.
	CORSOrigins []string
	// JWT verifies bearer tokens of signed-in users beside API keys; nil
	// accepts API keys only.
	JWT *jwtauth.Verifier
	// Providers is the catalog of provider drivers that provider accounts
	// are checked and built with; nil answers the routes that need it 503.
	Providers *channel.Catalog
	// PublicURL is the server's public base URL (KALCIFER_PUBLIC_URL), which
	// providers call back at: it is the URL callback signatures cover
	// (Twilio's). Empty when not set.
	PublicURL string
	// Clock times the rate limits' token buckets (nil: the system clock);
	// tests move it by hand.
	Clock kalcifer.Clock
	// Outbound is the policy outgoing webhooks are sent under: a
	// subscription whose URL names a literal internal address it refuses
	// is refused when configured.
	Outbound netguard.Policy
	// App serves the web app: every GET or HEAD that no route takes and
	// that is not under /api/ goes to it (the app routes on the client).
	// Nil answers those with the API's JSON 404.
	App http.Handler
	// Metrics observes every request (by method, route pattern and
	// status); nil observes none.
	Metrics *metrics.Metrics
	// MetricsHandler answers GET /metrics; nil answers it 404 (metrics off,
	// or served on an address of their own).
	MetricsHandler http.Handler
	// Tracer makes a server span of every request; nil makes none.
	Tracer trace.TracerProvider
	// Live is the live feed the WebSocket route subscribes to; nil answers
	// GET /api/v1/socket 503.
	Live *live.Hub
}

// Engine is what the API asks of the journey runtime; *engine.Runtime
// implements it. It is an interface so that api does not import the engine
// and its channel providers, and so that the routes can be served without
// a running engine. Every method returns *kalcifer.Error values for what the
// caller got wrong (unknown journey, wrong state), which writeError maps.
type Engine interface {
	// Ingest stores events durably and returns once they are committed. It
	// sets events[i].ID; dup[i] is true when events[i].ClientID was seen
	// before, and events[i].ID is then the original event's.
	Ingest(ctx context.Context, events []*kalcifer.Event) (dup []bool, err error)
	// Trigger enrols customers in an active journey, one stored event each.
	Trigger(ctx context.Context, tenantID, journeyID string, customerIDs []string) ([]*kalcifer.Event, error)
	// Webhook enrols one customer through the journey's webhook_entry.
	Webhook(ctx context.Context, tenantID, journeyID, customerID string, data json.RawMessage) (*kalcifer.Event, error)
	// PauseInstance, ResumeInstance and ExitInstance steer one instance and
	// return it as it is afterwards.
	PauseInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error)
	ResumeInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error)
	ExitInstance(ctx context.Context, tenantID, id string) (*kalcifer.Instance, error)
	// Publish makes a version current (rollback: an earlier published one)
	// and starts migrating running instances per the request; a dry run
	// only plans.
	Publish(ctx context.Context, p store.PublishParams) (*kalcifer.PublishPlan, error)
	// ControlMigration pauses, resumes or aborts a migration ("pause",
	// "resume", "abort"), or raises a gradual one's rollout ("rollout").
	ControlMigration(ctx context.Context, p store.ControlMigrationParams) (*kalcifer.Migration, error)
	// Warnings lists what a graph's channel nodes will meet when it runs
	// for the tenant (e.g. messages a dry-run provider only logs).
	Warnings(tenantID string, g *graph.Graph) []kalcifer.Warning
	// On names the node types that are off unless turned on
	// (graph.Kind.Off) and that this engine runs, such as custom_code.
	On() []string
	// ReleaseHeld moves instances a migration holds onto its new version.
	ReleaseHeld(ctx context.Context, tenantID, migrationID string, req kalcifer.ReleaseRequest) (*kalcifer.ReleaseResult, error)
	// Alias merges customer previousID into customerID (Segment's alias):
	// profile, events, journeys and sends; later events for previousID
	// land on customerID.
	Alias(ctx context.Context, tenantID, previousID, customerID, actor string) (*kalcifer.AliasResult, error)
	// Identify creates a profile or merges an identify into it
	// (store.IdentifyCustomer's merge), following an alias to the customer
	// it stands for; created reports a new profile.
	Identify(ctx context.Context, tenantID string, in store.Identity) (c *kalcifer.Customer, created bool, err error)
	// RecordDeliveries records delivery statuses of the tenant's sends
	// (provider callbacks, Kalcifer's own tracking): the ledger row moves
	// forward and each status becomes a customer event such as
	// email_opened. Statuses of unknown sends are counted, not errors.
	RecordDeliveries(ctx context.Context, tenantID, provider string, statuses []channel.Status) (kalcifer.DeliveryResult, error)
	// EraseCustomer erases a customer for good (GDPR): their instances
	// exited, profile, events and personal data in the history removed,
	// an anonymised audit entry written; ENOTFOUND when nothing is left.
	EraseCustomer(ctx context.Context, tenantID, customerID, actor string) (*kalcifer.Erasure, error)
}

// server carries the configuration into the handlers.
type server struct {
	store     *store.Store
	engine    Engine
	logger    *slog.Logger
	version   string
	startedAt time.Time
	maxBody   int64
	maxImport int64
	designer  *designer.Service
	router    *chi.Mux
	templates *liquid.Engine // renders previews
	providers *channel.Catalog
	limiter   *rateLimiter

	designerTimeout time.Duration
	corsOrigins     []string
	jwt             *jwtauth.Verifier
	tracker         *tracking.Signer // checks open and click tokens
	publicURL       string
	outbound        netguard.Policy
	app             http.Handler

	metrics        *metrics.Metrics
	metricsHandler http.Handler
	tracer         trace.Tracer
	live           *live.Hub
}

// NewHandler returns the HTTP handler of the whole API. The handler is a
// chi router (chi.Routes), so tests and docs can walk its routes.
func NewHandler(cfg Config) http.Handler {
	s := &server{
		store:     cfg.Store,
		engine:    cfg.Engine,
		logger:    cfg.Logger,
		version:   cfg.Version,
		startedAt: cfg.StartedAt,
		maxBody:   cfg.MaxBodyBytes,
		maxImport: cfg.MaxImportBytes,
		designer:  cfg.Designer,
		templates: liquid.NewEngine(liquid.DefaultLimits),
		providers: cfg.Providers,

		designerTimeout: cfg.DesignerTimeout,
		corsOrigins:     cfg.CORSOrigins,
		jwt:             cfg.JWT,
		tracker:         tracking.NewSigner(tracking.Key(cfg.Store.Keyring())),
		publicURL:       cfg.PublicURL,
		outbound:        cfg.Outbound,
		app:             cfg.App,

		metrics:        cfg.Metrics,
		metricsHandler: cfg.MetricsHandler,
		live:           cfg.Live,
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.logger = logctx.Wrap(s.logger)
	tracer := cfg.Tracer
	if tracer == nil {
		tracer = noop.NewTracerProvider()
	}
	s.tracer = tracer.Tracer(tracerName)
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxImport <= 0 {
		s.maxImport = DefaultMaxImportBytes
	}
	if s.startedAt.IsZero() {
		s.startedAt = time.Now()
	}
	clock := cfg.Clock
	if clock == nil {
		clock = kalcifer.SystemClock{}
	}
	s.limiter = newRateLimiter(cfg.Store, clock)
	s.router = s.routes()
	return s.router
}

// routes builds the router. Keep it in step with openapi.json: a test fails
// when a route is missing from the document or the document names a route
// that does not exist. Every route declares the most its request body may
// hold (see bodyLimit); the router refuses to start with one that does not.
func (s *server) routes() *chi.Mux {
	r := chi.NewRouter()
	r.Use(s.withRequestID, s.accessLog, s.telemetry, s.recoverer, securityHeaders, s.cors)
	// Set before any subrouter is mounted, so that every subrouter inherits them.
	r.NotFound(s.notFound)
	r.MethodNotAllowed(s.methodNotAllowed)
	// route adds a handler with its body limit.
	route := func(r chi.Router, method, pattern string, limit bodyLimit, h http.HandlerFunc) {
		r.Method(method, pattern, s.limited(limit, correlated(pattern, h)))
	}
	get := func(r chi.Router, pattern string, h http.HandlerFunc) { route(r, http.MethodGet, pattern, noBody, h) }
	post := func(r chi.Router, pattern string, limit bodyLimit, h http.HandlerFunc) {
		route(r, http.MethodPost, pattern, limit, h)
	}

	get(r.With(s.checkParams), "/health", s.health)
	get(r.With(s.checkParams), "/health/ready", s.ready)
	get(r.With(s.checkParams), "/info", s.info)
	// Prometheus scrapes without a key (KALCIFER_METRICS, KALCIFER_METRICS_ADDR).
	get(r.With(s.checkParams), "/metrics", s.serveMetrics)
	// Unsubscribe links: public, signed (unsubscribe.go).
	get(r.With(s.checkParams), "/u/{token}", s.unsubscribe)
	post(r.With(s.checkParams), "/u/{token}", smallBody, s.unsubscribe)

	// Open and click tracking of emails (tracking.Signer.Rewrite): public,
	// since mail clients call them; the tokens are signed.
	get(r, "/t/o/{token}", s.trackOpen)
	get(r, "/t/c/{token}", s.trackClick)

	// Segment's SDKs given Kalcifer as their host (segment.go).
	r.Route("/v1", func(r chi.Router) { s.segmentRoutes(r, post) })

	r.Route("/api/v1", func(r chi.Router) {
		get(r.With(s.checkParams), "/openapi.json", s.openAPI)
		r.Route("/segment", func(r chi.Router) { s.segmentRoutes(r, post) })

		// Providers' delivery statuses (callbacks.go): public, since the
		// provider's signature is what authenticates them; no rate limit
		// (providers retry), and no check of query parameters, which each
		// provider spells its own way.
		r.Group(func(r chi.Router) {
			r.Use(noStore, s.requireProviders, s.requireEngine)
			get(r, "/providers/{id}/callbacks", s.providerCallback)
			post(r, "/providers/{id}/callbacks", callbackBody, s.providerCallback)
		})

		// Webhook entries: a tenant key (editors and admins, and ingest
		// keys) or a webhook token of that journey. It needs the runtime.
		r.Group(func(r chi.Router) {
			r.Use(noStore, s.checkParams, s.authenticateWebhook(s.requireRole(kalcifer.RoleEditor, kalcifer.RoleIngest)), s.rateLimit, s.requireEngine)
			post(r, "/webhooks/{journey_id}", standardBody, s.webhook)
		})

		// The live feed (socket.go): a WebSocket, its key or token in the
		// Authorization header or, from browsers, the token parameter.
		r.Group(func(r chi.Router) {
			r.Use(noStore, s.authenticateSocket, s.rateLimit, s.checkParams, s.requireRole(kalcifer.RoleViewer))
			get(r, "/socket", s.socket)
		})

		r.Group(func(r chi.Router) {
			r.Use(noStore, s.authenticate, s.rateLimit, s.checkParams)

			// Sending events: editors and admins, and ingest keys, which
			// may do nothing else. Routes that need the runtime answer 503
			// without one.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(kalcifer.RoleEditor, kalcifer.RoleIngest), s.requireEngine)
				post(r, "/events", standardBody, s.ingestEvent)
				post(r, "/events/batch", batchBody, s.ingestBatch)
			})

			// Every other route needs a ranked role: ingest keys are refused.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(kalcifer.RoleViewer))

				// Anyone with a ranked key of the tenant may read.
				get(r, "/node-types", s.listNodeTypes)
				get(r, "/event-types", s.listEventTypes)
				post(r, "/expressions/check", standardBody, s.checkExpression)
				get(r, "/journeys", s.listJourneys)
				get(r, "/journeys/{id}", s.getJourney)
				get(r, "/journeys/{id}/versions", s.listVersions)
				get(r, "/journeys/{id}/versions/{v}", s.getVersion)
				get(r, "/journeys/{id}/versions/{v}/diff/{v2}", s.diffVersions)
				get(r, "/journeys/{id}/migrations", s.listMigrations)
				get(r, "/migrations/{id}", s.getMigration)
				get(r, "/migrations/{id}/held", s.listHeld)
				get(r, "/ai/conversations/{id}", s.getConversation)
				post(r.With(s.designerDeadline), "/ai/explain", standardBody, s.explain)
				post(r, "/ai/node-mapping", standardBody, s.nodeMapping)
				get(r, "/journeys/{id}/instances", s.listInstances)
				get(r, "/journeys/{id}/instances/by-version", s.countInstancesByVersion)
				get(r, "/journeys/{id}/enrolment", s.getEnrolment)
				get(r, "/instances/{id}", s.getInstance)
				get(r, "/instances/{id}/trace", s.instanceTrace)
				get(r, "/journeys/{id}/analytics", s.journeyAnalytics)
				get(r, "/journeys/{id}/funnel", s.journeyFunnel)
				get(r, "/journeys/{id}/nodes/{nid}/metrics", s.nodeMetrics)
				get(r, "/analytics/channels", s.channelAnalytics)
				get(r, "/customers/{id}/profile", s.getCustomer)
				get(r, "/customers/{id}/journeys", s.customerJourneys)
				get(r, "/customers/{id}/events", s.customerEvents)
				get(r, "/customers", s.listCustomers)
				get(r, "/templates", s.listTemplates)
				get(r, "/templates/{id}", s.getTemplate)
				get(r, "/templates/{id}/versions", s.listTemplateVersions)
				post(r, "/templates/{id}/preview", standardBody, s.previewTemplate)
				get(r, "/limits", s.getLimits)
				get(r, "/providers", s.listProviders)
				get(r, "/providers/{id}", s.getProvider)
				get(r, "/segments", s.listSegments)
				get(r, "/segments/{id}", s.getSegment)
				get(r, "/segments/{id}/count", s.countSegment)
				get(r, "/segments/{id}/preview", s.previewSegment)
				post(r, "/segments/estimate", standardBody, s.estimateSegment)
				get(r, "/webhook-subscriptions", s.listHookSubscriptions)
				get(r, "/webhook-subscriptions/{id}", s.getHookSubscription)
				get(r, "/webhook-subscriptions/{id}/deliveries", s.listHookDeliveries)
				get(r, "/alert-rules", s.listAlertRules)
				get(r, "/alert-rules/{id}", s.getAlertRule)
				get(r, "/alerts", s.listAlerts)

				r.Group(func(r chi.Router) {
					r.Use(s.requireRole(kalcifer.RoleEditor))
					post(r, "/journeys", standardBody, s.createJourney)
					route(r, http.MethodPut, "/journeys/{id}", standardBody, s.updateJourney)
					route(r, http.MethodDelete, "/journeys/{id}", noBody, s.deleteJourney)
					post(r, "/journeys/{id}/activate", smallBody, s.transition(kalcifer.ActionActivate))
					post(r, "/journeys/{id}/pause", smallBody, s.transition(kalcifer.ActionPause))
					post(r, "/journeys/{id}/resume", smallBody, s.transition(kalcifer.ActionResume))
					post(r, "/journeys/{id}/archive", smallBody, s.transition(kalcifer.ActionArchive))
					post(r, "/journeys/{id}/duplicate", smallBody, s.duplicateJourney)
					post(r, "/journeys/{id}/versions", standardBody, s.createVersion)
					get(r, "/journeys/{id}/webhook-tokens", s.listWebhookTokens)
					post(r, "/journeys/{id}/webhook-tokens", smallBody, s.createWebhookToken)
					route(r, http.MethodDelete, "/journeys/{id}/webhook-tokens/{token_id}", noBody, s.revokeWebhookToken)
					post(r.With(s.designerDeadline), "/ai/conversations", standardBody, s.startConversation)
					post(r.With(s.designerDeadline), "/ai/conversations/{id}/message", standardBody, s.continueConversation)
					post(r, "/ai/conversations/{id}/apply", smallBody, s.applyConversation)
					post(r.With(s.designerDeadline), "/ai/upload", uploadBody, s.upload)
					post(r, "/ai/suggest", standardBody, s.suggest)
					route(r, http.MethodPatch, "/customers/{id}/profile", standardBody, s.patchCustomer)
					post(r, "/customers/import", importBody, s.importCustomers)
					post(r, "/templates", standardBody, s.createTemplate)
					route(r, http.MethodPut, "/templates/{id}", standardBody, s.updateTemplate)
					route(r, http.MethodDelete, "/templates/{id}", noBody, s.deleteTemplate)
					post(r, "/segments", standardBody, s.createSegment)
					route(r, http.MethodPatch, "/segments/{id}", standardBody, s.updateSegment)
					route(r, http.MethodDelete, "/segments/{id}", noBody, s.deleteSegment)

					// Routes that need the runtime answer 503 without one.
					r.Group(func(r chi.Router) {
						r.Use(s.requireEngine)
						post(r, "/journeys/{id}/trigger", standardBody, s.trigger)
						post(r, "/customers", standardBody, s.identifyCustomer)
						post(r, "/customers/{id}/alias", smallBody, s.aliasCustomer)
						post(r, "/instances/{id}/pause", smallBody, s.controlInstance(Engine.PauseInstance))
						post(r, "/instances/{id}/resume", smallBody, s.controlInstance(Engine.ResumeInstance))
						post(r, "/instances/{id}/exit", smallBody, s.controlInstance(Engine.ExitInstance))
						post(r, "/journeys/{id}/versions/{v}/publish", standardBody, s.publishVersion(false))
						post(r, "/journeys/{id}/versions/{v}/rollback", standardBody, s.publishVersion(true))
						post(r, "/migrations/{id}/pause", smallBody, s.controlMigration("pause"))
						post(r, "/migrations/{id}/resume", smallBody, s.controlMigration("resume"))
						post(r, "/migrations/{id}/abort", smallBody, s.controlMigration("abort"))
						post(r, "/migrations/{id}/rollout", smallBody, s.rolloutMigration)
						post(r, "/migrations/{id}/release", standardBody, s.releaseHeld)
					})
				})

				r.Group(func(r chi.Router) {
					r.Use(s.requireRole(kalcifer.RoleAdmin))
					get(r, "/audit", s.listAudit)
					get(r, "/api-keys", s.listAPIKeys)
					get(r, "/webhook-secret", s.getWebhookSecret)
					get(r, "/ai/settings", s.getAISettings)
					route(r, http.MethodPut, "/ai/settings", smallBody, s.putAISettings)
					post(r, "/api-keys", smallBody, s.createAPIKey)
					route(r, http.MethodDelete, "/api-keys/{id}", noBody, s.revokeAPIKey)
					route(r, http.MethodDelete, "/providers/{id}", noBody, s.deleteProvider)
					post(r, "/webhook-subscriptions", smallBody, s.createHookSubscription)
					route(r, http.MethodPatch, "/webhook-subscriptions/{id}", smallBody, s.updateHookSubscription)
					route(r, http.MethodDelete, "/webhook-subscriptions/{id}", noBody, s.deleteHookSubscription)
					post(r, "/webhook-subscriptions/{id}/deliveries/{did}/redeliver", smallBody, s.redeliverHook)
					post(r, "/alert-rules", smallBody, s.createAlertRule)
					route(r, http.MethodPut, "/alert-rules/{id}", smallBody, s.replaceAlertRule)
					route(r, http.MethodDelete, "/alert-rules/{id}", noBody, s.deleteAlertRule)
					route(r.With(s.requireEngine), http.MethodDelete, "/customers/{id}", noBody, s.eraseCustomer)
					r.Group(func(r chi.Router) {
						r.Use(s.requireProviders)
						post(r, "/providers", smallBody, s.createProvider)
						route(r, http.MethodPut, "/providers/{id}", smallBody, s.updateProvider)
						post(r, "/providers/{id}/test", smallBody, s.testProvider)
					})
				})
			})
		})
	})
	if err := s.checkBodyLimits(r); err != nil {
		panic(err) // a programming error: the route list above is wrong
	}
	return r
}

// segmentRoutes adds the Segment-compatible calls under r: keys of the
// ingest role or higher (editor, admin), as the write key of basic auth.
func (s *server) segmentRoutes(r chi.Router, post func(chi.Router, string, bodyLimit, http.HandlerFunc)) {
	r.Group(func(r chi.Router) {
		r.Use(noStore, s.authenticateSegment, s.rateLimit, s.checkParams,
			s.requireRole(kalcifer.RoleEditor, kalcifer.RoleIngest), s.requireEngine)
		for _, call := range []string{"identify", "track", "page", "screen", "group", "alias"} {
			post(r, "/"+call, segmentCallBody, s.segmentCallOf(call))
		}
		post(r, "/batch", segmentBatchBody, s.segmentBatchCall)
	})
}

// requireEngine answers 503 when the handler was built without an engine.
func (s *server) requireEngine(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.engine == nil {
			s.writeError(w, r, kalcifer.Errorf(codeUnavailable,
				"the journey engine is not running in this server, so %s %s cannot be served", r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireProviders answers 503 when the handler was built without the
// driver catalog.
func (s *server) requireProviders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.providers == nil {
			s.writeError(w, r, kalcifer.Errorf(codeUnavailable,
				"this server has no provider drivers, so %s %s cannot be served", r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notFound hands the paths of the web app to it, and answers the rest
// (anything under /api/, any other method) with a JSON 404.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.app != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.app.ServeHTTP(w, r)
		return
	}
	s.writeError(w, r, kalcifer.Errorf(kalcifer.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
}

// methodNotAllowed answers 405 with the Allow header listing the methods the
// path does accept.
func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if s.router.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	s.writeError(w, r, kalcifer.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
)

// requestID returns the id the request runs under ("" outside a request).
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// withRequestID takes the caller's X-Request-ID when it is a sane token, so
// that logs correlate across services, and makes one up otherwise. The id is
// echoed in the response.
func (s *server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = kalcifer.NewID("req")
		}
		w.Header().Set("X-Request-ID", id)
		ctx := logctx.With(context.WithValue(r.Context(), requestIDKey, id), slog.String(logctx.RequestID, id))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// validRequestID accepts 1 to 128 letters, digits and "-_.:", nothing that
// could forge a log line.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// accessLog writes one debug line per request, after it is answered.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		ctx, learned := logctx.Collect(r.Context())
		next.ServeHTTP(ww, r.WithContext(ctx))
		s.logger.DebugContext(logctx.With(r.Context(), learned()...), "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)))
	})
}

// recoverer turns a panic in a handler into a logged 500, so one bad request
// never takes the process down. It must run inside accessLog, whose writer
// tells whether a response was already started.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec) // net/http's way to abort a response; let it through
			}
			s.logger.ErrorContext(r.Context(), "panic in handler",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Any("panic", rec),
				slog.String("stack", string(debug.Stack())))
			if ww, ok := w.(middleware.WrapResponseWriter); ok && ww.Status() != 0 {
				return // the response has begun; nothing sane can be added
			}
			s.writeJSON(w, r, http.StatusInternalServerError, errorBody{Error: errorObject{
				Code: kalcifer.EINTERNAL, Message: "internal error",
			}})
		}()
		next.ServeHTTP(w, r)
	})
}

// byteSize formats n bytes for an error message.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

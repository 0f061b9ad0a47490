package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/logctx"
)

// tracerName names the API's spans' instrumentation scope.
const tracerName = "github.com/kalcifer/kalcifer/api"

// telemetry measures every request: a server span (continuing the caller's
// trace when it sends a W3C traceparent header) named after the route
// pattern, and the request duration histogram by method, route pattern and
// status. Patterns, never raw paths, name requests, so a client cannot make
// new series or span names by inventing paths.
func (s *server) telemetry(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String(logctx.RequestID, requestID(ctx))))
		defer span.End()
		ww, ok := w.(middleware.WrapResponseWriter)
		if !ok {
			ww = middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		}
		next.ServeHTTP(ww, r.WithContext(ctx))
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		route := routePattern(r)
		if route != "" {
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		s.metrics.Request(r.Method, route, status, time.Since(start))
	})
}

// routePattern is the pattern of the route that took r ("" for none): read
// after the router ran, from its route context.
func routePattern(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return ""
	}
	p := rc.RoutePattern()
	if p == "" || p == "/*" || strings.HasSuffix(p, "/*") {
		return "" // the not-found handler, or the web app's fallback
	}
	return p
}

// pathIdentities maps the path parameters of route patterns to the log
// attributes they name: /journeys/{id}, /instances/{id} and
// /customers/{id} name a journey, an instance and a customer;
// /webhooks/{journey_id} a journey. Other {id}s (keys, templates…) are not
// correlated.
func pathIdentities(pattern string) map[string]string {
	ids := map[string]string{}
	for prefix, attr := range map[string]string{"/journeys/{id}": logctx.JourneyID, "/instances/{id}": logctx.InstanceID,
		"/customers/{id}": logctx.CustomerID} {
		if strings.HasPrefix(pattern, prefix) {
			ids["id"] = attr
		}
	}
	if strings.Contains(pattern, "{journey_id}") {
		ids["journey_id"] = logctx.JourneyID
	}
	return ids
}

// correlated adds the identities named in the route's path to the
// request's log context and span, so every record logged while serving it
// carries them.
func correlated(pattern string, h http.HandlerFunc) http.HandlerFunc {
	ids := pathIdentities(pattern)
	if len(ids) == 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		attrs := make([]slog.Attr, 0, len(ids))
		span := trace.SpanFromContext(r.Context())
		for param, attr := range ids {
			v := chi.URLParam(r, param)
			attrs = append(attrs, slog.String(attr, v))
			span.SetAttributes(attribute.String("kalcifer."+attr, v))
		}
		h(w, r.WithContext(logctx.With(r.Context(), attrs...)))
	}
}

// withPrincipal returns r carrying p: the principal for handlers, its
// tenant for the log context and the span.
func withPrincipal(r *http.Request, p kalcifer.Principal) *http.Request {
	ctx := context.WithValue(r.Context(), principalKey, p)
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("kalcifer.tenant_id", p.TenantID))
	return r.WithContext(logctx.With(ctx, slog.String(logctx.TenantID, p.TenantID)))
}

// serveMetrics answers GET /metrics: Prometheus' text format when this
// handler serves metrics, and otherwise a 404 saying where they are.
func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsHandler == nil {
		s.writeError(w, r, kalcifer.Errorf(kalcifer.ENOTFOUND,
			"metrics are not served on this address: they are off (KALCIFER_METRICS=off) or served on KALCIFER_METRICS_ADDR"))
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}

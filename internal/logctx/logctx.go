// Package logctx correlates log records: the identities a piece of work is
// about (request, tenant, journey, instance, customer) ride in its context,
// and the Handler adds them, with the trace and span ids of the context's
// OpenTelemetry span, to every record logged with that context. Code that
// learns an identity adds it once (With, Instance, Send); every log call
// made with the context then carries it, instead of each call repeating it.
//
// It imports the OpenTelemetry trace API only (no SDK).
package logctx

import (
	"context"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/kalcifer/kalcifer"
)

// The attribute keys, the same in every log record.
const (
	RequestID  = "request_id"
	TenantID   = "tenant_id"
	JourneyID  = "journey_id"
	InstanceID = "instance_id"
	CustomerID = "customer_id"
)

type key struct{}

type collectorKey struct{}

// collector gathers what With adds anywhere below the context that made
// it (Collect).
type collector struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// Collect returns ctx noting every attribute With adds to it or to the
// contexts made from it, and a function returning them. A middleware that
// logs after the handler (an access log) learns that way what the handler
// learned: the tenant, the journey.
func Collect(ctx context.Context) (context.Context, func() []slog.Attr) {
	c := &collector{}
	return context.WithValue(ctx, collectorKey{}, c), func() []slog.Attr {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]slog.Attr(nil), c.attrs...)
	}
}

// With returns ctx carrying attrs besides those it already carries; an
// attribute with an empty value is left out, and a key given again
// replaces the earlier value.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	if c, ok := ctx.Value(collectorKey{}).(*collector); ok {
		c.mu.Lock()
		c.attrs = append(c.attrs, attrs...)
		c.mu.Unlock()
	}
	old, _ := ctx.Value(key{}).([]slog.Attr)
	out := make([]slog.Attr, 0, len(old)+len(attrs))
	for _, a := range old {
		if !has(attrs, a.Key) {
			out = append(out, a)
		}
	}
	for i, a := range attrs {
		if (a.Value.Kind() == slog.KindString && a.Value.String() == "") || has(attrs[i+1:], a.Key) {
			continue // empty, or given again later
		}
		out = append(out, a)
	}
	return context.WithValue(ctx, key{}, out)
}

func has(attrs []slog.Attr, k string) bool {
	for _, a := range attrs {
		if a.Key == k {
			return true
		}
	}
	return false
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	a, _ := ctx.Value(key{}).([]slog.Attr)
	return a
}

// Instance returns ctx carrying an instance's identities.
func Instance(ctx context.Context, tenantID, journeyID, instanceID, customerID string) context.Context {
	return With(ctx, slog.String(TenantID, tenantID), slog.String(JourneyID, journeyID),
		slog.String(InstanceID, instanceID), slog.String(CustomerID, customerID))
}

// Send returns ctx carrying the identities of a send's instance.
func Send(ctx context.Context, s *kalcifer.Send) context.Context {
	return Instance(ctx, s.TenantID, s.JourneyID, s.InstanceID, s.CustomerID)
}

// Handler adds the context's attributes and trace ids to every record
// before h handles it.
type Handler struct{ h slog.Handler }

// Wrap returns l logging through a Handler; a logger that already does is
// returned as it is, and nil stays nil.
func Wrap(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	if _, ok := l.Handler().(*Handler); ok {
		return l
	}
	return slog.New(&Handler{l.Handler()})
}

// Enabled reports whether the wrapped handler handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool { return h.h.Enabled(ctx, level) }

// Handle adds the context's attributes, then the trace and span ids of its
// span when it is recording one, and hands the record on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := Attrs(ctx); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.h.Handle(ctx, r)
}

// WithAttrs returns a Handler whose wrapped handler has attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler { return &Handler{h.h.WithAttrs(attrs)} }

// WithGroup returns a Handler whose wrapped handler opens group.
func (h *Handler) WithGroup(name string) slog.Handler { return &Handler{h.h.WithGroup(name)} }

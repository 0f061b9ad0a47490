package engine

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kalcifer/kalcifer"
)

// tracerName names the engine's spans' instrumentation scope.
const tracerName = "github.com/kalcifer/kalcifer/engine"

// measured wraps one loop's batch: a batch that found work, or failed, is
// observed (metrics.Metrics.Batch) and becomes a span "engine.<loop>".
// Empty polls are neither, so an idle server traces nothing.
func (rt *Runtime) measured(loop string, work func(context.Context) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		start := time.Now()
		n, err := work(ctx)
		if n > 0 || err != nil {
			rt.observeBatch(ctx, loop, start, n, err)
		}
		return n, err
	}
}

// observeBatch records a batch of loop begun at start that handled n items.
// The span is made afterwards, back-dated to start, since only then is it
// known whether the batch found work.
func (rt *Runtime) observeBatch(ctx context.Context, loop string, start time.Time, n int, err error) {
	rt.metrics.Batch(loop, time.Since(start))
	_, span := rt.tracer.Start(ctx, "engine."+loop, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("kalcifer.loop", loop), attribute.Int("kalcifer.batch.items", n)))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// providerName names the provider a call went through, for metrics: the
// account's driver (sendgrid, smtp…), or the server provider's name (log,
// webhook). Both come from a fixed list, so the label stays bounded.
func (c *call) providerName() string {
	if c.account != nil {
		return c.account.Type
	}
	return c.provider.Name()
}

// label is the outcome's metrics label: the send status, or retry for a
// call to be tried again.
func (o outcome) label() string {
	if o.retryAfter > 0 && o.status == kalcifer.SendFailed {
		return "retry"
	}
	return string(o.status)
}

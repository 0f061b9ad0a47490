package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// otlpTracesURL reads where traces go from the standard OpenTelemetry
// variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended (the OTLP/HTTP
// rule). Neither set, or OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none,
// traces nothing. Kalcifer speaks OTLP over HTTP/protobuf only, so another
// protocol or exporter is refused rather than ignored.
func otlpTracesURL(env func(string) string) (string, error) {
	if strings.EqualFold(env("OTEL_SDK_DISABLED"), "true") {
		return "", nil
	}
	switch e := env("OTEL_TRACES_EXPORTER"); e {
	case "", "otlp":
	case "none":
		return "", nil
	default:
		return "", fmt.Errorf("OTEL_TRACES_EXPORTER=%s is not supported: Kalcifer exports traces with otlp (OTLP over HTTP/protobuf) or none", e)
	}
	raw := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if raw == "" {
		if base := env("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			raw = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	if raw == "" {
		return "", nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := env(name); p != "" && p != "http/protobuf" {
			return "", fmt.Errorf("%s=%s is not supported: Kalcifer exports traces as OTLP over HTTP/protobuf (http/protobuf)", name, p)
		}
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://otel-collector:4318, not %q", raw)
	}
	return raw, nil
}

// newTracing returns a tracer provider exporting in batches to endpoint
// over OTLP/HTTP. The exporter honours the other OTEL_EXPORTER_OTLP_*
// variables (headers, timeout, compression, certificates), the provider
// OTEL_TRACES_SAMPLER and its argument, and the resource OTEL_SERVICE_NAME
// and OTEL_RESOURCE_ATTRIBUTES (the service is "kalcifer" unless named).
func newTracing(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "kalcifer"),
		attribute.String("service.version", version)), resource.WithFromEnv(), resource.WithHost())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

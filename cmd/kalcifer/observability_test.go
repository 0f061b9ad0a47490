package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kalcifer/kalcifer"
)

// lockedBuffer is a log destination the server's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records written so far.
func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		out = append(out, rec)
	}
	return out
}

// startLogged runs the real server with env, logging JSON at debug level
// into logs.
func startLogged(t *testing.T, env map[string]string, logs io.Writer) *Main {
	t.Helper()
	env["KALCIFER_ADDR"] = "127.0.0.1:0"
	c, err := LoadConfig(envOf(env), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := &Main{Config: c, Logger: logger, Out: io.Discard}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	return m
}

// scrape reads GET url in Prometheus' text format: each series (name and
// labels, as written) with its value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s = %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the series of metric name whose labels include every one of
// labels (each written as name="value").
func sum(series map[string]float64, name string, labels ...string) float64 {
	total := 0.0
	for k, v := range series {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(k, l)
		}
		if ok {
			total += v
		}
	}
	return total
}

// observedJourneys are two journeys whose one webhook call succeeds (ok)
// and fails for good (fail: the receiver answers 400).
func observedJourneys(t *testing.T, c client, hookURL string) (ok, fail kalcifer.Journey) {
	t.Helper()
	for _, j := range []struct {
		into        *kalcifer.Journey
		name, event string
		path        string
	}{{&ok, "Webhook ok", "signed_up", "/ok"}, {&fail, "Webhook fails", "bought", "/fail"}} {
		graph := `{"nodes":[
			{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"` + j.event + `"}},
			{"id":"hook","type":"call_webhook","position":{"x":0,"y":100},"config":{"url":"` + hookURL + j.path + `"}}],
			"edges":[{"id":"e1","source":"entry","target":"hook"}]}`
		c.do("POST", "/api/v1/journeys", adminKey, `{"name":"`+j.name+`","graph":`+graph+`}`, 201, j.into)
		c.do("POST", "/api/v1/journeys/"+j.into.ID+"/activate", adminKey, "", 200, nil)
	}
	return ok, fail
}

// ended waits until the journey has n instances, all ended, and returns
// them with their steps and sends.
func ended(t *testing.T, c client, journeyID string, n int) []instanceDetail {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var list kalcifer.Page[kalcifer.Instance]
		c.do("GET", "/api/v1/journeys/"+journeyID+"/instances", adminKey, "", 200, &list)
		done := len(list.Data) == n
		for _, in := range list.Data {
			done = done && in.EndedAt != nil
		}
		if done {
			out := make([]instanceDetail, n)
			for i, in := range list.Data {
				c.do("GET", "/api/v1/instances/"+in.ID, adminKey, "", 200, &out[i])
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("journey %s: instances did not end: %+v", journeyID, list.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After journeys ran on the real server — events stored and one repeated,
// a webhook sent twice and refused for good once (a failed send ends its
// path; the instance completes) — /metrics shows each counter
// moved by exactly what happened, on each backend; paths no route takes
// share one series; and the log records of the failed send and of the
// requests carry the ids of what they are about.
func TestMetricsAfterJourneys(t *testing.T) {
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hook, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fail" {
					http.Error(w, "no such customer", http.StatusBadRequest)
				}
			})
			env := envFor(t)
			env["KALCIFER_ADMIN_API_KEY"] = adminKey
			env["KALCIFER_ALLOW_PRIVATE_NETWORKS"] = "true"
			logs := &lockedBuffer{}
			m := startLogged(t, env, logs)
			defer m.Close()
			base := "http://" + m.Addr().String()
			c := client{t, base}
			okJ, failJ := observedJourneys(t, c, hook.URL)

			c.do("POST", "/api/v1/events", adminKey, `{"id":"e-a","customer_id":"a","event_type":"signed_up"}`, 202, nil)
			c.do("POST", "/api/v1/events", adminKey, `{"id":"e-b","customer_id":"b","event_type":"signed_up"}`, 202, nil)
			c.do("POST", "/api/v1/events", adminKey, `{"id":"e-c","customer_id":"c","event_type":"bought"}`, 202, nil)
			c.do("POST", "/api/v1/events", adminKey, `{"id":"e-a","customer_id":"a","event_type":"signed_up"}`, 200, nil) // a repeat
			instances := append(ended(t, c, okJ.ID, 2), ended(t, c, failJ.ID, 1)...)

			got := scrape(t, base+"/metrics")
			want := map[string]float64{
				`kalcifer_events_ingested_total{outcome="stored"}`:                                                     3,
				`kalcifer_events_ingested_total{outcome="duplicate"}`:                                                  1,
				`kalcifer_instances_total{event="started"}`:                                                            3,
				`kalcifer_sends_total{channel="webhook",status="sent"}`:                                                2,
				`kalcifer_sends_total{channel="webhook",status="failed"}`:                                              1,
				`kalcifer_provider_calls_total{channel="webhook",outcome="sent",provider="webhook"}`:                   2,
				`kalcifer_provider_calls_total{channel="webhook",outcome="failed",provider="webhook"}`:                 1,
				`kalcifer_inbox_backlog`:                                                                               0,
				`kalcifer_send_backlog`:                                                                                0,
				`kalcifer_http_request_duration_seconds_count{code="202",method="POST",route="/api/v1/events"}`:        3,
				`kalcifer_http_request_duration_seconds_count{code="200",method="POST",route="/api/v1/events"}`:        1,
				`kalcifer_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/instances/{id}"}`: 3,
			}
			// Every step of the three histories, by node type; and every
			// status the instances ended in.
			for _, in := range instances {
				want[`kalcifer_instances_total{event="`+string(in.Status)+`"}`]++
				for _, s := range in.Steps {
					want[`kalcifer_steps_total/`+s.Type]++
				}
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				v := got[k]
				if nodeType, ok := strings.CutPrefix(k, "kalcifer_steps_total/"); ok {
					v = sum(got, "kalcifer_steps_total", `node_type="`+nodeType+`"`)
				}
				if v != want[k] {
					t.Errorf("%s = %v, want %v", k, v, want[k])
				}
			}
			if sum(got, "kalcifer_timer_lag_seconds_count") != 0 || sum(got, "kalcifer_store_transaction_duration_seconds_count") == 0 ||
				sum(got, "kalcifer_engine_batch_duration_seconds_count", `loop="events"`) == 0 {
				t.Errorf("timer lag, transaction and batch histograms: %v, %v, %v", sum(got, "kalcifer_timer_lag_seconds_count"),
					sum(got, "kalcifer_store_transaction_duration_seconds_count"), sum(got, "kalcifer_engine_batch_duration_seconds_count"))
			}

			// Paths no route takes are one series, whatever the path; a
			// missing journey is counted under its route's pattern.
			missing := kalcifer.NewID("jrn")
			c.do("GET", "/api/v1/no/such/route-1", adminKey, "", 404, nil)
			c.do("GET", "/api/v1/journeys/"+missing, adminKey, "", 404, nil)
			before := scrape(t, base+"/metrics")
			for i := 2; i <= 4; i++ {
				c.do("GET", "/api/v1/no/such/route-"+strconv.Itoa(i), adminKey, "", 404, nil)
				c.do("DELETE", "/nowhere/"+strconv.Itoa(i), "", "", 404, nil)
			}
			after := scrape(t, base+"/metrics")
			if added := newSeries(after, before, "kalcifer_http_request_duration_seconds_count"); len(added) != 1 ||
				added[0] != `kalcifer_http_request_duration_seconds_count{code="404",method="DELETE",route="unmatched"}` {
				t.Errorf("the 404s added request series %v, want only DELETE's unmatched one", added)
			}
			if v := after[`kalcifer_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"}`]; v != 4 {
				t.Errorf("unmatched GETs = %v, want 4", v)
			}
			if v := after[`kalcifer_http_request_duration_seconds_count{code="404",method="GET",route="/api/v1/journeys/{id}"}`]; v != 1 {
				t.Errorf("GET of a missing journey = %v, want 1 under its route", v)
			}
			for k := range after {
				if strings.Contains(k, "route-") || strings.Contains(k, "nowhere") || strings.Contains(k, missing) {
					t.Errorf("a raw path became a label: %s", k)
					break
				}
			}

			// The failed send's record names its tenant, journey, instance
			// and customer; each request's record its request id, tenant and
			// the ids in its path.
			var failed instanceDetail
			for _, in := range instances {
				if in.JourneyID == failJ.ID {
					failed = in
				}
			}
			recs := logs.records(t)
			if !hasRecord(recs, map[string]string{"msg": "send failed", "level": "WARN", "tenant_id": kalcifer.DefaultTenantID,
				"journey_id": failJ.ID, "instance_id": failed.ID, "customer_id": "c", "channel": "webhook"}) {
				t.Errorf("no correlated send failure in the logs:\n%s", dump(recs, "send failed"))
			}
			if !hasRecord(recs, map[string]string{"msg": "http request", "path": "/api/v1/instances/" + failed.ID,
				"tenant_id": kalcifer.DefaultTenantID, "instance_id": failed.ID, "request_id": "req_"}) {
				t.Errorf("no correlated request record:\n%s", dump(recs, "http request"))
			}
		})
	}
}

// hasRecord reports whether a record has every attribute of want (a value
// ending in "_" is a prefix).
func hasRecord(recs []map[string]any, want map[string]string) bool {
	for _, rec := range recs {
		ok := true
		for k, v := range want {
			got, _ := rec[k].(string)
			ok = ok && (got == v || strings.HasSuffix(v, "_") && strings.HasPrefix(got, v))
		}
		if ok {
			return true
		}
	}
	return false
}

// dump shows the records with message msg.
func dump(recs []map[string]any, msg string) string {
	var b strings.Builder
	for _, rec := range recs {
		if rec["msg"] == msg {
			raw, _ := json.Marshal(rec)
			b.Write(append(raw, '\n'))
		}
	}
	return b.String()
}

// newSeries lists the series of metric name that a has and b has not.
func newSeries(a, b map[string]float64, name string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok && strings.HasPrefix(k, name+"{") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// otlpCollector is a local OTLP/HTTP receiver: it decodes each export
// request with the collector's own protobuf types and keeps its spans.
type otlpCollector struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func (o *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces of application/x-protobuf", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				o.services = append(o.services, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// span finds a span by name.
func (o *otlpCollector) span(name string) *tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.spans {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (o *otlpCollector) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range o.spans {
		out = append(out, s.Name)
	}
	return out
}

func spanAttr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the real server exports its spans
// over OTLP/HTTP: a request's span named by its route pattern, continuing
// the caller's traceparent, with the route, status and tenant; and a span
// of the engine's batch that routed the event.
func TestTracesExportedOverOTLP(t *testing.T) {
	t.Parallel()
	collector := &otlpCollector{}
	srv := httptest.NewServer(collector)
	defer srv.Close()
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey, "OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL}
	m := start(t, env, io.Discard)
	closed := false
	defer func() {
		if !closed {
			m.Close()
		}
	}()
	c := client{t, "http://" + m.Addr().String()}
	var j kalcifer.Journey
	c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Traced","graph":`+e2eGraph+`}`, 201, &j)
	c.do("POST", "/api/v1/journeys/"+j.ID+"/activate", adminKey, "", 200, nil)
	c.do("POST", "/api/v1/events", adminKey, `{"customer_id":"t1","event_type":"signed_up"}`, 202, nil)
	for deadline := time.Now().Add(20 * time.Second); ; {
		var list kalcifer.Page[kalcifer.Instance]
		c.do("GET", "/api/v1/journeys/"+j.ID+"/instances", adminKey, "", 200, &list)
		if len(list.Data) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event was not routed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", c.base+"/api/v1/journeys/"+j.ID, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := m.Close(); err != nil { // flushes the spans
		t.Fatalf("close: %v", err)
	}
	closed = true

	s := collector.span("GET /api/v1/journeys/{id}")
	if s == nil {
		t.Fatalf("no request span; spans: %v", collector.names())
	}
	if hex.EncodeToString(s.TraceId) != traceID || s.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("request span trace %x kind %v, want the caller's trace %s, server", s.TraceId, s.Kind, traceID)
	}
	for key, want := range map[string]string{"http.route": "/api/v1/journeys/{id}", "kalcifer.tenant_id": kalcifer.DefaultTenantID,
		"kalcifer.journey_id": j.ID} {
		if v := spanAttr(s, key); v.GetStringValue() != want {
			t.Errorf("request span %s = %v, want %q", key, v, want)
		}
	}
	if v := spanAttr(s, "http.response.status_code"); v.GetIntValue() != 200 {
		t.Errorf("request span status = %v", v)
	}
	b := collector.span("engine.events")
	if b == nil {
		t.Fatalf("no engine batch span; spans: %v", collector.names())
	}
	if v := spanAttr(b, "kalcifer.batch.items"); v.GetIntValue() < 1 {
		t.Errorf("batch span items = %v, want at least the one event", v)
	}
	if !slices.Contains(collector.services, "kalcifer") {
		t.Errorf("service names %v, want kalcifer", collector.services)
	}
}

// Metrics may move to an address of their own; the API's address then
// says where they went.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_METRICS_ADDR": "127.0.0.1:0"}, io.Discard)
	defer m.Close()
	c := client{t, "http://" + m.Addr().String()}
	c.do("GET", "/metrics", "", "", 404, nil)
	got := scrape(t, "http://"+m.MetricsAddr().String()+"/metrics")
	if _, ok := got["kalcifer_inbox_backlog"]; !ok {
		t.Fatalf("no backlog gauge among %d series", len(got))
	}
	off := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_METRICS": "off"}, io.Discard)
	defer off.Close()
	if off.Metrics != nil || off.MetricsAddr() != nil {
		t.Fatal("KALCIFER_METRICS=off still measures")
	}
	client{t, "http://" + off.Addr().String()}.do("GET", "/metrics", "", "", 404, nil)
}

// The metrics and tracing settings refuse what they would not do.
func TestObservabilitySettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
		wantURL string
	}{
		{env: map[string]string{"KALCIFER_METRICS": "yes"}, wantErr: "KALCIFER_METRICS must be on or off"},
		{env: map[string]string{"KALCIFER_METRICS": "off", "KALCIFER_METRICS_ADDR": ":9464"}, wantErr: "KALCIFER_METRICS=off serves no metrics"},
		{env: map[string]string{"KALCIFER_METRICS_ADDR": "9464"}, wantErr: "KALCIFER_METRICS_ADDR must be host:port"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, wantURL: "http://collector:4318/v1/traces"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/traces"},
			wantURL: "https://b/traces"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "OTLP over HTTP/protobuf"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "not supported"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, wantErr: "must be an http(s) URL"},
		{env: map[string]string{}},
	} {
		c, err := LoadConfig(envOf(tc.env), nil)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.wantErr == "" && c.OTLPTracesURL != tc.wantURL:
			t.Errorf("%v: traces URL %q, want %q", tc.env, c.OTLPTracesURL, tc.wantURL)
		}
	}
}

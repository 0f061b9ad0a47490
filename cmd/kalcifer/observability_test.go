package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

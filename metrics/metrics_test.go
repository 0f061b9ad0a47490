package metrics_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/metrics"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// exported returns the name of every metric a server exports, each
// touched once so that every vector has a series, with the suffixes of
// histograms' series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	b, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(slog.New(slog.DiscardHandler))
	st := store.New(m.Backend(b), kalcifer.SystemClock{}, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	m.Watch(st)
	m.Handler() // whatever serving registers counts too

	m.EventsIngested("stored", 1)
	m.TimerFired(time.Second)
	m.ProviderCalled("email", "smtp", "sent", time.Second)
	m.Batch("events", time.Second)
	m.Request("GET", "/health", 200, time.Second)
	m.Transaction(time.Second)
	m.Committed(&store.Written{Instances: []store.SavedInstance{{Created: true, Status: kalcifer.InstanceActive,
		Steps: []kalcifer.Step{{Type: "wait", Result: "waiting"}}}}, Sends: []kalcifer.Send{{Channel: "email", Status: kalcifer.SendSent}}})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_count", "_sum"} {
				names[f.GetName()+s] = true
			}
		}
	}
	// Gauges of migrations at work have series only while one runs.
	names["kalcifer_migration_instances"], names["kalcifer_migration_moved_instances"] = true, true
	return names
}

// Every metric is named kalcifer_*.
func TestEveryMetricIsPrefixed(t *testing.T) {
	for name := range exported(t) {
		if !strings.HasPrefix(name, "kalcifer_") {
			t.Errorf("metric %s is not named kalcifer_*", name)
		}
	}
}

// promQLWords are the functions, aggregations and keywords the dashboard's
// expressions may use beside metric names.
var promQLWords = []string{"sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "clamp_min",
	"by", "without", "on", "ignoring", "and", "or", "unless", "label_values"}

var (
	labelMatchers = regexp.MustCompile(`\{[^}]*\}`)
	grouping      = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\([^)]*\)`)
	ranges        = regexp.MustCompile(`\[[^\]]*\]`)
	identifiers   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	numbers       = regexp.MustCompile(`\b\d+(\.\d+)?(e-?\d+)?\b`)
	labelValues   = regexp.MustCompile(`label_values\(([^,]+),\s*\w+\)`) // its second argument is a label
)

// metricNames returns the metric names an expression reads: what is left
// once label matchers, groupings, ranges, numbers and PromQL's own words
// are taken out.
func metricNames(expr string) []string {
	expr = labelValues.ReplaceAllString(expr, "$1")
	expr = labelMatchers.ReplaceAllString(expr, " ")
	expr = grouping.ReplaceAllString(expr, " ")
	expr = ranges.ReplaceAllString(expr, " ")
	expr = numbers.ReplaceAllString(expr, " ")
	var out []string
	for _, id := range identifiers.FindAllString(expr, -1) {
		if !slices.Contains(promQLWords, id) {
			out = append(out, id)
		}
	}
	return out
}

// The Grafana dashboard reads only metrics the server exports: each
// expression (and the instance variable's query) names at least one, and
// none that does not exist.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/kalcifer.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	names := exported(t)
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, q["query"].(string))
		}
	}
	if len(exprs) < 15 {
		t.Fatalf("only %d expressions in the dashboard", len(exprs))
	}
	for _, e := range exprs {
		found := metricNames(e)
		if len(found) == 0 {
			t.Errorf("expression names no metric: %s", e)
		}
		for _, n := range found {
			if !names[n] {
				t.Errorf("expression names %s, which the server does not export: %s", n, e)
			}
		}
	}
	// The check itself catches a name that is not exported.
	if got := metricNames(`sum by (le) (rate(kalcifer_nope_total{a="b"}[5m])) / 1e-9`); !slices.Equal(got, []string{"kalcifer_nope_total"}) {
		t.Fatalf("metricNames = %v", got)
	}
}

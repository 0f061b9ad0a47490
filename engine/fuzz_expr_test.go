package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/internal/fuzzcheck"
)

// FuzzExpression feeds arbitrary CEL expressions through the path every
// journey takes: graph.Validate (the expression as a condition node's
// config and as the exit criteria), then, when it is accepted,
// engine.Compile and a run for a customer with lists and maps of
// graph.ExprAssumedSize items. Properties: no panic and each step returns
// within fuzzcheck.Bound; a refused expression is reported only as problems
// on the two fields that hold it; an accepted one compiles (validation and
// the engine agree) and runs to an instance status, its evaluation errors
// failing the instance rather than the run, and never stopping at the cost
// limit over data of the size validation priced it at. Seeds are the expressions of
// the repository's journeys and tests.
func FuzzExpression(f *testing.F) {
	for _, e := range seedExpressions(f) {
		f.Add(e)
	}
	customer := fuzzCustomer()
	f.Fuzz(func(t *testing.T, expr string) {
		g := conditionGraph(t, expr)
		var problems []graph.Problem
		fuzzcheck.Within(t, "graph.Validate", func() { problems = graph.Validate(g) })
		if len(problems) > 0 {
			for _, p := range problems {
				onCondition := p.NodeID == "cond" && strings.HasPrefix(p.Field, "config")
				if !onCondition && p.Field != "exit_criteria.expression" {
					t.Fatalf("a problem outside the expression fields: %+v", p)
				}
				if p.Message == "" {
					t.Fatalf("a problem without a message: %+v", p)
				}
			}
			return
		}
		prog, err := engine.Compile("j1", 1, g)
		if err != nil {
			t.Fatalf("validation accepted %q but the engine cannot compile it: %v", expr, err)
		}
		var out engine.Output
		fuzzcheck.Within(t, "Program.Run", func() {
			out, err = prog.Run(engine.Input{
				Now: time.Unix(1_800_000_000, 0), TenantID: "t1", InstanceID: "i1", Customer: customer,
				Wake: engine.Wake{Kind: engine.WakeStart, Event: &kalcifer.Event{
					Type: "signed_up", CustomerID: customer.ID, OccurredAt: time.Unix(1_800_000_000, 0),
					Data: json.RawMessage(`{"amount":75.5,"items":[1,2,3],"plan":"pro"}`),
				}},
			})
		})
		if err != nil {
			t.Fatalf("running accepted %q: %v", expr, err)
		}
		switch out.Status {
		case kalcifer.InstanceCompleted, kalcifer.InstanceExited, kalcifer.InstanceFailed:
		default:
			t.Fatalf("running %q ended %q, want completed, exited or failed", expr, out.Status)
		}
		if strings.Contains(out.Reason, "cost limit") {
			t.Fatalf("validation priced %q under the cost limit, but over data of the assumed size it stopped there: %s", expr, out.Reason)
		}
	})
}

// conditionGraph is entry → condition(expr) → two exits, with expr as the
// exit criteria too (with an event type, so that an empty expression is
// not a problem of its own).
func conditionGraph(t *testing.T, expr string) *graph.Graph {
	cfg, err := json.Marshal(graph.ConditionConfig{Expression: expr})
	if err != nil {
		t.Fatal(err)
	}
	return &graph.Graph{
		Nodes: []graph.Node{
			{ID: "entry", Type: graph.TypeEventEntry, Config: json.RawMessage(`{"event_type":"signed_up"}`)},
			{ID: "cond", Type: "condition", Config: cfg},
			{ID: "yes", Type: "journey_exit"},
			{ID: "no", Type: "journey_exit"},
		},
		Edges: []graph.Edge{
			{ID: "e1", Source: "entry", Target: "cond"},
			{ID: "e2", Source: "cond", Target: "yes", Branch: "true"},
			{ID: "e3", Source: "cond", Target: "no", Branch: "false"},
		},
		ExitCriteria: &graph.ExitCriteria{EventType: "unsubscribed", Expression: expr},
	}
}

// fuzzCustomer has lists, maps and strings of graph.ExprAssumedSize items,
// the size validation prices expressions at.
func fuzzCustomer() *kalcifer.Customer {
	orders := make([]any, graph.ExprAssumedSize)
	scores := map[string]any{}
	for i := range orders {
		orders[i] = map[string]any{"id": fmt.Sprint(i), "total": float64(i), "items": []any{int64(i), int64(i + 1)}}
		scores[fmt.Sprint("k", i)] = int64(i)
	}
	return &kalcifer.Customer{ID: "c1", Tags: []string{"vip", "trial"}, Attributes: map[string]any{
		"plan": "premium", "country": "NL", "ltv": 1200.5, "score": int64(7), "vip": true,
		"orders": orders, "scores": scores, "bio": strings.Repeat("x", graph.ExprAssumedSize),
	}}
}

// expressionPattern finds "expression" values in the repository's graphs
// and tests, as JSON or Go source writes them.
var expressionPattern = regexp.MustCompile(`\\?"expression\\?"\s*:\s*\\?"((?:[^"\\]|\\.)*?)\\?"[,}\s]`)

// seedExpressions collects the expressions the repository's journeys and
// tests use, with a few that reach the cost and type checks.
func seedExpressions(f *testing.F) []string {
	seeds := []string{
		"true", "customer.plan == 'premium'", "'vip' in customer.tags || customer.ltv > 1000.0",
		"customer.orders.exists(o, o.total > 50.0)", "customer.orders.all(o, o.items.all(i, i > 0))",
		"customer.orders.all(a, customer.orders.all(b, customer.orders.all(c, a.total >= 0.0)))",
		"size(customer.bio) > 3 && customer.bio.contains('x')", "event.data.amount / 0.0 > 1.0",
		"customer.score / 0 > 1", "1 + 2", "customer.plan ==", "(((", "journey.version > 0",
	}
	for _, path := range []string{"../examples/welcome-journey.json", "../graph/testdata/seed_example.json",
		"run_test.go", "../api/journeys_test.go", "../graph/validate_test.go", "../graph/cel_cost_test.go"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // a seed file moved: the literal seeds remain
		}
		for _, m := range expressionPattern.FindAllStringSubmatch(string(data), -1) {
			var s string
			if json.Unmarshal([]byte(`"`+m[1]+`"`), &s) == nil {
				seeds = append(seeds, s)
			}
		}
	}
	return seeds
}

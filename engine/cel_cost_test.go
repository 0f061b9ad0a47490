package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// costlyAtRunTime passes validation, which assumes lists of
// graph.ExprAssumedSize items, but over a customer list of 200,000 items it
// would take 20 million steps.
const costlyAtRunTime = `customer.items.all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))`

func bigList(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = int64(i + 1)
	}
	return l
}

// TestConditionCostLimit: a condition that is too costly for its customer
// stops at graph.ExprCostLimit and fails that instance with a reason, while
// another customer of the same journey goes on.
func TestConditionCostLimit(t *testing.T) {
	p := build(t, []string{entryNode, `c:condition:{"expression":"` + costlyAtRunTime + `"}`,
		`t:add_tag:{"tag":"t"}`, `f:add_tag:{"tag":"f"}`}, []string{"in->c", "c-true->t", "c-false->f"})

	began := time.Now()
	out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"items": bigList(200_000)}})
	if took := time.Since(began); took > 3*time.Second { // a hang guard: it took 5.5 s before the limit, ~0.1 s since
		t.Errorf("the costly condition took %v", took)
	}
	if out.Status != kalcifer.InstanceFailed || !strings.Contains(out.Reason, `node "c"`) || !strings.Contains(out.Reason, "cost") {
		t.Fatalf("costly condition: %s %q", out.Status, out.Reason)
	}

	out = start(t, p, &kalcifer.Customer{ID: "c2", Attributes: map[string]any{"items": bigList(300)}})
	if out.Status == kalcifer.InstanceFailed || len(out.AddTags) != 1 || out.AddTags[0] != "t" {
		t.Fatalf("a list of 300 items: %s %q %q", out.Status, out.Reason, trail(out))
	}
}

// TestExitCriteriaCostLimit: exit criteria too costly for a customer stop
// at the limit too; as with any exit expression that cannot be evaluated,
// the customer is taken as not meeting them.
func TestExitCriteriaCostLimit(t *testing.T) {
	p := build(t, []string{entryNode, `t:add_tag:{"tag":"t"}`}, []string{"in->t"}, func(g *graph.Graph) {
		g.ExitCriteria = &graph.ExitCriteria{Expression: costlyAtRunTime}
	})
	began := time.Now()
	out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"items": bigList(200_000)}})
	if took := time.Since(began); took > 3*time.Second { // a hang guard: it took 5.5 s before the limit, ~0.1 s since
		t.Errorf("the costly exit criteria took %v", took)
	}
	if out.Status == kalcifer.InstanceExited || len(out.AddTags) != 1 {
		t.Fatalf("costly exit criteria: %s %q %q", out.Status, out.Reason, trail(out))
	}
}

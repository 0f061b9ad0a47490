package graph

import (
	"strings"
	"testing"
)

// nestedAll is n .all() macros, each over a literal list of ten numbers,
// nested inside one another: the reported expression (n = 8) has 10^8
// innermost steps.
func nestedAll(n int) string {
	const list = "[1,2,3,4,5,6,7,8,9,10]"
	expr := "true"
	for i := n; i > 0; i-- {
		v := string(rune('a' + i - 1))
		expr = list + ".all(" + v + ", " + v + " > 0 && " + expr + ")"
	}
	return expr
}

// TestExpressionCostRefused: an expression whose estimated cost is above
// ExprCostLimit is refused at validation, for conditions and exit criteria,
// with a problem naming the field; it is never evaluated.
func TestExpressionCostRefused(t *testing.T) {
	hostile := map[string]string{
		"8 nested over literals": nestedAll(8),
		"6 nested over literals": nestedAll(6),
		"3 nested over customer": "customer.orders.all(a, customer.orders.all(b, customer.orders.all(c, a == b && b == c)))",
	}
	for name, expr := range hostile {
		t.Run(name, func(t *testing.T) {
			ps := Validate(chain("condition", `{"expression":"`+expr+`"}`, "true", "false"))
			if len(ps) != 1 || ps[0].NodeID != "n" || ps[0].Field != "config.expression" || !strings.Contains(ps[0].Message, "cost") {
				t.Fatalf("condition: want one cost problem at n config.expression, got %+v", ps)
			}
			g := chain("condition", `{"expression":"true"}`, "true", "false")
			g.ExitCriteria = &ExitCriteria{Expression: expr}
			ps = Validate(g)
			if len(ps) != 1 || ps[0].Field != "exit_criteria.expression" || !strings.Contains(ps[0].Message, "cost") {
				t.Fatalf("exit criteria: want one cost problem at exit_criteria.expression, got %+v", ps)
			}
		})
	}
}

// TestExpressionCostAllowsRealConditions: the conditions journeys are made
// of stay well inside the limit.
func TestExpressionCostAllowsRealConditions(t *testing.T) {
	for _, expr := range []string{
		`customer.plan == "pro" && customer.orders.size() > 3`,
		`event.data.total >= 1000`,
		`"vip" in customer.tags`,
		`customer.orders.exists(o, o.total > 100 && o.status == "paid")`,
		`customer.orders.all(o, o.items.size() < 50) && customer.tags.exists(t, t.startsWith("beta"))`,
		`customer.email.endsWith("@example.com") || customer.country in ["DE", "FR", "IT"]`,
		`customer.orders.filter(o, o.status == "paid").size() >= 2`,
		`customer.orders.exists(o, o.items.exists(i, i.sku == "A-100"))`,
		nestedAll(4),
	} {
		if err := CheckExpression(expr); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
}

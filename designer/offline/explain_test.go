package offline

import (
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// parallelJSON forks on the default branch (two paths at once), meets at a
// goal that does not end the journey, and goes on after it.
const parallelJSON = `{
  "nodes": [
    {"id": "go", "type": "scheduled_entry", "position": {"x": 0, "y": 0}, "config": {"cron": "0 9 * * 1", "timezone": "Europe/Paris", "segment_id": "lapsed"}},
    {"id": "mail", "type": "send_email", "position": {"x": 200, "y": -100}, "config": {"template_id": "we_miss_you", "subject": "Come back"}},
    {"id": "push", "type": "send_push", "position": {"x": 200, "y": 100}, "config": {"title": "We miss you", "body": "20% off today"}},
    {"id": "goal", "type": "goal_reached", "position": {"x": 400, "y": 0}, "config": {"goal_name": "reactivated"}},
    {"id": "tag", "type": "add_tag", "position": {"x": 600, "y": 0}, "config": {"tag": "winback_2026"}},
    {"id": "test", "type": "ab_split", "position": {"x": 800, "y": 0}, "config": {"variants": [{"key": "control", "weight": 3}, {"key": "offer", "weight": 1}]}},
    {"id": "hook", "type": "call_webhook", "position": {"x": 1000, "y": 0}, "config": {"url": "https://crm.example.com/hook"}},
    {"id": "vip", "type": "condition", "position": {"x": 1000, "y": 100}, "config": {"expression": "customer.lifetime_value >= 500 && \"vip\" in customer.tags"}},
    {"id": "call", "type": "update_profile", "position": {"x": 1200, "y": 100}, "config": {"set": {"needs_call": true}}},
    {"id": "bye", "type": "journey_exit", "position": {"x": 1200, "y": 200}, "config": {"reason": "not a VIP"}}
  ],
  "edges": [
    {"id": "1", "source": "go", "target": "mail"},
    {"id": "2", "source": "go", "target": "push"},
    {"id": "3", "source": "mail", "target": "goal"},
    {"id": "4", "source": "push", "target": "goal"},
    {"id": "5", "source": "goal", "target": "tag"},
    {"id": "6", "source": "tag", "target": "test"},
    {"id": "7", "source": "test", "target": "hook", "branch": "control"},
    {"id": "8", "source": "test", "target": "vip", "branch": "offer"},
    {"id": "9", "source": "vip", "target": "call", "branch": "true"},
    {"id": "10", "source": "vip", "target": "bye", "branch": "false"}
  ],
  "exit_criteria": {"expression": "customer.plan == 'pro'"}
}`

func TestExplainSeedExample(t *testing.T) {
	t.Parallel()
	text := explain(seedGraph(t))
	for _, want := range []string{
		`Customers enter this journey when they sign up (event "signed_up"), only when its plan is "premium".`,
		`1. Sends the email "welcome_email" via sendgrid from hello@example.com.`,
		`2. Waits up to 3 days for them to open the email (event "email_opened").`,
		`- If they open the email within 3 days:`,
		`3. Sends the email "engaged_followup".`,
		`- Otherwise, if they have not done so within 3 days:`,
		`4. Sends the email "reminder_email".`,
		`Then, whichever path they took:`,
		`5. Records that they reached the goal "activated" and ends the journey for them.`,
		`Customers leave the journey at any point when they unsubscribe (event "unsubscribed").`,
		`at most 2 emails per day and 1 SMS message per day`,
		`Conversion goal: "activated".`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, `"activated" and ends`); n != 1 {
		t.Errorf("the goal where the branches meet is told %d times, want once:\n%s", n, text)
	}
	if again := explain(seedGraph(t)); again != text {
		t.Error("explain is not deterministic")
	}
}

func TestExplainParallelPathsAndSplits(t *testing.T) {
	t.Parallel()
	text := explain(mustGraph(t, parallelJSON))
	for _, want := range []string{
		`The journey starts every Monday at 09:00 for the customers in the segment "lapsed" (times in Europe/Paris).`,
		`Then customers follow 2 paths at the same time:`,
		`- Path 1:`,
		`Sends the email "we_miss_you" with the subject "Come back".`,
		`Sends a push notification: "We miss you".`,
		`When the paths meet again:`,
		`Records that they reached the goal "reactivated"; they go on.`,
		`Tags the customer "winback_2026".`,
		`Splits customers at random into an A/B test: 75% to variant control and 25% to variant offer.`,
		`- Variant offer (25%):`,
		`Calls the webhook POST https://crm.example.com/hook.`,
		`Checks whether the customer's lifetime value is at least 500 and the customer's tags include "vip".`,
		`Updates the customer's profile: sets needs call to true.`,
		`Ends the journey for them (not a VIP).`,
		`Customers leave the journey at any point as soon as the customer's plan is "pro".`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}

func TestExplainEdgeCases(t *testing.T) {
	t.Parallel()
	if got := explain(&graph.Graph{}); !strings.Contains(got, "empty") {
		t.Errorf("empty graph: %q", got)
	}
	// Two entries onto one email, then a goal that does not end the journey.
	two := mustGraph(t, `{"nodes": [
	  {"id": "a", "type": "event_entry", "position": {"x": 0, "y": 0}, "config": {"event_type": "cart_abandoned"}},
	  {"id": "b", "type": "webhook_entry", "position": {"x": 0, "y": 0}, "config": {"description": "Shopify checkout hook"}},
	  {"id": "m", "type": "send_sms", "position": {"x": 0, "y": 0}, "config": {"template_id": "cart_sms"}},
	  {"id": "g", "type": "goal_reached", "position": {"x": 0, "y": 0}, "config": {"goal_name": "recovered", "exit_after_goal": false}}],
	  "edges": [{"id": "1", "source": "a", "target": "m"}, {"id": "2", "source": "b", "target": "m"}, {"id": "3", "source": "m", "target": "g"}]}`)
	text := explain(two)
	for _, want := range []string{
		"Customers enter this journey in 2 ways.",
		`Entry 1: customers enter this journey when they abandon their cart (event "cart_abandoned").`,
		`Entry 2: customers enter this journey when another system calls its webhook (Shopify checkout hook).`,
		`1. Sends an SMS from the template "cart_sms".`,
		`Then they continue at step 1.`,
		`2. Records that they reached the goal "recovered".`,
		"The journey ends here for them.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	// A branch that skips straight to where the paths meet; labels that
	// only repeat the template are not told.
	skip := mustGraph(t, `{"nodes": [
	  {"id": "a", "type": "event_entry", "position": {"x": 0, "y": 0}, "config": {"event_type": "order_completed"}},
	  {"id": "c", "type": "condition", "position": {"x": 0, "y": 0}, "config": {"expression": "customer.orders > 3"}},
	  {"id": "v", "type": "send_email", "label": "VIP thanks", "position": {"x": 0, "y": 0}, "config": {"template_id": "vip_email"}},
	  {"id": "m", "type": "send_email", "label": "Survey email", "position": {"x": 0, "y": 0}, "config": {"template_id": "survey_email"}}],
	  "edges": [{"id": "1", "source": "a", "target": "c"}, {"id": "2", "source": "c", "target": "v", "branch": "true"},
	    {"id": "3", "source": "c", "target": "m", "branch": "false"}, {"id": "4", "source": "v", "target": "m"}]}`)
	text = explain(skip)
	for _, want := range []string{
		`2. Sends the email "vip_email" ("VIP thanks").`,
		"   - If not:\n      Nothing happens on this path; they go straight on.\nThen, whichever path they took:\n3. Sends the email \"survey_email\".\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	// A wait for an event with a filter, and its own branch names.
	filtered := mustGraph(t, `{"nodes": [
	  {"id": "a", "type": "event_entry", "position": {"x": 0, "y": 0}, "config": {"event_type": "signed_up"}},
	  {"id": "w", "type": "wait_for_event", "position": {"x": 0, "y": 0}, "config": {"event_type": "purchased", "timeout": "12h", "filter": {"category": "shoes"}, "event_branch": "bought", "timeout_branch": "not_yet"}},
	  {"id": "x", "type": "journey_exit", "position": {"x": 0, "y": 0}},
	  {"id": "p", "type": "send_push", "position": {"x": 0, "y": 0}, "config": {"template_id": "shoe_push"}}],
	  "edges": [{"id": "1", "source": "a", "target": "w"}, {"id": "2", "source": "w", "target": "x", "branch": "bought"},
	    {"id": "3", "source": "w", "target": "p", "branch": "not_yet"}]}`)
	text = explain(filtered)
	for _, want := range []string{
		`1. Waits up to 12 hours for them to make a purchase (event "purchased"), counting only events where its category is "shoes".`,
		"- If they make a purchase within 12 hours:\n      2. Ends the journey for them.",
		"- Otherwise, if they have not done so within 12 hours:\n      3. Sends a push notification from the template \"shoe_push\".",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	// A cycle (invalid) must not make explain loop.
	cyclic := &graph.Graph{
		Nodes: []graph.Node{{ID: "e", Type: "event_entry", Config: []byte(`{"event_type":"x"}`)},
			{ID: "w", Type: "wait", Config: []byte(`{"duration":"1d"}`)}, {ID: "v", Type: "wait", Config: []byte(`{"duration":"2d"}`)}},
		Edges: []graph.Edge{{ID: "1", Source: "e", Target: "w"}, {ID: "2", Source: "w", Target: "v"}, {ID: "3", Source: "v", Target: "w"}},
	}
	if got := explain(cyclic); !strings.Contains(got, "Then they continue at step 1.") {
		t.Errorf("cyclic graph: %q", got)
	}
}

func TestCELText(t *testing.T) {
	t.Parallel()
	tests := []struct{ expr, want string }{
		{`customer.plan == "premium"`, `the customer's plan is "premium"`},
		{`customer.country != 'US'`, `the customer's country is not "US"`},
		{`event.amount > 100 || customer.vip`, `the event's amount is more than 100 or the customer's vip is true`},
		{`has(customer.phone) && !customer.opted_out`, `the customer's phone is set and the customer's opted out is false`},
		{`customer.tier in ["gold", "silver"]`, `the customer's tier is one of "gold", "silver"`},
		{`customer.email.endsWith("@acme.com")`, `the customer's email ends with "@acme.com"`},
		{`size(customer.orders) > 2`, "the condition `size(customer.orders) > 2` holds"},
		{`customer.a == 1 && customer.b == 2 || customer.c == 3`, "the condition `customer.a == 1 && customer.b == 2 || customer.c == 3` holds"},
	}
	for _, tc := range tests {
		if got := celText(tc.expr); got != tc.want {
			t.Errorf("celText(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestCronText(t *testing.T) {
	t.Parallel()
	tests := []struct{ cron, want string }{
		{"0 9 * * *", "every day at 09:00"},
		{"30 8 * * 1-5", "every weekday at 08:30"},
		{"0 10 * * 1,3", "every Monday and Wednesday at 10:00"},
		{"0 6 1 * *", "on day 1 of every month at 06:00"},
		{"*/15 * * * *", "every 15 minutes"},
		{"0 9 1 1 *", `on the schedule "0 9 1 1 *"`},
	}
	for _, tc := range tests {
		if got := cronText(tc.cron); got != tc.want {
			t.Errorf("cronText(%s) = %q, want %q", tc.cron, got, tc.want)
		}
	}
}

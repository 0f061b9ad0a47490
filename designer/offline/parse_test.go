package offline

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

func TestFindDuration(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"wait 3 days", "3d"},
		{"after a week", "7d"},
		{"2 hours later", "2h"},
		{"the next day", "1d"},
		{"48 hours", "48h"},
		{"1.5 days", "36h"},
		{"half an hour", "30m"},
		{"a couple of days", "2d"},
		{"wait 3 more days", "3d"},
		{"in 2 weeks", "14d"},
		{"a month later", "30d"},
		{"wait 2d", "2d"},
		{"90 seconds", "90s"},
		{"no time said here", ""},
	} {
		got, _, _ := findDuration(tc.text)
		if got != tc.want {
			t.Errorf("findDuration(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		text string
		want cond
	}{
		{"plan is premium", cond{expr: `customer.plan == "premium"`}},
		{"their country is US", cond{expr: `customer.country == "US"`}},
		{"customers with more than 3 orders", cond{expr: `customer.orders > 3`}},
		{"they have fewer than 2 orders", cond{expr: `customer.orders < 2`}},
		{"they are on the premium plan", cond{expr: `customer.plan == "premium"`}},
		{"customers with a lifetime value over 500", cond{expr: `customer.lifetime_value > 500`}},
		{"their country is US and plan is premium", cond{expr: `customer.country == "US" && customer.plan == "premium"`}},
		{"they have the tag vip", cond{expr: `"vip" in customer.tags`}},
		{"customers in Canada", cond{expr: `customer.country == "Canada"`}},
		{"a customer's NPS score is 9 or higher", cond{expr: `customer.nps_score >= 9`}},
		{"plan is not free", cond{expr: `customer.plan != "free"`}},
		{"they don't open it within 3 days", cond{event: "email_opened", within: "3d", negated: true}},
		{"not opened", cond{event: "email_opened", negated: true}},
		{"the email isn't opened in 2 days", cond{event: "email_opened", within: "2d", negated: true}},
		{"they bought", cond{event: "purchased"}},
		{"they click the link", cond{event: "email_clicked"}},
		{"they still haven't paid after 3 days", cond{event: "payment_succeeded", within: "3d", negated: true}},
		{"they don't start the next lesson", cond{event: "next_lesson_started", negated: true}},
	} {
		got, ok := parseCondition(lowerASCII(tc.text), tc.text, "email")
		if !ok {
			t.Errorf("parseCondition(%q) not understood", tc.text)
			continue
		}
		got.text = ""
		if got != tc.want {
			t.Errorf("parseCondition(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
		if got.expr != "" {
			if err := graph.CheckExpression(got.expr); err != nil {
				t.Errorf("parseCondition(%q): %v", tc.text, err)
			}
		}
	}
	for _, text := range []string{"the weather turns bad", "blah blah", ""} {
		if c, ok := parseCondition(text, text, "email"); ok {
			t.Errorf("parseCondition(%q) = %+v, want not understood", text, c)
		}
	}
}

// stepsOf parses text and returns its nodes, entry first.
func stepsOf(t *testing.T, text string) []graph.Node {
	t.Helper()
	p, err := parseJourney(text)
	if err != nil {
		t.Fatalf("parseJourney(%q): %v", text, err)
	}
	return p.graph.Nodes
}

func parsedConfig(n graph.Node) map[string]any {
	var c map[string]any
	_ = json.Unmarshal(n.Config, &c)
	return c
}

func TestChannels(t *testing.T) {
	for _, tc := range []struct {
		text, typ string
		config    map[string]any
	}{
		{"send a welcome email", "send_email", map[string]any{"template_id": "welcome_email"}},
		{`send an email "Welcome to Acme"`, "send_email", map[string]any{"template_id": "welcome_to_acme"}},
		{"text them a reminder", "send_sms", map[string]any{"template_id": "reminder_sms"}},
		{"send an SMS reminder", "send_sms", map[string]any{"template_id": "reminder_sms"}},
		{`send an SMS "Your code is {{ code }}, use it today!"`, "send_sms", map[string]any{"body": "Your code is {{ code }}, use it today!"}},
		{`send a push notification "Big sale"`, "send_push", map[string]any{"template_id": "big_sale"}},
		{"push a tip of the day", "send_push", map[string]any{"template_id": "tip_of_day_push"}},
		{"send them a WhatsApp order update", "send_whatsapp", map[string]any{"template_id": "order_update_whatsapp"}},
		{"call webhook https://hooks.example.com/a?b=1.", "call_webhook", map[string]any{"url": "https://hooks.example.com/a?b=1"}},
		{"PUT to https://api.example.com/leads", "call_webhook", map[string]any{"url": "https://api.example.com/leads", "method": "PUT"}},
		{`call the webhook "crm_sync_loyalty"`, "call_webhook", map[string]any{"url": "https://example.com/webhooks/crm-sync-loyalty"}},
		{"send the upsell", "send_email", map[string]any{"template_id": "upsell_email"}},
		{"send our newsletter", "send_email", map[string]any{"template_id": "newsletter"}},
		{"tag them as engaged", "add_tag", map[string]any{"tag": "engaged"}},
		{"remove the trial tag", "remove_tag", map[string]any{"tag": "trial"}},
		{"set their lifecycle stage to customer", "update_profile", map[string]any{"set": map[string]any{"lifecycle_stage": "customer"}}},
	} {
		nodes := stepsOf(t, "When a user signs up. "+tc.text)
		if len(nodes) != 2 {
			t.Errorf("%q: %d nodes, want the entry and one step", tc.text, len(nodes))
			continue
		}
		if nodes[1].Type != tc.typ || !reflect.DeepEqual(parsedConfig(nodes[1]), tc.config) {
			t.Errorf("%q: %s %s, want %s %v", tc.text, nodes[1].Type, nodes[1].Config, tc.typ, tc.config)
		}
	}
}

func TestEntries(t *testing.T) {
	for _, tc := range []struct {
		text, typ string
		config    map[string]any
	}{
		{"When a user signs up, send a welcome email.", "event_entry", map[string]any{"event_type": "signed_up"}},
		{"Send a welcome email to new signups.", "event_entry", map[string]any{"event_type": "signed_up"}},
		{"When a customer abandons their cart, send a reminder email.", "event_entry", map[string]any{"event_type": "cart_abandoned"}},
		{"Trigger: order_completed event. Send a thank you email.", "event_entry", map[string]any{"event_type": "order_completed"}},
		{"When a lead downloads the whitepaper, send a follow-up email.", "event_entry", map[string]any{"event_type": "whitepaper_downloaded"}},
		{"For the premium segment every Monday, send the digest email.", "scheduled_entry", map[string]any{"cron": "0 9 * * 1", "segment_id": "premium"}},
		{"Every weekday at 5:30pm send a deals push to the shoppers segment.", "scheduled_entry", map[string]any{"cron": "30 17 * * 1-5", "segment_id": "shoppers"}},
		{"On the first of every month, send the statement email.", "scheduled_entry", map[string]any{"cron": "0 9 1 * *"}},
		{"When someone joins the VIP segment, send a WhatsApp welcome.", "segment_entry", map[string]any{"segment_id": "vip"}},
		{"When our CRM calls the webhook, send a nurture email.", "webhook_entry", map[string]any{"description": "Called by our CRM"}},
		{"Send a welcome email.", "event_entry", map[string]any{"event_type": "signed_up"}},
	} {
		nodes := stepsOf(t, tc.text)
		if nodes[0].Type != tc.typ || !reflect.DeepEqual(parsedConfig(nodes[0]), tc.config) {
			t.Errorf("%q: entry %s %s, want %s %v", tc.text, nodes[0].Type, nodes[0].Config, tc.typ, tc.config)
		}
	}
	p, err := parseJourney("Send a welcome email.")
	if err != nil || len(p.questions) == 0 || !strings.Contains(p.questions[len(p.questions)-1], "What should start this journey") {
		t.Errorf("no entry said: questions %q, %v; want one asking what starts the journey", p.questions, err)
	}
}

func TestSplitting(t *testing.T) {
	got := splitSentences("Send a welcome email. Call https://x.example.com/a.b?c=1. Then text \"Hi. Bye.\"; wait 2 days\n- tag them\n2. end")
	want := []string{"Send a welcome email", "Call https://x.example.com/a.b?c=1", `Then text "Hi. Bye."`, "wait 2 days", "tag them", "end"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitSentences = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		sentence string
		want     []string
	}{
		{"send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week",
			[]string{"send welcome email", "wait 3 days", "if not opened send SMS reminder", "if opened send upsell after 1 week"}},
		{"If they don't open it within 3 days, send an SMS reminder, then wait 2 days and send the offer email",
			[]string{"If they don't open it within 3 days, send an SMS reminder", "wait 2 days", "send the offer email"}},
		{"On day 3, if they have not opened the welcome email, send an SMS",
			[]string{"On day 3, if they have not opened the welcome email, send an SMS"}},
		{"If they have the tag beta, send the beta email", []string{"If they have the tag beta, send the beta email"}},
		{"signup -> welcome email -> 3d", []string{"signup", "welcome email", "3d"}},
	} {
		if got := splitClauses(tc.sentence); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitClauses(%q) = %q, want %q", tc.sentence, got, tc.want)
		}
	}
}

// TestSeedExample checks the seed's US-1 sentence gives exactly the graph of
// the issue: entry → email → wait_for_event(email_opened, 3d), timed_out →
// SMS, event_received → wait 7d → upsell email.
func TestSeedExample(t *testing.T) {
	p, err := parseJourney("send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week")
	if err != nil {
		t.Fatal(err)
	}
	var nodes, edges []string
	for _, n := range p.graph.Nodes {
		nodes = append(nodes, n.ID+" "+n.Type+" "+string(n.Config))
	}
	for _, e := range p.graph.Edges {
		edges = append(edges, e.Source+" "+e.Branch+" "+e.Target)
	}
	wantNodes := []string{
		`entry_1 event_entry {"event_type":"signed_up"}`,
		`email_1 send_email {"template_id":"welcome_email"}`,
		`wait_1 wait_for_event {"event_type":"email_opened","timeout":"3d"}`,
		`sms_1 send_sms {"template_id":"reminder_sms"}`,
		`wait_2 wait {"duration":"7d"}`,
		`email_2 send_email {"template_id":"upsell_email"}`,
	}
	wantEdges := []string{"entry_1  email_1", "email_1  wait_1", "wait_1 timed_out sms_1", "wait_1 event_received wait_2", "wait_2  email_2"}
	if !reflect.DeepEqual(nodes, wantNodes) || !reflect.DeepEqual(edges, wantEdges) {
		t.Errorf("nodes %q\nedges %q\nwant %q\n%q", nodes, edges, wantNodes, wantEdges)
	}
	if len(p.unrecognized) != 0 {
		t.Errorf("unrecognized %q", p.unrecognized)
	}
}

func TestJourneySettings(t *testing.T) {
	p, err := parseJourney("When a user signs up, send a welcome email and a push. No more than 2 messages a day. At most 1 SMS per week. Stop if they unsubscribe. Goal: first purchase.")
	if err != nil {
		t.Fatal(err)
	}
	g := p.graph
	wantCaps := map[string]graph.Cap{"email": {Max: 2, Window: "1d"}, "push": {Max: 2, Window: "1d"}, "sms": {Max: 1, Window: "7d"}}
	if !reflect.DeepEqual(g.FrequencyCap, wantCaps) {
		t.Errorf("caps %v, want %v", g.FrequencyCap, wantCaps)
	}
	if g.ExitCriteria == nil || g.ExitCriteria.EventType != "unsubscribed" {
		t.Errorf("exit criteria %+v, want unsubscribed", g.ExitCriteria)
	}
	// the goal is reached only by those who purchase: behind a wait for it
	goal, ok := g.Node("goal_1")
	if !ok || parsedConfig(goal)["goal_name"] != "first_purchase" {
		t.Fatalf("no goal first_purchase: %+v", g.Nodes)
	}
	var into []string
	for _, e := range g.Edges {
		if e.Target == goal.ID {
			from, _ := g.Node(e.Source)
			into = append(into, from.Type+"["+e.Branch+"] "+configString(from.Config, "event_type"))
		}
	}
	if !reflect.DeepEqual(into, []string{"wait_for_event[event_received] purchased"}) {
		t.Errorf("the goal is reached from %v, want only the purchase", into)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "empty"},
		{"   \n  ", "empty"},
		{"Make it awesome and viral, thanks!", `"Make it awesome and viral, thanks"`},
		{"No more than 3 emails a week. Stop if they unsubscribe.", "no steps"},
	} {
		_, err := parseJourney(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseJourney(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
}

// TestTimeoutSaidLater checks a timeout said after the event's first
// mention sets the wait and answers the question about it.
func TestTimeoutSaidLater(t *testing.T) {
	p, err := parseJourney("When a user signs up, send a welcome email. If they click, send a coupon SMS. If they haven't clicked in 5 days, send a reminder email.")
	if err != nil {
		t.Fatal(err)
	}
	var waits []string
	for _, n := range p.graph.Nodes {
		if n.Type == "wait_for_event" {
			waits = append(waits, string(n.Config))
		}
	}
	if want := []string{`{"event_type":"email_clicked","timeout":"5d"}`}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waits %q, want %q", waits, want)
	}
	for _, q := range p.questions {
		if strings.HasPrefix(q, "How long") {
			t.Errorf("question %q was answered by the description", q)
		}
	}
}

// TestStepsAfterTheEnd checks steps said after the journey ends are left
// out, and the designer says so.
func TestStepsAfterTheEnd(t *testing.T) {
	p, err := parseJourney("When a user signs up, send a welcome email. End the journey. Wait 1 day. Send a tips email.")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.graph.Nodes); n != 3 {
		t.Errorf("%d nodes, want 3 (entry, email, end)", n)
	}
	want := "These steps come after the journey has ended, so I left them out: Wait 1 day, Tips email. Where should they go?"
	if !slices.Contains(p.questions, want) {
		t.Errorf("questions %q lack %q", p.questions, want)
	}
}

// TestPartlyUnderstood checks sentences not understood come back verbatim
// and the rest is still built.
func TestPartlyUnderstood(t *testing.T) {
	p, err := parseJourney("Hi team! When a user signs up, send a welcome email. Make it pop with lots of images. Wait 2 days; send a tips email.")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Hi team", "Make it pop with lots of images"}
	if !reflect.DeepEqual(p.unrecognized, want) {
		t.Errorf("unrecognized %q, want %q", p.unrecognized, want)
	}
	if n := len(p.graph.Nodes); n != 4 {
		t.Errorf("%d nodes, want 4 (entry, email, wait, email)", n)
	}
}

// TestDocumentReaderSentences reads every sentence shape the document reader
// (designer/document) renders from a campaign plan.
func TestDocumentReaderSentences(t *testing.T) {
	for _, tc := range []struct{ sentence, want string }{
		{"Start when a user signs up.", `entry {"event_type":"signed_up"}`},
		{"Start when a customer places first order.", `entry {"event_type":"purchased"}`},
		{"Start when a user joins the beta.", `entry {"event_type":"beta_joined"}`},
		{"Start when segment 'Trial users' entered.", `entry {"segment_id":"trial_users"}`},
		{"Start when an order is delivered.", `entry {"event_type":"order_delivered"}`},
		{"Start when a cart is abandoned for 1 hour.", `entry {"event_type":"cart_abandoned"}`},
		{"Stop if they make a purchase.", "exit purchased"},
		{"Stop if they reply STOP.", "exit replied"},
		{"Stop if they unsubscribe.", "exit unsubscribed"},
		{"Stop if a subscription is cancelled.", "exit subscription_cancelled"},
		{"Stop if an order is placed.", "exit purchased"},
		{"No more than 3 messages a week.", "cap email 3/7d"},
		{"No more than 1 push notification a day.", "cap push 1/1d"},
		{"No more than 2 SMS a week.", "cap sms 2/7d"},
		{"Goal: first purchase.", "goal first_purchase"},
		{"On day 1, if they have not opened welcome email, send an SMS.", `condition wait_for_event {"event_type":"email_opened","timeout":"1d"}`},
		{"On day 1, if they have not clicked, send an SMS.", `condition wait_for_event {"event_type":"email_clicked","timeout":"1d"}`},
		{"On day 1, if they have not purchased, send an SMS.", `condition wait_for_event {"event_type":"purchased","timeout":"1d"}`},
		{"On day 1, if they opened email 1, send an SMS.", `condition wait_for_event {"event_type":"email_opened","timeout":"1d"}`},
		{"On day 1, if they have not created a project, send an SMS.", `condition wait_for_event {"event_type":"project_created","timeout":"1d"}`},
		{"On day 1, if they are on the premium plan, send an SMS.", `condition condition {"expression":"customer.plan == \"premium\""}`},
		{"On day 1, if cart value > $50, send an SMS.", `condition condition {"expression":"customer.cart_value > 50"}`},
		{"On day 1, if plan = pro, send an SMS.", `condition condition {"expression":"customer.plan == \"pro\""}`},
		{"On day 1, unless they purchased, send an SMS.", `condition wait_for_event {"event_type":"purchased","timeout":"1d"}`},
		{`Then, call the webhook "https://crm.example/hook".`, `step call_webhook {"url":"https://crm.example/hook"}`},
		{`On day 0, send a WhatsApp message "The 'last' call".`, `step send_whatsapp {"template_id":"the_last_call"}`},
	} {
		text := tc.sentence
		if !strings.HasPrefix(text, "On day") && !strings.HasPrefix(text, "Then") {
			text += "\nOn day 0, send an email \"Hi\"."
		}
		p, err := parseJourney(text)
		if err != nil {
			t.Errorf("%q: %v", tc.sentence, err)
			continue
		}
		if len(p.unrecognized) > 0 {
			t.Errorf("%q: not understood %q", tc.sentence, p.unrecognized)
		}
		g := p.graph
		got := ""
		kind, _, _ := strings.Cut(tc.want, " ")
		switch kind {
		case "entry":
			got = "entry " + string(g.Nodes[0].Config)
		case "exit":
			if g.ExitCriteria != nil {
				got = "exit " + g.ExitCriteria.EventType
			}
		case "cap":
			for ch, c := range g.FrequencyCap {
				if strings.HasPrefix(tc.want, "cap "+ch) {
					got = fmt.Sprintf("cap %s %d/%s", ch, c.Max, c.Window)
				}
			}
		case "goal":
			for _, n := range g.Nodes {
				if n.Type == "goal_reached" {
					got = "goal " + configString(n.Config, "goal_name")
				}
			}
		case "condition":
			for _, n := range g.Nodes {
				if n.Type == "condition" || n.Type == "wait_for_event" {
					got = "condition " + n.Type + " " + string(n.Config)
				}
			}
		case "step":
			n := g.Nodes[1]
			got = "step " + n.Type + " " + string(n.Config)
		}
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.sentence, got, tc.want)
		}
	}
}

package document_test

import (
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
)

func TestPromptRendersStepsAndRules(t *testing.T) {
	t.Parallel()
	doc := &document.Document{
		Format: "csv",
		Text: strings.Join([]string{
			"Welcome journey",
			"Trigger: user signs up",
			"Exit: unsubscribes",
			"Cap: max 2 emails per day",
			"Goal: first purchase",
			"Owner: Dana. Entry | ignored because it is a table row | with cells",
		}, "\n"),
		Steps: []document.Step{
			{Index: 1, Day: 0, Channel: "email", Audience: "New signups", Content: "Welcome to Acme"},
			{Index: 2, Day: 3, Channel: "sms", Condition: "they have not opened the welcome email", Content: "Reminder"},
			{Index: 3, Day: 7, Channel: "push", Audience: "customers on the premium plan", Content: "Upgrade offer"},
			{Index: 4, Day: 8, Channel: "whatsapp", Condition: "If Not clicked the offer", Content: `The "last" call`},
			{Index: 5, Day: -1, Channel: "webhook", Content: "https://crm.example/hook"},
			{Index: 6, Day: 9, Channel: "", Condition: "unless they purchased"},
		},
	}
	want := strings.Join([]string{
		"Start when a user signs up.",
		`On day 0, send an email "Welcome to Acme" to new signups.`,
		`On day 3, if they have not opened the welcome email, send an SMS "Reminder".`,
		`On day 7, send a push notification "Upgrade offer" to customers on the premium plan.`,
		`On day 8, if they have not clicked the offer, send a WhatsApp message "The 'last' call".`,
		`Then, call the webhook "https://crm.example/hook".`,
		`On day 9, unless they purchased, send a message.`,
		"Stop if they unsubscribe.",
		"No more than 2 emails a day.",
		"Goal: first purchase.",
		`Not understood: "Owner: Dana. Entry | ignored because it is a table row | with cells".`,
	}, "\n")
	if got := doc.Prompt(); got != want {
		t.Errorf("Prompt() =\n%s\nwant\n%s", got, want)
	}
}

func TestPromptRuleShapes(t *testing.T) {
	t.Parallel()
	step := []document.Step{{Index: 1, Day: -1, Channel: "email", Content: "Hi"}}
	for rule, want := range map[string]string{
		"Entry trigger: customer places first order":                                       "Start when a customer places first order.",
		"Starts when: a user joins the beta":                                               "Start when a user joins the beta.",
		"Trigger - segment 'Trial users' entered":                                          "Start when segment 'Trial users' entered.",
		"Exit criteria: user makes a purchase":                                             "Stop if they make a purchase.",
		"Exit: replies STOP":                                                               "Stop if they reply STOP.",
		"Stop when: subscription cancelled":                                                "Stop if a subscription is cancelled.",
		"Trigger: order delivered":                                                         "Start when an order is delivered.",
		"Entry: cart abandoned for 1 hour":                                                 "Start when a cart is abandoned for 1 hour.",
		"Exit: order placed":                                                               "Stop if an order is placed.",
		"Frequency cap: 3 messages per week":                                               "No more than 3 messages a week.",
		"Cap: max 1 push / 24h":                                                            "No more than 1 push notification a day.",
		"Cap: at most 2 SMS every 7 days":                                                  "No more than 2 SMS a week.",
		"Cap: be gentle":                                                                   `Not understood: "Cap: be gentle".`,
		"- Goal: first purchase.":                                                          "Goal: first purchase.",
		"Trigger: | user signs up":                                                         "Start when a user signs up.",
		"Exit | unsubscribes":                                                              "Stop if they unsubscribe.",
		"Entry event | `trial_started`":                                                    "Trigger: `trial_started`.",
		"**Entry:** the CRM calls our webhook":                                             "Entry: another system calls this journey's webhook.",
		"Who: customers in the segment renewals_due":                                       "Audience: segment `renewals_due`.",
		"audience ........ segment lapsed_180d (new)":                                      "Audience: segment `lapsed_180d`.",
		"Exit event | subscription_cancelled":                                              "Exit if `subscription_cancelled`.",
		"Exit: back in credit (customer.balance >= 0)":                                     "Exit when balance >= 0.",
		"Push cap | 2 per day":                                                             "No more than 2 push notifications a day.",
		"Frequency cap: push - max 2 in any 7 days":                                        "No more than 2 push notifications a week.",
		"Cap: max 2 SMS per 30 days per customer":                                          "No more than 2 SMS in any 30 days.",
		"Goal | paid conversion = event subscription_started (track for 7 days)":           "Goal: paid conversion (`subscription_started`) within 7 days.",
		"Schedule: every Tuesday 10:00 (Madrid time)":                                      "Every Tuesday at 10:00 Madrid time:",
		"Trigger: scheduled: 1st of every month, 09:00 Europe/London, segment licence_due": "On the 1st of every month at 09:00 Europe/London, for segment `licence_due`:",
	} {
		doc := &document.Document{Text: rule, Steps: step}
		lines := strings.Split(doc.Prompt(), "\n")
		if want == "" {
			if len(lines) != 1 {
				t.Errorf("%q renders %q, want no rule sentence", rule, lines)
			}
			continue
		}
		if len(lines) != 2 || (lines[0] != want && lines[1] != want) {
			t.Errorf("%q renders %q, want the sentence %q", rule, lines, want)
		}
	}
}

func TestPromptFoldsCellsAndSaysRulesOnce(t *testing.T) {
	t.Parallel()
	doc := &document.Document{
		Text:  "Trigger: user signs up\nExit: unsubscribes\nSheet: Notes\nExit: unsubscribes",
		Steps: []document.Step{{Index: 1, Day: 2, Channel: "email", Audience: "New\n  signups", Content: "Save 10%\tnow \\ \"today\""}},
	}
	want := "Start when a user signs up.\n" +
		`On day 2, send an email "Save 10% now \ 'today'" to new signups.` + "\n" +
		"Stop if they unsubscribe."
	if got := doc.Prompt(); got != want {
		t.Errorf("Prompt() =\n%s\nwant\n%s", got, want)
	}
}

func TestConditionPhrases(t *testing.T) {
	t.Parallel()
	for cond, want := range map[string]string{
		"Not opened welcome email":         "if they have not opened welcome email",
		"didn't click":                     "if they have not clicked",
		"No purchase":                      "if they have not purchased",
		"Opened email 1":                   "if they opened email 1",
		"Has not created a project":        "if they have not created a project",
		"Is on the premium plan":           "if they are on the premium plan",
		"If cart value > $50":              "if cart value > $50",
		"plan = pro":                       "if plan = pro",
		"unless they purchased":            "unless they purchased",
		"they have not opened the welcome": "if they have not opened the welcome",
	} {
		doc := &document.Document{Steps: []document.Step{{Index: 1, Day: 1, Channel: "sms", Condition: cond}}}
		if got, wantS := doc.Prompt(), "On day 1, "+want+", send an SMS."; got != wantS {
			t.Errorf("condition %q: %q, want %q", cond, got, wantS)
		}
	}
}

func TestPromptWithoutStepsIsTheText(t *testing.T) {
	t.Parallel()
	doc := &document.Document{Format: "txt", Text: "Trigger: user signs up\nWe will decide the cadence later."}
	if got := doc.Prompt(); got != doc.Text {
		t.Errorf("Prompt() = %q, want the text", got)
	}
}

func TestFirstStepWithoutDayIsCapitalised(t *testing.T) {
	t.Parallel()
	doc := &document.Document{Steps: []document.Step{{Index: 1, Day: -1, Channel: "email", Content: "Hello", Audience: "Everyone on the list"}}}
	if got, want := doc.Prompt(), `Send an email "Hello" to everyone on the list.`; got != want {
		t.Errorf("Prompt() = %q, want %q", got, want)
	}
}

// TestPromptReadsWholePlan reads plans as uploaded: the lines around the
// table become the journey's rules, a Delay column waits, Variant rows are
// one split with each variant's rows on its arm, an aligned text table is
// a table, and what cannot be placed is listed, not dropped.
func TestPromptReadsWholePlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, data, want string }{
		{"delays.csv", "Cart recovery\nTrigger,event cart_abandoned\nExit,when order_completed arrives\n" +
			"Step,Delay after previous step,Channel,Template,Only if\n1,1h,Email,cart_1\n2,23h,SMS,cart_sms\n3,2d,Email,cart_last,cart_value > 100\n" +
			"Frequency cap,max 2 SMS per customer per 7 days\nNotes,step 3 is only for big carts\n",
			"Trigger: `cart_abandoned`.\n" +
				`Wait 1 hour, then send an email "cart_1".` + "\n" +
				`Wait 23 hours, then send an SMS "cart_sms".` + "\n" +
				`Wait 2 days, then if cart_value > 100, send an email "cart_last".` + "\n" +
				"Exit if `order_completed`.\nNo more than 2 SMS a week.\n" +
				`Not understood: "Notes | step 3 is only for big carts".`},
		{"arms.csv", "Variant;Share;Day;Channel;Message\nA;70%;0;SMS;New phones\nA;70%;4;Push;Still thinking?\nB;30%;0;Email;Compare\nAll;;9;Email;Last call\n",
			"On day 0, split 70/30:\n" +
				`- A: send an SMS "New phones", then 4 days later send a push notification "Still thinking?"` + "\n" +
				`- B: send an email "Compare"` + "\n" +
				`On day 9, send an email "Last call".`},
		{"notes.txt", "WINBACK\n=======\naudience ........ segment lapsed_180d\nsplit ........... three equal groups\n\n" +
			"group   message       channel\nA       20% coupon    email\nB       free ship     email\nC       control - no message   -\n\n" +
			"extra: mail the printed catalogue to group B.\n",
			"Audience: segment `lapsed_180d`.\nSplit equally three ways:\n" +
				`- A: send an email "20% coupon"` + "\n" + `- B: send an email "free ship"` + "\n- C: control (no message)\n" +
				"extra: mail the printed catalogue to group B."}, // asks for outside work: the designer flags it
		{"dated.md", "All timing is relative to the customer's `renewal_date` attribute.\n\n| When | Channel | Message |\n|---|---|---|\n" +
			"| 30 days before | Email | Quote |\n| 3 days before | SMS + letter by post | Reminder |\n",
			`30 days before renewal_date, send an email "Quote".` + "\n" +
				`3 days before renewal_date, send an SMS "Reminder".` + "\n" +
				`Not understood: "letter by post (a channel of step 2)".`},
	} {
		doc, err := document.Read(tc.name, []byte(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := doc.Prompt(); got != tc.want {
			t.Errorf("%s: Prompt() =\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

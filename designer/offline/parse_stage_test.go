package offline

import "testing"

func TestNormalise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"d3 email tips; D+7 sms", "day 3 email tips; day 7 sms"},
		{"T+0 email → T+1 push", "day 0 email → day 1 push"},
		{"within 24h, then 5d later, 2w after, 30min", "within 24 hours, then 5 days later, 2 weeks after, 30 minutes"},
		{"if the total is over $1,000 or €2k", "if the total is over $1000 or €2000"},
		{"orders over 1,250,000", "orders over 1250000"},
		{"on `order_completed`: email", "Trigger: order_completed.\nemail"},
		{"hey can we set up a thank-you flow on order_completed: email", "thank-you flow \nTrigger: order_completed.\nemail"},
		{"trial_started → d1 email", "Trigger: trial_started.\nday 1 email"},
		{"if level is over 10 push the pro tips, otherwise", "if level is over 10 send the pro tips push, otherwise"},
		{"Hi, for the alerts: when X", "Hi, when X"},
		{"send the `Welcome back` email", `send the "Welcome back" email`},
		// chat speakers go when a name opens two lines; labels stay
		{"> ana: email them\n> ana: then push", "email them\nthen push"},
		{"Goal: purchase\nGoal: again", "Goal: purchase\nGoal: again"},
		{"ana: email them", "ana: email them"},
		// triggers said after their name or a label
		{"`quote_created` event starts it. email", "Trigger: quote_created.\n\n email"},
		{"entry is the `fare_dropped` event, push", "Trigger: fare_dropped.\n push"},
		{"aud: seg `vip_q3`", "Audience: segment vip_q3"},
		// dates written as signed offsets, sms @T+1
		{"-21d renewal_date: email", "21 days before renewal_date: email"},
		{"+2h webinar_start: sms", "2 hours after webinar_start: sms"},
		{"sms @T+1", "sms @day 1"},
		// the date then a signed offset; the day before/after a date
		{"-> wait till class_start_time -2h -> sms", "-> 2 hours before class_start_time -> sms"},
		{"wait_until webinar_start -1d -> email", "1 days before webinar_start -> email"},
		{"order_total -5d", "order_total -5 days"},
		{"an email the day after install_date", "an email 1 day after install_date"},
		{"the day after order_shipped", "the day after order_shipped"},
		// a split's unlettered arms, one per share
		{"50/50 split: sms | whatsapp", "split 50/50: A: sms, B: whatsapp"},
		{"split 70/30: email vs push", "split 70/30: A: email, B: push"},
		{"split 40/60: A: email | B: push", "split 40/60: A: email | B: push"},
		{"50/50: sms | whatsapp", "50/50: sms | whatsapp"},
		// a named goal recorded as a step
		{"within 7 days, mark the 'activated' goal", `within 7 days, that's our goal "activated"`},
		{"bought -> record goal 'starter_pack'", `bought -> that's our goal "starter_pack"`},
		{"record that as the 'won' goal", `that's our goal "won"`},
		// arms after semicolons stay in the split's sentence
		{"Split 50/50: A = push; B = email", "Split 50/50: A = push / B = email"},
		{"80% get an email; 20% get nothing", "80% get an email, 20% get nothing"},
		// skipping a message for another step
		{"If plan = pro, skip the email and call our webhook.", "If plan = pro, call our webhook instead."},
		{"when `salary_credited` is received, email", "when the salary_credited event arrives, email"},
		{"wait for `order_delivered` or 7d, whichever comes first", "wait up to 7 days for order_delivered"},
	} {
		if got := normalise(tc.in); got != tc.want {
			t.Errorf("normalise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

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
	} {
		if got := normalise(tc.in); got != tc.want {
			t.Errorf("normalise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

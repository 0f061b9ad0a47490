package document

import "testing"

func TestProseSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want *Step // nil: not a step
	}{
		{"Day 3 – SMS reminder to non-openers: “Your trial ends soon”",
			&Step{Day: 3, Timing: "Day 3", Channel: "sms", Audience: "non-openers", Content: "Your trial ends soon"}},
		{"- D+5: push notification to app users if they have not logged in: Come back",
			&Step{Day: 5, Timing: "D+5", Channel: "push", Audience: "app users", Condition: "they have not logged in", Content: "Come back"}},
		{"Step 2: Week 2 – Email: Upgrade offer",
			&Step{Day: 7, Timing: "Week 2", Channel: "email", Content: "Upgrade offer"}},
		{"On day 10 (unless they purchased), send a WhatsApp message “Last call”",
			&Step{Day: 10, Timing: "day 10", Channel: "whatsapp", Condition: "unless they purchased", Content: "Last call"}},
		{"Immediately: welcome e-mail",
			&Step{Day: 0, Timing: "Immediately", Channel: "email", Content: "welcome"}},
		{"+48h – Text message: “Your cart is waiting”",
			&Step{Day: 2, Timing: "+48h", Channel: "sms", Content: "Your cart is waiting"}},
		{"Send a welcome email on day 0.",
			&Step{Day: 0, Timing: "day 0", Channel: "email", Content: "welcome"}},
		{"• Welcome email immediately after signup: “Hi there”",
			&Step{Day: 0, Timing: "immediately after signup", Channel: "email", Content: "Hi there"}},
		{"Send an SMS to lapsed buyers 3 days after signup",
			&Step{Day: 3, Timing: "3 days after signup", Channel: "sms", Audience: "lapsed buyers"}},
		{"3 days after the welcome email – SMS reminder: “Still there?”",
			&Step{Day: 3, Timing: "3 days after the welcome email", Channel: "sms", Content: "Still there?"}},
		{"Send a thank-you email right after the demo with the recording.",
			&Step{Day: 0, Timing: "right after the demo with the recording", Channel: "email", Content: "thank-you"}},
		{"- Case study email 5 days after the demo, only if they have not booked a follow-up",
			&Step{Day: 5, Timing: "5 days after the demo", Channel: "email", Condition: "they have not booked a follow-up", Content: "Case study"}},
		{"We review email open rates after 30 days.", nil},
		{"Day 3 – internal review of the results", nil},
		{"Trigger: email opened within 2 days", nil},
	} {
		got := proseSteps([]string{tc.line})
		switch {
		case tc.want == nil && len(got) > 0:
			t.Errorf("%q: found %+v, want no step", tc.line, got[0])
		case tc.want == nil:
		case len(got) != 1:
			t.Errorf("%q: %d steps, want 1", tc.line, len(got))
		default:
			tc.want.Source = tc.line
			if got[0] != *tc.want {
				t.Errorf("%q:\n got %+v\nwant %+v", tc.line, got[0], *tc.want)
			}
		}
	}
}

func TestProseStepsUnderTimingHeadings(t *testing.T) {
	t.Parallel()
	lines := []string{
		"Renewal plan",
		"We will email everyone: no, only the opted-in.",
		"Day 0 – Kick-off",
		"Email: Your renewal is coming up",
		"Push notification – Renew in one tap",
		"Week 2",
		"We keep the tone light.",
		"- SMS to non-renewers: Last week to renew",
		"Email subject lines stay short; SMS is for service messages.",
	}
	got := proseSteps(lines)
	want := []Step{
		{Day: 0, Timing: "Day 0", Channel: "email", Content: "Your renewal is coming up", Source: lines[3]},
		{Day: 0, Timing: "Day 0", Channel: "push", Content: "Renew in one tap", Source: lines[4]},
		{Day: 7, Timing: "Week 2", Channel: "sms", Audience: "non-renewers", Content: "Last week to renew", Source: lines[7]},
	}
	if len(got) != len(want) {
		t.Fatalf("%d steps %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\n got %+v\nwant %+v", i+1, got[i], want[i])
		}
	}
}

package document

import (
	"fmt"
	"slices"
	"testing"
)

func TestResolveDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		prev  int
		delay bool
		want  int
	}{
		{"Day 0", unknownDay, false, 0},
		{"D+3", 0, false, 3},
		{"D3", 0, false, 3},
		{"T+0", unknownDay, false, 0},
		{"T+5d", 0, false, 5},
		{"T+72h", 0, false, 3},
		{"Day 3", 0, false, 3},
		{"day +10", 0, false, 10},
		{"3 days after signup", 0, false, 3},
		{"three days after sign-up", 0, false, 3},
		{"Week 1", unknownDay, false, 0},
		{"Week 2", 0, false, 7},
		{"2 weeks", 0, false, 14},
		{"Immediately", unknownDay, false, 0},
		{"Right away", unknownDay, false, 0},
		{"On signup", unknownDay, false, 0},
		{"+48h", 0, false, 2},
		{"+1h", unknownDay, false, 0},
		{"24 hours", 0, false, 1},
		{"30 min", unknownDay, false, 0},
		{"Next day", 0, false, 1},
		{"1 month", 0, false, 30},
		{"7", 0, false, 7},
		{"2 days later", 5, false, 7},
		{"3 days after the previous email", 4, false, 7},
		{"7 days before the webinar", unknownDay, false, -7},
		{"1 day prior to the event", unknownDay, false, -1},
		{"Day of the webinar", unknownDay, false, 0},
		{"2 days", 3, true, 5},              // a delay column counts from the previous step
		{"9 days after signup", 5, true, 9}, // unless it names the start
		{"0", unknownDay, true, 0},
		{"TBD", 0, false, unknownDay},
		{"", 0, false, unknownDay},
	} {
		if got := resolveDay(tc.text, tc.prev, tc.delay); got != tc.want {
			t.Errorf("resolveDay(%q, %d, %v) = %d, want %d", tc.text, tc.prev, tc.delay, got, tc.want)
		}
	}
}

func TestParseChannels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cell string
		want []string
	}{
		{"E-mail", []string{"email"}},
		{"Email", []string{"email"}},
		{"email", []string{"email"}},
		{"SMS/Text", []string{"sms"}},
		{"Text message", []string{"sms"}},
		{"Push", []string{"push"}},
		{"Push notification", []string{"push"}},
		{"App notification", []string{"push"}},
		{"WhatsApp", []string{"whatsapp"}},
		{"Whats App", []string{"whatsapp"}},
		{"Webhook", []string{"webhook"}},
		{"Newsletter", []string{"email"}},
		{"Email + SMS", []string{"email", "sms"}},
		{"Push & e-mail", []string{"push", "email"}},
		{"Email (text-only version)", []string{"email"}},
		{"Direct mail postcard", nil},
		{"Billboard", nil},
	} {
		if got := parseChannels(tc.cell); !slices.Equal(got, tc.want) {
			t.Errorf("parseChannels(%q) = %v, want %v", tc.cell, got, tc.want)
		}
	}
}

func TestClassifyHeader(t *testing.T) {
	t.Parallel()
	for cell, want := range map[string]role{
		"Step": roleStep, "#": roleStep, "Send day": roleTiming, "Timing": roleTiming, "WHEN?": roleTiming,
		"Delay": roleTiming, "Channel": roleChannel, "Medium": roleChannel, "Message type": roleChannel,
		"Audience / segment": roleAudience, "Who gets it": roleAudience, "Target segment": roleAudience,
		"Condition": roleCondition, "Trigger / rule": roleCondition, "If": roleCondition,
		"Subject line": roleContent, "Copy / asset": roleContent, "Template": roleContent,
		"Notes": roleNote, "Trigger": roleTrigger, "Owner": roleNone, "": roleNone,
	} {
		if got, _ := classifyHeader(cell); got != want {
			t.Errorf("classifyHeader(%q) = %v, want %v", cell, got, want)
		}
	}
}

func TestTableWithUnlabelledTimingColumn(t *testing.T) {
	t.Parallel()
	c := &content{tables: []table{{
		{"", "Channel", "Message", "Owner"},
		{"Day 0", "Email", "Welcome", "Ana"},
		{"+48h", "SMS", "Reminder", "Ana"},
		{"Week 2", "Push", "Offer", "Raj"},
	}}}
	steps := detectSteps(c)
	var days []int
	for _, s := range steps {
		days = append(days, s.Day)
	}
	if !slices.Equal(days, []int{0, 2, 7}) {
		t.Errorf("days %v, want [0 2 7]", days)
	}
}

func TestTableStepsSkipRepeatedHeadersAndSplitChannels(t *testing.T) {
	t.Parallel()
	c := &content{tables: []table{{
		{"Day", "Channel", "Message"},
		{"Day 0", "Email + SMS", "Welcome"},
		{"Day", "Channel", "Message"},
		{"", "Push", "Same day nudge"},
		{"Day 3", "Billboard", "Offline ad"},
	}}}
	var got []string
	for _, s := range detectSteps(c) {
		got = append(got, fmt.Sprintf("%d %s %s", s.Day, s.Channel, s.Content))
	}
	// The billboard is no channel: its row is left to the prompt's
	// not-understood lines, never a message on a channel made up.
	want := []string{"0 email Welcome", "0 sms Welcome", "0 push Same day nudge"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
}

package document_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
)

// TestPromptFamilies reads one small plan per family of layout the blind4
// plans showed, each in words of its own, and checks the sentences the
// prompt must hold (and, for lines no node can build, the not-understood
// line).
func TestPromptFamilies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		want       []string
	}{{
		// A Trigger column said on the first row only is the entry; the
		// condition is the column after it.
		name: "trigger column",
		file: "n,trigger event,delay,channel,copy,rule\n1,lead_created,0,email,Hello,\n2,,2d,push,Ping,only if score > 40\n",
		want: []string{"Trigger: `lead_created`.", `Wait 2 days, then if score > 40, send a push notification "Ping".`},
	}, {
		// Split names one column, Share the other; a Delay inside an arm
		// counts from that arm's step before.
		name: "split and share columns",
		file: "split,share,wait before,channel,message\nHoldout,30%,none,,no message\nBlue,70%,none,SMS,One\nBlue,70%,5 days,Email,Two\n",
		want: []string{"Split 30/70:", "- A: control (no message)", `- B: send an SMS "One", then 5 days later send an email "Two"`},
	}, {
		// Arms whose first rows wait as long as each other go out
		// together: the split waits that long, the arms no more; an arm
		// that waits longer waits the difference inside it.
		name: "arms dated like their split",
		file: "channel,wait after previous step,variant,share,content\nEmail,-,All,100%,Guide\nPush,3 days,A,50%,Offer\nSMS,3 days,B,25%,Offer\nEmail,5 days,C,25%,Late offer\n",
		want: []string{"Wait 3 days, then, split 50/25/25:", `- A: send a push notification "Offer"`, `- B: send an SMS "Offer"`, `- C: 2 days later send an email "Late offer"`},
	}, {
		// A split's weights said in a sentence of their own go to the
		// Variant column's arms.
		name: "split sentence",
		file: "Our test: traffic goes 70/30 between the arms.\nvariant,day,channel,message\nA,Day 0,Email,Hi A\nB,Day 0,Push,Hi B\n",
		want: []string{"On day 0, split 70/30:", `- B: send a push notification "Hi B"`},
	}, {
		// Weights with no arms to give them to are listed, not dropped.
		name: "split without arms",
		file: "Split: 50/50\nday,channel,message\nDay 0,Email,Hi\n",
		want: []string{`Not understood: "Split: 50/50".`},
	}, {
		// After a step dated from the profile, "N days after the …" is a
		// wait, not a day counted from the first step.
		name: "wait after a dated step",
		file: "when,channel,message\n30 days before expiry_date,email,Renew now\n6 days after the renewal email,sms,Still time\n",
		want: []string{`30 days before expiry_date, send an email "Renew now".`, `Wait 6 days, then send an SMS "Still time".`},
	}, {
		// A Notes cell that skips its step on an event is a wait for the
		// event that long, the step on its timed-out branch.
		name: "skip note",
		file: "day,channel,message,notes\nDay 0,email,Welcome,\nDay 4,sms,Book a call,skip if they already booked (call_booked)\n",
		want: []string{`If no ` + "`call_booked`" + ` within 4 days, send an SMS "Book a call".`},
	}, {
		// "otherwise" inside a condition cell is the other branch.
		name: "otherwise in a condition cell",
		file: "day,channel,message,condition\nDay 0,email,Hi,\nDay 2,sms,Deal,only if region is EU; otherwise a push instead\n",
		want: []string{`On day 2, if region is EU, send an SMS "Deal"; otherwise send a push notification.`},
	}, {
		// A row on no channel node (post) is listed, never sent.
		name: "row on no channel",
		file: "day,channel,message\nDay 0,email,Hi\nDay 1,Letter by courier,Welcome kit\n",
		want: []string{`On day 0, send an email "Hi".`, `Not understood: "Day 1 | Letter by courier | Welcome kit".`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := document.Read("plan.csv", []byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(doc.Prompt(), "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("prompt lacks\n  %s\nin\n%s", w, doc.Prompt())
				}
			}
		})
	}
}

// TestPromptAwaitLines reads a wait for an event said in prose under the
// steps, with the bullet saying what is sent when it does not come; a
// bullet asking for something else is listed as not understood.
func TestPromptAwaitLines(t *testing.T) {
	t.Parallel()
	plan := strings.Join([]string{
		"Entry: quote_requested",
		"",
		"Day 0    email    \"Your quote\"",
		"then wait for quote_accepted, up to 3 days",
		"  - still not accepted: SMS nudge with the quote link",
		"  - and ask sales to call them",
		"Goal: quote_accepted",
	}, "\n")
	doc, err := document.Read("plan.txt", []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(doc.Prompt(), "\n")
	for _, w := range []string{
		"If no `quote_accepted` within 3 days, send an SMS \"nudge with the quote link\".",
		`Not understood: "- and ask sales to call them".`,
		"Goal: `quote_accepted`.",
	} {
		if !slices.Contains(lines, w) {
			t.Errorf("prompt lacks\n  %s\nin\n%s", w, doc.Prompt())
		}
	}
}

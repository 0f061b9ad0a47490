package offline

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// FuzzParseJourney checks the parser never panics and gives a valid graph or
// an error, whatever the text.
func FuzzParseJourney(f *testing.F) {
	if data, err := os.ReadFile("../testdata/descriptions.json"); err == nil {
		var cases []struct{ Text string }
		if json.Unmarshal(data, &cases) == nil {
			for _, c := range cases {
				f.Add(c.Text)
			}
		}
	}
	f.Add("if if if, then then, send \"unterminated")
	f.Add("On day 9999999999, wait 999999999999 days")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parseJourney(text)
		if err != nil {
			if strings.Contains(err.Error(), "is not valid") { // the parser built a broken graph
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		if problems := graph.Validate(p.graph); problems != nil {
			t.Fatalf("%q: invalid graph: %v", text, problems)
		}
	})
}

// TestOddInputs runs the parser on inputs a fuzzer finds slowly: huge
// numbers, stray quotes and punctuation, repeated words, non-ASCII text.
func TestOddInputs(t *testing.T) {
	for _, text := range []string{
		"On day 9999999999, send an email. On day 3, send an SMS.",
		"wait 999999999999 days then send an email",
		"send an email \"", "\"\"\"", "if", "if ,", "then then then", ", , ,", "->", "A/B test", "A/B test 0/0",
		"wait 0 days and send an email", "no more than 0 emails a day, send an email",
		"Quand un utilisateur s'inscrit, envoyez un e-mail de bienvenue. Wait 2 days, send an SMS «Salut»",
		"SEND A WELCOME EMAIL!!! WAIT 3 DAYS!!! SEND AN SMS!!!",
		strings.Repeat("send an email, wait 1 day, ", 510),
		"every monday at 25:99 send an email", "send an email to the \u00e9t\u00e9 segment",
		"send an email \"\u65e5\u672c\u8a9e\"", "send an \u00e9t\u00e9 email", "tag them as -", "remove the - tag",
		"set their -- to 5 and send an email", "when someone joins the -- segment, send an email",
		"000000000000000000000000000000000000000000000000000000https://#", "call https://# now", "end! 1d", // found by the fuzzer
	} {
		p, err := parseJourney(text)
		if err != nil {
			if strings.Contains(err.Error(), "is not valid") {
				t.Errorf("%.80q: %v", text, err)
			}
			continue
		}
		if problems := graph.Validate(p.graph); problems != nil {
			t.Errorf("%.80q: invalid graph: %v", text, problems)
		}
	}
}

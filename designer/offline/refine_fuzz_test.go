package offline

import (
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// sweepMessages are refinements worded many ways, some of which cannot
// apply to some journeys: every one must give a valid graph or an error.
var sweepMessages = []string{
	"make the wait 5 days instead of 3", "make the second wait 2 days", "change the last wait to 1 week",
	"extend the timeout to 4 days", "change the delay after the first email to 2 days",
	"change the first email's template to spring_sale", `set the subject of the last email to "Hi"`,
	"add SMS fallback for non-openers", "add a push reminder for people who don't open the second email",
	"if the first message fails send an email", "add an A/B test on the first email with 70/30 split",
	"A/B test the last message three ways", "remove the second email", "remove the first wait",
	"remove the A/B test", "remove the last step", "remove the goal", "delete the condition",
	"add a wait of 2 days before the SMS", "add a 1 hour delay after the first email",
	"send a push notification after the last email", "add exit when they unsubscribe",
	"change the exit to when they purchase", "remove the exit criteria", "cap emails at 2 per day",
	"limit sms to 1 per week and push to 3 a day", "remove the frequency cap", "rename the first step to Start",
	"change the goal to upgraded", "rename the journey to X", "please make it better", "",
	"add a wait of 0 days before the first email", "make the wait 0 days", "wait for a click instead of an open",
	"change the second wait to wait for a purchase", "start the journey when they sign up", "change the trigger to cart abandoned",
}

func TestRefineSweep(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"seed", "linear", "branchy", "labelled", "custom"} {
		for _, msg := range sweepMessages {
			start := fixture(t, name)
			snapshot := dump(start)
			g, explanation, _, err := refine(start, msg)
			if dump(start) != snapshot {
				t.Errorf("%s / %q: the input changed", name, msg)
			}
			if err != nil {
				if g != nil || err.Error() == "" {
					t.Errorf("%s / %q: error %v with graph %v", name, msg, err, g != nil)
				}
				continue
			}
			if p := graph.Validate(g); len(p) > 0 {
				t.Errorf("%s / %q: invalid result %v", name, msg, p)
			}
			if explanation == "" {
				t.Errorf("%s / %q: no explanation", name, msg)
			}
			if explain(g) == "" {
				t.Errorf("%s / %q: refined journey has no explanation", name, msg)
			}
		}
	}
}

// FuzzRefine checks that no message makes refine panic or return an
// invalid graph. Seeds run with go test; go test -fuzz=FuzzRefine explores.
func FuzzRefine(f *testing.F) {
	for _, m := range sweepMessages {
		f.Add(m)
	}
	f.Add("remove the 99999999999999999999th email")
	f.Add("add an A/B test on the first email with 1/1/1/1/1/1 split")
	f.Add("cap emails at 99999 per 0 days")
	f.Fuzz(func(t *testing.T, msg string) {
		start, err := graph.Parse([]byte(linearJSON))
		if err != nil {
			t.Fatal(err)
		}
		g, _, _, err := refine(start, msg)
		if err == nil {
			if p := graph.Validate(g); len(p) > 0 {
				t.Fatalf("%q: invalid result %v", msg, p)
			}
		}
	})
}

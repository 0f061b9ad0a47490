package offline

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer/designer/eval"
	"github.com/kalcifer/kalcifer/graph"
)

// miniFloors are how many cases of each design-eval mini set (issue 18's
// themes, in the format of docs/DESIGN_EVAL.md) the offline designer must
// pass, and how many it may get silently wrong: what it achieved when they
// were last run. The sets are small, so the floors are counts: one
// regression fails. mini2 was written after the reading stages and passed
// 6 of 12 on its first run. blind1 (61 briefs, 8 plans) was written by
// someone who had not read the designer: 4/69 on the old designer, 17/69
// on the first reading stages. mini3 was written after the stages for
// splits, caps, profile dates, "unless" and goals were generalised, in
// wordings blind2 does not use: 14 of 15 on its first run. blind2 (53
// briefs, 9 plans, by a second writer) was 2/62 on the old designer and
// 7/62 on the first reading stages; it has since been learned from.
// blind3 (68 briefs, 10 plans, by a third writer) was 19/78 before the
// blind2 work and 22/78 after it, both runs unseen; the stage work learned
// from it took it to 50/78. mini4 was written after that work, one or more
// cases per family in wordings blind1–3 do not use: 16 of 17 on its first
// run. blind4 (59 briefs, 10 plans, by a fourth writer) was 23/69 on its
// first run and 29/69 after the blind3 work and the plan reader, both
// unseen; the stage work learned from it took it to 43/69, 50/69 with the
// plan reader's blind4 work, 51/69 once a parcel in a message's quoted text
// no longer read as post. mini5 was written during that work, one or more
// cases per family in wordings blind1–4 do not use: 10 of 14 on its first
// run. blind5 (59 briefs, 10 plans, by a fifth writer) was 33/69 on its
// first run and 33/69 after the blind4 work, both unseen; 38/69 after the
// fixes learned from its first run (an arm's delay said twice, the parcel,
// dates then signed offsets, "the same date", unlettered split arms, goals
// marked as a step). Raise a floor when the designer gets better.
var miniFloors = map[string]struct{ pass, silent int }{
	"../testdata/mini":   {22, 0},
	"../testdata/mini2":  {12, 0},
	"../testdata/mini3":  {15, 0},
	"../testdata/mini4":  {17, 0},
	"../testdata/blind1": {49, 1},
	"../testdata/blind2": {41, 1},
	"../testdata/blind3": {61, 1},
	"../testdata/blind4": {51, 2},
	"../testdata/mini5":  {13, 0},
	"../testdata/blind5": {38, 1},
}

func TestMiniSets(t *testing.T) {
	for dir, floor := range miniFloors {
		cases, _, err := eval.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		r := eval.Run(context.Background(), New(), cases, 0)
		for _, res := range r.Results {
			if res.Design != nil {
				if problems := graph.Validate(res.Design.Graph); len(problems) > 0 {
					t.Errorf("%s: invalid graph: %v", res.Name, problems)
				}
			}
			if !res.Pass {
				t.Logf("%s: %v", res.Name, res.Misses)
			}
		}
		t.Logf("%s: %d/%d pass, %d silently wrong", dir, r.Passed, r.Cases, r.Silent)
		if r.Passed < floor.pass || r.Silent > floor.silent {
			t.Errorf("%s: %d pass (floor %d), %d silently wrong (at most %d)", dir, r.Passed, floor.pass, r.Silent, floor.silent)
		}
	}
}

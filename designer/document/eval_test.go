package document_test

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer/designer/eval"
	"github.com/kalcifer/kalcifer/designer/offline"
	"github.com/kalcifer/kalcifer/graph"
)

// planFloors are how many of each corpus's plans (its documents only, read
// by this package and designed offline) must pass, and how many may be
// silently wrong: what they achieved when last run. Before the plan was
// read whole (header lines, Variant arms, delays, aligned tables, unplaced
// lines) blind1 passed 7/8, blind2 1/9 (3 silent), blind3 0/10 (3 silent).
// mini4docs was written alongside that work, in layouts and column names of
// its own; 7/8 on its first run. blind4's plans were 2/10 (1 silent) before
// the reading learned from them (9/10 after, 10/10 once the offline parser
// stopped reading "parcel" in an SMS's quoted text as post); mini5docs was written
// after that, 3/6 on its first run. blind5's plans were 3/10 (1 silent) on
// their first run and 2/10 after the blind4 work (an arm's rows dated like
// the split got a wait each), 3/10 once that was fixed. Raise a floor when reading gets better.
var planFloors = map[string]struct{ pass, silent int }{
	"../testdata/blind1":    {7, 0},
	"../testdata/blind2":    {7, 0},
	"../testdata/blind3":    {9, 0},
	"../testdata/blind4":    {10, 0},
	"../testdata/mini4docs": {8, 0},
	"../testdata/mini5docs": {6, 0},
	"../testdata/blind5":    {3, 1},
}

func TestPlanCorpora(t *testing.T) {
	t.Parallel()
	for dir, floor := range planFloors {
		cases, _, err := eval.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		var plans []eval.Case
		for _, c := range cases {
			if c.Document != "" {
				plans = append(plans, c)
			}
		}
		r := eval.Run(context.Background(), offline.New(), plans, 0)
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
		t.Logf("%s: %d/%d plans pass, %d silently wrong", dir, r.Passed, r.Cases, r.Silent)
		if r.Passed < floor.pass || r.Silent > floor.silent {
			t.Errorf("%s: %d plans pass (floor %d), %d silently wrong (at most %d)", dir, r.Passed, floor.pass, r.Silent, floor.silent)
		}
	}
}

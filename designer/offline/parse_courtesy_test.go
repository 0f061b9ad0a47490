package offline

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

func TestDropCourtesy(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		dropped    []string
		kept       string // a phrase that must stay
	}{
		{"greeting and signed name", "Hi team,\n\nSend an email when `x_done` fires.\n\nThanks,\nPriya", []string{"Hi team", "Thanks Priya"}, "Send an email"},
		{"sign-off with its name on the line", "Hello!\nSend an SMS on `y_made`.\nBest, Jo", []string{"Hello", "Best, Jo"}, "Send an SMS"},
		{"team name under kind regards", "Dear agency,\nPush on `z_seen`.\nKind regards,\nDigital Services Team", []string{"Dear agency", "Kind regards Digital Services Team"}, "Push on"},
		{"a closing line that is an instruction stays", "Send an email on `a_b`.\nThanks, and push them 2 days later", nil, "push them 2 days later"},
		{"a one-line brief keeps its greeting", "hey can we email everyone on `c_d`", nil, "hey can we email"},
		{"a greeting alone is not dropped", "Hi team,", nil, "Hi team"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped := dropCourtesy(tc.text)
			if !slices.Equal(dropped, tc.dropped) {
				t.Errorf("dropped %q, want %q", dropped, tc.dropped)
			}
			if len(got) != len(tc.text) {
				t.Errorf("the text changed length (%d → %d): source spans would move", len(tc.text), len(got))
			}
			if !strings.Contains(got, tc.kept) {
				t.Errorf("%q lost %q", got, tc.kept)
			}
		})
	}
}

// The lines left out are named in the explanation, never among the steps
// or the not-understood lines.
func TestCourtesyInExplanation(t *testing.T) {
	res, err := New().Design(context.Background(), designer.Request{Message: "Hi team,\n\nWhen `order_completed` fires, send a thank-you email.\n\nCheers,\nTom"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Explanation, `"Hi team", "Cheers Tom"`) {
		t.Errorf("explanation does not name the courtesy lines: %s", res.Explanation)
	}
	for _, u := range res.Unrecognized {
		if strings.Contains(u, "Tom") || strings.Contains(u, "Hi team") {
			t.Errorf("courtesy line listed as not understood: %q", u)
		}
	}
}

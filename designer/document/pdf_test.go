package document

import (
	"slices"
	"testing"
)

func TestTableRows(t *testing.T) {
	t.Parallel()
	c := func(x float64, text string) pdfCell { return pdfCell{x: x, size: 10, text: text} }
	rows := [][]pdfCell{
		{c(60, "Plan")},
		{c(60, "Day"), c(180, "Channel"), c(300, "Audience"), c(420, "Message")},
		{c(60, "Day 0"), c(180, "Email"), c(300, "All"), c(420, "Welcome")},
		{c(60, "Day 2"), c(180, "Push"), c(421, "Come back")}, // no audience
		{c(420, "to the app")}, // the message wraps
		{c(60, "Exit: unsubscribes")},
		// Justified prose the reader misplaced into "columns": no header.
		{c(60, "We will"), c(140, "review")},
		{c(60, "results"), c(150, "weekly")},
	}
	want := []string{
		"Plan",
		"| Day | Channel | Audience | Message |",
		"| Day 0 | Email | All | Welcome |",
		"| Day 2 | Push |  | Come back to the app |",
		"Exit: unsubscribes",
		"We will review",
		"results weekly",
	}
	if got := tableRows(rows); !slices.Equal(got, want) {
		t.Errorf("tableRows:\n%q\nwant\n%q", got, want)
	}
}

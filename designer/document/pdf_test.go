package document

import (
	"slices"
	"testing"

	"github.com/ledongthuc/pdf"
)

func TestTableRows(t *testing.T) {
	t.Parallel()
	c := func(x float64, text string) pdfCell { return pdfCell{x: x, size: 10, text: text} }
	l := func(y float64, cells ...pdfCell) pdfLine { return pdfLine{y: y, cells: cells} }
	rows := []pdfLine{
		l(700, c(60, "Plan")),
		l(680, c(60, "Day"), c(180, "Channel"), c(300, "Audience"), c(420, "Message")),
		l(660, c(60, "Day 0"), c(180, "Email"), c(300, "All"), c(420, "Welcome")),
		l(640, c(60, "Day 2"), c(180, "Push"), c(421, "Come back")), // no audience
		l(628, c(420, "to the app")),                                // the message wraps
		l(610, c(60, "Exit: unsubscribes")),
		// Justified prose the reader misplaced into "columns": no header.
		l(590, c(60, "We will"), c(140, "review")),
		l(578, c(60, "results"), c(150, "weekly")),
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

// The PDF library ends every TJ with a newline decoded through the font:
// with LibreOffice's subset fonts that is a letter ("FY27w"). A real
// letter at the end of a run is followed by that separator, so it stays.
func TestDropSeparators(t *testing.T) {
	t.Parallel()
	g := func(s string, x, y float64) pdf.Text { return pdf.Text{Font: "DejaVuSans", S: s, X: x, Y: y, W: 5} }
	glyphs := []pdf.Text{
		g("F", 10, 700), g("Y", 15, 700), g("2", 20, 700), g("7", 25, 700), g("g", 30, 700), // separator
		g("n", 10, 680), g("e", 15, 680), g("g", 20, 680), g("g", 25, 680), // a real g, then the separator
		g("b", 10, 660), g("g", 15, 660), // the last glyph of the page is the separator
	}
	var got string
	for _, x := range dropSeparators(glyphs, map[string]string{"DejaVuSans": "g"}) {
		got += x.S
	}
	if want := "FY27neg" + "b"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}

func TestJoinWrapped(t *testing.T) {
	t.Parallel()
	lines := []string{
		"Win-back plan",
		"Trigger: segment lapsed_30d (players inactive for 30",
		"days)",
		"• Day 0: push \"Your squad misses you —",
		"500 gems waiting\" sent to every lapsed player in",
		"the segment",
		"• Day 2: email with the recap.",
		"Goal: return (session_started) within 14 days",
		"| Medium | When |",
		"| Email | Day 0 |",
		"Cap: no more than 3 pushes per week",
	}
	want := []string{
		"Win-back plan",
		"Trigger: segment lapsed_30d (players inactive for 30 days)",
		"• Day 0: push \"Your squad misses you — 500 gems waiting\" sent to every lapsed player in the segment",
		"• Day 2: email with the recap.",
		"Goal: return (session_started) within 14 days",
		"| Medium | When |",
		"| Email | Day 0 |",
		"Cap: no more than 3 pushes per week",
	}
	if got := joinWrapped(lines); !slices.Equal(got, want) {
		t.Errorf("joined\n%q\nwant\n%q", got, want)
	}
}

// A header set centred over its columns, and a row whose cells are set
// vertically centred beside a two-line cell: the columns come from where
// the data rows' cells start, and each line of the two-line cell goes to
// the row whose baseline is nearest.
func TestTableRowsCentredHeaderAndCells(t *testing.T) {
	t.Parallel()
	c := func(x float64, text string) pdfCell { return pdfCell{x: x, size: 10, text: text} }
	l := func(y float64, cells ...pdfCell) pdfLine { return pdfLine{y: y, cells: cells} }
	rows := []pdfLine{
		l(700, c(60, "Step"), c(140, "When"), c(240, "Channel"), c(340, "Content")),
		l(670, c(60, "1"), c(90, "Immediately"), c(230, "Email"), c(290, "Your itinerary")),
		l(637, c(90, "7 days before")),
		l(630, c(60, "2"), c(230, "Email"), c(290, "Packing tips")),
		l(623, c(90, "trip_start_date")),
		l(590, c(60, "3"), c(90, "2 days after step 2"), c(230, "WhatsApp"), c(290, "Transfers")),
		l(560, c(57, "trip_start_date is a customer attribute.")),
	}
	want := []string{
		"| Step | When | Channel | Content |",
		"| 1 | Immediately | Email | Your itinerary |",
		"| 2 | 7 days before trip_start_date | Email | Packing tips |",
		"| 3 | 2 days after step 2 | WhatsApp | Transfers |",
		"trip_start_date is a customer attribute.",
	}
	if got := tableRows(rows); !slices.Equal(got, want) {
		t.Errorf("tableRows:\n%q\nwant\n%q", got, want)
	}
}

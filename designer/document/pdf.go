package document

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages bounds the work a hostile page count can ask for.
const maxPDFPages = 200

// readPDF reads a PDF's text, page by page, rebuilding lines from where
// the glyphs sit (writers rarely mark line ends). Lines of "|"-separated
// cells become tables, as in a text file.
//
// The PDF library inflates and interprets a page's content streams and its
// fonts' ToUnicode maps whole, building every glyph in memory, and cannot
// be stopped from outside. So each page's streams are first inflated here,
// through the budget and into nothing, counting the bytes of their strings
// (each glyph shown is at least one): a page is interpreted only when what
// it would inflate and the glyphs it could show fit in what is left.
func readPDF(data []byte, b *budget) (*content, error) {
	// An encrypted PDF whose user password is empty (only printing or
	// copying restricted) opens; one that needs a password does not.
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(strings.ToLower(err.Error()), "encrypt") {
			return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	n := r.NumPage()
	if n <= 0 {
		return nil, fmt.Errorf("%w: no pages", ErrCorrupt)
	}
	if n > maxPDFPages {
		return nil, fmt.Errorf("%w: %d pages, at most %d are read", ErrUnsupported, n, maxPDFPages)
	}
	var lines []string
	for i := 1; i <= n; i++ {
		page := r.Page(i)
		if page.V.IsNull() {
			return nil, fmt.Errorf("%w: page %d is missing", ErrCorrupt, i)
		}
		if err := measurePage(page, i, b); err != nil {
			return nil, err
		}
		glyphs := page.Content().Text
		if err := b.addGlyphs(len(glyphs)); err != nil {
			return nil, err
		}
		glyphs = dropSeparators(glyphs, newlineGlyphs(page))
		lines = append(lines, pageLines(glyphs)...)
	}
	var text strings.Builder
	for _, line := range joinWrapped(lines) {
		text.WriteString(line)
		text.WriteByte('\n')
	}
	if strings.TrimSpace(text.String()) == "" {
		return nil, fmt.Errorf("%w: the PDF has no text layer (a scan?)", ErrEmpty)
	}
	return readText([]byte(text.String()), b)
}

// measurePage inflates page i's content streams and its fonts' ToUnicode
// maps through the budget, and refuses the page if interpreting it could
// show more glyphs than are left, or make the library parse more font
// maps or walk more encoding differences than are left: it parses a
// font's ToUnicode map again at every Tf that selects the font, and walks
// a font's /Differences array for every byte the font shows.
func measurePage(page pdf.Page, i int, b *budget) error {
	scan := newPDFScan()
	contents := page.V.Key("Contents")
	streams := []pdf.Value{contents}
	if contents.Kind() == pdf.Array {
		streams = streams[:0]
		for j := range min(contents.Len(), 1000) {
			streams = append(streams, contents.Index(j))
		}
	}
	for _, s := range streams {
		if err := inflate(s, fmt.Sprintf("page %d's content", i), b, scan); err != nil {
			return err
		}
	}
	scan.finish()
	if left := maxGlyphs - b.glyphs; scan.shownBytes() > 2*left {
		// Twice: a two-byte font spends two string bytes per glyph.
		return fmt.Errorf("%w: page %d shows more than %d characters of text; a campaign plan has a few thousand", ErrTooLarge, i, maxGlyphs)
	}
	fonts := page.Resources().Key("Font")
	var maxMap, maxDiff int64
	mapSize, diffLen := map[string]int64{}, map[string]int64{}
	for _, name := range fonts.Keys() {
		var size countWriter
		font := fonts.Key(name)
		if err := inflate(font.Key("ToUnicode"), fmt.Sprintf("page %d's font %s", i, name), b, &size); err != nil {
			return err
		}
		mapSize[name], diffLen[name] = int64(size), int64(font.Key("Encoding").Key("Differences").Len())
		maxMap, maxDiff = max(maxMap, int64(size)), max(maxDiff, diffLen[name])
	}
	for name, n := range scan.tf {
		size := mapSize[name]
		if name == otherFonts {
			size = maxMap
		}
		b.fontMaps += int64(n) * size
	}
	for name, n := range scan.shown {
		d := diffLen[name]
		if name == otherFonts {
			d = maxDiff
		}
		b.decodeSteps += int64(n) * d
	}
	if b.fontMaps > maxFontMaps {
		return fmt.Errorf("%w: page %d selects fonts so often that their maps would be read past %d MiB", ErrTooLarge, i, maxFontMaps>>20)
	}
	if b.decodeSteps > maxDecodeSteps {
		return fmt.Errorf("%w: page %d's font encodings would take past %d million steps to decode", ErrTooLarge, i, maxDecodeSteps/1_000_000)
	}
	return nil
}

// countWriter counts what is written to it.
type countWriter int

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}

// inflate reads stream v (if it is one) through the budget into w. A
// stream the library cannot decode is left to it.
func inflate(v pdf.Value, what string, b *budget, w io.Writer) (err error) {
	if v.Kind() != pdf.Stream {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = nil // an unknown filter: the library panics on it too, as a corrupt document
		}
	}()
	rc := v.Reader()
	defer rc.Close()
	if _, err := io.Copy(w, b.limit(rc, what)); overBudget(err) {
		return err
	}
	return nil
}

// pageLines groups a page's glyphs into lines, top to bottom: glyphs whose
// baselines lie within half a glyph's height share a line, read left to
// right, with a space wherever a gap is wider than a fifth of the font
// size. Runs of lines split by wide gaps are a table: they come back as
// "| cell | cell |" rows (see tableRows).
func pageLines(glyphs []pdf.Text) []string {
	type line struct {
		y      float64
		glyphs []pdf.Text
	}
	var lines []*line
	byY := map[int]*line{} // lines by rounded baseline, to find a glyph's line fast
	for _, g := range glyphs {
		if strings.Trim(g.S, "\r\n") == "" {
			continue // the reader's own text-object separators
		}
		tolerance := math.Min(math.Max(g.FontSize, 1)/2, 24)
		y := int(math.Round(g.Y))
		var into *line
		for dy := 0; dy <= int(tolerance) && into == nil; dy++ {
			for _, k := range []int{y - dy, y + dy} {
				if l := byY[k]; l != nil && math.Abs(l.y-g.Y) <= tolerance {
					into = l
					break
				}
			}
		}
		if into == nil {
			into = &line{y: g.Y}
			lines = append(lines, into)
			byY[y] = into
		}
		into.glyphs = append(into.glyphs, g)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].y > lines[j].y })
	rows := make([]pdfLine, 0, len(lines))
	for _, l := range lines {
		sort.SliceStable(l.glyphs, func(i, j int) bool { return l.glyphs[i].X < l.glyphs[j].X })
		rows = append(rows, pdfLine{l.y, lineCells(l.glyphs)})
	}
	return tableRows(rows)
}

var (
	bulletLine = regexp.MustCompile(`^(?:[-*•▪◦‣]|\d{1,2}[.)])\s+`)
	labelLine  = regexp.MustCompile(`^[A-Z][A-Za-z0-9 /&'-]{0,30}:\s`)
)

// joinWrapped turns a PDF's wrapped lines back into the bullets and
// sentences they were: a line under a bullet continues it until the next
// bullet, label ("Goal: …"), table row or blank line; a line under prose
// continues it when it starts in lower case or closes a parenthesis left
// open.
func joinWrapped(lines []string) []string {
	var out []string
	inBullet := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		n := len(out)
		switch {
		case t == "" || strings.HasPrefix(t, "|"):
			inBullet = false
		case bulletLine.MatchString(t):
			inBullet = true
		case n > 0 && !labelLine.MatchString(t) && !strings.HasPrefix(strings.TrimSpace(out[n-1]), "|") && wraps(out[n-1], t, inBullet):
			out[n-1] = strings.TrimRight(out[n-1], " ") + " " + t
			continue
		default:
			inBullet = false
		}
		out = append(out, l)
	}
	return out
}

// wraps reports whether line t continues line prev.
func wraps(prev, t string, inBullet bool) bool {
	prev = strings.TrimSpace(prev)
	if prev == "" {
		return false
	}
	ended := strings.ContainsAny(prev[len(prev)-1:], ".!?:")
	first, _ := utf8.DecodeRuneInString(t)
	switch {
	case strings.Count(prev, "(") > strings.Count(prev, ")"):
		return true
	case inBullet:
		return !ended || unicode.IsLower(first)
	}
	return !ended && unicode.IsLower(first)
}

// newlineGlyphs maps each font of the page (by its base name) to what a
// newline byte decodes to in it. The PDF library ends every TJ it shows
// with a "\n" passed through the current font's encoding, so with a
// subset font (LibreOffice's, say) the separator comes out as whatever
// letter code 0x0A stands for there: "FY27w", "annual_renewalsg".
func newlineGlyphs(page pdf.Page) map[string]string {
	out := map[string]string{}
	for _, name := range page.Fonts() {
		f := page.Font(name)
		if d := f.Encoder().Decode("\n"); strings.Trim(d, "\r\n") != "" {
			base := f.BaseFont()
			if i := strings.IndexByte(base, '+'); i == 6 { // a subset's tag: "BAAAAA+DejaVuSans"
				base = base[i+1:]
			}
			out[base] = d
		}
	}
	return out
}

// dropSeparators removes the library's TJ separators: a glyph that is the
// font's decoded newline, placed right where the glyph before it ends, and
// not followed by a glyph continuing from where it ends (a real letter at
// the end of a run is followed by the separator itself).
func dropSeparators(glyphs []pdf.Text, newline map[string]string) []pdf.Text {
	if len(newline) == 0 {
		return glyphs
	}
	continues := func(a, b pdf.Text) bool {
		return math.Abs(a.Y-b.Y) < 0.5 && math.Abs(a.X+a.W-b.X) < 0.5
	}
	out := glyphs[:0:0]
	for i, g := range glyphs {
		if nl, ok := newline[g.Font]; ok && g.S == nl && i > 0 && continues(glyphs[i-1], g) &&
			(i+1 == len(glyphs) || !continues(g, glyphs[i+1])) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// pdfCell is a run of text on a line, and where it starts.
type pdfCell struct {
	x, size float64
	text    string
}

// lineCells joins a line's glyphs, left to right, into cells: a gap wider
// than a font size (a word space is about a quarter), half of one with no
// space glyph in it (a table's next text object), or two spaces or more,
// start a new cell.
func lineCells(glyphs []pdf.Text) []pdfCell {
	var cells []pdfCell
	var b strings.Builder
	end := math.Inf(-1)
	spaces := 0 // spaces since the last other glyph
	flush := func() {
		if t := glyphFixes.Replace(strings.TrimSpace(b.String())); t != "" {
			cells[len(cells)-1].text = t
		} else if len(cells) > 0 {
			cells = cells[:len(cells)-1]
		}
		b.Reset()
	}
	for _, g := range glyphs {
		size := math.Max(g.FontSize, 1)
		gap := g.X - end
		if g.S == " " {
			spaces++
			end = g.X + g.W
			continue
		}
		if spaces == 1 && gap <= size {
			b.WriteByte(' ')
		}
		if len(cells) == 0 || gap > size || spaces > 1 || spaces == 0 && gap > size/2 {
			if len(cells) > 0 {
				flush()
			}
			cells = append(cells, pdfCell{x: g.X, size: size})
		} else if gap > size/5 && spaces == 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.S)
		end, spaces = g.X+g.W, 0
	}
	if len(cells) > 0 {
		flush()
	}
	return cells
}

// pdfLine is a line of a page: its baseline and its cells, left to right.
type pdfLine struct {
	y     float64
	cells []pdfCell
}

// tableRows renders lines of cells as text. A line of one cell is prose,
// and so is a line of several unless it is a steps header (gaps are only
// trusted under one: the reader places glyphs after a space stretched by
// word spacing (Tw) too far left, so justified prose can look like
// columns). A steps header opens a table that runs while lines have
// several cells or one set in from the left margin no further below the
// line above than the table's lines have been apart, or nearer the row
// under it than the line above (a wrapped cell); see pdfTable.
func tableRows(lines []pdfLine) []string {
	var out []string
	for i := 0; i < len(lines); {
		cells := unhang(lines[i].cells)
		if h, _ := findHeader(table{cellTexts(cells)}); len(cells) < 2 || h != 0 {
			out = append(out, joinWords(cellTexts(cells)))
			i++
			continue
		}
		margin := cells[0].x + cells[0].size
		spacing := 0.0 // the widest step between two lines of the table so far
		j := i + 1
		for ; j < len(lines); j++ {
			l := lines[j]
			step := lines[j-1].y - l.y
			above := j+1 < len(lines) && len(lines[j+1].cells) > 1 // a row follows
			near := step <= spacing+1 || above && l.y-lines[j+1].y < step
			inset := len(l.cells) == 1 && (l.cells[0].x > margin && near || j == i+1 && above)
			if len(l.cells) < 2 && !inset {
				break
			}
			spacing = max(spacing, step)
		}
		out = append(out, pdfTable(pdfLine{lines[i].y, cells}, lines[i+1:j])...)
		i = j
	}
	return out
}

// unhang folds a hanging list marker into the cell after it: "•   Day 0 –
// Email …" is no column.
func unhang(cells []pdfCell) []pdfCell {
	if len(cells) > 1 && listMarker.MatchString(cells[0].text) {
		cells = append([]pdfCell{{x: cells[0].x, size: cells[1].size, text: cells[0].text + " " + cells[1].text}}, cells[2:]...)
	}
	return cells
}

// pdfTable renders a steps header and the lines under it as "| cell |"
// rows. The columns start where the data rows' cells start when they start
// at as many places as the header has cells: a header set centred or to
// the right of its column would put cells in the wrong one. A line of one
// cell (a wrapped cell, or a cell set vertically centred beside a taller
// one) belongs to the row whose baseline is nearest; a line whose first
// column is empty continues the row above.
func pdfTable(header pdfLine, body []pdfLine) []string {
	anchors := header.cells
	var data []pdfLine
	for _, l := range body {
		if len(l.cells) > 1 {
			data = append(data, l)
		}
	}
	if xs := columnStarts(data); len(xs) == len(anchors) {
		anchors = xs
	}
	column := func(c pdfCell) int {
		j := 0
		for k, a := range anchors {
			if a.x <= c.x+c.size {
				j = k
			}
		}
		return j
	}
	type piece struct {
		y    float64
		text string
	}
	type row struct {
		y     float64
		cells [][]piece
	}
	newRow := func(y float64) *row { return &row{y: y, cells: make([][]piece, len(anchors))} }
	head := newRow(header.y)
	for k, c := range header.cells {
		head.cells[k] = append(head.cells[k], piece{header.y, c.text})
	}
	rows := []*row{head}
	var pending []piece // single cells nearer the next row than the last
	var pendingCol []int
	for i, l := range body {
		last := rows[len(rows)-1]
		if len(l.cells) == 1 {
			c := l.cells[0]
			next := math.Inf(1)
			for _, n := range body[i+1:] {
				if len(n.cells) > 1 {
					next = math.Abs(n.y - l.y)
					break
				}
			}
			if next < math.Abs(last.y-l.y) {
				pending, pendingCol = append(pending, piece{l.y, c.text}), append(pendingCol, column(c))
			} else {
				last.cells[column(c)] = append(last.cells[column(c)], piece{l.y, c.text})
			}
			continue
		}
		r := newRow(l.y)
		for _, c := range l.cells {
			j := column(c)
			r.cells[j] = append(r.cells[j], piece{l.y, c.text})
		}
		if len(r.cells[0]) == 0 && len(rows) > 1 && len(pending) == 0 {
			// Cells under later columns only, the first left empty:
			// the row above wrapped ("Activate your | … has" over
			// "card | not arrived …").
			for j, ps := range r.cells {
				last.cells[j] = append(last.cells[j], ps...)
			}
			continue
		}
		for k, p := range pending {
			r.cells[pendingCol[k]] = append(r.cells[pendingCol[k]], p)
		}
		pending, pendingCol = nil, nil
		rows = append(rows, r)
	}
	last := rows[len(rows)-1]
	for k, p := range pending {
		last.cells[pendingCol[k]] = append(last.cells[pendingCol[k]], p)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		texts := make([]string, len(r.cells))
		for j, ps := range r.cells {
			sort.SliceStable(ps, func(a, b int) bool { return ps[a].y > ps[b].y })
			var words []string
			for _, p := range ps {
				words = append(words, p.text)
			}
			texts[j] = strings.Join(words, " ")
		}
		out = append(out, "| "+strings.Join(texts, " | ")+" |")
	}
	return out
}

// columnStarts returns where the cells of a table's data rows start, one
// position per column, left to right: starts within a font size of each
// other are one column.
func columnStarts(rows []pdfLine) []pdfCell {
	var xs []pdfCell
	for _, l := range rows {
		for _, c := range l.cells {
			xs = append(xs, pdfCell{x: c.x, size: c.size})
		}
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].x < xs[j].x })
	var out []pdfCell
	for _, c := range xs {
		if n := len(out); n > 0 && c.x-out[n-1].x <= c.size {
			continue
		}
		out = append(out, c)
	}
	return out
}

// joinWords joins a row's non-empty cells with spaces.
func joinWords(cells []string) string {
	var parts []string
	for _, c := range cells {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, " ")
}

// listMarker is a bullet or number set apart from its item.
var listMarker = regexp.MustCompile(`^(?:[•▪◦·*–—-]|\d{1,2}[.)]|[a-zA-Z][.)]|\(\d{1,2}\))$`)

func cellTexts(cells []pdfCell) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.text
	}
	return out
}

// glyphFixes undoes typesetting: ligatures and the minus sign set for a
// hyphen.
var glyphFixes = strings.NewReplacer("ﬁ", "fi", "ﬂ", "fl", "ﬀ", "ff", "ﬃ", "ffi", "ﬄ", "ffl", "−", "-", "\u00a0", " ")

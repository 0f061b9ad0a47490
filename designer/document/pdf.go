package document

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages bounds the work a hostile page count can ask for.
const maxPDFPages = 200

// readPDF reads a PDF's text, page by page, rebuilding lines from where
// the glyphs sit (writers rarely mark line ends). Lines of "|"-separated
// cells become tables, as in a text file.
func readPDF(data []byte) (*content, error) {
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
	var text strings.Builder
	for i := 1; i <= n; i++ {
		page := r.Page(i)
		if page.V.IsNull() {
			return nil, fmt.Errorf("%w: page %d is missing", ErrCorrupt, i)
		}
		for _, line := range pageLines(page.Content().Text) {
			text.WriteString(line)
			text.WriteByte('\n')
		}
	}
	if strings.TrimSpace(text.String()) == "" {
		return nil, fmt.Errorf("%w: the PDF has no text layer (a scan?)", ErrEmpty)
	}
	return readText([]byte(text.String()))
}

// pageLines groups a page's glyphs into lines, top to bottom: glyphs whose
// baselines lie within half a glyph's height share a line, read left to
// right, with a space wherever a gap is wider than a fifth of the font
// size.
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
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		sort.SliceStable(l.glyphs, func(i, j int) bool { return l.glyphs[i].X < l.glyphs[j].X })
		var b strings.Builder
		end := math.Inf(-1)
		for _, g := range l.glyphs {
			if g.X-end > math.Max(g.FontSize, 1)/5 && b.Len() > 0 && !strings.HasSuffix(b.String(), " ") && g.S != " " {
				b.WriteByte(' ')
			}
			b.WriteString(g.S)
			end = g.X + g.W
		}
		out = append(out, glyphFixes.Replace(strings.TrimSpace(b.String())))
	}
	return out
}

// glyphFixes undoes typesetting: ligatures and the minus sign set for a
// hyphen.
var glyphFixes = strings.NewReplacer("ﬁ", "fi", "ﬂ", "fl", "ﬀ", "ff", "ﬃ", "ffi", "ﬄ", "ffl", "−", "-", "\u00a0", " ")

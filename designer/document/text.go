package document

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeText turns a text file's bytes into a string: UTF-8 (with or
// without a byte order mark), UTF-16 with a byte order mark (Excel's
// "Unicode text"), and otherwise Windows-1252, the usual encoding of a CSV
// saved by Excel on Windows.
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
	case bytes.HasPrefix(data, bomUTF16LE):
		return decodeUTF16(data[2:], binary.LittleEndian)
	case bytes.HasPrefix(data, bomUTF16BE):
		return decodeUTF16(data[2:], binary.BigEndian)
	}
	if utf8.Valid(data) {
		return string(data)
	}
	var b strings.Builder
	for _, c := range data {
		if c >= 0x80 && c < 0xA0 && cp1252[c-0x80] != 0 {
			b.WriteRune(cp1252[c-0x80])
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

func decodeUTF16(data []byte, order binary.ByteOrder) string {
	units := make([]uint16, len(data)/2)
	for i := range units {
		units[i] = order.Uint16(data[2*i:])
	}
	return string(utf16.Decode(units))
}

// cp1252 maps Windows-1252's bytes 0x80–0x9F, where it differs from
// Latin-1 (smart quotes, dashes, the euro sign).
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// readText reads a plain-text or Markdown plan. Markdown tables
// ("| Day | Channel |") and columns aligned with spaces under a header
// ("group   message   channel") become tables; every line is prose, a
// table row as its cells joined by " | ".
func readText(data []byte, b *budget) (*content, error) {
	c := &content{}
	var tbl table
	flush := func() {
		if len(tbl) > 0 {
			c.tables = append(c.tables, tbl)
			tbl = nil
		}
	}
	// Lines are taken one at a time through the budget, so a file of
	// millions stops at its line limit without being split whole.
	var lines []string
	for line := range strings.SplitSeq(decodeText(data), "\n") {
		if err := b.line(); err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	prevAligned := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "|") && strings.Count(line, "|") >= 2 {
			cells := strings.Split(strings.Trim(line, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if isMarkdownRule(cells) {
				continue
			}
			if err := b.addCells(len(cells)); err != nil {
				return nil, err
			}
			tbl = append(tbl, cells)
			c.lines = append(c.lines, joinCells(cells))
			continue
		}
		flush()
		// A header starts a run of lines split by wide gaps: the lines
		// after it in the run are not tried as one.
		aligned := strings.Contains(line, "  ") || strings.Contains(line, "\t")
		runStart := aligned && !prevAligned
		prevAligned = aligned
		if !runStart {
			c.lines = append(c.lines, line)
			continue
		}
		if rows := alignedTable(lines[i:]); rows != nil {
			if err := b.addCells(len(rows) * len(rows[0])); err != nil {
				return nil, err
			}
			for _, r := range rows {
				c.lines = append(c.lines, joinCells(r))
			}
			c.tables = append(c.tables, rows)
			i += len(rows) - 1
			continue
		}
		c.lines = append(c.lines, line)
	}
	flush()
	return c, nil
}

var (
	// gap is the run of spaces between columns aligned with spaces.
	gap = regexp.MustCompile(`\s{2,}|\t+`)
	// words is a run of words with single spaces: one aligned cell.
	words = regexp.MustCompile(`\S+(?: \S+)*`)
)

// alignedTable reads a table whose columns are aligned with spaces from
// the start of lines: a header row naming a steps table's columns, then
// the rows under it, each cut at the header's column starts. It returns
// nil when lines do not start one.
func alignedTable(lines []string) table {
	head := strings.TrimRight(lines[0], " \t\r")
	if len(gap.Split(strings.TrimSpace(head), -1)) < 2 || strings.Contains(head, "|") {
		return nil
	}
	var starts []int
	for _, loc := range words.FindAllStringIndex(head, -1) {
		starts = append(starts, loc[0])
	}
	cut := func(line string) []string {
		cells := make([]string, len(starts))
		for k, st := range starts {
			end := len(line)
			if k+1 < len(starts) {
				end = min(end, starts[k+1])
			}
			if st < len(line) {
				cells[k] = strings.TrimSpace(line[st:end])
			}
		}
		return cells
	}
	rows := table{cut(head)}
	if h, _ := findHeader(rows); h != 0 {
		return nil
	}
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" || len(gap.Split(strings.TrimSpace(l), -1)) < 2 {
			break
		}
		rows = append(rows, cut(l))
	}
	if len(rows) < 2 {
		return nil
	}
	return rows
}

// isMarkdownRule reports whether cells are a Markdown table's |---|:--:| row.
func isMarkdownRule(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

// joinCells renders a table row as a line of Document.Text, skipping empty
// cells.
func joinCells(cells []string) string {
	var parts []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, " | ")
}

package document

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readCSV reads a comma-, semicolon- or tab-separated plan. The whole file
// is one table; its rows are also the document's prose lines. Rows are
// read one at a time, so a file of millions stops at the budget.
func readCSV(data []byte, b *budget) (*content, error) {
	text := decodeText(data)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sniffDelimiter(text)
	r.FieldsPerRecord = -1 // plans have ragged rows
	r.LazyQuotes = true
	var rows table
	c := &content{}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if err := b.line(); err != nil {
			return nil, err
		}
		if err := b.addCells(len(row)); err != nil {
			return nil, err
		}
		rows = append(rows, row)
		c.lines = append(c.lines, joinCells(row))
	}
	c.tables = []table{rows}
	if strings.TrimSpace(strings.Join(c.lines, "")) == "" {
		return nil, fmt.Errorf("%w: no cells with text", ErrEmpty)
	}
	return c, nil
}

// sniffDelimiter picks the separator — comma, semicolon or tab — that
// splits the first lines most consistently into the most columns.
func sniffDelimiter(text string) rune {
	lines := strings.SplitN(text, "\n", 21)
	if len(lines) > 20 {
		lines = lines[:20]
	}
	best, bestScore := ',', -1
	for _, d := range []rune{',', ';', '\t'} {
		score := 0
		for _, l := range lines {
			// Separators inside quotes are rare enough in the first lines
			// of a plan that a plain count works.
			if n := strings.Count(l, string(d)); n > 0 {
				score += n + 2 // a line the separator splits at all counts extra
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

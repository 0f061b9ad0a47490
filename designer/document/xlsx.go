package document

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// unzipLimit caps how much a zip-based document may inflate to, so a zip
// bomb under MaxSize cannot exhaust memory.
const unzipLimit = 64 << 20

// readXLSX reads every sheet of a workbook: each sheet is a table, and its
// rows (under a "Sheet: name" line) are prose lines. Merged cells carry their
// value into every cell they cover, as a reader sees them.
func readXLSX(data []byte) (*content, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    unzipLimit,
		UnzipXMLSizeLimit: unzipLimit,
	})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookPassword) || strings.Contains(err.Error(), "password") {
			return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer f.Close()
	c := &content{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
		}
		if err := fillMerged(f, sheet, rows); err != nil {
			return nil, err
		}
		c.tables = append(c.tables, rows)
		if len(c.lines) > 0 {
			c.lines = append(c.lines, "")
		}
		c.lines = append(c.lines, "Sheet: "+sheet)
		for _, row := range rows {
			c.lines = append(c.lines, joinCells(row))
		}
	}
	return c, nil
}

// fillMerged copies each merged range's value down its first column, so a
// day or audience merged over several rows reads on each of them. Across
// columns the value stays in the first cell only (a title spanning the
// sheet is one title).
func fillMerged(f *excelize.File, sheet string, rows [][]string) error {
	merged, err := f.GetMergeCells(sheet)
	if err != nil {
		return fmt.Errorf("%w: sheet %q merged cells: %v", ErrCorrupt, sheet, err)
	}
	for _, m := range merged {
		c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		_, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		if err1 != nil || err2 != nil {
			continue // a malformed range is left as the sheet has it
		}
		for r := r1; r <= r2 && r <= len(rows); r++ {
			row := rows[r-1]
			for len(row) < c1 {
				row = append(row, "")
			}
			row[c1-1] = m.GetCellValue()
			rows[r-1] = row
		}
	}
	return nil
}

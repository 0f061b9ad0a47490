package document

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// readXLSX reads every sheet of a workbook: each sheet is a table, and its
// rows (under a "Sheet: name" line) are prose lines. Merged cells carry their
// value into every cell they cover, as a reader sees them.
//
// openZip checks the parts' sizes before excelize loads them all into
// memory, and excelize's own limits repeat the check; rows are then read
// one at a time, so a sheet of a million cells stops at the budget.
func readXLSX(data []byte, b *budget) (*content, error) {
	if _, err := openZip(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    maxZipInflate,
		UnzipXMLSizeLimit: maxInflate,
	})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookPassword) || strings.Contains(err.Error(), "password") {
			return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer f.Close()
	c := &content{}
	for _, sheet := range f.GetSheetList() {
		rows, err := sheetRows(f, sheet, b)
		if err != nil {
			return nil, err
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

// sheetRows is excelize's GetRows (trailing empty rows dropped, a row that
// fails to read ends the sheet) within the budget: every row, empty or
// not, is a line, and every cell a cell.
func sheetRows(f *excelize.File, sheet string, b *budget) (table, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
	}
	defer rows.Close()
	var out table
	cur, last := 0, 0
	for rows.Next() {
		cur++
		if err := b.line(); err != nil {
			return nil, err
		}
		row, err := rows.Columns()
		if err != nil {
			break
		}
		if err := b.addCells(len(row)); err != nil {
			return nil, err
		}
		if len(row) > 0 {
			if empty := cur - last - 1; empty > 0 {
				out = append(out, make(table, empty)...)
			}
			out = append(out, row)
			last = cur
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, sheet, err)
	}
	return out[:last], nil
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

package main

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// epoch stamps every generated file, so regenerating changes no bytes.
var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// sheet is one worksheet: its rows, and ranges to merge ("A5:A6").
type sheet struct {
	name   string
	rows   [][]any
	merges []string
}

// writeXLSX builds a workbook with excelize.
func writeXLSX(sheets []sheet) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetDocProps(&excelize.DocProperties{
		Created: epoch.Format(time.RFC3339), Modified: epoch.Format(time.RFC3339),
		Creator: "Kalcifer test data", LastModifiedBy: "Kalcifer test data",
	}); err != nil {
		return nil, err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return nil, err
		}
		for r, row := range s.rows {
			cell, err := excelize.CoordinatesToCellName(1, r+1)
			if err != nil {
				return nil, err
			}
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				return nil, err
			}
		}
		for _, m := range s.merges {
			from, to, _ := strings.Cut(m, ":")
			if err := f.MergeCell(s.name, from, to); err != nil {
				return nil, err
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// block is a piece of a Word document: a paragraph (bullet marks a list
// item) or a table. In a table, a cell "^" continues the cell above
// (w:vMerge), the way Word stores a vertically merged cell.
type block struct {
	para   string
	bullet bool
	table  [][]string
}

// writeDOCX builds a minimal WordprocessingML package by hand.
func writeDOCX(blocks []block) ([]byte, error) {
	var body strings.Builder
	for _, b := range blocks {
		if b.table == nil {
			body.WriteString(docxPara(b.para, b.bullet))
			continue
		}
		body.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>`)
		for r, row := range b.table {
			body.WriteString("<w:tr>")
			for c, cell := range row {
				switch {
				case cell == "^":
					body.WriteString(`<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>`)
				case r+1 < len(b.table) && c < len(b.table[r+1]) && b.table[r+1][c] == "^":
					body.WriteString(`<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>` + docxPara(cell, false) + `</w:tc>`)
				default:
					body.WriteString("<w:tc>" + docxPara(cell, false) + "</w:tc>")
				}
			}
			body.WriteString("</w:tr>")
		}
		body.WriteString("</w:tbl>")
	}
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `<w:sectPr/></w:body></w:document>`},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// docxPara writes one paragraph; a bullet carries list numbering. Runs are
// split at the first colon, bold before it, as Word stores styled text.
func docxPara(text string, bullet bool) string {
	var b strings.Builder
	b.WriteString("<w:p>")
	if bullet {
		b.WriteString(`<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>`)
	}
	head, tail, ok := strings.Cut(text, ":")
	if ok && len(head) < 20 {
		b.WriteString(`<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">` + esc(head+":") + `</w:t></w:r>`)
		text = tail
	}
	if text != "" {
		b.WriteString(`<w:r><w:t xml:space="preserve">` + esc(text) + `</w:t></w:r>`)
	}
	b.WriteString("</w:p>")
	return b.String()
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writePDF builds a PDF 1.4 file by hand: Helvetica in WinAnsiEncoding,
// one text object per line (per cell for tab-separated table rows),
// uncompressed content streams, a classic xref table. pages holds each
// page's lines.
func writePDF(pages [][]string) []byte {
	var objs []string
	// Objects 1 (catalog), 2 (pages) and 3 (font) come first; then a page
	// and its content stream per page.
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	for i, lines := range pages {
		var content strings.Builder
		y := 770
		for _, l := range lines {
			size := 11
			if strings.HasPrefix(l, "# ") {
				l, size = l[2:], 16
			}
			// A tab-separated line is a table row: each cell its own text
			// object in its column, empty cells drawing nothing, as word
			// processors export tables.
			for c, cell := range strings.Split(l, "\t") {
				if cell != "" {
					fmt.Fprintf(&content, "BT /F1 %d Tf %d %d Td (%s) Tj ET\n", size, 60+c*pdfColumn, y, pdfString(cell))
				}
			}
			y -= size + 7
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()))
	}
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return buf.Bytes()
}

// pdfColumn is the width of a table column in a generated PDF, in points.
const pdfColumn = 120

// winAnsi maps the non-ASCII characters the plans use to WinAnsiEncoding.
var winAnsi = map[rune]byte{'–': 0x96, '—': 0x97, '“': 0x93, '”': 0x94, '‘': 0x91, '’': 0x92, '•': 0x95, '€': 0x80, 'é': 0xE9}

// pdfString encodes a line as a PDF literal string's contents.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x80:
			b.WriteRune(r)
		case winAnsi[r] != 0:
			fmt.Fprintf(&b, "\\%03o", winAnsi[r])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// cp1252 encodes text as Windows-1252, as Excel on Windows saves a CSV.
func cp1252(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			b = append(b, byte(r))
		case winAnsi[r] != 0:
			b = append(b, winAnsi[r])
		default:
			b = append(b, '?')
		}
	}
	return b
}

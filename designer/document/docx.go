package document

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// readDOCX reads word/document.xml: paragraphs and tables in document
// order. A table row is also a prose line (cells joined by " | "). A cell
// merged down (w:vMerge) reads as the cell above it; nested tables are
// flattened into their outer cell's text.
//
// openZip refuses an archive whose parts declare more than the budget, and
// the document is read through the budget, so a deflate bomb stops there.
func readDOCX(data []byte, b *budget) (*content, error) {
	zr, err := openZip(data)
	if err != nil {
		return nil, err
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
		}
		if f.Name == "EncryptionInfo" || f.Name == "EncryptedPackage" {
			return nil, ErrEncrypted
		}
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: no word/document.xml in the archive", ErrCorrupt)
	}
	rc, err := doc.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer rc.Close()
	c, err := parseDocumentXML(b.limit(rc, "word/document.xml"), b)
	if overBudget(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: word/document.xml: %v", ErrCorrupt, err)
	}
	return c, nil
}

// docxParser holds the state of the walk through document.xml.
type docxParser struct {
	b         *budget
	err       error // the first budget error
	c         content
	para      strings.Builder // the paragraph being read
	inText    bool            // inside w:t
	list      bool            // the paragraph is a list item (w:numPr)
	depth     int             // table nesting depth
	tbl       table           // the outermost table being read
	row       []string        // its row being read
	cell      []string        // its cell's paragraphs
	vContinue bool            // the cell continues a vertical merge
	gridSpan  int             // columns the cell spans
}

func parseDocumentXML(r io.Reader, b *budget) (*content, error) {
	p := &docxParser{b: b}
	dec := xml.NewDecoder(r)
	for p.err == nil {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.start(t)
		case xml.EndElement:
			p.end(t.Name.Local)
		case xml.CharData:
			if p.inText {
				p.para.Write(t)
			}
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	return &p.c, nil
}

// wordAttr returns the value of the element's w:val (or other) attribute.
func wordAttr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (p *docxParser) start(t xml.StartElement) {
	switch t.Name.Local {
	case "t":
		p.inText = true
	case "tab":
		p.para.WriteByte('\t')
	case "br", "cr":
		p.para.WriteByte(' ')
	case "numPr":
		p.list = true
	case "tbl":
		p.depth++
	case "tr":
		if p.depth == 1 {
			p.row = nil
		}
	case "tc":
		if p.depth == 1 {
			p.cell, p.vContinue, p.gridSpan = nil, false, 1
		}
	case "vMerge":
		if p.depth == 1 && wordAttr(t, "val") != "restart" {
			p.vContinue = true
		}
	case "gridSpan":
		if p.depth == 1 {
			// A malformed span counts as one column.
			if n, err := strconv.Atoi(wordAttr(t, "val")); err == nil && n > 1 {
				p.gridSpan = n
			}
		}
	}
}

// spend records the first budget error of the walk.
func (p *docxParser) spend(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *docxParser) end(name string) {
	switch name {
	case "t":
		p.inText = false
	case "p":
		p.spend(p.b.line())
		text := strings.TrimSpace(p.para.String())
		p.para.Reset()
		if p.depth > 0 {
			if text != "" {
				p.cell = append(p.cell, text)
			}
		} else if text != "" || !p.list {
			if p.list {
				text = "- " + text
			}
			p.c.lines = append(p.c.lines, text)
		}
		p.list = false
	case "tc":
		if p.depth != 1 {
			return
		}
		text := strings.Join(p.cell, " ")
		if p.vContinue && len(p.tbl) > 0 {
			if above := p.tbl[len(p.tbl)-1]; len(p.row) < len(above) {
				text = above[len(p.row)]
			}
		}
		p.spend(p.b.addCells(min(p.gridSpan, 64)))
		p.row = append(p.row, text)
		for i := 1; i < p.gridSpan && i < 64; i++ {
			p.row = append(p.row, "")
		}
	case "tr":
		if p.depth == 1 {
			p.spend(p.b.line())
			p.tbl = append(p.tbl, p.row)
			p.c.lines = append(p.c.lines, joinCells(p.row))
		}
	case "tbl":
		p.depth--
		if p.depth == 0 {
			p.c.tables = append(p.c.tables, p.tbl)
			p.tbl = nil
		}
	}
}

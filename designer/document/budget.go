package document

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// A document is read within a budget sized to real campaign plans, so that
// a small upload that expands — a deflate bomb, a million cells, millions
// of rows — is refused as soon as it outgrows any plan, before it costs
// memory or CPU. Every budget is far above the largest plan in
// designer/testdata/documents (a few KiB of text, under 600 glyphs and
// 200 cells) and above what the designer accepts anyway: a plan that reads
// as more than designer.MaxMessage (64 KiB) of text is refused after
// reading, so a budget only needs to let through documents that could
// become such a message, with room for markup.
const (
	// maxInflate bounds the bytes decompressed from one document: the XML
	// parts of a DOCX or XLSX, the content streams and font maps of a PDF.
	// 64 KiB of text is about 1 MiB of WordprocessingML (run properties
	// wrap every few words) or 0.5 MiB of PDF text operators; 4 MiB leaves
	// room for styles, themes and verbose writers, while keeping what a
	// parser builds from it (10 to 20 times the XML) under 100 MiB.
	maxInflate = 4 << 20
	// maxZipInflate bounds all of a zip's entries, images included, which
	// excelize loads into memory (but does not parse).
	maxZipInflate = 4 * maxInflate
	// maxZipEntries bounds a DOCX or XLSX's parts; Office writes a few
	// dozen.
	maxZipEntries = 1000
	// maxLines bounds prose lines: paragraphs, text lines, table rows.
	maxLines = 20_000
	// maxCells bounds table cells (CSV, XLSX, DOCX tables).
	maxCells = 100_000
	// maxGlyphs bounds a PDF's glyphs, about its characters: as many as
	// the largest message the designer takes, some twenty dense pages.
	// Interpreting a page costs about 350 bytes a glyph, and a page is
	// interpreted when its strings could show up to twice what is left
	// (see measurePage), so this keeps a PDF's glyphs under 50 MiB.
	maxGlyphs = 64 << 10
	// maxFontMaps bounds the font-map bytes the PDF library parses: it
	// reads a font's ToUnicode map again at each Tf, at about 16 bytes
	// allocated and 25 ns per byte. A page of a word processor's PDF
	// selects a font some hundred times, each map a few KiB.
	maxFontMaps = 8 << 20
	// maxDecodeSteps bounds the steps the PDF library takes to decode
	// text through /Differences arrays: one per entry per byte shown (a
	// 256-entry array over maxGlyphs is 16 million).
	maxDecodeSteps = 32_000_000
	// readTimeout bounds the wall time of one read. Real plans read in
	// milliseconds; the count budgets trip long before this on hostile
	// input, so the deadline is the backstop for what they miss.
	readTimeout = 2 * time.Second
)

// errSlow is the cause of a read's own deadline, so a read that ran out of
// time says so rather than "context deadline exceeded".
var errSlow = fmt.Errorf("%w: reading took longer than %v; a campaign plan reads in milliseconds", ErrTooLarge, readTimeout)

// budget counts what a read has spent. Readers call it as they go and stop
// at the first error, which wraps ErrTooLarge (or is the caller's context
// error).
type budget struct {
	ctx      context.Context
	inflated int64
	lines    int
	cells    int
	glyphs   int
	ticks    int
	// fontMaps and decodeSteps are what measurePage expects the PDF
	// library to spend.
	fontMaps    int64
	decodeSteps int64
}

// check returns the context's cause once it is done.
func (b *budget) check() error {
	if b.ctx.Err() != nil {
		return context.Cause(b.ctx)
	}
	return nil
}

// tick is check for hot loops: the context is looked at every 256 calls.
func (b *budget) tick() error {
	b.ticks++
	if b.ticks&255 != 0 {
		return nil
	}
	return b.check()
}

// line spends one prose line.
func (b *budget) line() error {
	if b.lines++; b.lines > maxLines {
		return fmt.Errorf("%w: more than %d lines or rows; a campaign plan has a few hundred", ErrTooLarge, maxLines)
	}
	return b.tick()
}

// addCells spends n table cells.
func (b *budget) addCells(n int) error {
	if b.cells += n; b.cells > maxCells {
		return fmt.Errorf("%w: more than %d table cells; a campaign plan has a few thousand", ErrTooLarge, maxCells)
	}
	return nil
}

// addGlyphs spends n PDF glyphs.
func (b *budget) addGlyphs(n int) error {
	if b.glyphs += n; b.glyphs > maxGlyphs {
		return fmt.Errorf("%w: more than %d characters of text; a campaign plan has a few thousand", ErrTooLarge, maxGlyphs)
	}
	return b.check()
}

// overBudget reports whether err is the budget's: too large, or out of
// time.
func overBudget(err error) bool {
	return errors.Is(err, ErrTooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// errInflate is what reading past maxInflate answers.
func errInflate(what string) error {
	return fmt.Errorf("%w: %s inflates past %d MiB; a campaign plan's is a few KiB", ErrTooLarge, what, maxInflate>>20)
}

// limit wraps r so that reading past what is left of maxInflate fails with
// errInflate(what); the bytes read are spent as they come.
func (b *budget) limit(r io.Reader, what string) io.Reader {
	return &limitedReader{r: r, b: b, what: what}
}

type limitedReader struct {
	r    io.Reader
	b    *budget
	what string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	left := maxInflate - l.b.inflated
	if left <= 0 {
		// One byte more tells a stream that ends exactly at the budget
		// from one that goes on.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errInflate(l.what)
		}
		return l.r.Read(p)
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.b.inflated += int64(n)
	if err == nil {
		err = l.b.tick()
	}
	return n, err
}

// openZip opens a DOCX or XLSX archive after checking, from its end of
// central directory record, that it has no more than maxZipEntries parts
// (each part costs memory as the archive is opened), and then that its
// parts declare no more than the inflate budgets. archive/zip refuses an
// entry that inflates past its declared size, so the declared sizes bound
// what reading can inflate.
func openZip(data []byte) (*zip.Reader, error) {
	if n, ok := zipEntries(data); ok && n > maxZipEntries {
		return nil, fmt.Errorf("%w: %d parts in the archive; an Office document has a few dozen", ErrTooLarge, n)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("%w: %d parts in the archive; an Office document has a few dozen", ErrTooLarge, len(zr.File))
	}
	var xml, all uint64
	for _, f := range zr.File {
		all += f.UncompressedSize64
		if name := strings.ToLower(f.Name); strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") {
			xml += f.UncompressedSize64
		}
	}
	if xml > maxInflate {
		return nil, fmt.Errorf("%w: its XML parts inflate to %d MiB; a campaign plan's are a few KiB", ErrTooLarge, xml>>20)
	}
	if all > maxZipInflate {
		return nil, fmt.Errorf("%w: it inflates to %d MiB, over %d MiB", ErrTooLarge, all>>20, maxZipInflate>>20)
	}
	return zr, nil
}

// zipEntries reads the entry count of a zip's end of central directory
// record (a zip64 count reads as 0xFFFF, already too many).
func zipEntries(data []byte) (int, bool) {
	const eocdLen = 22
	tail := data[max(0, len(data)-(eocdLen+0xFFFF)):] // the record, then a comment of up to 64 KiB
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < eocdLen {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(tail[i+10:])), true
}

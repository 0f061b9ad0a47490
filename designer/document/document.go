package document

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// MaxSize is the largest document Read accepts, in bytes.
const MaxSize = 10 << 20

// Errors Read wraps, so callers can tell a bad upload (400) from one too
// large (413) with errors.Is. ErrTooLarge covers a file over MaxSize and a
// small one that expands past a plan's budget (see budget.go): both are
// more document than a plan.
var (
	ErrEmpty       = errors.New("document is empty")
	ErrTooLarge    = errors.New("document is too large")
	ErrUnsupported = errors.New("unsupported document format")
	ErrEncrypted   = errors.New("document is encrypted or password-protected")
	ErrCorrupt     = errors.New("document is corrupt or not what its name says")
)

// Formats lists the formats Read understands, as Document.Format names them.
var Formats = []string{"csv", "xlsx", "docx", "pdf", "txt", "md"}

// Document is what Read found in a campaign plan.
type Document struct {
	// Format is one of Formats.
	Format string `json:"format"`
	// Text is all the document's prose in reading order: paragraphs as
	// lines, table rows as cells joined by " | ".
	Text string `json:"text"`
	// Steps are the journey steps detected in the plan, in order.
	Steps []Step `json:"steps"`
}

// Step is one message of a campaign plan: when, on which channel, to whom,
// under which condition, with what content.
type Step struct {
	// Index counts the steps from 1.
	Index int `json:"index"`
	// Day is the step's offset in days from the journey's start; -1 when
	// the plan does not say.
	Day int `json:"day"`
	// Timing is the step's timing as the plan wrote it.
	Timing string `json:"timing"`
	// Channel is email, sms, push, whatsapp, webhook, or "" when unknown.
	Channel string `json:"channel"`
	// Audience is who receives it, as written ("" for everyone).
	Audience string `json:"audience"`
	// Condition is when it is sent, as written ("" when always).
	Condition string `json:"condition"`
	// Content is the template, subject or message.
	Content string `json:"content"`
	// Source is the table row or sentence the step came from.
	Source string `json:"source"`
	// Variant names the arm of an A/B split the step is ("A", "Control"),
	// from a Variant column; consecutive steps with one are one split.
	Variant string `json:"variant,omitempty"`
	// Share is the variant's percentage of the split, 0 when not said.
	Share int `json:"share,omitempty"`

	delay     bool   // Timing is a wait after the step before (a Delay/Wait column)
	anchor    string // the profile date a "N days before" Timing counts from, from the column's header
	otherwise string // what is sent instead when Condition does not hold (an Otherwise column)
	extra     string // what the channel cell says besides channels ("letter by post"), for the designer to flag
	trigger   string // what a Trigger column says on the step's row: the journey's entry on the first
	note      string // a Notes cell that is no condition ("ops to print"), for the designer to flag
}

// content is what a format reader extracts before step detection: prose
// lines in order, and the tables (rows of cells) in order.
type content struct {
	lines  []string
	tables []table
}

// table is a grid of cell texts, the first row first.
type table [][]string

// Read parses a campaign plan. The format comes from filename's extension,
// checked against the data's magic bytes; a name without a known extension
// is sniffed. Errors wrap ErrEmpty, ErrTooLarge, ErrUnsupported,
// ErrEncrypted or ErrCorrupt.
func Read(filename string, data []byte) (*Document, error) {
	return ReadContext(context.Background(), filename, data)
}

// ReadContext is Read that also stops when ctx is done. Either way a read
// has at most a few seconds: past that it fails with ErrTooLarge.
func ReadContext(ctx context.Context, filename string, data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("read %s: %w: %d bytes, over %d MiB", filename, ErrTooLarge, len(data), MaxSize>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("read %s: %w", filename, ErrEmpty)
	}
	format, err := detectFormat(filename, data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, readTimeout, errSlow)
	defer cancel()
	b := &budget{ctx: ctx}
	c, err := parse(format, data, b)
	if err == nil {
		err = b.check()
	}
	if err != nil {
		return nil, fmt.Errorf("read %s as %s: %w", filename, format, err)
	}
	doc := &Document{Format: format, Text: c.text(), Steps: detectSteps(c)}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("read %s as %s: %w", filename, format, err)
	}
	if doc.Steps == nil {
		doc.Steps = []Step{} // JSON [] rather than null
	}
	if doc.Text == "" && len(doc.Steps) == 0 {
		return nil, fmt.Errorf("read %s: %w (no text found)", filename, ErrEmpty)
	}
	return doc, nil
}

// parse extracts a document's content with its format's reader. The
// third-party parsers are not trusted never to panic on hostile input: a
// panic is a corrupt document.
func parse(format string, data []byte, b *budget) (c *content, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	switch format {
	case "csv":
		return readCSV(data, b)
	case "xlsx":
		return readXLSX(data, b)
	case "docx":
		return readDOCX(data, b)
	case "pdf":
		return readPDF(data, b)
	}
	return readText(data, b) // txt, md
}

// text renders the content as Document.Text.
func (c *content) text() string {
	return strings.TrimSpace(strings.Join(c.lines, "\n"))
}

var (
	magicZip = []byte("PK\x03\x04")
	magicPDF = []byte("%PDF")
	// magicOLE starts legacy .doc/.xls files and password-protected
	// OOXML files alike (both are OLE compound files).
	magicOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// detectFormat names the data's format from the file name, checking that
// the bytes agree.
func detectFormat(filename string, data []byte) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(filename)), ".")
	switch ext {
	case "csv", "tsv":
		return "csv", checkText(data)
	case "txt", "text":
		return "txt", checkText(data)
	case "md", "markdown":
		return "md", checkText(data)
	case "xlsx", "xlsm", "docx":
		if bytes.HasPrefix(data, magicOLE) {
			return "", fmt.Errorf("%w: an encrypted .%s is an OLE container, not a zip; remove the password and upload again", ErrEncrypted, ext)
		}
		if !bytes.HasPrefix(data, magicZip) {
			return "", fmt.Errorf("%w: a .%s file is a zip archive and this is not one", ErrCorrupt, ext)
		}
		if ext == "xlsm" {
			ext = "xlsx"
		}
		return ext, nil
	case "pdf":
		if !bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), 1024)], "\x00\t\r\n "), magicPDF) {
			return "", fmt.Errorf("%w: a .pdf file starts with %%PDF and this does not", ErrCorrupt)
		}
		return "pdf", nil
	case "xls", "doc", "ppt", "pptx", "odt", "ods", "rtf", "pages", "numbers":
		return "", fmt.Errorf("%w: .%s; save the plan as .xlsx, .docx, .pdf or .csv", ErrUnsupported, ext)
	}
	// No known extension: sniff.
	switch {
	case bytes.HasPrefix(data, magicPDF):
		return "pdf", nil
	case bytes.HasPrefix(data, magicOLE):
		return "", fmt.Errorf("%w: legacy Office or encrypted file; save the plan as .xlsx, .docx, .pdf or .csv", ErrUnsupported)
	case bytes.HasPrefix(data, magicZip):
		if bytes.Contains(data, []byte("word/document.xml")) {
			return "docx", nil
		}
		if bytes.Contains(data, []byte("xl/workbook.xml")) {
			return "xlsx", nil
		}
	}
	return "", fmt.Errorf("%w: %q (supported: %s)", ErrUnsupported, filename, strings.Join(Formats, ", "))
}

// checkText refuses binary data posing as text. UTF-16 (with its byte
// order mark) has NUL bytes and is fine.
func checkText(data []byte) error {
	if bytes.HasPrefix(data, bomUTF16LE) || bytes.HasPrefix(data, bomUTF16BE) {
		return nil
	}
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		return fmt.Errorf("%w: binary data in a text file", ErrCorrupt)
	}
	return nil
}

package document

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages bounds the work a hostile page count can ask for.
const maxPDFPages = 200

// readPDF reads a PDF's text, page by page. Each text object starts a line;
// lines of "|"-separated cells, as some exporters write tables, become
// tables.
func readPDF(data []byte) (*content, error) {
	if isEncryptedPDF(data) {
		return nil, ErrEncrypted
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
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
		s, err := page.GetPlainText(nil)
		if err != nil {
			return nil, fmt.Errorf("%w: page %d: %v", ErrCorrupt, i, err)
		}
		text.WriteString(s)
		text.WriteByte('\n')
	}
	if strings.TrimSpace(text.String()) == "" {
		return nil, fmt.Errorf("%w: the PDF has no text layer (a scan?)", ErrEmpty)
	}
	return readText([]byte(text.String()))
}

// isEncryptedPDF reports whether the trailer names an /Encrypt dictionary.
func isEncryptedPDF(data []byte) bool {
	tail := data[max(0, len(data)-4096):]
	return bytes.Contains(tail, []byte("/Encrypt")) ||
		bytes.Contains(data[:min(len(data), 4096)], []byte("/Encrypt"))
}

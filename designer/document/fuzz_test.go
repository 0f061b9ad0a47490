package document_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
	"github.com/kalcifer/kalcifer/internal/fuzzcheck"
)

// fuzzNames are the file names FuzzRead reads its inputs as: one per
// reader (CSV, XLSX, DOCX, PDF, text, Markdown) and one without an
// extension, which is sniffed. The fuzzer picks one by index, so that it
// mutates the bytes rather than spend its effort on names.
var fuzzNames = []string{"plan.csv", "plan.xlsx", "plan.docx", "plan.pdf", "plan.txt", "plan.md", "plan"}

// readErrors are the errors Read promises to wrap.
var readErrors = []error{document.ErrEmpty, document.ErrTooLarge, document.ErrUnsupported, document.ErrEncrypted, document.ErrCorrupt}

// FuzzRead feeds Read mutated plans of every format. Properties: it never
// panics (the readers' own recover included) and returns within
// fuzzcheck.Bound; it returns a document or an error wrapping one of its
// sentinels, never both or neither; a document's steps are numbered from 1
// with a day of -1 or more, and its prompt renders. Seeds are the test plans
// of designer/testdata/documents and the encrypted PDFs of testdata; run
// deeper with make fuzz.
func FuzzRead(f *testing.F) {
	for _, td := range loadDocuments(f) {
		f.Add(nameIndex(td.name), td.data)
	}
	encrypted, _ := filepath.Glob("testdata/*.pdf")
	for _, name := range encrypted {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(nameIndex(name), data)
	}
	// One input for each of Read's errors but ErrTooLarge (over MaxSize).
	f.Add(nameIndex("plan.txt"), []byte(" \n\t"))                             // ErrEmpty
	f.Add(nameIndex("plan"), []byte("neither a zip nor a PDF"))               // ErrUnsupported
	f.Add(nameIndex("plan.pdf"), []byte("%PDF-1.7 then nothing"))             // ErrCorrupt
	f.Add(nameIndex("plan.docx"), []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) // ErrEncrypted
	f.Add(nameIndex("plan.md"), []byte("Day 3 – SMS \"x\"\nTrigger: a\n| Day | Channel |\n|---|---|\n| 1 | Email |"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		var (
			doc *document.Document
			err error
		)
		fuzzcheck.Within(t, "Read("+name+")", func() { doc, err = document.Read(name, data) })
		if err != nil {
			if doc != nil {
				t.Fatalf("both a document and an error: %v", err)
			}
			for _, want := range readErrors {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %q (%T) wraps none of Read's sentinels", err, err)
		}
		if doc == nil {
			t.Fatal("neither a document nor an error")
		}
		for i, s := range doc.Steps {
			if s.Index != i+1 || s.Day < -1 {
				t.Fatalf("step %d: %+v", i+1, s)
			}
		}
		_ = doc.Prompt()
	})
}

// nameIndex is the index in fuzzNames of the name with path's extension.
func nameIndex(path string) uint8 {
	ext := filepath.Ext(path)
	for i, n := range fuzzNames {
		if ext != "" && strings.HasSuffix(n, ext) {
			return uint8(i)
		}
	}
	return uint8(len(fuzzNames) - 1)
}

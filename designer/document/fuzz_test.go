package document_test

import (
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
)

// FuzzRead feeds Read mutated plans: it must return a document or an error
// wrapping one of its sentinels, and a document's prompt must render.
// Seeds are the test plans; run deeper with go test -fuzz FuzzRead.
func FuzzRead(f *testing.F) {
	for _, td := range loadDocuments(f) {
		f.Add(td.name, td.data)
	}
	f.Add("plan.md", []byte("Day 3 – SMS \"x\"\nTrigger: a\n| Day | Channel |\n|---|---|\n| 1 | Email |"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		doc, err := document.Read(name, data)
		if err != nil {
			return
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

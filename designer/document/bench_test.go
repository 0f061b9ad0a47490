package document_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
)

// BenchmarkRead reads each test plan.
func BenchmarkRead(b *testing.B) {
	for _, td := range loadDocuments(b) {
		b.Run(td.name, func(b *testing.B) {
			b.SetBytes(int64(len(td.data)))
			for b.Loop() {
				if _, err := document.Read(td.name, td.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadLargeCSV reads a CSV of 15,000 rows of six cells, about
// the most the read budget lets through.
func BenchmarkReadLargeCSV(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("Step,Day,Channel,Audience,Condition,Subject\n")
	for i := range 15_000 {
		fmt.Fprintf(&buf, "%d,Day %d,Email,New signups,If not opened,Message number %d\n", i, i, i)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := document.Read("big.csv", buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}

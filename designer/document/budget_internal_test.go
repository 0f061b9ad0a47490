package document

import (
	"context"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestBudgetDeadlineIsTooLarge(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Nanosecond, errSlow)
	defer cancel()
	<-ctx.Done()
	b := &budget{ctx: ctx}
	if err := b.check(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("check() = %v, want ErrTooLarge", err)
	}
}

func TestBudgetLimitReadsExactlyTheBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size    int
		wantErr bool
	}{
		{maxInflate - 1, false},
		{maxInflate, false},
		{maxInflate + 1, true},
	} {
		b := &budget{ctx: context.Background()}
		n, err := io.Copy(io.Discard, b.limit(strings.NewReader(strings.Repeat("x", tc.size)), "test"))
		if gotErr := errors.Is(err, ErrTooLarge); gotErr != tc.wantErr {
			t.Errorf("%d bytes: err = %v, want too large %v", tc.size, err, tc.wantErr)
		}
		if !tc.wantErr && n != int64(tc.size) {
			t.Errorf("%d bytes: read %d", tc.size, n)
		}
	}
}

func TestPDFScanCountsStringsAndFonts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ops   string
		shown map[string]int
		tf    map[string]int
	}{
		{`BT /F1 12 Tf (Hello) Tj ET`, map[string]int{"F1": 5}, map[string]int{"F1": 1}},
		{`BT /F1 12 Tf (a\)b(c)d) Tj /F2 9 Tf (x) Tj ET`, map[string]int{"F1": 8, "F2": 1}, map[string]int{"F1": 1, "F2": 1}},
		{`BT /F1 1 Tf <48656C6C6F> Tj /F1 1 Tf ET`, map[string]int{"F1": 5}, map[string]int{"F1": 2}},
		{"<< /A 1 >> BDC [(ab) -20 <0041>] TJ EMC % (not a string /F9 1 Tf\n/F2 1 Tf", map[string]int{"": 4}, map[string]int{"F2": 1}},
	} {
		s := newPDFScan()
		s.Write([]byte(tc.ops))
		s.finish()
		if !maps.Equal(s.shown, tc.shown) || !maps.Equal(s.tf, tc.tf) {
			t.Errorf("%q: shown %v, Tf %v; want %v, %v", tc.ops, s.shown, s.tf, tc.shown, tc.tf)
		}
	}
}

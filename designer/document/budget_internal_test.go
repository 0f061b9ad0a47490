package document

import (
	"context"
	"errors"
	"io"
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

func TestPDFStringsCountsStringBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ops  string
		want int
	}{
		{`BT (Hello) Tj ET`, 5},
		{`BT (a\)b(c)d) Tj ET`, 8},
		{`BT <48656C6C6F> Tj ET`, 5},
		{`<< /A 1 >> BDC [(ab) -20 <0041>] TJ EMC`, 4},
	} {
		var s pdfStrings
		s.Write([]byte(tc.ops))
		if got := s.n + s.digits/2; got != tc.want {
			t.Errorf("%q: %d string bytes, want %d", tc.ops, got, tc.want)
		}
	}
}

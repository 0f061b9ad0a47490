package eval_test

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer/designer/eval"
	"github.com/kalcifer/kalcifer/designer/offline"
)

// TestRunOffline runs the small corpus in testdata/corpus with the offline
// designer: the brief it reads right passes, and every case is reported
// with its features.
func TestRunOffline(t *testing.T) {
	cases, warnings, err := eval.Load("testdata/corpus")
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	if len(cases) != 3 || cases[2].Document == "" || cases[2].Name != "saas_onboarding_csv" {
		t.Fatalf("cases: %+v", cases)
	}
	r := eval.Run(context.Background(), offline.New(), cases, 0)
	if r.Cases != 3 || len(r.Results) != 3 || r.Designer != "offline" {
		t.Fatalf("report: %+v", r)
	}
	seed := r.Results[0]
	if !seed.Pass || seed.Silent || len(seed.Misses) > 0 {
		t.Errorf("seed example: %+v", seed)
	}
	for _, f := range []string{"entry", "channels", "timing", "alternatives"} {
		if ok, judged := seed.Features[f]; !judged || !ok {
			t.Errorf("seed example: feature %s judged %v right %v", f, judged, ok)
		}
	}
	total := 0
	for _, t := range r.Features {
		total += t.Total
	}
	if want := 4 + 3 + 5; total != want {
		t.Errorf("feature judgements: %d, want %d", total, want)
	}
	if r.PassRate != float64(r.Passed)/3 {
		t.Errorf("pass rate %v for %d passed", r.PassRate, r.Passed)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, dir := range []string{t.TempDir(), "testdata/missing"} {
		if _, _, err := eval.Load(dir); err == nil {
			t.Errorf("%s: loaded", dir)
		}
	}
}

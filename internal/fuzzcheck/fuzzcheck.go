// Package fuzzcheck holds what Kalcifer's fuzz targets share. It is imported
// by tests only.
package fuzzcheck

import (
	"testing"
	"time"
)

// Bound is how long one fuzz input may take before it counts as a hang.
// Every input a target is fed is handled in milliseconds (a document read
// has a 2 s deadline of its own); Go's fuzzer has no per-input deadline, so
// without this a hang would stall the run instead of being reported with
// its input. It is a backstop far above any real figure, not a performance
// assertion.
const Bound = 30 * time.Second

// Within runs f and fails t, naming what, if f has not returned within
// Bound. A panic in f crashes the test binary, which the fuzzer reports
// with the input, as it should.
func Within(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(Bound)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, Bound)
	}
}

package engine

import (
	"testing"
	"time"
)

// A pass's batches shrink to hold the writer about batchHold, never below
// minBatch nor above the configured size, and follow the time per customer
// as it changes.
func TestBatchSizer(t *testing.T) {
	var b batchSizer
	if n := b.size(100); n != 100 {
		t.Fatalf("unmeasured: %d, want the configured 100", n)
	}
	b.observe(100, 100*time.Millisecond) // 1 ms a customer
	if n := b.size(100); n != 25 {
		t.Fatalf("at 1 ms a customer: %d, want 25", n)
	}
	b.observe(10, time.Second) // a slow batch: 100 ms a customer
	if n := b.size(100); n != minBatch {
		t.Fatalf("slow: %d, want the least, %d", n, minBatch)
	}
	if n := b.size(4); n != 4 {
		t.Fatalf("configured 4: %d", n)
	}
	for range 30 {
		b.observe(100, time.Millisecond) // fast again: 10 µs a customer
	}
	if n := b.size(500); n != 500 {
		t.Fatalf("fast: %d, want the configured 500", n)
	}
}

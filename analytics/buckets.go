package analytics

import (
	"math"
	"math/bits"
	"time"
)

// Times (at a node, to a goal) are counted in fixed log-scale buckets:
// bucket 0 holds times under a millisecond, bucket k ≥ 1 those in
// [2^(k-1), 2^k) ms. Averages are exact (the counters keep the sum);
// quantiles are interpolated inside their bucket, so they are within a
// factor of two of the true value.
const timeBuckets = 48

// bucketOf is the bucket of d.
func bucketOf(d time.Duration) int {
	ms := d.Milliseconds()
	if ms < 1 {
		return 0
	}
	return min(bits.Len64(uint64(ms)), timeBuckets-1)
}

// bucketBounds are the bucket's lowest and highest times, in seconds.
func bucketBounds(k int) (lo, hi float64) {
	if k == 0 {
		return 0, 0.001
	}
	return math.Ldexp(1, k-1) / 1000, math.Ldexp(1, k) / 1000
}

// Histogram counts times by bucket.
type Histogram [timeBuckets]int64

// Quantile estimates the q-quantile (0 < q ≤ 1) in seconds; false when
// the histogram is empty.
func (h *Histogram) Quantile(q float64) (float64, bool) {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0, false
	}
	rank := q * float64(n)
	var seen int64
	for k, c := range h {
		if c == 0 {
			continue
		}
		if float64(seen+c) >= rank {
			lo, hi := bucketBounds(k)
			if k == 0 {
				return 0, true // under a millisecond: the node did not hold the customer
			}
			return lo + (hi-lo)*(rank-float64(seen))/float64(c), true
		}
		seen += c
	}
	lo, _ := bucketBounds(timeBuckets - 1)
	return lo, true
}

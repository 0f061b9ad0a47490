// Package analytics keeps and reads the journey analytics: the Observer
// that adds counter deltas inside every engine transaction (so the counters
// commit with the steps they count), the histogram buckets of times, and
// the shapes the analytics API answers with, built from the counters the
// store reads (store/analytics.go), and the history retention loop. It
// imports the root package, graph and store.
package analytics

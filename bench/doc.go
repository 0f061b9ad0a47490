// Package bench runs the standard benchmark scenarios of
// docs/BENCHMARKS.md against a real `kalcifer serve` child process, over
// HTTP, with a local HTTP receiver standing in for the webhook provider, and
// prints the figures as a table. `kalcifer bench` is its command line.
package bench

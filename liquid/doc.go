// Package liquid checks and renders Kalcifer's message templates, written in
// Liquid (github.com/osteele/liquid), under resource limits.
//
// The library parses and renders; this package adds what a multi-tenant
// server needs and the library leaves to its users (its SECURITY.md says it
// imposes no limits): syntax errors and unknown filters found at save time
// with a line and a column, a render bounded in output bytes, loop
// iterations, the size of every value a filter or a capture builds, and
// time, and "required" variables that fail a send when missing.
//
// The library offers no hooks for the limits, so they are spliced into each
// compiled template once, when it is parsed (instrument.go): a tick tag at
// the start of every loop body, a requirement tag before every output that
// has no default, and a bounded renderer for capture blocks; filters are
// registered wrapped in size checks. The include and render tags, which
// would read files, are not available.
//
// It may import the kalcifer root package (for template content) and the
// Liquid library; nothing else of Kalcifer.
package liquid

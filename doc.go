// Package kalcifer holds Kalcifer's domain types: tenants, API keys and roles,
// journeys and their lifecycle, published versions, the audit log, and the one
// error type whose codes the API maps to HTTP statuses.
//
// It imports only the standard library and the graph package (the journey
// graph format). Adapters — store backends, the HTTP API, channel providers —
// import this package; it never imports them.
package kalcifer

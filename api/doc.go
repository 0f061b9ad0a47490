// Package api is Kalcifer's HTTP API: the REST routes under /api/v1, the
// public health and info endpoints, and the OpenAPI document that describes
// them (served at /api/v1/openapi.json and checked against the router by a
// test).
//
// It is the one place that maps kalcifer error codes to HTTP statuses
// (errors.go) and the one place that turns request bodies into domain values
// (decode.go): bodies are size-limited, UTF-8-checked, depth-checked and
// decoded strictly before anything reaches the store.
//
// api imports the domain packages (kalcifer, graph), the store, chi and the
// standard library. It never names a concrete store backend; cmd/kalcifer
// wires one in through Config.Store.
package api

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
// Reads (journeys, instances, profiles) go straight to the store. Writes
// that must be routed by the journey runtime (events, webhooks, manual
// enrolment, instance pause/resume/exit) go through the Engine interface,
// and answer only once the engine has committed them.
//
// Every other route needs a bearer credential (auth.go): an API key, checked
// by the store, or a signed-in user's JWT, checked by Config.JWT (package
// jwtauth) and its tenant by the store. api reads no environment; cmd/kalcifer
// builds the verifier from the KALCIFER_JWT_* settings.
//
// api imports the domain packages (kalcifer, graph), the store, jwtauth, chi
// and the standard library. It never names a concrete store backend or the engine
// package; cmd/kalcifer wires them in through Config.Store and
// Config.Engine (*engine.Runtime). Without an engine the engine's routes
// answer 503 and everything else works.
package api

// Package graph is the journey graph format (seed technical spec §4.1), the
// catalog of node types with their config JSON Schemas, and validation
// (§4.2). The validator, the API's /node-types, the editor's property panel
// and the AI designer all read the same schemas from here.
//
// It imports only the standard library, a JSON Schema validator, a JSON
// Schema generator (each kind's schema comes from its config struct), CEL
// and a cron parser — never another Kalcifer package.
package graph

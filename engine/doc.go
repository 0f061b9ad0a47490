// Package engine runs journeys: it steps a customer's journey instance
// through the nodes of its pinned version until every path blocks (on a
// timer, an event or a send) or ends.
//
// The core is pure: Run takes a compiled Program, an instance's State, the
// customer and what woke the instance (entry, timer, event, send result) and
// returns the new State plus the effects to persist — step history, sends for
// the ledger, waits to register, profile changes. Nothing in the core reads
// a clock or a database; time comes in as Input.Now, so tests never sleep.
// The runtime (persistence, timers, event routing, workers) wraps the core
// and writes each Run's result in one store transaction.
//
// One file per node kind: node_<kind>.go.
package engine

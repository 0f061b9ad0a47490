// Package live is the live feed of running journeys: the hub that the
// WebSocket route (api/socket.go) subscribes clients to.
//
// Per-step messages come from the engine's committed transactions (the hub
// is a store.Observer) and, across replicas on one PostgreSQL, from the
// other replicas' NOTIFYs (a Relay); they are encoded once per topic and
// handed to each subscriber's bounded queue without ever waiting: a
// subscriber whose queue is full is dropped, never the engine slowed.
// Periodic counts (node_counts, journey_stats) are one query per joined
// journey per tick, shared by all its subscribers; with nobody joined, the
// hub queries nothing.
//
// It imports kalcifer and store, never a concrete backend or the API.
package live

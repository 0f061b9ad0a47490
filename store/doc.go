// Package store persists Kalcifer's state. Store holds every query, written
// once in SQL that both databases accept; a Backend (store/sqlite or
// store/postgres) supplies the connection, transactions, migrations and
// replica liveness. Where the databases differ, the difference is kept in each
// backend's migrations, not in Go.
//
// store imports the domain packages (kalcifer, graph); it never imports api, engine or a concrete backend. The conformance suite in
// store/storetest is run by every backend.
package store

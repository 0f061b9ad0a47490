-- +goose Up
-- Execution and delivery events waiting to be shipped to ClickHouse, written
-- in the engine's transactions only while the ClickHouse sink is on
-- (KALCIFER_CLICKHOUSE_URL). row is one JSONEachRow line for table tbl. The
-- one shipper of the one process reads the oldest rows, inserts them into
-- ClickHouse and deletes them once ClickHouse has accepted them (PostgreSQL's
-- table has a claim column for several replicas; SQLite needs none).
CREATE TABLE clickhouse_outbox (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    row TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE clickhouse_outbox;

-- +goose Up
-- Execution and delivery events waiting to be shipped to ClickHouse, written
-- in the engine's transactions only while the ClickHouse sink is on
-- (KALCIFER_CLICKHOUSE_URL). row is one JSONEachRow line for table tbl. A
-- shipper claims rows until claimed_until (Unix microseconds; other replicas
-- skip them until then), inserts them into ClickHouse and deletes them once
-- ClickHouse has accepted them.
CREATE TABLE clickhouse_outbox (
    id            BIGSERIAL PRIMARY KEY,
    tbl           TEXT NOT NULL,
    row           TEXT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE clickhouse_outbox;

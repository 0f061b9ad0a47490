-- Kalcifer's tables in ClickHouse (docs/CLICKHOUSE.md). Kalcifer runs these
-- statements when the sink starts, in the database KALCIFER_CLICKHOUSE_DATABASE
-- (created first if missing): CREATE … IF NOT EXISTS, so a start never
-- changes existing tables. Plain DDL that ClickHouse 18.16 and current
-- releases both accept: no DateTime64, no LowCardinality.
--
-- Delivery is at least once: a batch whose acknowledgement was lost is sent
-- again. Every row carries a unique event_id, last in the sorting key, so a
-- repeated row has the same key as the original and ReplacingMergeTree
-- drops it when it merges the parts; until then, count with FINAL (or
-- uniqExact(event_id)) for exact figures.

-- One row per step an instance took: the node, its type and what it did
-- (the branch taken, "waiting", "ended", "exited", "failed").
CREATE TABLE IF NOT EXISTS kalcifer_steps (
    event_id    String,
    time        DateTime('UTC'),
    time_us     Int64,
    tenant_id   String,
    journey_id  String,
    version     UInt32,
    instance_id String,
    customer_id String,
    path_id     UInt32,
    node_id     String,
    node_type   String,
    visit       UInt32,
    result      String,
    detail      String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, journey_id, time, event_id);

-- One row per send that finished (kind "finished": status is the ledger's
-- sent, logged, failed, ambiguous, capped or skipped) and per delivery
-- status a provider or Kalcifer's tracking reported (kind "delivery":
-- delivered, opened, clicked, bounced…).
CREATE TABLE IF NOT EXISTS kalcifer_deliveries (
    event_id    String,
    time        DateTime('UTC'),
    time_us     Int64,
    tenant_id   String,
    journey_id  String,
    version     UInt32,
    instance_id String,
    customer_id String,
    node_id     String,
    node_type   String,
    send_key    String,
    channel     String,
    target      String,
    kind        String,
    status      String,
    detail      String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (tenant_id, journey_id, time, event_id);

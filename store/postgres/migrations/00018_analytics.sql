-- +goose Up
-- Analytics counters, kept by the analytics observer inside every engine
-- transaction (analytics/observer.go), so that figures are read from a few
-- rows per hour instead of the whole step history. A row is a count (n) and
-- a sum (total, microseconds, for the time metrics) of one metric of one
-- node (node_id '' for the journey as a whole) of one journey version, in
-- one UTC hour (hour: Unix microseconds at the hour's start). shard splits
-- a hot row in a few so that concurrent engine workers rarely update the
-- same one; readers sum over it. Counting starts at this migration: steps
-- recorded before it are not counted (docs/ANALYTICS.md).
CREATE TABLE analytics_counts (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    journey_id TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,
    node_id    TEXT COLLATE "C" NOT NULL,
    hour       BIGINT NOT NULL,
    metric     TEXT COLLATE "C" NOT NULL,
    shard      SMALLINT NOT NULL,
    n          BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, journey_id, node_id, metric, version, hour, shard)
);

-- Sends and delivery statuses by channel and provider, the same way.
CREATE TABLE analytics_sends (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    journey_id TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,
    node_id    TEXT COLLATE "C" NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    provider   TEXT COLLATE "C" NOT NULL,
    hour       BIGINT NOT NULL,
    metric     TEXT COLLATE "C" NOT NULL,
    shard      SMALLINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, journey_id, version, node_id, channel, provider, metric, hour, shard)
);
CREATE INDEX analytics_sends_tenant ON analytics_sends (tenant_id, hour);

-- The provider a send went through (an account's name, or a server
-- provider's), set when its outcome is recorded.
ALTER TABLE sends ADD COLUMN provider TEXT NOT NULL DEFAULT '';

-- The instances in a journey now, per version and status: "active" and
-- "waiting now" count them from this index instead of every instance the
-- journey ever had.
CREATE INDEX instances_journey_status ON instances (tenant_id, journey_id, status, version);

-- Ended instances by end time, for the history retention loop.
CREATE INDEX instances_ended ON instances (ended_at) WHERE ended_at IS NOT NULL;

-- +goose Down
DROP INDEX instances_ended;
DROP INDEX instances_journey_status;
ALTER TABLE sends DROP COLUMN provider;
DROP TABLE analytics_sends;
DROP TABLE analytics_counts;

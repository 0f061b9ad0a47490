-- +goose Up
-- The state of each segment_entry and scheduled_entry node of a journey:
-- its enrolment pass (a walk over the segment, or every customer, in id
-- order, a batch per transaction: cursor is the last id done), its
-- progress, and when it runs next (a cron tick, or a segment's periodic
-- re-evaluation). Replicas claim a row to advance it, so a pass or a tick
-- is done once.
CREATE TABLE entry_runs (
    journey_id  TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('segment', 'scheduled')),
    config      TEXT NOT NULL,
    pass        TEXT NOT NULL DEFAULT '',
    cursor      TEXT NOT NULL DEFAULT '',
    total       BIGINT NOT NULL DEFAULT 0,
    scanned     BIGINT NOT NULL DEFAULT 0,
    enrolled    BIGINT NOT NULL DEFAULT 0,
    started_at  BIGINT,
    finished_at BIGINT,
    tick_at     BIGINT,
    next_run_at BIGINT,
    error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (journey_id, node_id)
);
CREATE INDEX entry_runs_tenant ON entry_runs (tenant_id, kind);

-- The customers who match a segment_entry's segment, as last seen: a
-- customer enters when a row for them is inserted (they started matching),
-- and their row goes when they stop matching.
CREATE TABLE entry_members (
    journey_id  TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (journey_id, node_id, customer_id)
);

-- Customers whose profile or events changed, while the tenant has segment
-- entries: the engine checks them against those segments and deletes the
-- rows.
CREATE TABLE customer_changes (
    seq         BIGSERIAL PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL
);

-- +goose Down
DROP TABLE customer_changes;
DROP TABLE entry_members;
DROP TABLE entry_runs;

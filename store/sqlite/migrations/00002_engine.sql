-- +goose Up
-- The engine's state. An instance is a row; a blocked path of an instance is
-- a row in waits (timer, event or send); every channel send is a row in the
-- sends ledger before any attempt. Events are a durable inbox.

CREATE TABLE customers (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    tags       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    client_id    TEXT,
    customer_id  TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    journey_id   TEXT, -- set for webhook entries: only this journey may start
    processed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX events_client ON events (tenant_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX events_inbox ON events (id) WHERE processed_at IS NULL;
CREATE INDEX events_customer ON events (tenant_id, customer_id, id);

CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    journey_id   TEXT NOT NULL REFERENCES journeys (id),
    version      INTEGER NOT NULL,
    customer_id  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'paused', 'completed', 'exited', 'failed')),
    state        TEXT NOT NULL CHECK (json_valid(state)),
    reason       TEXT NOT NULL DEFAULT '',
    at_nodes     TEXT NOT NULL DEFAULT '', -- ' a b ': the nodes its paths are at, for filtering
    step_count   INTEGER NOT NULL DEFAULT 0,
    lock_version INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    ended_at     INTEGER
) STRICT;
CREATE INDEX instances_journey ON instances (tenant_id, journey_id, id);
CREATE INDEX instances_customer ON instances (tenant_id, customer_id, status);

-- One row while a customer is in a journey that does not allow re-entry:
-- the primary key refuses a second concurrent instance.
CREATE TABLE active_entries (
    tenant_id   TEXT NOT NULL,
    journey_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, journey_id, customer_id)
) STRICT;

CREATE TABLE instance_steps (
    instance_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    path_id     INTEGER NOT NULL,
    node_id     TEXT NOT NULL,
    node_type   TEXT NOT NULL,
    visit       INTEGER NOT NULL,
    result      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    PRIMARY KEY (instance_id, seq)
) STRICT;

CREATE TABLE waits (
    instance_id TEXT NOT NULL,
    path_id     INTEGER NOT NULL,
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('timer', 'event', 'send')),
    event_type  TEXT,
    filter      TEXT CHECK (filter IS NULL OR json_valid(filter)),
    due_at      INTEGER,
    send_key    TEXT,
    PRIMARY KEY (instance_id, path_id)
) STRICT;
CREATE INDEX waits_due ON waits (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX waits_event ON waits (tenant_id, customer_id, event_type) WHERE event_type IS NOT NULL;

CREATE TABLE sends (
    key          TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    journey_id   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    instance_id  TEXT NOT NULL,
    path_id      INTEGER NOT NULL,
    node_id      TEXT NOT NULL,
    node_type    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    config       TEXT NOT NULL CHECK (json_valid(config)),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'ambiguous', 'capped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    next_attempt_at INTEGER, -- when a pending send may be claimed
    claimed_at   INTEGER, -- when a worker took it (status sending)
    completed_at INTEGER
) STRICT;
CREATE INDEX sends_instance ON sends (instance_id);
-- The ledger is also the outbox: workers claim pending rows in batches.
CREATE INDEX sends_outbox ON sends (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sends_inflight ON sends (claimed_at) WHERE status = 'sending';
CREATE INDEX sends_customer ON sends (tenant_id, customer_id, channel, created_at);

-- The secret each tenant's outgoing webhooks are signed with
-- (X-Kalcifer-Signature). Made on first use.
CREATE TABLE tenant_secrets (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_secret TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE tenant_secrets;
DROP TABLE sends;
DROP TABLE waits;
DROP TABLE instance_steps;
DROP TABLE active_entries;
DROP TABLE instances;
DROP TABLE events;
DROP TABLE customers;

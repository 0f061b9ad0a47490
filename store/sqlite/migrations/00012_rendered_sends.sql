-- +goose Up
-- Sends rendered from a template record which template and version they
-- rendered; a send to a customer who unsubscribed from its channel is
-- "skipped". SQLite cannot change a CHECK constraint, so the table is
-- rebuilt (as in 00005). A later migration that adds a column to sends must
-- add it after this one.
CREATE TABLE sends_new (
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
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'ambiguous', 'capped', 'skipped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    next_attempt_at INTEGER, -- when a pending send may be claimed
    claimed_at   INTEGER, -- when a worker took it (status sending)
    completed_at INTEGER,
    target       TEXT NOT NULL DEFAULT '', -- host or provider it goes to
    claimed_by   INTEGER, -- the replica that claimed it (status sending)
    template_id  TEXT NOT NULL DEFAULT '', -- the template rendered, if any
    template_version INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO sends_new (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel,
    config, status, attempts, detail, created_at, updated_at, next_attempt_at, claimed_at, completed_at, target, claimed_by)
SELECT key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel,
    config, status, attempts, detail, created_at, updated_at, next_attempt_at, claimed_at, completed_at, target, claimed_by FROM sends;
DROP TABLE sends;
ALTER TABLE sends_new RENAME TO sends;
CREATE INDEX sends_instance ON sends (instance_id);
CREATE INDEX sends_outbox ON sends (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sends_inflight ON sends (claimed_at) WHERE status = 'sending';
CREATE INDEX sends_customer ON sends (tenant_id, customer_id, channel, created_at);

-- +goose Down
DELETE FROM sends WHERE status = 'skipped';
CREATE TABLE sends_old (
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
    status       TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'ambiguous', 'capped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    next_attempt_at INTEGER, -- when a pending send may be claimed
    claimed_at   INTEGER, -- when a worker took it (status sending)
    completed_at INTEGER,
    target       TEXT NOT NULL DEFAULT '', -- host or provider it goes to
    claimed_by   INTEGER -- the replica that claimed it (status sending)
) STRICT;
INSERT INTO sends_old (key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel,
    config, status, attempts, detail, created_at, updated_at, next_attempt_at, claimed_at, completed_at, target, claimed_by)
SELECT key, tenant_id, journey_id, version, instance_id, path_id, node_id, node_type, customer_id, channel,
    config, status, attempts, detail, created_at, updated_at, next_attempt_at, claimed_at, completed_at, target, claimed_by FROM sends;
DROP TABLE sends;
ALTER TABLE sends_old RENAME TO sends;
CREATE INDEX sends_instance ON sends (instance_id);
CREATE INDEX sends_outbox ON sends (next_attempt_at) WHERE status = 'pending';
CREATE INDEX sends_inflight ON sends (claimed_at) WHERE status = 'sending';
CREATE INDEX sends_customer ON sends (tenant_id, customer_id, channel, created_at);

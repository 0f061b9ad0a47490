-- +goose Up
-- Live versioning: a migration moves a journey's running instances from one
-- version to another in batches. migration_moves keeps each moved
-- instance's prior version and state, so that an abort can put it back.
CREATE TABLE migrations (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    journey_id   TEXT NOT NULL REFERENCES journeys (id),
    from_version INTEGER NOT NULL,
    to_version   INTEGER NOT NULL,
    strategy     TEXT NOT NULL CHECK (strategy IN ('new_entries_only', 'migrate_all', 'gradual')),
    config       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    mapping      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(mapping)),
    confidence   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(confidence)),
    rollback     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL CHECK (status IN ('running', 'paused', 'partial', 'completed', 'aborting', 'aborted')),
    reason       TEXT NOT NULL DEFAULT '',
    progress     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(progress)),
    actor        TEXT NOT NULL,
    scan_cursor  TEXT NOT NULL DEFAULT '',
    lock_version INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;
CREATE INDEX migrations_journey ON migrations (tenant_id, journey_id, id);
CREATE INDEX migrations_work ON migrations (id) WHERE status IN ('running', 'aborting');

CREATE TABLE migration_batches (
    migration_id TEXT NOT NULL REFERENCES migrations (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    result       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(result)),
    PRIMARY KEY (migration_id, seq)
) STRICT;

CREATE TABLE migration_moves (
    migration_id  TEXT NOT NULL,
    instance_id   TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('migrated', 'held', 'exited', 'failed')),
    prior_version INTEGER NOT NULL,
    prior_status  TEXT NOT NULL,
    prior_state   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(prior_state)),
    prior_nodes   TEXT NOT NULL DEFAULT '',
    lock_version  INTEGER NOT NULL, -- the instance's lock version right after the move
    detail        TEXT NOT NULL DEFAULT '',
    restored      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (migration_id, instance_id)
) STRICT;

-- +goose Down
DROP TABLE migration_moves;
DROP TABLE migration_batches;
DROP TABLE migrations;

-- +goose Up
-- Times are Unix microseconds (BIGINT); JSON is JSONB. IDs sort bytewise (COLLATE "C")
-- because lists page by ID.
CREATE TABLE tenants (
    id         TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT COLLATE "C" PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE journeys (
    id              TEXT COLLATE "C" PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    graph           JSONB,
    settings        JSONB NOT NULL DEFAULT '{}',
    current_version INTEGER NOT NULL DEFAULT 0,
    lock_version    INTEGER NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX journeys_tenant ON journeys (tenant_id, id);
CREATE INDEX journeys_tenant_status ON journeys (tenant_id, status, id);

CREATE TABLE journey_versions (
    journey_id   TEXT NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    graph        JSONB NOT NULL,
    author       TEXT NOT NULL,
    changelog    TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (journey_id, version)
);

CREATE TABLE audit_log (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    data          JSONB,
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_resource ON audit_log (tenant_id, resource_type, resource_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE journey_versions;
DROP TABLE journeys;
DROP TABLE api_keys;
DROP TABLE tenants;

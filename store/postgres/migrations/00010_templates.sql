-- +goose Up
-- Message templates: one row per template with its current version, and
-- every version's content (subject, html, text, body, title, data as JSON).
CREATE TABLE templates (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'push')),
    current_version BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX templates_tenant ON templates (tenant_id, id);

CREATE TABLE template_versions (
    template_id TEXT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    content     JSONB NOT NULL,
    author      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (template_id, version)
);

-- +goose Down
DROP TABLE template_versions;
DROP TABLE templates;

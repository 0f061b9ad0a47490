-- +goose Up
-- The AI designer: conversations that design or refine a journey graph, and
-- each tenant's choice of designer (LLM provider or the offline one).
CREATE TABLE ai_conversations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    journey_id TEXT,
    graph      JSONB,
    turns      JSONB NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ai_conversations_tenant ON ai_conversations (tenant_id, id);

CREATE TABLE tenant_ai_settings (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL CHECK (provider IN ('offline', 'anthropic', 'openai', 'ollama')),
    base_url    TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    api_key     TEXT NOT NULL DEFAULT '',
    max_repairs INTEGER NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE tenant_ai_settings;
DROP TABLE ai_conversations;

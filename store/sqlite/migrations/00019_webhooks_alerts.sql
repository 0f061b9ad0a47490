-- +goose Up
-- Outgoing webhooks: a tenant's subscriptions (the signing secret sealed,
-- store/secrets.go) and the outbox of deliveries, written in the engine's
-- transaction and worked by the delivery loop (notify/).
CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL CHECK (json_valid(events)),
    journey_id  TEXT,
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, id);

CREATE TABLE hook_deliveries (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_code   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    redelivery_of   TEXT NOT NULL DEFAULT '',
    next_at         INTEGER, -- when a pending delivery is due
    lease_until     INTEGER, -- when a claimed delivery is taken again (its worker died)
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER
) STRICT;
CREATE INDEX hook_deliveries_due ON hook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX hook_deliveries_leased ON hook_deliveries (lease_until) WHERE status = 'delivering';
CREATE INDEX hook_deliveries_log ON hook_deliveries (subscription_id, id);

-- Alerts (FR-10.5): rules evaluated by the alert loop, and their episodes.
CREATE TABLE alert_rules (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('failure_rate', 'delivery_rate', 'stuck')),
    rule       TEXT NOT NULL CHECK (json_valid(rule)),
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX alert_rules_tenant ON alert_rules (tenant_id, id);

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    rule_id     TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    rule_name   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    value       REAL NOT NULL,
    last_value  REAL NOT NULL,
    message     TEXT NOT NULL,
    fired_at    INTEGER NOT NULL,
    resolved_at INTEGER
) STRICT;
CREATE INDEX alerts_tenant ON alerts (tenant_id, id);
-- One open episode per rule: a second firing cannot be recorded.
CREATE UNIQUE INDEX alerts_open ON alerts (rule_id) WHERE status = 'firing';

-- What alert rules measure, indexed: sends finished per journey and per
-- channel, instances ended per journey, active instances by last move.
CREATE INDEX sends_journey_done ON sends (tenant_id, journey_id, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX sends_channel_done ON sends (tenant_id, channel, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX instances_journey_ended ON instances (tenant_id, journey_id, ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX instances_journey_idle ON instances (tenant_id, journey_id, updated_at) WHERE status = 'active';

-- +goose Down
DROP INDEX instances_journey_idle;
DROP INDEX instances_journey_ended;
DROP INDEX sends_channel_done;
DROP INDEX sends_journey_done;
DROP TABLE alerts;
DROP TABLE alert_rules;
DROP TABLE hook_deliveries;
DROP TABLE webhook_subscriptions;

-- +goose Up
-- Segments: a tenant's named rules over customers (package segment), kept
-- in their JSON form. The store compiles a rule to one SQL query.
CREATE TABLE segments (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    rule        TEXT NOT NULL CHECK (json_valid(rule)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
) STRICT;
CREATE INDEX segments_tenant ON segments (tenant_id, id);

-- "performed X at least N times in the last D days" reads the events of one
-- type in a window, and needs only their customers: this index covers it.
-- Checks of one customer use events_customer.
CREATE INDEX events_type_time ON events (tenant_id, event_type, occurred_at, customer_id);

-- +goose Down
DROP INDEX events_type_time;
DROP TABLE segments;

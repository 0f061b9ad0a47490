-- +goose Up
-- Segments: a tenant's named rules over customers (package segment), kept
-- in their JSON form. The store compiles a rule to one SQL query.
CREATE TABLE segments (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    rule        JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX segments_tenant ON segments (tenant_id, id);

-- "performed X at least N times in the last D days" reads the events of one
-- type in a window, and needs only their customers: this index covers it.
-- Checks of one customer use events_customer.
CREATE INDEX events_type_time ON events (tenant_id, event_type, occurred_at, customer_id);

-- Equality on attributes and tag membership are containment (@>), which
-- these indexes answer without reading every profile.
CREATE INDEX customers_attributes ON customers USING gin (attributes jsonb_path_ops);
CREATE INDEX customers_tags ON customers USING gin (tags jsonb_path_ops);

-- kalcifer_epoch reads an ISO 8601 date or timestamp as Unix seconds, and
-- anything else as NULL, like SQLite's unixepoch(): one bad attribute
-- value must not fail a whole segment's query. A date without an offset
-- is UTC, as in SQLite.
-- +goose StatementBegin
CREATE FUNCTION kalcifer_epoch(t text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET "TimeZone" = 'UTC'
AS $$
BEGIN
    IF t !~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([Zz]|[+-]\d{2}:\d{2})?$' THEN
        RETURN NULL;
    END IF;
    RETURN extract(epoch FROM t::timestamptz);
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION kalcifer_epoch(text);
DROP INDEX customers_tags;
DROP INDEX customers_attributes;
DROP INDEX events_type_time;
DROP TABLE segments;

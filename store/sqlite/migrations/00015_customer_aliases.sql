-- +goose Up
-- Aliases: an id merged into another customer (Segment's alias, or
-- POST /customers/{id}/alias). Events sent later for alias_id are stored
-- for customer_id, which always names a customer that is no alias itself
-- (a merge repoints the aliases of the customer it merges away).
CREATE TABLE customer_aliases (
    tenant_id   TEXT NOT NULL,
    alias_id    TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, alias_id)
) STRICT;
CREATE INDEX customer_aliases_customer ON customer_aliases (tenant_id, customer_id);

-- +goose Down
DROP TABLE customer_aliases;

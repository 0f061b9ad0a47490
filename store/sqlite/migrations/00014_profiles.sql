-- +goose Up
-- Profiles remember when their customer was first and last seen: the
-- earliest and latest timestamp of their events and identify calls
-- (imports included). NULL until one arrives.
ALTER TABLE customers ADD COLUMN first_seen_at INTEGER;
ALTER TABLE customers ADD COLUMN last_seen_at INTEGER;

-- +goose Down
ALTER TABLE customers DROP COLUMN last_seen_at;
ALTER TABLE customers DROP COLUMN first_seen_at;

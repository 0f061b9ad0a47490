-- +goose Up
-- Delivery statuses the providers report back (their callbacks, or
-- Kalcifer's own open and click tracking): the furthest status a send
-- reached, when, and the provider's reason. The status only moves forward
-- (engine/delivery.go): a late "delivered" never undoes a bounce.
ALTER TABLE sends ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN delivery_at INTEGER;
ALTER TABLE sends ADD COLUMN delivery_detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sends DROP COLUMN delivery_detail;
ALTER TABLE sends DROP COLUMN delivery_at;
ALTER TABLE sends DROP COLUMN delivery;

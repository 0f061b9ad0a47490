-- +goose Up
-- The sender: which replica claimed a send (so a dead replica's sends are
-- settled at once), the target it goes to (a webhook's host or a provider,
-- for per-target concurrency limits), and the "logged" status of the dry-run
-- log provider.
ALTER TABLE sends ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN claimed_by BIGINT;
ALTER TABLE sends DROP CONSTRAINT sends_status_check;
ALTER TABLE sends ADD CONSTRAINT sends_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'ambiguous', 'capped'));

-- +goose Down
UPDATE sends SET status = 'sent' WHERE status = 'logged';
ALTER TABLE sends DROP CONSTRAINT sends_status_check;
ALTER TABLE sends ADD CONSTRAINT sends_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'ambiguous', 'capped'));
ALTER TABLE sends DROP COLUMN claimed_by;
ALTER TABLE sends DROP COLUMN target;

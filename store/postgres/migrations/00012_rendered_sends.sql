-- +goose Up
-- Sends rendered from a template record which template and version they
-- rendered; a send to a customer who unsubscribed from its channel is
-- "skipped".
ALTER TABLE sends ADD COLUMN template_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN template_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sends DROP CONSTRAINT sends_status_check;
ALTER TABLE sends ADD CONSTRAINT sends_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'ambiguous', 'capped', 'skipped'));

-- +goose Down
DELETE FROM sends WHERE status = 'skipped';
ALTER TABLE sends DROP CONSTRAINT sends_status_check;
ALTER TABLE sends ADD CONSTRAINT sends_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed', 'ambiguous', 'capped'));
ALTER TABLE sends DROP COLUMN template_version;
ALTER TABLE sends DROP COLUMN template_id;

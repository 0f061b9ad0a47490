-- +goose Up
-- Sends rendered from a template record which template and version they
-- rendered; a send to a customer who unsubscribed from its channel is
-- "skipped". SQLite cannot change a CHECK constraint with ALTER TABLE; its
-- documented way for a change that every stored row already satisfies is to
-- edit the table's definition in the schema (sqlite.org/lang_altertable.html,
-- section 7), which keeps every column as it is.
ALTER TABLE sends ADD COLUMN template_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN template_version INTEGER NOT NULL DEFAULT 0;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''ambiguous'', ''capped'')', '''ambiguous'', ''capped'', ''skipped'')')
    WHERE type = 'table' AND name = 'sends';
PRAGMA writable_schema = OFF;

-- +goose Down
DELETE FROM sends WHERE status = 'skipped';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''ambiguous'', ''capped'', ''skipped'')', '''ambiguous'', ''capped'')')
    WHERE type = 'table' AND name = 'sends';
PRAGMA writable_schema = OFF;
ALTER TABLE sends DROP COLUMN template_version;
ALTER TABLE sends DROP COLUMN template_id;

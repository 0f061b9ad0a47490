-- +goose Up
-- Stored segment membership (store/segmembers.go). A segment's members are
-- kept current incrementally: changed customers (customer_changes) are
-- re-checked against the segments that can depend on the change, and a
-- full pass, a batch of customers per transaction, builds a new or edited
-- segment and refreshes time-relative ones.
--   members      how many rows segment_members holds for the segment
--   built_at     when its last full pass finished; NULL while it is being
--                built (a count then answers from the live query)
--   pass_cursor  the last customer id the running full pass has done, ''
--                when it has just started; NULL when no pass runs
--   refresh_at   when the next full pass is due (time-relative rules);
--                NULL when none is needed
--   on_events    the event types whose events can change who matches (a
--                JSON array, referenced segments included)
ALTER TABLE segments ADD COLUMN members INTEGER NOT NULL DEFAULT 0;
ALTER TABLE segments ADD COLUMN built_at INTEGER;
ALTER TABLE segments ADD COLUMN pass_cursor TEXT;
ALTER TABLE segments ADD COLUMN refresh_at INTEGER;
ALTER TABLE segments ADD COLUMN on_events TEXT NOT NULL DEFAULT '[]';
-- Segments made before membership existed are built, and re-check every
-- event until then.
UPDATE segments SET pass_cursor = '', on_events = '["*"]';

CREATE TABLE segment_members (
    segment_id  TEXT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
) STRICT, WITHOUT ROWID;

-- What changed: '' for a profile (or a customer made or removed), else the
-- type of the event the customer performed.
ALTER TABLE customer_changes ADD COLUMN event_type TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE customer_changes DROP COLUMN event_type;
DROP TABLE segment_members;
ALTER TABLE segments DROP COLUMN on_events;
ALTER TABLE segments DROP COLUMN refresh_at;
ALTER TABLE segments DROP COLUMN pass_cursor;
ALTER TABLE segments DROP COLUMN built_at;
ALTER TABLE segments DROP COLUMN members;

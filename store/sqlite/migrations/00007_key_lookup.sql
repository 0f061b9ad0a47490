-- +goose Up
-- API keys are found by a lookup id that is part of the key but not of its
-- secret ("kal_<lookup>_<secret>"), and stored as HMAC-SHA256 under the
-- server's pepper (hash_scheme 2). Keys from before are plain SHA-256
-- (hash_scheme 1, the default for the rows already here) until the store's
-- start-up pass re-hashes them under the pepper, which needs no secret
-- (store.SealAtRest); keys made before have no lookup id.
ALTER TABLE api_keys ADD COLUMN lookup TEXT;
ALTER TABLE api_keys ADD COLUMN hash_scheme INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX api_keys_lookup ON api_keys (lookup);

-- +goose Down
-- An older Kalcifer knows only plain SHA-256: keys re-hashed under the
-- pepper stop working there and must be made again.
DROP INDEX api_keys_lookup;
ALTER TABLE api_keys DROP COLUMN hash_scheme;
ALTER TABLE api_keys DROP COLUMN lookup;

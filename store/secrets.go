package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer/secrets"
)

// sealedColumn is a column of credentials that the store keeps sealed
// (secrets.Keyring): sealed on write with seal, opened on read with open,
// each value bound to its row by its key column. A new credential column
// (a provider's password, say) is one line in sealedColumns; the start-up
// pass and rotation then cover it.
type sealedColumn struct{ table, key, column string }

var (
	colAIAPIKey      = sealedColumn{"tenant_ai_settings", "tenant_id", "api_key"}
	colWebhookSecret = sealedColumn{"tenant_secrets", "tenant_id", "webhook_secret"}
	// colProviderSecrets holds a provider account's credentials: the JSON
	// of its secret fields, sealed as one value.
	colProviderSecrets = sealedColumn{"provider_accounts", "id", "secrets"}
	// colHookSecret is an outgoing webhook subscription's signing secret.
	colHookSecret = sealedColumn{"webhook_subscriptions", "id", "secret"}
)

// sealedColumns lists every column of stored credentials.
var sealedColumns = []sealedColumn{colAIAPIKey, colWebhookSecret, colProviderSecrets, colHookSecret}

func (c sealedColumn) String() string { return c.table + "." + c.column }

// ad binds a value to its row and column, so it cannot be copied elsewhere.
func (c sealedColumn) ad(row string) []byte { return []byte(c.String() + ":" + row) }

// seal is the stored form of plain in column c of row. An empty value stays
// empty: it means "none".
func (s *Store) seal(c sealedColumn, row, plain string) string {
	if plain == "" {
		return ""
	}
	return s.keyring.Seal([]byte(plain), c.ad(row))
}

// open returns the plaintext of a stored value of column c of row.
func (s *Store) open(c sealedColumn, row, stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	if !secrets.IsSealed(stored) {
		return "", fmt.Errorf("%s of %s is stored unsealed: restart kalcifer, whose start seals it", c, row)
	}
	plain, err := s.keyring.Open(stored, c.ad(row))
	if err != nil {
		return "", fmt.Errorf("%s of %s: %w", c, row, err)
	}
	return string(plain), nil
}

// apiKeyHash is the stored form of an API key: HMAC-SHA256 under the pepper
// of the key's SHA-256. Keying the hash over the SHA-256, not the key, lets
// the start-up pass re-hash keys stored before the pepper existed (plain
// SHA-256) without knowing them.
func (s *Store) apiKeyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return s.keyring.MAC(sum[:])
}

// AtRest is what SealAtRest changed.
type AtRest struct {
	// Sealed counts credentials that were stored in plaintext.
	Sealed int
	// UpgradedKeys counts API keys re-hashed from plain SHA-256.
	UpgradedKeys int
}

// SealAtRest brings a database written by an older Kalcifer up to the
// current rules, and checks that every sealed value can be opened: it seals
// credentials stored in plaintext, re-hashes API keys stored as plain
// SHA-256 under the pepper (dropping the start of their secret kept as
// their prefix, there and in their audit row), and fails naming the key ids
// of values sealed under keys the keyring lacks. Run on every start; it is
// idempotent, and safe while other replicas run.
func (s *Store) SealAtRest(ctx context.Context) (AtRest, error) {
	var r AtRest
	var err error
	if r.UpgradedKeys, err = s.upgradeLegacyKeys(ctx); err != nil {
		return r, err
	}
	if r.Sealed, err = s.reseal(ctx, secrets.Prefix, 200, nil); err != nil {
		return r, err
	}
	usage, err := s.KeyUsage(ctx)
	if err != nil {
		return r, err
	}
	var missing []string
	for id := range usage {
		if !slices.Contains(s.keyring.IDs(), id) {
			missing = append(missing, fmt.Sprintf("%q (%d values)", id, usage[id]))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return r, fmt.Errorf("stored secrets are sealed under keys that %s does not hold: %s; restore them (the key file or KALCIFER_ENCRYPTION_KEY) before starting",
			s.keyring.Source(), strings.Join(missing, ", "))
	}
	return r, nil
}

// Reseal seals again, under the active key, every stored credential sealed
// under another key (or not at all), batch rows at a time, each batch one
// transaction; progress is called after each batch with the total so far.
// A value written meanwhile is left alone (compare and set), so Reseal is
// safe beside running servers and may be run again after a crash.
func (s *Store) Reseal(ctx context.Context, batch int, progress func(column string, done int)) (int, error) {
	return s.reseal(ctx, secrets.SealedPrefix(s.keyring.ActiveID()), batch, progress)
}

// reseal seals again every non-empty value of every sealed column that does
// not begin with keep.
func (s *Store) reseal(ctx context.Context, keep string, batch int, progress func(column string, done int)) (int, error) {
	total := 0
	for _, c := range sealedColumns {
		after := ""
		for {
			n, last, err := s.resealBatch(ctx, c, keep, after, batch)
			if err != nil {
				return total, fmt.Errorf("seal %s: %w", c, err)
			}
			total += n
			if last == "" {
				break
			}
			after = last
			if progress != nil {
				progress(c.String(), total)
			}
		}
	}
	return total, nil
}

// resealBatch seals again up to batch values of c after row key after; last
// is the last row key it looked at, "" when there were none.
func (s *Store) resealBatch(ctx context.Context, c sealedColumn, keep, after string, batch int) (n int, last string, err error) {
	err = s.b.WithTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT %[2]s, %[3]s FROM %[1]s
			WHERE %[3]s <> '' AND substr(%[3]s, 1, $1) <> $2 AND %[2]s > $3 ORDER BY %[2]s LIMIT $4`, c.table, c.key, c.column),
			len(keep), keep, after, batch)
		if err != nil {
			return err
		}
		type value struct{ row, stored string }
		var values []value
		for rows.Next() {
			var v value
			if err := rows.Scan(&v.row, &v.stored); err != nil {
				rows.Close()
				return err
			}
			values = append(values, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n, last = 0, ""
		for _, v := range values {
			plain := v.stored
			if secrets.IsSealed(v.stored) {
				if plain, err = s.open(c, v.row, v.stored); err != nil {
					return err
				}
			}
			changed, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2 AND %[2]s = $3`, c.table, c.column, c.key),
				s.seal(c, v.row, plain), v.row, v.stored)
			if err != nil {
				return err
			}
			n += int(changed)
			last = v.row
		}
		return nil
	})
	return n, last, err
}

// KeyUsage counts the stored credentials sealed under each key id;
// credentials stored in plaintext count under "".
func (s *Store) KeyUsage(ctx context.Context) (map[string]int, error) {
	usage := map[string]int{}
	for _, c := range sealedColumns {
		rows, err := s.b.Q().Query(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %[1]s <> ''`, c.column, c.table))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", c, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read %s: %w", c, err)
			}
			id, _ := secrets.KeyID(v)
			usage[id]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", c, err)
		}
	}
	return usage, nil
}

// hashLegacy marks API keys stored as plain SHA-256, from before the pepper.
const (
	hashLegacy = 1 // hex SHA-256 of the key
	hashPepper = 2 // apiKeyHash
)

// upgradeLegacyKeys re-hashes API keys stored as plain SHA-256 under the
// pepper and drops the start of the secret kept as their prefix, in their
// row and in the audit row of their creation.
func (s *Store) upgradeLegacyKeys(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.b.WithTx(ctx, func(tx Tx) error {
			rows, err := tx.Query(ctx, `SELECT id, hash FROM api_keys WHERE hash_scheme = $1 ORDER BY id LIMIT 200`, hashLegacy)
			if err != nil {
				return err
			}
			legacy := map[string]string{}
			for rows.Next() {
				var id, hash string
				if err := rows.Scan(&id, &hash); err != nil {
					rows.Close()
					return err
				}
				legacy[id] = hash
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for id, hash := range legacy {
				sum, err := hex.DecodeString(hash)
				if err != nil || len(sum) != sha256.Size {
					return fmt.Errorf("API key %s: stored hash is not hex SHA-256", id)
				}
				if _, err := tx.Exec(ctx, `UPDATE api_keys SET hash = $1, hash_scheme = $2, prefix = '' WHERE id = $3 AND hash_scheme = $4`,
					s.keyring.MAC(sum), hashPepper, id, hashLegacy); err != nil {
					return err
				}
				if err := scrubAuditPrefix(ctx, tx, id); err != nil {
					return err
				}
			}
			n = len(legacy)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("upgrade API keys: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// scrubAuditPrefix drops the prefix from the audit rows of a key's creation.
func scrubAuditPrefix(ctx context.Context, tx Tx, keyID string) error {
	rows, err := tx.Query(ctx, `SELECT id, data FROM audit_log WHERE resource_type = 'api_key' AND resource_id = $1
		AND action = 'api_key.create' AND data IS NOT NULL`, keyID)
	if err != nil {
		return err
	}
	scrubbed := map[string]string{}
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return err
		}
		var m map[string]any
		if json.Unmarshal([]byte(data), &m) != nil || m["prefix"] == nil {
			continue
		}
		delete(m, "prefix")
		raw, err := json.Marshal(m)
		if err != nil {
			rows.Close()
			return err
		}
		scrubbed[id] = string(raw)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, data := range scrubbed {
		if _, err := tx.Exec(ctx, `UPDATE audit_log SET data = $1 WHERE id = $2`, data, id); err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
)

// MaxWebhookTokenNameLen bounds a webhook token's name, in characters.
const MaxWebhookTokenNameLen = 200

// CreateWebhookToken makes a token for one journey of the tenant and returns
// it with its secret, which is never available again. An unknown journey is
// ENOTFOUND.
func (s *Store) CreateWebhookToken(ctx context.Context, actor, tenantID, journeyID, name string) (kalcifer.WebhookToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "webhook token"
	}
	if n := utf8.RuneCountInString(name); n > MaxWebhookTokenNameLen {
		return kalcifer.WebhookToken{}, "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE,
			"a webhook token's name has at most %d characters; this one has %d", MaxWebhookTokenNameLen, n)
	}
	secret := kalcifer.NewWebhookTokenSecret()
	tok := kalcifer.WebhookToken{
		ID:        kalcifer.NewID("wht"),
		TenantID:  tenantID,
		JourneyID: journeyID,
		Name:      name,
		Prefix:    kalcifer.WebhookTokenPrefixOf(secret),
		Hash:      kalcifer.HashWebhookToken(secret),
		CreatedAt: s.now(),
	}
	err := s.b.WithTx(ctx, func(tx Tx) error {
		if _, err := getJourney(ctx, tx, tenantID, journeyID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_tokens (id, tenant_id, journey_id, name, prefix, hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			tok.ID, tok.TenantID, tok.JourneyID, tok.Name, tok.Prefix, tok.Hash, micros(tok.CreatedAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantID, actor, "webhook_token.create", "webhook_token", tok.ID,
			map[string]any{"journey_id": journeyID, "name": tok.Name, "prefix": tok.Prefix})
	})
	if err != nil {
		return kalcifer.WebhookToken{}, "", fmt.Errorf("create webhook token: %w", err)
	}
	return tok, secret, nil
}

// ListWebhookTokens returns a journey's tokens, revoked ones included,
// newest first, without their secrets. An unknown journey is ENOTFOUND.
func (s *Store) ListWebhookTokens(ctx context.Context, tenantID, journeyID string) ([]kalcifer.WebhookToken, error) {
	q := s.b.Q()
	if _, err := getJourney(ctx, q, tenantID, journeyID); err != nil {
		return nil, fmt.Errorf("list webhook tokens: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT `+webhookTokenColumns+` FROM webhook_tokens
		WHERE tenant_id = $1 AND journey_id = $2 ORDER BY id DESC`, tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("list webhook tokens: %w", err)
	}
	defer rows.Close()
	out := []kalcifer.WebhookToken{}
	for rows.Next() {
		tok, err := scanWebhookToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhook tokens: %w", err)
		}
		out = append(out, tok)
	}
	return out, rows.Err()
}

// RevokeWebhookToken makes a journey's token unusable from the next
// request on: tokens are never cached. A token that is unknown, of another
// journey or already revoked is ENOTFOUND.
func (s *Store) RevokeWebhookToken(ctx context.Context, actor, tenantID, journeyID, id string) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `UPDATE webhook_tokens SET revoked_at = $1
			WHERE tenant_id = $2 AND journey_id = $3 AND id = $4 AND revoked_at IS NULL`,
			micros(s.now()), tenantID, journeyID, id)
		if err != nil {
			return fmt.Errorf("revoke webhook token: %w", err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "journey %q has no webhook token %q that is not revoked", journeyID, id)
		}
		return s.audit(ctx, tx, tenantID, actor, "webhook_token.revoke", "webhook_token", id,
			map[string]any{"journey_id": journeyID})
	})
}

// WebhookTokenBySecret returns the token whose secret this is, revoked or
// not (the caller tells the two apart, to say which). An unknown secret is
// EUNAUTHORIZED.
func (s *Store) WebhookTokenBySecret(ctx context.Context, secret string) (kalcifer.WebhookToken, error) {
	tok, err := scanWebhookToken(s.b.Q().QueryRow(ctx, `SELECT `+webhookTokenColumns+` FROM webhook_tokens WHERE hash = $1`,
		kalcifer.HashWebhookToken(secret)))
	if errors.Is(err, ErrNoRows) {
		return kalcifer.WebhookToken{}, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "invalid webhook token")
	}
	if err != nil {
		return kalcifer.WebhookToken{}, fmt.Errorf("find webhook token: %w", err)
	}
	return tok, nil
}

const webhookTokenColumns = `id, tenant_id, journey_id, name, prefix, hash, created_at, revoked_at`

func scanWebhookToken(r Row) (kalcifer.WebhookToken, error) {
	var tok kalcifer.WebhookToken
	var createdAt int64
	var revokedAt *int64
	if err := r.Scan(&tok.ID, &tok.TenantID, &tok.JourneyID, &tok.Name, &tok.Prefix, &tok.Hash, &createdAt, &revokedAt); err != nil {
		return kalcifer.WebhookToken{}, err
	}
	tok.CreatedAt = fromMicros(createdAt)
	tok.RevokedAt = fromNullMicros(revokedAt)
	return tok, nil
}

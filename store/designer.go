package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// --- AI designer conversations ---

const conversationColumns = `id, tenant_id, COALESCE(journey_id, ''), graph, turns, created_at, updated_at`

// SaveConversation inserts or replaces a conversation.
func (s *Store) SaveConversation(ctx context.Context, c *kalcifer.Conversation) error {
	var g any
	if c.Graph != nil {
		raw, err := json.Marshal(c.Graph)
		if err != nil {
			return fmt.Errorf("encode conversation graph: %w", err)
		}
		g = string(raw)
	}
	turns, err := json.Marshal(c.Turns)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	now := s.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	_, err = s.b.Q().Exec(ctx, `INSERT INTO ai_conversations (id, tenant_id, journey_id, graph, turns, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET journey_id = excluded.journey_id, graph = excluded.graph, turns = excluded.turns,
		updated_at = excluded.updated_at`,
		c.ID, c.TenantID, nullString(c.JourneyID), g, string(turns), micros(c.CreatedAt), micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	return nil
}

// GetConversation returns one of the tenant's conversations.
func (s *Store) GetConversation(ctx context.Context, tenantID, id string) (*kalcifer.Conversation, error) {
	var c kalcifer.Conversation
	var g *string
	var turns string
	var created, updated int64
	err := s.b.Q().QueryRow(ctx, `SELECT `+conversationColumns+` FROM ai_conversations WHERE tenant_id = $1 AND id = $2`, tenantID, id).
		Scan(&c.ID, &c.TenantID, &c.JourneyID, &g, &turns, &created, &updated)
	if err != nil {
		return nil, notFound(err, "conversation %q not found", id)
	}
	if g != nil {
		c.Graph = &graph.Graph{}
		if err := json.Unmarshal([]byte(*g), c.Graph); err != nil {
			return nil, fmt.Errorf("decode conversation graph: %w", err)
		}
	}
	if err := jsonUnmarshal(turns, &c.Turns); err != nil {
		return nil, fmt.Errorf("decode conversation: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// --- AI designer settings ---

// AISettings returns the tenant's designer settings, or nil when it has
// none (the server's defaults apply).
func (s *Store) AISettings(ctx context.Context, tenantID string) (*kalcifer.AISettings, error) {
	var a kalcifer.AISettings
	var updated int64
	err := s.b.Q().QueryRow(ctx, `SELECT provider, base_url, model, api_key, max_repairs, updated_at FROM tenant_ai_settings
		WHERE tenant_id = $1`, tenantID).Scan(&a.Provider, &a.BaseURL, &a.Model, &a.APIKey, &a.MaxRepairs, &updated)
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read AI settings: %w", err)
	}
	if a.APIKey, err = s.open(colAIAPIKey, tenantID, a.APIKey); err != nil {
		return nil, fmt.Errorf("read AI settings: %w", err)
	}
	a.HasAPIKey, a.UpdatedAt = a.APIKey != "", fromMicros(updated)
	return &a, nil
}

// SetAISettings stores the tenant's designer settings, with an audit row
// that never holds the key, which is stored sealed. With keepKey, an empty APIKey keeps the stored
// key; otherwise the stored key is replaced (or cleared).
func (s *Store) SetAISettings(ctx context.Context, actor, tenantID string, a *kalcifer.AISettings, keepKey bool) error {
	keep := 0
	if keepKey && a.APIKey == "" {
		keep = 1
	}
	return s.b.WithTx(ctx, func(tx Tx) error {
		a.UpdatedAt = s.now()
		_, err := tx.Exec(ctx, `INSERT INTO tenant_ai_settings (tenant_id, provider, base_url, model, api_key, max_repairs, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider, base_url = excluded.base_url, model = excluded.model,
			api_key = CASE WHEN $8 = 1 THEN tenant_ai_settings.api_key ELSE excluded.api_key END,
			max_repairs = excluded.max_repairs, updated_at = excluded.updated_at`,
			tenantID, a.Provider, a.BaseURL, a.Model, s.seal(colAIAPIKey, tenantID, a.APIKey), a.MaxRepairs, micros(a.UpdatedAt), keep)
		if err != nil {
			return fmt.Errorf("save AI settings: %w", err)
		}
		return s.audit(ctx, tx, tenantID, actor, "ai_settings.update", "tenant", tenantID,
			map[string]any{"provider": a.Provider, "base_url": a.BaseURL, "model": a.Model, "api_key_changed": a.APIKey != ""})
	})
}

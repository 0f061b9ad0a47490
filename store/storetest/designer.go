package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testConversations: a designer conversation is saved, replaced as it goes
// on, and read back whole by its tenant only.
func testConversations(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := newJourney(t, s, "default", "Designed", validGraph())
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	c := &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: "default", Graph: validGraph(),
		Turns: []kalcifer.ConversationTurn{{Role: "user", Text: "welcome new customers", At: at}}}
	must(t, s.SaveConversation(ctx, c))
	if c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Fatalf("saved conversation times = %v %v", c.CreatedAt, c.UpdatedAt)
	}
	got, err := s.GetConversation(ctx, "default", c.ID)
	must(t, err)
	if got.ID != c.ID || got.TenantID != "default" || got.JourneyID != "" || got.Graph == nil || len(got.Graph.Nodes) != 2 ||
		len(got.Turns) != 1 || got.Turns[0].Text != "welcome new customers" || !got.Turns[0].At.Equal(at) ||
		!got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("read conversation = %+v", got)
	}

	// The next turn replaces it: graph, turns and journey; created_at
	// stays, even from a caller that did not keep it.
	created := c.CreatedAt
	c.JourneyID, c.Graph = j.ID, waitGraph()
	c.Turns = append(c.Turns, kalcifer.ConversationTurn{Role: "assistant", Text: "added a 3-day wait", At: at.Add(time.Second)})
	c.CreatedAt = time.Time{}
	must(t, s.SaveConversation(ctx, c))
	got, err = s.GetConversation(ctx, "default", c.ID)
	must(t, err)
	if got.JourneyID != j.ID || len(got.Graph.Nodes) != 3 || got.Graph.Nodes[1].Type != "wait" || len(got.Turns) != 2 ||
		got.Turns[1].Role != "assistant" || !got.CreatedAt.Equal(created) {
		t.Fatalf("replaced conversation = %+v", got)
	}

	// A conversation without a graph yet.
	empty := &kalcifer.Conversation{ID: kalcifer.NewID("conv"), TenantID: "default", Turns: []kalcifer.ConversationTurn{}}
	must(t, s.SaveConversation(ctx, empty))
	got, err = s.GetConversation(ctx, "default", empty.ID)
	must(t, err)
	if got.Graph != nil || len(got.Turns) != 0 {
		t.Fatalf("graphless conversation = %+v", got)
	}

	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	_, err = s.GetConversation(ctx, "other", c.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.GetConversation(ctx, "default", "conv_ghost")
	wantCode(t, err, kalcifer.ENOTFOUND)
}

// testAISettings: a tenant's designer settings, whose key is kept, replaced
// or cleared as asked and never written to the audit log.
func testAISettings(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a, err := s.AISettings(ctx, "default")
	must(t, err)
	if a != nil {
		t.Fatalf("settings before any = %+v, want none", a)
	}
	must(t, s.SetAISettings(ctx, actor, "default", &kalcifer.AISettings{Provider: kalcifer.AIAnthropic, Model: "m1",
		APIKey: "sk-secret-1", MaxRepairs: 2}, false))
	a, err = s.AISettings(ctx, "default")
	must(t, err)
	if a == nil || a.Provider != kalcifer.AIAnthropic || a.Model != "m1" || a.APIKey != "sk-secret-1" || !a.HasAPIKey ||
		a.MaxRepairs != 2 || a.UpdatedAt.IsZero() {
		t.Fatalf("settings = %+v", a)
	}
	// keepKey with no key keeps the stored one.
	must(t, s.SetAISettings(ctx, actor, "default", &kalcifer.AISettings{Provider: kalcifer.AIOpenAI, BaseURL: "http://llm.local",
		Model: "m2"}, true))
	a, err = s.AISettings(ctx, "default")
	must(t, err)
	if a.Provider != kalcifer.AIOpenAI || a.BaseURL != "http://llm.local" || a.Model != "m2" || a.APIKey != "sk-secret-1" || a.MaxRepairs != 0 {
		t.Fatalf("settings with the key kept = %+v", a)
	}
	// keepKey with a key replaces it; without keepKey an empty key clears it.
	must(t, s.SetAISettings(ctx, actor, "default", &kalcifer.AISettings{Provider: kalcifer.AIOpenAI, APIKey: "sk-secret-2"}, true))
	if a, _ = s.AISettings(ctx, "default"); a.APIKey != "sk-secret-2" {
		t.Fatalf("replaced key = %q", a.APIKey)
	}
	must(t, s.SetAISettings(ctx, actor, "default", &kalcifer.AISettings{Provider: kalcifer.AIOffline}, false))
	if a, _ = s.AISettings(ctx, "default"); a.APIKey != "" || a.HasAPIKey || a.Provider != kalcifer.AIOffline {
		t.Fatalf("cleared key = %+v", a)
	}
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	if other, _ := s.AISettings(ctx, "other"); other != nil {
		t.Fatalf("another tenant sees settings: %+v", other)
	}
	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "tenant", ResourceID: "default"})
	must(t, err)
	n := 0
	for _, e := range page.Data {
		if e.Action == "ai_settings.update" {
			n++
		}
		if strings.Contains(string(e.Data), "sk-secret") {
			t.Fatalf("an audit row holds the API key: %s", e.Data)
		}
	}
	if n != 4 {
		t.Fatalf("ai_settings.update audit rows = %d, want 4", n)
	}
}

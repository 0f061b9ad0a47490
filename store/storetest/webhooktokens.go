package storetest

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testWebhookTokens: a token is stored hashed, found by its secret with its
// journey, listed per journey, revoked at once, audited, scoped to its
// tenant, and goes when its journey is deleted.
func testWebhookTokens(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := newJourney(t, s, "default", "A", validGraph())
	b := newJourney(t, s, "default", "B", validGraph())

	tok, secret, err := s.CreateWebhookToken(ctx, actor, "default", a.ID, "  crm  ")
	must(t, err)
	if !kalcifer.IsWebhookTokenSecret(secret) || len(secret) < 40 {
		t.Fatalf("secret %q is not a webhook token secret", secret)
	}
	if tok.Hash == secret || tok.Hash != kalcifer.HashWebhookToken(secret) || tok.Name != "crm" || tok.JourneyID != a.ID {
		t.Fatalf("token = %+v", tok)
	}
	found, err := s.WebhookTokenBySecret(ctx, secret)
	must(t, err)
	if found.ID != tok.ID || found.JourneyID != a.ID || found.TenantID != "default" || found.RevokedAt != nil {
		t.Fatalf("found %+v, want %+v", found, tok)
	}
	_, err = s.WebhookTokenBySecret(ctx, secret+"x")
	wantCode(t, err, kalcifer.EUNAUTHORIZED)

	_, other, err := s.CreateWebhookToken(ctx, actor, "default", b.ID, "")
	must(t, err)
	if other == secret {
		t.Fatal("two tokens share a secret")
	}
	list, err := s.ListWebhookTokens(ctx, "default", a.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != tok.ID {
		t.Fatalf("journey A's tokens = %+v", list)
	}

	// Unknown and other tenants' journeys are not found.
	_, _, err = s.CreateWebhookToken(ctx, actor, "default", "jrn_missing", "")
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, _, err = s.EnsureTenant(ctx, actor, "acme")
	must(t, err)
	_, _, err = s.CreateWebhookToken(ctx, actor, "acme", a.ID, "")
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.ListWebhookTokens(ctx, "acme", a.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	wantCode(t, s.RevokeWebhookToken(ctx, actor, "acme", a.ID, tok.ID), kalcifer.ENOTFOUND)
	wantCode(t, s.RevokeWebhookToken(ctx, actor, "default", b.ID, tok.ID), kalcifer.ENOTFOUND)
	long := make([]byte, store.MaxWebhookTokenNameLen+1)
	for i := range long {
		long[i] = 'x'
	}
	_, _, err = s.CreateWebhookToken(ctx, actor, "default", a.ID, string(long))
	wantCode(t, err, kalcifer.EUNPROCESSABLE)

	// Revoked: found as revoked at once, and not revoked twice.
	must(t, s.RevokeWebhookToken(ctx, actor, "default", a.ID, tok.ID))
	found, err = s.WebhookTokenBySecret(ctx, secret)
	must(t, err)
	if found.RevokedAt == nil {
		t.Fatalf("revoked token found without revoked_at: %+v", found)
	}
	wantCode(t, s.RevokeWebhookToken(ctx, actor, "default", a.ID, tok.ID), kalcifer.ENOTFOUND)
	list, err = s.ListWebhookTokens(ctx, "default", a.ID)
	must(t, err)
	if len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("after revoking, journey A's tokens = %+v", list)
	}

	page, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "webhook_token", ResourceID: tok.ID})
	must(t, err)
	if len(page.Data) != 2 || page.Data[0].Action != "webhook_token.revoke" || page.Data[1].Action != "webhook_token.create" ||
		page.Data[0].Actor != actor {
		t.Fatalf("audit = %+v", page.Data)
	}

	// Deleting a journey deletes its tokens.
	must(t, s.DeleteJourney(ctx, actor, "default", b.ID))
	_, err = s.WebhookTokenBySecret(ctx, other)
	wantCode(t, err, kalcifer.EUNAUTHORIZED)
}

package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Provider accounts: names unique per tenant, one default per channel,
// credentials sealed in one column and never in the audit, optimistic
// updates, tenant isolation.
func testProviderAccounts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const key = "SG.super-secret-key"
	a := &kalcifer.ProviderAccount{TenantID: "default", Name: "main", Type: "sendgrid", Channel: kalcifer.ChannelEmail,
		Config: json.RawMessage(`{"from":"news@example.com"}`), Secrets: map[string]string{"api_key": key}, IsDefault: true}
	must(t, s.CreateProviderAccount(ctx, actor, a))
	if !strings.HasPrefix(a.ID, "prv_") || a.Revision != 1 || !slices.Equal(a.SecretsSet, []string{"api_key"}) {
		t.Fatalf("created %+v", a)
	}

	// The raw column holds the credential sealed, bound to the row.
	stored := raw(t, s, `SELECT secrets FROM provider_accounts WHERE id = $1`, a.ID)
	if strings.Contains(stored, key) || !strings.HasPrefix(stored, "enc:v1:") {
		t.Fatalf("stored credentials %q are not sealed", stored)
	}
	for _, q := range []string{`SELECT config FROM provider_accounts WHERE id = $1`, `SELECT secrets_set FROM provider_accounts WHERE id = $1`} {
		if v := raw(t, s, q, a.ID); strings.Contains(v, key) {
			t.Fatalf("%s holds the key: %s", q, v)
		}
	}
	audit, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "provider"})
	must(t, err)
	if b, _ := json.Marshal(audit); len(audit.Data) != 1 || strings.Contains(string(b), key) {
		t.Fatalf("audit %s", b)
	}

	// Read back by id and by name, credentials opened; lists leave them out.
	for _, ref := range []string{a.ID, "main"} {
		got, err := s.GetProviderAccount(ctx, "default", ref)
		must(t, err)
		if got.ID != a.ID || got.Secrets["api_key"] != key || !got.IsDefault || got.Channel != kalcifer.ChannelEmail {
			t.Fatalf("get %s = %+v", ref, got)
		}
	}
	page, err := s.ListProviderAccounts(ctx, kalcifer.ProviderAccountFilter{TenantID: "default"})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].Secrets != nil {
		t.Fatalf("list %+v", page.Data)
	}

	// Refused: a taken name, a name like an id, a bad channel.
	wantCode(t, s.CreateProviderAccount(ctx, actor, &kalcifer.ProviderAccount{TenantID: "default", Name: "main", Type: "log",
		Channel: kalcifer.ChannelSMS}), kalcifer.ECONFLICT)
	wantCode(t, s.CreateProviderAccount(ctx, actor, &kalcifer.ProviderAccount{TenantID: "default", Name: "prv_x", Type: "log",
		Channel: kalcifer.ChannelSMS}), kalcifer.EUNPROCESSABLE)
	wantCode(t, s.CreateProviderAccount(ctx, actor, &kalcifer.ProviderAccount{TenantID: "default", Name: "fax", Type: "log",
		Channel: "fax"}), kalcifer.EUNPROCESSABLE)

	// A new default takes over the channel: at most one.
	b := &kalcifer.ProviderAccount{TenantID: "default", Name: "backup", Type: "log", Channel: kalcifer.ChannelEmail, IsDefault: true}
	must(t, s.CreateProviderAccount(ctx, actor, b))
	if n := raw(t, s, `SELECT CAST(COUNT(*) AS TEXT) FROM provider_accounts WHERE tenant_id = 'default' AND channel = 'email' AND is_default = 1`); n != "1" {
		t.Fatalf("%s email defaults", n)
	}
	got, err := s.GetProviderAccount(ctx, "default", a.ID)
	must(t, err)
	if got.IsDefault {
		t.Fatal("the old default is still the default")
	}

	// An update replaces config and credentials and moves the revision on;
	// a stale revision is a conflict.
	upd, err := s.UpdateProviderAccount(ctx, store.UpdateProviderAccountParams{Actor: actor, TenantID: "default", ID: a.ID,
		Revision: 1, Name: "primary", Config: json.RawMessage(`{"from":"hi@example.com"}`),
		Secrets: map[string]string{"api_key": key + "-2"}, IsDefault: true})
	must(t, err)
	if upd.Revision != 2 || upd.Name != "primary" || !upd.IsDefault {
		t.Fatalf("updated %+v", upd)
	}
	got, err = s.GetProviderAccount(ctx, "default", "primary")
	must(t, err)
	if got.Secrets["api_key"] != key+"-2" || !strings.Contains(string(got.Config), "hi@example.com") {
		t.Fatalf("after update %+v", got)
	}
	if b2, _ := s.GetProviderAccount(ctx, "default", b.ID); b2.IsDefault {
		t.Fatal("two email defaults after the update")
	}
	_, err = s.UpdateProviderAccount(ctx, store.UpdateProviderAccountParams{Actor: actor, TenantID: "default", ID: a.ID,
		Revision: 1, Name: "stale"})
	wantCode(t, err, kalcifer.ECONFLICT)
	_, err = s.UpdateProviderAccount(ctx, store.UpdateProviderAccountParams{Actor: actor, TenantID: "default", ID: a.ID,
		Revision: 2, Name: "backup"})
	wantCode(t, err, kalcifer.ECONFLICT)

	// Another tenant sees none of it.
	_, err = s.CreateTenant(ctx, actor, "other")
	must(t, err)
	for _, ref := range []string{a.ID, "primary"} {
		_, err = s.GetProviderAccount(ctx, "other", ref)
		wantCode(t, err, kalcifer.ENOTFOUND)
	}
	wantCode(t, s.DeleteProviderAccount(ctx, actor, "other", a.ID), kalcifer.ENOTFOUND)
	_, err = s.UpdateProviderAccount(ctx, store.UpdateProviderAccountParams{Actor: actor, TenantID: "other", ID: a.ID, Revision: 2, Name: "x"})
	wantCode(t, err, kalcifer.ENOTFOUND)

	all, err := s.TenantProviderAccounts(ctx, "default")
	must(t, err)
	if len(all) != 2 || all[0].Secrets == nil {
		t.Fatalf("tenant accounts %+v", all)
	}
	must(t, s.DeleteProviderAccount(ctx, actor, "default", a.ID))
	_, err = s.GetProviderAccount(ctx, "default", a.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
}

package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testEraseCustomer: an erasure removes the profile and events, exits the
// active instances through the caller's exit, pseudonymises instances and
// sends, cancels pending sends, audits without the id, and leaves other
// customers alone; a second erasure is ENOTFOUND.
func testEraseCustomer(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	for _, id := range []string{"bob@example.com", "alice"} {
		_, _, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: id,
			Attributes: map[string]any{"email": id}}})
		must(t, err)
		_, err = s.InsertEvents(ctx, []*kalcifer.Event{{TenantID: "default", CustomerID: id, Type: "signed_up", Data: json.RawMessage(`{"email":"` + id + `"}`)}})
		must(t, err)
	}
	personal := json.RawMessage(`{"paths":[],"data":{"email":"bob@example.com"}}`)
	var active, ended *kalcifer.Instance
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		active, _ = newInstance(t, tx, j, "bob@example.com", false)
		due := tx.Now().Add(24 * time.Hour)
		must(t, tx.SaveInstance(active, nil, map[int]kalcifer.Wait{0: {Kind: kalcifer.WaitTimer, DueAt: &due}}))
		ended, _ = newInstance(t, tx, j, "bob@example.com", true)
		ended.Status, ended.Reason, ended.State = kalcifer.InstanceFailed, "send failed: 550 bob@example.com unknown", personal
		must(t, tx.SaveInstance(ended, []kalcifer.Step{{NodeID: "mail", Type: "send_email", Result: "failed", Detail: "550 bob@example.com", At: tx.Now()}}, nil))
		newInstance(t, tx, j, "alice", false)
		for i, status := range []kalcifer.SendStatus{kalcifer.SendPending, kalcifer.SendPending} {
			in := []*kalcifer.Instance{active, ended}[i]
			_, err := tx.InsertSend(&kalcifer.Send{Key: in.ID + ":mail:1", TenantID: "default", JourneyID: j.ID, Version: 1, InstanceID: in.ID,
				NodeID: "mail", NodeType: "send_email", CustomerID: "bob@example.com", Channel: "email",
				Config: map[string]any{"to": "bob@example.com"}, Status: status})
			must(t, err)
		}
		_, err := tx.FinishSend(&kalcifer.Send{Key: ended.ID + ":mail:1"}, kalcifer.SendFailed, "550 bob@example.com unknown")
		must(t, err)
		return nil
	}))

	// Rows of issue 14's tables: segment entry memberships, queued
	// changes, aliases merged into each customer.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for _, id := range []string{"bob@example.com", "alice"} {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO entry_members (journey_id, node_id, customer_id) VALUES ($1, 'seg', $2)`, []any{j.ID, id}},
				{`INSERT INTO customer_changes (tenant_id, customer_id) VALUES ('default', $1)`, []any{id}},
				{`INSERT INTO customer_aliases (tenant_id, alias_id, customer_id, created_at) VALUES ('default', $1, $2, 0)`, []any{"anon-" + id, id}},
			} {
				if _, err := tx.Tx().Exec(ctx, q.sql, q.args...); err != nil {
					return err
				}
			}
		}
		return nil
	}))

	exited := 0
	p := store.EraseCustomerParams{TenantID: "default", CustomerID: "bob@example.com", Actor: actor,
		Exit: func(tx *store.EngineTx, in *kalcifer.Instance) error {
			exited++
			in.Status, in.Reason = kalcifer.InstanceExited, store.ErasedReason
			return tx.SaveInstance(in, nil, nil)
		},
		Scrub: func(json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`{"paths":[]}`), nil },
	}
	e, err := s.EraseCustomer(ctx, p)
	must(t, err)
	if e.Profile != 1 || e.Events != 1 || e.ExitedInstances != 1 || exited != 1 || e.Instances != 2 || e.Sends != 2 ||
		e.CancelledSends != 1 || e.ErasedBy != actor || !strings.HasPrefix(e.Subject, "hmac-sha256:") ||
		e.Subject != s.ErasureSubject("default", "bob@example.com") || e.Subject == s.ErasureSubject("acme", "bob@example.com") {
		t.Fatalf("erasure = %+v (exit called %d times)", e, exited)
	}

	// Nothing left names bob, in any table.
	q := s.Backend().Q()
	for _, table := range []string{"customers WHERE id", "events WHERE customer_id", "instances WHERE customer_id",
		"sends WHERE customer_id", "waits WHERE customer_id", "active_entries WHERE customer_id",
		"entry_members WHERE customer_id", "customer_changes WHERE customer_id", "customer_aliases WHERE customer_id",
		"customer_aliases WHERE alias_id = 'anon-bob@example.com' OR alias_id"} {
		var n int
		must(t, q.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` = $1`, "bob@example.com").Scan(&n))
		if n != 0 {
			t.Errorf("%s still has %d rows of the erased customer", table, n)
		}
	}
	for _, query := range []string{
		`SELECT COUNT(*) FROM instances WHERE CAST(state AS TEXT) LIKE '%bob@%' OR reason LIKE '%bob@%'`,
		`SELECT COUNT(*) FROM instance_steps WHERE detail LIKE '%bob@%'`,
		`SELECT COUNT(*) FROM sends WHERE CAST(config AS TEXT) LIKE '%bob@%' OR detail LIKE '%bob@%'`,
		`SELECT COUNT(*) FROM audit_log WHERE CAST(data AS TEXT) LIKE '%bob@%' OR resource_id LIKE '%bob@%'`,
	} {
		var n int
		must(t, q.QueryRow(ctx, query).Scan(&n))
		if n != 0 {
			t.Errorf("%s: %d rows still hold the address", query, n)
		}
	}
	// The history stays, pseudonymised: the exited instance, the ended
	// one (its reason gone), and the sends, the pending one cancelled.
	a, err := s.GetInstance(ctx, "default", active.ID)
	must(t, err)
	b, err := s.GetInstance(ctx, "default", ended.ID)
	must(t, err)
	if a.Status != kalcifer.InstanceExited || a.Reason != store.ErasedReason || !store.IsErased(a.CustomerID) || store.IsErased("bob") ||
		b.CustomerID != a.CustomerID || b.Reason != "" || b.Status != kalcifer.InstanceFailed {
		t.Fatalf("instances after erasure: %+v / %+v", a, b)
	}
	var status, detail string
	must(t, q.QueryRow(ctx, `SELECT status, detail FROM sends WHERE key = $1`, active.ID+":mail:1").Scan(&status, &detail))
	if status != "failed" || !strings.Contains(detail, "erased") {
		t.Fatalf("pending send after erasure: %s %q", status, detail)
	}
	audit, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "customer", ResourceID: e.Subject})
	must(t, err)
	var logged kalcifer.Erasure
	if len(audit.Data) == 1 {
		must(t, json.Unmarshal(audit.Data[0].Data, &logged))
	}
	if len(audit.Data) != 1 || audit.Data[0].Action != "customer.erase" || audit.Data[0].Actor != actor || logged.Events != 1 || logged.Sends != 2 {
		t.Fatalf("audit = %+v", audit.Data)
	}

	// Alice is untouched; a second erasure finds nothing.
	if c, err := s.GetCustomer(ctx, "default", "alice"); err != nil || c.Attributes["email"] != "alice" {
		t.Fatalf("alice after bob's erasure: %+v, %v", c, err)
	}
	if evs, _ := s.CustomerEvents(ctx, "default", "alice", 0, ""); len(evs.Data) != 1 {
		t.Fatalf("alice's events: %d", len(evs.Data))
	}
	for _, table := range []string{"entry_members", "customer_changes", "customer_aliases"} {
		var n int
		must(t, q.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE customer_id = 'alice'`).Scan(&n))
		if n != 1 {
			t.Errorf("%s has %d rows of alice, want 1", table, n)
		}
	}
	_, err = s.EraseCustomer(ctx, p)
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.EraseCustomer(ctx, store.EraseCustomerParams{TenantID: "acme", CustomerID: "alice", Actor: actor, Exit: p.Exit, Scrub: p.Scrub})
	wantCode(t, err, kalcifer.ENOTFOUND)

	// An erased id identified again is a new, empty profile.
	c, created, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "bob@example.com"}})
	must(t, err)
	if !created || len(c.Attributes) != 0 {
		t.Fatalf("bob again: created %v, %+v", created, c)
	}
}

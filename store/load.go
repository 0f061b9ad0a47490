package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// InsertCustomers stores new profiles of the tenant in one transaction,
// Dialect.InsertRows rows per statement, and returns how many it stored: a
// customer that exists already is left as it is. Generators (kalcifer
// bench segments) load profiles with it. The tenant's segments start a full
// pass, which stores the new profiles' memberships.
func (s *Store) InsertCustomers(ctx context.Context, tenantID string, customers []*kalcifer.Customer) (int, error) {
	defer s.customersChanged() // segments' members are to be built: wake the entry loop
	now := s.now()
	stored := 0
	err := s.b.WithTx(ctx, func(tx Tx) error {
		stored = 0
		for start := 0; start < len(customers); start += max(s.d.InsertRows, 1) {
			chunk := customers[start:min(start+max(s.d.InsertRows, 1), len(customers))]
			var q strings.Builder
			q.WriteString(`INSERT INTO customers (tenant_id, id, attributes, tags, created_at, updated_at) VALUES `)
			args := make([]any, 0, 6*len(chunk))
			for i, c := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(placeholders(len(args), 6))
				attrs, err := json.Marshal(c.Attributes)
				if err != nil {
					return fmt.Errorf("encode attributes of %s: %w", c.ID, err)
				}
				tags, err := json.Marshal(c.Tags)
				if err != nil {
					return fmt.Errorf("encode tags of %s: %w", c.ID, err)
				}
				if c.Attributes == nil {
					attrs = []byte("{}")
				}
				if c.Tags == nil {
					tags = []byte("[]")
				}
				created := c.CreatedAt
				if created.IsZero() {
					created = now
				}
				args = append(args, tenantID, c.ID, string(attrs), string(tags), micros(created), micros(now))
			}
			q.WriteString(` ON CONFLICT (tenant_id, id) DO NOTHING`)
			n, err := tx.Exec(ctx, q.String(), args...)
			if err != nil {
				return fmt.Errorf("insert customers: %w", err)
			}
			stored += int(n)
		}
		// Loads queue no changes: the segments' full passes find them.
		return refreshAllSegments(ctx, tx, tenantID)
	})
	return stored, err
}

// InsertPastEvents stores events as history, in one transaction: already
// processed, so that they start no journey and end no wait, but count in
// segments' "performed" clauses. Generators load events with it. Their
// tenants' segments start a full pass.
func (s *Store) InsertPastEvents(ctx context.Context, events []*kalcifer.Event) error {
	defer s.customersChanged() // segments' members are to be built: wake the entry loop
	now := s.now()
	return s.b.WithTx(ctx, func(tx Tx) error {
		for start := 0; start < len(events); start += max(s.d.InsertRows, 1) {
			chunk := events[start:min(start+max(s.d.InsertRows, 1), len(events))]
			var q strings.Builder
			q.WriteString(`INSERT INTO events (id, tenant_id, customer_id, event_type, data, occurred_at, received_at, processed_at) VALUES `)
			args := make([]any, 0, 8*len(chunk))
			for i, e := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(placeholders(len(args), 8))
				if e.ID == "" {
					e.ID = kalcifer.NewID("evt")
				}
				data := string(e.Data)
				if data == "" {
					data = "{}"
				}
				e.ReceivedAt = now
				args = append(args, e.ID, e.TenantID, e.CustomerID, e.Type, data, micros(e.OccurredAt), micros(now), micros(now))
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("insert past events: %w", err)
			}
		}
		// Loads queue no changes: the segments' full passes find them.
		tenants := map[string]bool{}
		for _, e := range events {
			if !tenants[e.TenantID] {
				tenants[e.TenantID] = true
				if err := refreshAllSegments(ctx, tx, e.TenantID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/kalcifer/kalcifer"
)

// Aliases: an id merged into another customer. The merge itself
// (MergeCustomer) moves everything of the id to the surviving customer;
// the alias row then makes events sent later for the id land on the
// survivor (InsertEvents resolves them as it stores them), so one person's
// events stay in one customer's order.

// LockCustomerLanes takes, for the rest of the transaction, the event lanes
// of the customers ids (of lanes lanes, as the engine's event workers
// split them), waiting for workers routing those lanes to finish their
// batch. Lanes are taken in ascending order, so two merges never wait for
// each other in a cycle; the workers only try their lane's lock, so they
// never wait for a merge. A database with a single writer has no lane
// locks: there it does nothing.
func (t *EngineTx) LockCustomerLanes(lanes int, ids ...string) error {
	if t.s.d.CustomerLane == "" || t.s.d.LaneWait == "" {
		return nil
	}
	set := map[int]bool{}
	for _, id := range ids {
		var lane int
		if err := t.tx.QueryRow(t.ctx, t.s.d.CustomerLane, id, max(lanes, 1)).Scan(&lane); err != nil {
			return fmt.Errorf("lane of customer %s: %w", id, err)
		}
		set[lane] = true
	}
	for _, lane := range slices.Sorted(maps.Keys(set)) {
		if _, err := t.tx.Exec(t.ctx, t.s.d.LaneWait, lane); err != nil {
			return fmt.Errorf("lock event lane %d: %w", lane, err)
		}
	}
	return nil
}

// AliasOf is Store.AliasOf inside the transaction.
func (t *EngineTx) AliasOf(tenantID, id string) (string, error) {
	return aliasOf(t.ctx, t.tx, tenantID, id)
}

// AliasOf returns the customer id was merged into, or id itself when it is
// no alias.
func (s *Store) AliasOf(ctx context.Context, tenantID, id string) (string, error) {
	return aliasOf(ctx, s.b.Q(), tenantID, id)
}

func aliasOf(ctx context.Context, q Querier, tenantID, id string) (string, error) {
	var into string
	err := q.QueryRow(ctx, `SELECT customer_id FROM customer_aliases WHERE tenant_id = $1 AND alias_id = $2`, tenantID, id).Scan(&into)
	if err == ErrNoRows {
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("read alias %s: %w", id, err)
	}
	return into, nil
}

// CustomerAliases lists the ids merged into a customer, oldest first.
func (s *Store) CustomerAliases(ctx context.Context, tenantID, customerID string) ([]string, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT alias_id FROM customer_aliases WHERE tenant_id = $1 AND customer_id = $2
		ORDER BY created_at, alias_id`, tenantID, customerID)
	if err != nil {
		return nil, fmt.Errorf("aliases of %s: %w", customerID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("aliases of %s: %w", customerID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// InstancesToMerge returns the active and paused instances of the customers
// ids, locked (PostgreSQL) in id order until the transaction ends, so that
// no timer or send steps them while they are moved.
func (t *EngineTx) InstancesToMerge(tenantID string, ids ...string) ([]*kalcifer.Instance, error) {
	args := []any{tenantID}
	rows, err := t.tx.Query(t.ctx, `SELECT `+instanceColumns+` FROM instances
		WHERE tenant_id = $1 AND customer_id IN (`+bind(&args, ids)+`) AND status IN ('active', 'paused')
		ORDER BY id`+t.s.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("instances to merge: %w", err)
	}
	return collectInstances(rows)
}

// MoveSends gives the send ledger's rows of customer from to customer into:
// frequency caps count them for into, and pending sends render with into's
// profile. The engine calls it before locking the instances, as the send
// loop locks a send before its instance; MergeCustomer calls it again for
// sends made meanwhile.
func (t *EngineTx) MoveSends(tenantID, from, into string) error {
	if _, err := t.tx.Exec(t.ctx, `UPDATE sends SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`,
		into, tenantID, from); err != nil {
		return fmt.Errorf("move sends of %s: %w", from, err)
	}
	return nil
}

// MergeCustomerParams are a merge's arguments.
type MergeCustomerParams struct {
	TenantID string
	// From is merged away; Into survives. Neither may be an alias, and the
	// caller has exited From's instances of journeys Into is in.
	From, Into string
	// Actor is who asked, for the audit log.
	Actor string
}

// MergeCustomer merges customer From into customer Into, inside t: From's
// attributes join Into's (Into's value wins where both have one), its tags
// are added, its events, instances (with their waits and places in
// journeys), sends, aliases, queued changes and segment entry memberships
// (where Into has none of its own) become Into's, From's profile is removed,
// and From becomes an alias of Into. It returns the merged profile.
func (t *EngineTx) MergeCustomer(p MergeCustomerParams) (*kalcifer.Customer, error) {
	tenantID, from, into := p.TenantID, p.From, p.Into
	if from == into {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "customer %q cannot be merged into itself", from)
	}
	if err := t.forget(); err != nil {
		return nil, err
	}
	if err := t.MoveSends(tenantID, from, into); err != nil {
		return nil, err
	}
	for _, q := range []struct{ what, sql string }{
		{"waits", `UPDATE waits SET customer_id = $1 WHERE instance_id IN
			(SELECT id FROM instances WHERE tenant_id = $2 AND customer_id = $3)`},
		{"instances", `UPDATE instances SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`},
		{"places in journeys", `UPDATE active_entries SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`},
		{"events", `UPDATE events SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`},
		{"aliases", `UPDATE customer_aliases SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`},
		{"queued changes", `UPDATE customer_changes SET customer_id = $1 WHERE tenant_id = $2 AND customer_id = $3`},
		// A segment entry's membership of From becomes Into's unless Into
		// has its own (kept); the rest are dropped below.
		{"segment entry members", `UPDATE entry_members SET customer_id = $1 WHERE customer_id = $3
			AND journey_id IN (SELECT id FROM journeys WHERE tenant_id = $2)
			AND NOT EXISTS (SELECT 1 FROM entry_members m WHERE m.journey_id = entry_members.journey_id
				AND m.node_id = entry_members.node_id AND m.customer_id = $1)`},
	} {
		if _, err := t.tx.Exec(t.ctx, q.sql, into, tenantID, from); err != nil {
			return nil, fmt.Errorf("merge customer %s: move %s: %w", from, q.what, err)
		}
	}
	if err := t.forgetEntryMembers(tenantID, from); err != nil {
		return nil, fmt.Errorf("merge customer %s: %w", from, err)
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO customer_aliases (tenant_id, alias_id, customer_id, created_at)
		VALUES ($1, $2, $3, $4)`, tenantID, from, into, micros(t.now)); err != nil {
		return nil, fmt.Errorf("merge customer %s: record alias: %w", from, err)
	}

	old, err := scanCustomer(t.tx.QueryRow(t.ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND id = $2`, tenantID, from))
	if err != nil && err != ErrNoRows {
		return nil, fmt.Errorf("read customer %s: %w", from, err)
	}
	c, err := t.Customer(tenantID, into)
	if err != nil {
		return nil, err
	}
	moved := []string{}
	if old != nil {
		for k, v := range old.Attributes {
			if _, ok := c.Attributes[k]; !ok {
				c.Attributes[k] = v
				moved = append(moved, k)
			}
		}
		for _, tag := range old.Tags {
			if !slices.Contains(c.Tags, tag) {
				c.Tags = append(c.Tags, tag)
			}
		}
		if old.CreatedAt.Before(c.CreatedAt) {
			c.CreatedAt = old.CreatedAt
		}
		if _, err := t.tx.Exec(t.ctx, `DELETE FROM customers WHERE tenant_id = $1 AND id = $2`, tenantID, from); err != nil {
			return nil, fmt.Errorf("remove customer %s: %w", from, err)
		}
	}
	if err := t.SaveCustomer(tenantID, c); err != nil {
		return nil, err
	}
	if _, err := t.tx.Exec(t.ctx, `UPDATE customers SET created_at = $1 WHERE tenant_id = $2 AND id = $3`,
		micros(c.CreatedAt), tenantID, into); err != nil {
		return nil, fmt.Errorf("merge customer %s: %w", from, err)
	}
	slices.Sort(moved)
	if err := t.s.audit(t.ctx, t.tx, tenantID, p.Actor, "customer.merge", "customer", into,
		map[string]any{"merged": from, "attributes_taken": moved}); err != nil {
		return nil, err
	}
	return c, nil
}

// resolveAliases replaces, inside tx, the customer of every event sent for
// an alias with the customer it was merged into. It is on the ingestion
// path, so it costs one indexed probe per tenant when the tenant has no
// aliases, and otherwise one statement of constant text: an array lookup
// where the database binds arrays, one cached lookup per customer where a
// statement costs no round trip (SQLite).
func (s *Store) resolveAliases(ctx context.Context, tx Tx, events []*kalcifer.Event) error {
	byTenant := map[string]map[string]bool{}
	for _, e := range events {
		if byTenant[e.TenantID] == nil {
			byTenant[e.TenantID] = map[string]bool{}
		}
		byTenant[e.TenantID][e.CustomerID] = true
	}
	into := map[[2]string]string{}
	for tenantID, set := range byTenant {
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer_aliases WHERE tenant_id = $1)`, tenantID).Scan(&has); err != nil {
			return fmt.Errorf("resolve aliases: %w", err)
		}
		if !has {
			continue
		}
		ids := slices.Sorted(maps.Keys(set))
		if !s.d.BindsArrays {
			for _, id := range ids {
				var c string
				err := tx.QueryRow(ctx, `SELECT customer_id FROM customer_aliases WHERE tenant_id = $1 AND alias_id = $2`, tenantID, id).Scan(&c)
				if err == ErrNoRows {
					continue
				}
				if err != nil {
					return fmt.Errorf("resolve aliases: %w", err)
				}
				into[[2]string{tenantID, id}] = c
			}
			continue
		}
		rows, err := tx.Query(ctx, `SELECT alias_id, customer_id FROM customer_aliases
			WHERE tenant_id = $1 AND alias_id = ANY($2::text[])`, tenantID, ids)
		if err != nil {
			return fmt.Errorf("resolve aliases: %w", err)
		}
		for rows.Next() {
			var alias, customer string
			if err := rows.Scan(&alias, &customer); err != nil {
				rows.Close()
				return fmt.Errorf("resolve aliases: %w", err)
			}
			into[[2]string{tenantID, alias}] = customer
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("resolve aliases: %w", err)
		}
	}
	for _, e := range events {
		if c, ok := into[[2]string{e.TenantID, e.CustomerID}]; ok {
			e.CustomerID = c
		}
	}
	return nil
}

// aliasedColumn reads, beside an inbox event, the customer its customer
// was merged into (” when none): an event stored for an id while that id
// was being merged away (PostgreSQL, concurrent transactions) is found by
// it when routed.
const aliasedColumn = `COALESCE((SELECT a.customer_id FROM customer_aliases a
	WHERE a.tenant_id = events.tenant_id AND a.alias_id = events.customer_id), '')`

// rehome gives an inbox event stored for an alias to the customer the
// alias was merged into.
func (t *EngineTx) rehome(eventID, into string) error {
	if _, err := t.tx.Exec(t.ctx, `UPDATE events SET customer_id = $1 WHERE id = $2`, into, eventID); err != nil {
		return fmt.Errorf("move event %s to customer %s: %w", eventID, into, err)
	}
	return nil
}

// forgetEntryMembers deletes the segment entry memberships and the stored
// segment memberships of one of the tenant's customers (entry_members has no tenant column: its journeys
// tell).
func (t *EngineTx) forgetEntryMembers(tenantID, customerID string) error {
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM entry_members WHERE customer_id = $2
		AND journey_id IN (SELECT id FROM journeys WHERE tenant_id = $1)`, tenantID, customerID); err != nil {
		return fmt.Errorf("forget segment entry members of %s: %w", customerID, err)
	}
	return t.forgetSegmentMembers(tenantID, customerID)
}

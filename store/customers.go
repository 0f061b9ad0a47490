package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/kalcifer/kalcifer"
)

const customerColumns = `id, attributes, tags, created_at, updated_at, first_seen_at, last_seen_at`

func scanCustomer(r Row) (*kalcifer.Customer, error) {
	var c kalcifer.Customer
	var attrs, tags string
	var created, updated int64
	var firstSeen, lastSeen *int64
	if err := r.Scan(&c.ID, &attrs, &tags, &created, &updated, &firstSeen, &lastSeen); err != nil {
		return nil, err
	}
	c.FirstSeenAt, c.LastSeenAt = fromNullMicros(firstSeen), fromNullMicros(lastSeen)
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return nil, fmt.Errorf("decode attributes of customer %s: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of customer %s: %w", c.ID, err)
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// GetCustomer returns a customer's profile.
func (s *Store) GetCustomer(ctx context.Context, tenantID, id string) (*kalcifer.Customer, error) {
	c, err := scanCustomer(s.b.Q().QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "customer %q not found", id)
	}
	return c, nil
}

// PatchCustomerParams are a profile change's arguments.
type PatchCustomerParams struct {
	TenantID   string
	CustomerID string
	// Set sets attributes; a nil value removes the attribute.
	Set map[string]any
	// RemoveTags are removed before AddTags are added.
	AddTags, RemoveTags []string
}

// PatchCustomer sets attributes (a nil value removes the attribute), adds
// and removes tags, creating the customer when new. An id merged into
// another customer changes that customer (the profile returned is its).
func (s *Store) PatchCustomer(ctx context.Context, p PatchCustomerParams) (*kalcifer.Customer, error) {
	tenantID, set, addTags, removeTags := p.TenantID, p.Set, p.AddTags, p.RemoveTags
	var out *kalcifer.Customer
	err := s.WithEngineTx(ctx, func(t *EngineTx) error {
		id, err := t.AliasOf(tenantID, p.CustomerID)
		if err != nil {
			return err
		}
		c, err := t.lockedCustomer(tenantID, id)
		if err != nil {
			return err
		}
		applyProfile(c, set, addTags, removeTags)
		if err := t.SaveCustomer(tenantID, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// applyProfile changes c in place.
func applyProfile(c *kalcifer.Customer, set map[string]any, addTags, removeTags []string) {
	for k, v := range set {
		if v == nil {
			delete(c.Attributes, k)
		} else {
			c.Attributes[k] = v
		}
	}
	c.Tags = slices.DeleteFunc(c.Tags, func(t string) bool { return slices.Contains(removeTags, t) })
	for _, t := range addTags {
		if !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
}

// Customer returns the customer, creating an empty profile when new. The
// row is not locked: a profile read to route events and run nodes may be
// changed by others before the transaction ends (ApplyProfile re-reads it).
// The profile is the transaction's own (LoadCustomers): every read of it
// in the transaction returns the same one, with the transaction's changes.
func (t *EngineTx) Customer(tenantID, id string) (*kalcifer.Customer, error) {
	k := customerKey{tenantID, id}
	if c, ok := t.ws.customers[k]; ok {
		return c, nil
	}
	c, err := t.customer(tenantID, id, "")
	if err != nil {
		return nil, err
	}
	t.ws.customers[k] = c
	return c, nil
}

// lockedCustomer is Customer with the row locked until the transaction
// ends (where writers run concurrently), for a read-modify-write.
func (t *EngineTx) lockedCustomer(tenantID, id string) (*kalcifer.Customer, error) {
	return t.customer(tenantID, id, t.s.forUpdate())
}

func (t *EngineTx) customer(tenantID, id, lock string) (*kalcifer.Customer, error) {
	read := func() (*kalcifer.Customer, error) {
		return scanCustomer(t.tx.QueryRow(t.ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND id = $2`+lock, tenantID, id))
	}
	c, err := read()
	if err == nil {
		return c, nil
	}
	if err != ErrNoRows {
		return nil, fmt.Errorf("read customer %s: %w", id, err)
	}
	n, err := t.tx.Exec(t.ctx, `INSERT INTO customers (tenant_id, id, created_at, updated_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (tenant_id, id) DO NOTHING`, tenantID, id, micros(t.now))
	if err != nil {
		return nil, fmt.Errorf("create customer %s: %w", id, err)
	}
	if n == 0 { // created meanwhile by another transaction: read its row
		if c, err = read(); err != nil {
			return nil, fmt.Errorf("read customer %s: %w", id, err)
		}
		return c, nil
	}
	// A new, empty profile can match a segment ("not tag …").
	if err := t.NoteChanged(tenantID, "", []string{id}); err != nil {
		return nil, err
	}
	return &kalcifer.Customer{ID: id, Attributes: map[string]any{}, Tags: []string{}, CreatedAt: t.now, UpdatedAt: t.now}, nil
}

// SaveCustomer writes a customer's attributes and tags.
func (t *EngineTx) SaveCustomer(tenantID string, c *kalcifer.Customer) error {
	attrs, err := json.Marshal(c.Attributes)
	if err != nil {
		return fmt.Errorf("encode attributes: %w", err)
	}
	tags, err := json.Marshal(c.Tags)
	if err != nil {
		return fmt.Errorf("encode tags: %w", err)
	}
	c.UpdatedAt = t.now
	if cached, ok := t.ws.customers[customerKey{tenantID, c.ID}]; ok && cached != c {
		*cached = *c
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO customers (tenant_id, id, attributes, tags, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (tenant_id, id) DO UPDATE SET attributes = excluded.attributes, tags = excluded.tags, updated_at = excluded.updated_at`,
		tenantID, c.ID, string(attrs), string(tags), micros(t.now))
	if err != nil {
		return fmt.Errorf("save customer %s: %w", c.ID, err)
	}
	return t.NoteChanged(tenantID, "", []string{c.ID})
}

// SeeCustomer records that customer c was seen at a time (an event's
// timestamp): its first and last seen times widen to include it. c is the
// profile read in this transaction, and is updated too; the row is written
// with the transaction's other pending writes.
func (t *EngineTx) SeeCustomer(tenantID string, c *kalcifer.Customer, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	if c.FirstSeenAt != nil && c.LastSeenAt != nil && !at.Before(*c.FirstSeenAt) && !at.After(*c.LastSeenAt) {
		return nil
	}
	seen(c, at)
	k := customerKey{tenantID, c.ID}
	if cached, ok := t.ws.customers[k]; !ok {
		t.ws.customers[k] = c
	} else if cached != c {
		seen(cached, at)
	}
	t.ws.seen[k] = true
	return nil
}

// seen widens c's first and last seen times to include at.
func seen(c *kalcifer.Customer, at time.Time) {
	if c.FirstSeenAt == nil || at.Before(*c.FirstSeenAt) {
		c.FirstSeenAt = &at
	}
	if c.LastSeenAt == nil || at.After(*c.LastSeenAt) {
		c.LastSeenAt = &at
	}
}

// ApplyProfile applies a run's profile changes to the customer c, the
// profile the transaction reads (Customer), at once, and records them to
// be written with the transaction's other pending writes. c was read
// unlocked, so at the flush the changed profiles are read again, locked,
// in one query, and the recorded changes applied to those: an identify or
// PATCH that committed since c was read is kept, not overwritten, and the
// transaction's profile then shows it too.
func (t *EngineTx) ApplyProfile(tenantID string, c *kalcifer.Customer, set map[string]any, addTags, removeTags []string) error {
	if len(set) == 0 && len(addTags) == 0 && len(removeTags) == 0 {
		return nil
	}
	k := customerKey{tenantID, c.ID}
	cached, ok := t.ws.customers[k]
	if !ok {
		t.ws.customers[k], cached = c, c
	}
	apply := func(p *kalcifer.Customer) {
		applyProfile(p, set, addTags, removeTags)
		p.UpdatedAt = t.now
	}
	apply(cached)
	if c != cached {
		apply(c)
	}
	t.ws.profiles = append(t.ws.profiles, profileChange{k, set, addTags, removeTags})
	return nil
}

// profileChange is a run's change to a customer's profile.
type profileChange struct {
	customer           customerKey
	set                map[string]any
	addTags, removeTag []string
}

// writeProfiles reads the changed customers locked (in id order, one query
// a tenant), applies the recorded changes to them in order and writes
// them: one statement on PostgreSQL, a statement a customer on SQLite.
func (t *EngineTx) writeProfiles(changes []profileChange) error {
	if len(changes) == 0 {
		return nil
	}
	byTenant := map[string][]string{}
	for _, ch := range changes {
		if ids := byTenant[ch.customer.tenant]; !slices.Contains(ids, ch.customer.id) {
			byTenant[ch.customer.tenant] = append(ids, ch.customer.id)
		}
	}
	for tenantID, ids := range byTenant {
		slices.Sort(ids)
		arg, err := t.list(ids)
		if err != nil {
			return err
		}
		rows, err := t.raw.Query(t.ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND `+t.anyOf("id", 2)+
			` ORDER BY id`+t.s.forUpdate(), tenantID, arg)
		if err != nil {
			return fmt.Errorf("read changed customers: %w", err)
		}
		latest := map[string]*kalcifer.Customer{}
		for rows.Next() {
			c, err := scanCustomer(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("read changed customers: %w", err)
			}
			latest[c.ID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read changed customers: %w", err)
		}
		for _, id := range ids {
			if latest[id] == nil { // erased meanwhile: the change makes it again
				latest[id] = &kalcifer.Customer{ID: id, Attributes: map[string]any{}, Tags: []string{}, CreatedAt: t.now}
			}
		}
		for _, ch := range changes {
			if ch.customer.tenant == tenantID {
				applyProfile(latest[ch.customer.id], ch.set, ch.addTags, ch.removeTag)
			}
		}
		if err := t.saveCustomers(tenantID, ids, latest); err != nil {
			return err
		}
		ok, err := noteChanged(t.ctx, t.raw, t.s.d.JSON, tenantID, "", ids)
		if err != nil {
			return err
		}
		t.changed = t.changed || ok
	}
	return nil
}

// saveCustomers writes the attributes and tags of customers ids, keeping
// their first and last seen times, and makes them the transaction's view.
func (t *EngineTx) saveCustomers(tenantID string, ids []string, latest map[string]*kalcifer.Customer) error {
	attrs, tags := make([]string, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		c := latest[id]
		c.UpdatedAt = t.now
		a, err := json.Marshal(c.Attributes)
		if err != nil {
			return fmt.Errorf("encode attributes: %w", err)
		}
		g, err := json.Marshal(c.Tags)
		if err != nil {
			return fmt.Errorf("encode tags: %w", err)
		}
		attrs[i], tags[i] = string(a), string(g)
		if cached, ok := t.ws.customers[customerKey{tenantID, id}]; ok {
			// Keep the seen times this transaction widened (written by
			// writeSeen).
			c.FirstSeenAt, c.LastSeenAt = cached.FirstSeenAt, cached.LastSeenAt
			*cached = *c
		}
	}
	if !t.s.d.BindsArrays {
		for i, id := range ids {
			if _, err := t.raw.Exec(t.ctx, `INSERT INTO customers (tenant_id, id, attributes, tags, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5)
				ON CONFLICT (tenant_id, id) DO UPDATE SET attributes = excluded.attributes, tags = excluded.tags, updated_at = excluded.updated_at`,
				tenantID, id, attrs[i], tags[i], micros(t.now)); err != nil {
				return fmt.Errorf("save customer %s: %w", id, err)
			}
		}
		return nil
	}
	if _, err := t.raw.Exec(t.ctx, `INSERT INTO customers (tenant_id, id, attributes, tags, created_at, updated_at)
		SELECT $1, id, a::jsonb, tg::jsonb, $2, $2 FROM unnest($3::text[], $4::text[], $5::text[]) AS x(id, a, tg)
		ON CONFLICT (tenant_id, id) DO UPDATE SET attributes = excluded.attributes, tags = excluded.tags, updated_at = excluded.updated_at`,
		tenantID, micros(t.now), ids, attrs, tags); err != nil {
		return fmt.Errorf("save %d customers: %w", len(ids), err)
	}
	return nil
}

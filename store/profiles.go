package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

// Identity is one identify of a customer: what is known about them now.
type Identity struct {
	CustomerID string
	// Attributes are merged into the profile key by key
	// (kalcifer.MergeAttributes): nested objects merge, null removes.
	Attributes map[string]any
	// RemoveTags are removed before AddTags are added.
	AddTags, RemoveTags []string
	// Timestamp is when the customer was seen (Segment's timestamp); zero
	// means now. It widens the profile's first and last seen times.
	Timestamp time.Time
}

// IdentifyParams are IdentifyCustomer's arguments.
type IdentifyParams struct {
	TenantID string
	Identity
}

// IdentifyCustomer creates a customer's profile or merges what an identify
// says into it (Identity), and returns the profile with created true when
// it is new. An id merged into another customer changes that customer.
// The API's identifies (POST /customers, Segment's identify and group) go
// through the engine's Identify, which calls EngineTx.Identify holding the
// customer's event lane.
func (s *Store) IdentifyCustomer(ctx context.Context, p IdentifyParams) (c *kalcifer.Customer, created bool, err error) {
	var out []*kalcifer.Customer
	err = s.b.WithTx(ctx, func(tx Tx) error {
		var n int
		out, n, err = s.identify(ctx, tx, p.TenantID, []Identity{p.Identity})
		created = n == 1
		return err
	})
	if err != nil {
		return nil, false, err
	}
	s.customersChanged()
	return out[0], created, nil
}

// Identify is IdentifyCustomer inside the engine's transaction.
func (t *EngineTx) Identify(tenantID string, in Identity) (c *kalcifer.Customer, created bool, err error) {
	out, n, err := t.s.identify(t.ctx, t.tx, tenantID, []Identity{in})
	if err != nil {
		return nil, false, err
	}
	t.changed = true
	return out[0], n == 1, nil
}

// IdentifyResult counts what IdentifyCustomers did.
type IdentifyResult struct {
	// Created profiles are new; Updated ones existed (a customer named
	// twice in one batch counts once).
	Created, Updated int
}

// IdentifyCustomers is IdentifyCustomer for a batch, in one transaction:
// the bulk import writes a batch at a time. Identities of the same
// customer apply in order.
func (s *Store) IdentifyCustomers(ctx context.Context, tenantID string, batch []Identity) (IdentifyResult, error) {
	var res IdentifyResult
	err := s.b.WithTx(ctx, func(tx Tx) error {
		out, created, err := s.identify(ctx, tx, tenantID, batch)
		res = IdentifyResult{Created: created, Updated: len(out) - created}
		return err
	})
	if err == nil {
		s.customersChanged()
	}
	return res, err
}

// identify merges a batch into its profiles in tx and returns them, one per
// distinct customer, with how many were created. Existing profiles are read
// locked (FOR UPDATE where writers run concurrently), merged in Go and
// written back; new ones are inserted whole, each row written once. A new
// profile that a concurrent writer inserted first (its INSERT does
// nothing) is merged again, now as an existing one, so two identifies of
// one customer merge rather than overwrite.
func (s *Store) identify(ctx context.Context, tx Tx, tenantID string, batch []Identity) ([]*kalcifer.Customer, int, error) {
	now := s.now()
	for _, in := range batch {
		if in.CustomerID == "" {
			return nil, 0, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "a customer needs an id")
		}
	}
	batch, err := s.followAliases(ctx, tx, tenantID, batch)
	if err != nil {
		return nil, 0, err
	}
	var ids []string
	named := make(map[string]bool, len(batch))
	for _, in := range batch {
		if !named[in.CustomerID] {
			ids, named[in.CustomerID] = append(ids, in.CustomerID), true
		}
	}
	rows := max(s.d.InsertRows, 1)
	byID := make(map[string]*kalcifer.Customer, len(ids))
	for start := 0; start < len(ids); start += rows {
		if err := s.readLocked(ctx, tx, tenantID, ids[start:min(start+rows, len(ids))], byID); err != nil {
			return nil, 0, err
		}
	}
	var old, fresh []*kalcifer.Customer
	for _, id := range ids {
		if c := byID[id]; c != nil {
			old = append(old, c)
			continue
		}
		c := &kalcifer.Customer{ID: id, Attributes: map[string]any{}, Tags: []string{}, CreatedAt: now}
		byID[id], fresh = c, append(fresh, c)
	}
	for _, in := range batch {
		c := byID[in.CustomerID]
		kalcifer.MergeAttributes(c.Attributes, in.Attributes)
		applyProfile(c, nil, in.AddTags, in.RemoveTags)
		at := in.Timestamp
		if at.IsZero() {
			at = now
		}
		seen(c, at.UTC().Truncate(time.Microsecond))
		c.UpdatedAt = now
	}
	for start := 0; start < len(old); start += rows {
		if err := saveCustomers(ctx, tx, tenantID, old[start:min(start+rows, len(old))]); err != nil {
			return nil, 0, err
		}
	}
	inserted := map[string]bool{}
	for start := 0; start < len(fresh); start += rows {
		if err := insertCustomers(ctx, tx, tenantID, fresh[start:min(start+rows, len(fresh))], inserted); err != nil {
			return nil, 0, err
		}
	}
	created := len(inserted)
	if created < len(fresh) {
		// Another writer created some meanwhile: merge into theirs.
		var again []Identity
		for _, in := range batch {
			if !inserted[in.CustomerID] && !slices.ContainsFunc(old, func(c *kalcifer.Customer) bool { return c.ID == in.CustomerID }) {
				again = append(again, in)
			}
		}
		merged, _, err := s.identify(ctx, tx, tenantID, again)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range merged {
			byID[c.ID] = c
		}
	}
	out := make([]*kalcifer.Customer, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	// For segment entries (entries.go); the callers poke after commit.
	if _, err := noteChanged(ctx, tx, s.d.JSON, tenantID, "", ids); err != nil {
		return nil, 0, err
	}
	return out, created, nil
}

// followAliases returns batch with each id merged into another customer
// replaced by that customer (a copy, when any is): what is said of an alias
// is said of the customer it stands for. It costs resolveAliases' one probe
// when the tenant has no aliases.
func (s *Store) followAliases(ctx context.Context, tx Tx, tenantID string, batch []Identity) ([]Identity, error) {
	evs := make([]*kalcifer.Event, len(batch))
	for i, in := range batch {
		evs[i] = &kalcifer.Event{TenantID: tenantID, CustomerID: in.CustomerID}
	}
	if err := s.resolveAliases(ctx, tx, evs); err != nil {
		return nil, err
	}
	var out []Identity
	for i, e := range evs {
		if e.CustomerID != batch[i].CustomerID && out == nil {
			out = slices.Clone(batch)
		}
		if out != nil {
			out[i].CustomerID = e.CustomerID
		}
	}
	if out == nil {
		return batch, nil
	}
	return out, nil
}

// readLocked reads the profiles of ids that exist into byID, locking them
// where writers run concurrently.
func (s *Store) readLocked(ctx context.Context, tx Tx, tenantID string, ids []string, byID map[string]*kalcifer.Customer) error {
	args := []any{tenantID}
	r, err := tx.Query(ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND id IN (`+bind(&args, ids)+`)`+s.forUpdate(), args...)
	if err != nil {
		return fmt.Errorf("read customers: %w", err)
	}
	defer r.Close()
	for r.Next() {
		c, err := scanCustomer(r)
		if err != nil {
			return err
		}
		byID[c.ID] = c
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read customers: %w", err)
	}
	return nil
}

// customerValues writes the VALUES rows of profiles cs into q and args
// (whose $1 is the tenant).
func customerValues(q *strings.Builder, args *[]any, cs []*kalcifer.Customer) error {
	q.WriteString(`INSERT INTO customers (tenant_id, id, attributes, tags, created_at, updated_at, first_seen_at, last_seen_at) VALUES `)
	for i, c := range cs {
		attrs, err := json.Marshal(c.Attributes)
		if err != nil {
			return fmt.Errorf("encode attributes of %s: %w", c.ID, err)
		}
		tags, err := json.Marshal(c.Tags)
		if err != nil {
			return fmt.Errorf("encode tags of %s: %w", c.ID, err)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(*args)
		fmt.Fprintf(q, "($1, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		*args = append(*args, c.ID, string(attrs), string(tags), micros(c.CreatedAt), micros(c.UpdatedAt),
			nullMicros(c.FirstSeenAt), nullMicros(c.LastSeenAt))
	}
	return nil
}

// saveCustomers writes existing profiles whole with one statement.
func saveCustomers(ctx context.Context, tx Tx, tenantID string, cs []*kalcifer.Customer) error {
	var q strings.Builder
	args := []any{tenantID}
	if err := customerValues(&q, &args, cs); err != nil {
		return err
	}
	q.WriteString(` ON CONFLICT (tenant_id, id) DO UPDATE SET attributes = excluded.attributes, tags = excluded.tags,
		updated_at = excluded.updated_at, first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at`)
	if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("save customers: %w", err)
	}
	return nil
}

// insertCustomers inserts new profiles with one statement, leaving those
// another writer inserted first, and marks in inserted the ids it wrote.
func insertCustomers(ctx context.Context, tx Tx, tenantID string, cs []*kalcifer.Customer, inserted map[string]bool) error {
	var q strings.Builder
	args := []any{tenantID}
	if err := customerValues(&q, &args, cs); err != nil {
		return err
	}
	q.WriteString(` ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`)
	r, err := tx.Query(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			return fmt.Errorf("create customers: %w", err)
		}
		inserted[id] = true
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	return nil
}

// CustomerFilter chooses the customers ListCustomers returns. Its filters
// are a segment rule (Rule), compiled as segments are.
type CustomerFilter struct {
	TenantID string
	// Attributes are equalities, all of which must hold: a path of
	// attribute names joined by "." → the value as text: a string equal
	// to it, or a number or boolean of that JSON form ("3", "true").
	Attributes map[string]string
	// Tag, when set, is a tag the customer must have.
	Tag string
	// Segment, when set, is the id of a saved segment the customer must
	// be a member of.
	Segment string
	Limit   int
	Cursor  string // the last id of the previous page
}

// Rule is the segment rule the filter stands for; nil when it filters
// nothing.
func (f CustomerFilter) Rule() *segment.Rule {
	var and []segment.Rule
	for _, path := range slices.Sorted(maps.Keys(f.Attributes)) {
		and = append(and, textEquals(path, f.Attributes[path]))
	}
	if f.Tag != "" {
		and = append(and, segment.Rule{Tag: f.Tag})
	}
	if f.Segment != "" {
		and = append(and, segment.Rule{Segment: f.Segment})
	}
	if len(and) == 0 {
		return nil
	}
	return &segment.Rule{And: and}
}

// textEquals is the rule "the attribute at path is v as text": the string
// v, or the number or boolean v spells.
func textEquals(path, v string) segment.Rule {
	or := []segment.Rule{{Attribute: path, Op: segment.OpEq, Value: v}}
	if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
		or = append(or, segment.Rule{Attribute: path, Op: segment.OpEq, Value: n})
	}
	if v == "true" || v == "false" {
		or = append(or, segment.Rule{Attribute: path, Op: segment.OpEq, Value: v == "true"})
	}
	if len(or) == 1 {
		return or[0]
	}
	return segment.Rule{Or: or}
}

// ListCustomers returns a page of a tenant's customers, by id, filtered by
// f's rule in one query. A segment that does not exist is EUNPROCESSABLE.
func (s *Store) ListCustomers(ctx context.Context, f CustomerFilter) (kalcifer.Page[*kalcifer.Customer], error) {
	if f.Segment != "" {
		if _, err := s.GetSegment(ctx, f.TenantID, f.Segment); kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
			return kalcifer.Page[*kalcifer.Customer]{}, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
				Message: fmt.Sprintf("segment %q not found", f.Segment), Details: []kalcifer.Detail{{Field: "segment", Message: "no such segment"}}}
		} else if err != nil {
			return kalcifer.Page[*kalcifer.Customer]{}, err
		}
	}
	limit := kalcifer.ClampLimit(f.Limit)
	out, err := s.SegmentCustomers(ctx, SegmentMembersParams{TenantID: f.TenantID, Rule: f.Rule(), After: f.Cursor, Limit: limit + 1})
	if err != nil {
		return kalcifer.Page[*kalcifer.Customer]{}, err
	}
	return pageOf(out, limit, func(c *kalcifer.Customer) string { return c.ID }), nil
}

// CustomerEvents returns a page of a customer's stored events, newest
// first (by id, which follows arrival), routed or not.
func (s *Store) CustomerEvents(ctx context.Context, tenantID, customerID string, limit int, cursor string) (kalcifer.Page[*kalcifer.Event], error) {
	limit = kalcifer.ClampLimit(limit)
	rows, err := s.b.Q().Query(ctx, `SELECT id, COALESCE(client_id, ''), customer_id, event_type, data, occurred_at, received_at,
		COALESCE(journey_id, '') FROM events
		WHERE tenant_id = $1 AND customer_id = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`,
		tenantID, customerID, cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.Event]{}, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	out := []*kalcifer.Event{}
	for rows.Next() {
		e := &kalcifer.Event{TenantID: tenantID}
		var data string
		var occurred, received int64
		if err := rows.Scan(&e.ID, &e.ClientID, &e.CustomerID, &e.Type, &data, &occurred, &received, &e.JourneyID); err != nil {
			return kalcifer.Page[*kalcifer.Event]{}, fmt.Errorf("list events: %w", err)
		}
		e.Data, e.OccurredAt, e.ReceivedAt = json.RawMessage(data), fromMicros(occurred), fromMicros(received)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return kalcifer.Page[*kalcifer.Event]{}, fmt.Errorf("list events: %w", err)
	}
	return pageOf(out, limit, func(e *kalcifer.Event) string { return e.ID }), nil
}

// EventType is one event type a tenant received recently: how many and
// when last.
type EventType struct {
	Type     string    `json:"type"`
	Count    int64     `json:"count"`
	LastSeen time.Time `json:"last_seen_at"`
}

// RecentEventTypes lists the event types of the tenant's events that
// occurred since, the most recently seen first, at most limit of them, so
// that an editor can offer them in its event pickers. Kalcifer's own
// internal types ($trigger, $webhook) are left out.
func (s *Store) RecentEventTypes(ctx context.Context, tenantID string, since time.Time, limit int) ([]EventType, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT event_type, COUNT(*), MAX(occurred_at) FROM events
		WHERE tenant_id = $1 AND occurred_at >= $2 AND event_type NOT LIKE '$%'
		GROUP BY event_type ORDER BY MAX(occurred_at) DESC, event_type LIMIT $3`,
		tenantID, micros(since), kalcifer.ClampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	defer rows.Close()
	out := []EventType{}
	for rows.Next() {
		var t EventType
		var last int64
		if err := rows.Scan(&t.Type, &t.Count, &last); err != nil {
			return nil, fmt.Errorf("list event types: %w", err)
		}
		t.LastSeen = fromMicros(last)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return out, nil
}

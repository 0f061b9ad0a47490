package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

// Stored segment membership. Each segment keeps its members
// (segment_members) and their count (segments.members), so that a count is
// one row read and a page of members an index range:
//
//   - Changed customers (customer_changes: profile changes, new and removed
//     customers, events) are re-checked in batches against the segments that
//     can depend on the change (a profile change: every segment; an event:
//     those whose rule, referenced segments included, names its type), with
//     the compiled rule restricted to those customers (ApplyChanges).
//   - A full pass walks the tenant's customers in id order, a range per
//     transaction, and sets each range's members to the rule's answer over
//     it (SegmentPassBatch): it builds a new or edited segment, and
//     refreshes one whose rule is time-relative ("in the last 30 days")
//     every refresh interval. Bulk loads, which queue no changes, start one.
//
// Until a segment's first pass finishes (built_at is NULL) its count and
// preview answer from the live query, and say so (SegmentBuilding).

// Where a segment's count comes from (SegmentSize.Status).
const (
	SegmentReady    = "ready"    // the stored membership
	SegmentBuilding = "building" // the live query: the membership is being built
)

// DefaultSegmentRefresh is how often a segment whose rule is time-relative
// is re-evaluated by a full pass, unless told otherwise.
const DefaultSegmentRefresh = 15 * time.Minute

// anyEvent in a segment's on_events: every event type can change it (a
// segment from before membership, until its first pass).
const anyEvent = "*"

// SegmentSize is how many customers a segment holds, and how that was
// found.
type SegmentSize struct {
	Count int64
	// Status is SegmentReady (Count is the stored membership's, as of
	// BuiltAt's pass and the changes since) or SegmentBuilding (Count is
	// the live query's).
	Status string
	// BuiltAt is when the last full pass finished; nil while building.
	BuiltAt *time.Time
}

// segmentDeps is what can change who matches a rule: events of these
// types, and (when timed) the passing of time. Every rule can depend on
// profiles, and on customers being made or removed.
type segmentDeps struct {
	events []string
	timed  bool
}

// depsOf finds r's dependencies, those of the segments it refers to
// included (refs, as resolveSegmentRefs loads them).
func depsOf(r *segment.Rule, refs map[string]*segment.Rule) segmentDeps {
	var d segmentDeps
	var walk func(r *segment.Rule, depth int)
	walk = func(r *segment.Rule, depth int) {
		r.Walk("", func(_ string, c *segment.Rule) {
			switch {
			case c.Op == segment.OpWithinLast || c.Op == segment.OpWithinNext:
				d.timed = true
			case c.Performed != nil:
				if !slices.Contains(d.events, c.Performed.Event) {
					d.events = append(d.events, c.Performed.Event)
				}
				d.timed = d.timed || c.Performed.Within != ""
			case c.Segment != "":
				if ref, ok := refs[c.Segment]; ok && depth < maxSegmentRefDepth {
					walk(ref, depth+1)
				}
			}
		})
	}
	walk(r, 0)
	slices.Sort(d.events)
	return d
}

// onEvents is the on_events column of a segment with these dependencies.
func (d segmentDeps) onEvents() string {
	raw, _ := json.Marshal(append([]string{}, d.events...)) // strings always encode
	return string(raw)
}

// dependsOn reports whether an event of the type can change who matches.
func (d segmentDeps) dependsOn(eventType string) bool {
	return slices.Contains(d.events, eventType) || slices.Contains(d.events, anyEvent)
}

// rebuildSegments starts a full pass of segment id of the tenant, and of
// every segment that refers to it (transitively), after its rule changed:
// their stored members are rebuilt, and until then they count live.
func rebuildSegments(ctx context.Context, q Querier, tenantID, id string) error {
	rules, err := tenantRules(ctx, q, tenantID)
	if err != nil {
		return err
	}
	for other, r := range rules {
		if other != id && !reaches(rules, other, id, 0) {
			continue
		}
		if _, err := q.Exec(ctx, `UPDATE segments SET built_at = NULL, pass_cursor = '', refresh_at = NULL, on_events = $1
			WHERE tenant_id = $2 AND id = $3`, depsOf(r, rules).onEvents(), tenantID, other); err != nil {
			return fmt.Errorf("rebuild segment %s: %w", other, err)
		}
	}
	return nil
}

// refreshAllSegments starts a full pass of every segment of the tenant
// (restarting one that runs): customers or events were loaded in bulk,
// which queues no changes. Their counts stay those of the stored members.
func refreshAllSegments(ctx context.Context, q Querier, tenantID string) error {
	if _, err := q.Exec(ctx, `UPDATE segments SET pass_cursor = '' WHERE tenant_id = $1`, tenantID); err != nil {
		return fmt.Errorf("refresh segments: %w", err)
	}
	return nil
}

// tenantRules reads the rules of all the tenant's segments, by id: enough
// to compile any of them.
func tenantRules(ctx context.Context, q Querier, tenantID string) (map[string]*segment.Rule, error) {
	rows, err := q.Query(ctx, `SELECT id, rule FROM segments WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	defer rows.Close()
	out := map[string]*segment.Rule{}
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("read segments: %w", err)
		}
		var r segment.Rule
		if err := jsonUnmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("decode segment %s: %w", id, err)
		}
		out[id] = &r
	}
	return out, rows.Err()
}

// SegmentSize counts one of the tenant's segments: its stored members once
// built, the live query (one full evaluation) while it is being built.
func (s *Store) SegmentSize(ctx context.Context, tenantID, id string) (*SegmentSize, error) {
	sg, size, err := segmentSize(ctx, s.b.Q(), tenantID, id)
	if err != nil || size.Status == SegmentReady {
		return size, err
	}
	if size.Count, err = s.CountSegment(ctx, tenantID, &sg.Rule); err != nil {
		return nil, err
	}
	return size, nil
}

// segmentSize reads a segment and its stored size; Count is only set when
// it is built.
func segmentSize(ctx context.Context, q Querier, tenantID, id string) (*segment.Segment, *SegmentSize, error) {
	var built *int64
	size := &SegmentSize{Status: SegmentBuilding}
	sg, err := scanSegment(q.QueryRow(ctx, `SELECT `+segmentColumns+`, members, built_at FROM segments WHERE tenant_id = $1 AND id = $2`,
		tenantID, id), &size.Count, &built)
	if err != nil {
		return nil, nil, notFound(err, "segment %q not found", id)
	}
	if size.BuiltAt = fromNullMicros(built); size.BuiltAt != nil {
		size.Status = SegmentReady
	} else {
		size.Count = 0
	}
	return sg, size, nil
}

// SegmentPreview returns the first limit (1 to MaxSegmentPage) members of
// one of the tenant's segments, whole profiles in id order: from the
// stored members once built, from the live query while building.
func (s *Store) SegmentPreview(ctx context.Context, tenantID, id string, limit int) ([]*kalcifer.Customer, *SegmentSize, error) {
	sg, size, err := segmentSize(ctx, s.b.Q(), tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	if size.Status != SegmentReady {
		out, err := s.SegmentCustomers(ctx, SegmentMembersParams{TenantID: tenantID, Rule: &sg.Rule, Limit: limit})
		return out, size, err
	}
	if limit < 1 || limit > MaxSegmentPage {
		return nil, nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "a page of segment members holds 1 to %d customers, not %d", MaxSegmentPage, limit)
	}
	rows, err := s.b.Q().Query(ctx, `SELECT c.`+strings.ReplaceAll(customerColumns, ", ", ", c.")+`
		FROM segment_members m JOIN customers c ON c.tenant_id = $1 AND c.id = m.customer_id
		WHERE m.segment_id = $2 ORDER BY m.customer_id LIMIT $3`, tenantID, id, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("segment preview: %w", err)
	}
	defer rows.Close()
	out := []*kalcifer.Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("segment preview: %w", err)
		}
		out = append(out, c)
	}
	return out, size, rows.Err()
}

// SegmentSize is Store.SegmentSize's stored part inside the transaction:
// the segment's stored count, or Status SegmentBuilding (and no count).
func (t *EngineTx) SegmentSize(tenantID, id string) (*SegmentSize, error) {
	_, size, err := segmentSize(t.ctx, t.tx, tenantID, id)
	return size, err
}

// StoredMembers returns a page of a segment's stored members in id order,
// after after, at most limit: what a built segment's entries walk.
func (t *EngineTx) StoredMembers(segmentID, after string, limit int) ([]string, error) {
	return t.ids(`SELECT customer_id FROM segment_members WHERE segment_id = $1 AND customer_id > $2
		ORDER BY customer_id LIMIT $3`, segmentID, after, limit)
}

// StoredMembersAmong returns which of ids are stored members of a segment.
func (t *EngineTx) StoredMembersAmong(segmentID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	d := t.s.d.JSON
	return t.ids(`SELECT customer_id FROM segment_members WHERE segment_id = $1 AND `+fmt.Sprintf(d.InList, "customer_id", "$2")+
		` ORDER BY customer_id`, segmentID, d.bindList(ids))
}

// ApplyChanges claims up to limit of the oldest customer changes (deleted
// as the transaction commits; concurrent claimers take different ones)
// and brings the stored members of their tenants' segments up to date for
// them: per segment, the changed customers whose change it can depend on
// are re-checked by one query.
func (t *EngineTx) ApplyChanges(limit int) ([]CustomerChange, error) {
	changes, err := t.claimChanges(limit)
	if err != nil || len(changes) == 0 {
		return changes, err
	}
	var tenants []string
	byTenant := map[string][]CustomerChange{}
	for _, c := range changes {
		if _, ok := byTenant[c.TenantID]; !ok {
			tenants = append(tenants, c.TenantID)
		}
		byTenant[c.TenantID] = append(byTenant[c.TenantID], c)
	}
	slices.Sort(tenants)
	for _, tenant := range tenants {
		rules, err := tenantRules(t.ctx, t.tx, tenant)
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(rules))
		for id := range rules {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			deps := depsOf(rules[id], rules)
			var who []string
			for _, c := range byTenant[tenant] {
				if (c.EventType == "" || deps.dependsOn(c.EventType)) && !slices.Contains(who, c.CustomerID) {
					who = append(who, c.CustomerID)
				}
			}
			if err := t.recheck(tenant, id, rules, who); err != nil {
				return nil, err
			}
		}
	}
	return changes, nil
}

// recheck sets whether each of the customers ids (of the tenant) is a
// member of segment id, by one query of its rule over them; customers who
// no longer exist stop being members.
func (t *EngineTx) recheck(tenantID, id string, rules map[string]*segment.Rule, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	d := t.s.d.JSON
	sq := newSegmentQuery(d, tenantID, t.now, rules)
	sq.perCustomer = true
	pred, err := sq.pred(rules[id], "c.attributes", nil)
	if err != nil {
		return fmt.Errorf("segment %s: %w", id, err)
	}
	among := sq.arg(d.bindList(ids))
	match, err := t.ids(`SELECT c.id FROM customers c WHERE c.tenant_id = $1 AND `+fmt.Sprintf(d.InList, "c.id", among)+
		` AND `+pred, sq.args...)
	if err != nil {
		return fmt.Errorf("recheck segment %s: %w", id, err)
	}
	return t.setMembers(tenantID, id, fmt.Sprintf(d.InList, "customer_id", "$2"), []any{d.bindList(ids)}, match)
}

// setMembers makes match the members of segment id among the customers
// that the condition scope (over customer_id, with $2… bound to args)
// selects, and moves the segment's count by the difference.
func (t *EngineTx) setMembers(tenantID, id, scope string, args []any, match []string) error {
	d := t.s.d.JSON
	keep := fmt.Sprintf("$%d", len(args)+2)
	removed, err := t.tx.Exec(t.ctx, `DELETE FROM segment_members WHERE segment_id = $1 AND `+scope+
		` AND NOT `+fmt.Sprintf(d.InList, "customer_id", keep), append(append([]any{id}, args...), d.bindList(match))...)
	if err != nil {
		return fmt.Errorf("remove members of segment %s: %w", id, err)
	}
	var added int64
	if len(match) > 0 {
		if added, err = t.tx.Exec(t.ctx, `INSERT INTO segment_members (segment_id, customer_id)
			SELECT $1, c.id FROM customers c WHERE c.tenant_id = $2 AND `+fmt.Sprintf(d.InList, "c.id", "$3")+`
			ON CONFLICT (segment_id, customer_id) DO NOTHING`, id, tenantID, d.bindList(match)); err != nil {
			return fmt.Errorf("add members of segment %s: %w", id, err)
		}
	}
	if added == removed {
		return nil
	}
	if _, err := t.tx.Exec(t.ctx, `UPDATE segments SET members = members + $1 WHERE id = $2`, added-removed, id); err != nil {
		return fmt.Errorf("count members of segment %s: %w", id, err)
	}
	return nil
}

// forgetSegmentMembers removes one of the tenant's customers (erased, or
// merged into another) from every segment's stored members.
func (t *EngineTx) forgetSegmentMembers(tenantID, customerID string) error {
	if _, err := t.tx.Exec(t.ctx, `UPDATE segments SET members = members - 1 WHERE tenant_id = $1
		AND id IN (SELECT segment_id FROM segment_members WHERE customer_id = $2)`, tenantID, customerID); err != nil {
		return fmt.Errorf("forget segment members of %s: %w", customerID, err)
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM segment_members WHERE customer_id = $2
		AND segment_id IN (SELECT id FROM segments WHERE tenant_id = $1)`, tenantID, customerID); err != nil {
		return fmt.Errorf("forget segment members of %s: %w", customerID, err)
	}
	return nil
}

// SegmentPassBatch runs one batch of a segment's full pass, if any is due:
// a segment being built, or one whose refresh is due (its pass starts).
// The batch is the next limit customers of the tenant after the pass's
// cursor; their members are set to the rule's answer over that range. A
// pass that ends records the time, and schedules the next one every
// refresh when the rule is time-relative. It returns limit for a batch
// with more customers after it, 1 for a pass's last batch and 0 when no
// pass was due; a segment another transaction holds is skipped.
func (t *EngineTx) SegmentPassBatch(limit int, refresh time.Duration) (int, error) {
	var id, tenantID string
	var cursor *string
	err := t.tx.QueryRow(t.ctx, `SELECT id, tenant_id, pass_cursor FROM segments
		WHERE pass_cursor IS NOT NULL OR refresh_at <= $1 ORDER BY id LIMIT 1`+t.s.skipLocked(), micros(t.now)).Scan(&id, &tenantID, &cursor)
	if err == ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find a segment pass: %w", err)
	}
	after := ""
	if cursor != nil {
		after = *cursor
	}
	rules, err := tenantRules(t.ctx, t.tx, tenantID)
	if err != nil {
		return 0, err
	}
	var upTo string
	err = t.tx.QueryRow(t.ctx, `SELECT id FROM customers WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 1 OFFSET $3`,
		tenantID, after, limit-1).Scan(&upTo)
	if err != nil && err != ErrNoRows {
		return 0, fmt.Errorf("segment %s pass: %w", id, err)
	}
	d := t.s.d.JSON
	sq := newSegmentQuery(d, tenantID, t.now, rules)
	sq.perCustomer = true // a range of customers: each reads its own events
	pred, err := sq.pred(rules[id], "c.attributes", nil)
	if err != nil {
		return 0, fmt.Errorf("segment %s: %w", id, err)
	}
	rng, scope, args := "c.id > "+sq.arg(after), "customer_id > $2", []any{after}
	if upTo != "" {
		rng += " AND c.id <= " + sq.arg(upTo)
		scope, args = scope+" AND customer_id <= $3", append(args, upTo)
	}
	match, err := t.ids(`SELECT c.id FROM customers c WHERE c.tenant_id = $1 AND `+rng+` AND `+pred, sq.args...)
	if err != nil {
		return 0, fmt.Errorf("segment %s pass: %w", id, err)
	}
	if err := t.setMembers(tenantID, id, scope, args, match); err != nil {
		return 0, err
	}
	if upTo != "" {
		_, err = t.tx.Exec(t.ctx, `UPDATE segments SET pass_cursor = $1 WHERE id = $2`, upTo, id)
	} else {
		deps := depsOf(rules[id], rules)
		var next *time.Time
		if deps.timed {
			next = new(t.now.Add(refresh))
		}
		_, err = t.tx.Exec(t.ctx, `UPDATE segments SET pass_cursor = NULL, built_at = $1, refresh_at = $2, on_events = $3 WHERE id = $4`,
			micros(t.now), nullMicros(next), deps.onEvents(), id)
	}
	if err != nil {
		return 0, fmt.Errorf("segment %s pass: %w", id, err)
	}
	if upTo == "" {
		return 1, nil
	}
	return limit, nil
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

// JSONDialect is how a database reads JSON columns, for segment queries:
// SQLite through json_type and json_extract over a path such as
// '$."address"."city"', PostgreSQL through jsonb operators over a text[]
// path. Each expression format takes %[1]s, the JSON column, and %[2]s,
// the placeholder of a path bound as bindPath makes it.
type JSONDialect struct {
	// Arrays reports that paths and lists of ids are bound as arrays of
	// text; otherwise a path is bound as a JSON path, '$."a"."b"', and a
	// list as a JSON array.
	Arrays bool
	// Text, Number, Bool and Date read the value at a path as SQL text, a
	// number, a boolean (compared with a bound Go bool) and Unix seconds;
	// each is NULL where the path is absent or holds another JSON type (for
	// Date: a string that is no ISO 8601 date).
	Text, Number, Bool, Date string
	// Exists is true where the path holds any value, JSON null included.
	Exists string
	// Contains, where not empty, is true when the JSON column %[1]s
	// contains the JSON document bound at %[2]s (PostgreSQL's @>, which
	// its GIN indexes answer); equality and tags then use it.
	Contains string
	// HasTag is true when the JSON array %[1]s holds the string bound at
	// %[2]s; used where Contains is empty.
	HasTag string
	// Strpos is the 1-based position of the text %[2]s in the text %[1]s,
	// 0 when it is not there.
	Strpos string
	// InList is true when %[1]s is one of the strings bound at %[2]s as
	// bindList makes them.
	InList string
	// CustomerEvents is the FROM item, aliased e, of a per-customer read of
	// events (a "performed" clause checked for given customers): it must
	// read through events_customer, one customer's rows.
	CustomerEvents string
}

// bindPath is the value bound for an attribute path's keys. A key holds no
// quote (segment.Rule refuses them), so the JSON path needs no escaping.
func (d JSONDialect) bindPath(keys []string) any {
	if d.Arrays {
		return keys
	}
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		b.WriteString(`."` + k + `"`)
	}
	return b.String()
}

// bindList is the value bound for a list of strings.
func (d JSONDialect) bindList(values []string) any {
	if values == nil {
		values = []string{} // an empty list, never NULL
	}
	if d.Arrays {
		return values
	}
	b, _ := json.Marshal(values) // strings always encode
	return string(b)
}

// Limits of a compiled segment query, after referenced segments are
// inlined: references may nest, and a segment referenced twice is
// compiled twice.
const (
	maxSegmentRefDepth = 8
	maxCompiledClauses = 1000
	// maxContainsIn is the longest in compiled to containment tests.
	maxContainsIn       = 32
	segmentRefCycleHint = "a segment cannot contain itself, directly or through others"
)

// segmentQuery compiles a rule into a WHERE predicate over customers c,
// with its arguments. $1 is always the tenant.
type segmentQuery struct {
	d    JSONDialect
	args []any
	now  time.Time
	// perCustomer compiles performed clauses as a count per customer row
	// (for a few given customers) rather than as the set of customers with
	// enough events (for a whole segment).
	perCustomer bool
	// refs are the rules of the segments the rule refers to, by id,
	// transitively (resolveSegmentRefs).
	refs    map[string]*segment.Rule
	clauses int
}

func newSegmentQuery(d JSONDialect, tenantID string, now time.Time, refs map[string]*segment.Rule) *segmentQuery {
	return &segmentQuery{d: d, args: []any{tenantID}, now: now, refs: refs}
}

// arg binds v and returns its placeholder.
func (q *segmentQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

// pred compiles r over the JSON column col (c.attributes for profiles, e.data
// inside a performed's filter). Every clause compiles to a predicate that
// is never NULL, so that not means "does not match".
func (q *segmentQuery) pred(r *segment.Rule, col string, within []string) (string, error) {
	q.clauses++
	if q.clauses > maxCompiledClauses {
		return "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE,
			"the rule has more than %d clauses once the segments it refers to are included", maxCompiledClauses)
	}
	switch r.Kind() {
	case segment.KindAnd, segment.KindOr:
		word, list := " AND ", r.And
		if r.Kind() == segment.KindOr {
			word, list = " OR ", r.Or
		}
		parts := make([]string, len(list))
		for i := range list {
			p, err := q.pred(&list[i], col, within)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return "(" + strings.Join(parts, word) + ")", nil
	case segment.KindNot:
		p, err := q.pred(r.Not, col, within)
		return "(NOT " + p + ")", err
	case segment.KindCompare:
		return q.compare(r, col), nil
	case segment.KindTag:
		// Neither is ever NULL, and containment stays bare so that an
		// index can answer it.
		if q.d.Contains != "" {
			doc, _ := json.Marshal([]string{r.Tag})
			return fmt.Sprintf(q.d.Contains, "c.tags", q.arg(string(doc))), nil
		}
		return fmt.Sprintf(q.d.HasTag, "c.tags", q.arg(r.Tag)), nil
	case segment.KindPerformed:
		return q.performed(r.Performed, within)
	case segment.KindSegment:
		for _, id := range within {
			if id == r.Segment {
				return "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "segment %q refers to itself through %s: %s",
					r.Segment, strings.Join(within, " → "), segmentRefCycleHint)
			}
		}
		if len(within) >= maxSegmentRefDepth {
			return "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "segments refer to segments more than %d deep (%s)",
				maxSegmentRefDepth, strings.Join(within, " → "))
		}
		ref, ok := q.refs[r.Segment]
		if !ok {
			return "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "segment %q not found", r.Segment)
		}
		return q.pred(ref, "c.attributes", append(within[:len(within):len(within)], r.Segment))
	}
	return "", kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "the segment rule is invalid: %s", r.String())
}

// epoch is t in Unix seconds, as JSONDialect.Date reads dates.
func epoch(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// compare compiles an attribute comparison of a valid rule, never NULL:
// containment and existence never are, and are left bare so that an index
// can answer them; a typed comparison is NULL where the value is absent or
// of another type, and is read as false.
func (q *segmentQuery) compare(r *segment.Rule, col string) string {
	p, bare := q.comparison(r, col)
	if bare {
		return p
	}
	return "COALESCE(" + p + ", FALSE)"
}

// comparison compiles an attribute comparison; bare reports that it is
// never NULL.
func (q *segmentQuery) comparison(r *segment.Rule, col string) (p string, bare bool) {
	keys := strings.Split(r.Attribute, ".")
	if q.d.Contains != "" {
		// Where containment is indexed, equality is containment, and so is
		// a short in: one indexed test per value, or'ed.
		contains := func(v any) string {
			for i := len(keys) - 1; i >= 0; i-- {
				v = map[string]any{keys[i]: v}
			}
			raw, _ := json.Marshal(v) // strings, float64s and bools
			return fmt.Sprintf(q.d.Contains, col, q.arg(string(raw)))
		}
		switch list, _ := r.Value.([]any); {
		case r.Op == segment.OpEq:
			return contains(r.Value), true
		case r.Op == segment.OpIn && len(list) <= maxContainsIn:
			parts := make([]string, len(list))
			for i, v := range list {
				parts[i] = contains(v)
			}
			return "(" + strings.Join(parts, " OR ") + ")", true
		}
	}
	path := q.arg(q.d.bindPath(keys))
	var expr string
	switch r.ValueType() {
	case segment.TypeNone:
		exists := fmt.Sprintf(q.d.Exists, col, path)
		if r.Op == segment.OpNotExists {
			return "NOT " + exists, true
		}
		return exists, true
	case segment.TypeString:
		expr = fmt.Sprintf(q.d.Text, col, path)
	case segment.TypeNumber:
		expr = fmt.Sprintf(q.d.Number, col, path)
	case segment.TypeBool:
		expr = fmt.Sprintf(q.d.Bool, col, path)
	case segment.TypeDate:
		expr = fmt.Sprintf(q.d.Date, col, path)
	}
	switch r.Op {
	case segment.OpEq:
		return expr + " = " + q.arg(r.Value), false
	case segment.OpNeq:
		return expr + " <> " + q.arg(r.Value), false
	case segment.OpContains:
		return fmt.Sprintf(q.d.Strpos, expr, q.arg(r.Value)) + " > 0", false
	case segment.OpStartsWith:
		s := r.Value.(string)
		return fmt.Sprintf("substr(%s, 1, %s) = %s", expr, q.arg(utf8.RuneCountInString(s)), q.arg(s)), false
	case segment.OpIn:
		list := r.Value.([]any)
		ph := make([]string, len(list))
		for i, v := range list {
			ph[i] = q.arg(v)
		}
		return expr + " IN (" + strings.Join(ph, ", ") + ")", false
	case segment.OpLt:
		return expr + " < " + q.arg(r.Value), false
	case segment.OpLte:
		return expr + " <= " + q.arg(r.Value), false
	case segment.OpGt:
		return expr + " > " + q.arg(r.Value), false
	case segment.OpGte:
		return expr + " >= " + q.arg(r.Value), false
	case segment.OpBetween:
		list := r.Value.([]any)
		return expr + " BETWEEN " + q.arg(list[0]) + " AND " + q.arg(list[1]), false
	case segment.OpBefore, segment.OpAfter:
		t, _ := segment.ParseDate(r.Value.(string)) // valid
		if r.Op == segment.OpBefore {
			return expr + " < " + q.arg(epoch(t)), false
		}
		return expr + " > " + q.arg(epoch(t)), false
	case segment.OpWithinLast, segment.OpWithinNext:
		d, _ := segment.ParseWindow(r.Value.(string)) // valid
		from, to := q.now.Add(-d), q.now
		if r.Op == segment.OpWithinNext {
			from, to = q.now, q.now.Add(d)
		}
		return expr + " BETWEEN " + q.arg(epoch(from)) + " AND " + q.arg(epoch(to)), false
	}
	panic("store: compare of an unvalidated rule: " + r.String())
}

// performed compiles "performed X at least N times in the last D": for a
// whole segment, the set of customers with enough events (one pass over
// the events of that type, on events_type_time); per customer, a count of
// that customer's events stopped at N (events_customer).
func (q *segmentQuery) performed(p *segment.Performed, within []string) (string, error) {
	n := max(p.AtLeast, 1)
	var where strings.Builder
	fmt.Fprintf(&where, "e.event_type = %s", q.arg(p.Event))
	if p.Within != "" {
		d, _ := segment.ParseWindow(p.Within) // valid
		fmt.Fprintf(&where, " AND e.occurred_at >= %s", q.arg(micros(q.now.Add(-d))))
	}
	if p.Where != nil {
		f, err := q.pred(p.Where, "e.data", within)
		if err != nil {
			return "", err
		}
		where.WriteString(" AND " + f)
	}
	if q.perCustomer {
		if n == 1 {
			return "EXISTS (SELECT 1 FROM " + q.d.CustomerEvents + " WHERE e.tenant_id = c.tenant_id AND e.customer_id = c.id AND " + where.String() + ")", nil
		}
		ph := q.arg(n)
		return fmt.Sprintf("(SELECT COUNT(*) FROM (SELECT 1 FROM %s WHERE e.tenant_id = c.tenant_id AND e.customer_id = c.id AND %s LIMIT %s) AS n) >= %s",
			q.d.CustomerEvents, where.String(), ph, ph), nil
	}
	if n == 1 {
		return "c.id IN (SELECT e.customer_id FROM events e WHERE e.tenant_id = $1 AND " + where.String() + ")", nil
	}
	return fmt.Sprintf("c.id IN (SELECT e.customer_id FROM events e WHERE e.tenant_id = $1 AND %s GROUP BY e.customer_id HAVING COUNT(*) >= %s)",
		where.String(), q.arg(n)), nil
}

// resolveSegmentRefs loads the rules of the segments r refers to,
// transitively, by id. A reference to a segment that does not exist is an
// EUNPROCESSABLE error naming the clause, under root; cycles are found by
// the compiler (and refused on every write).
func resolveSegmentRefs(ctx context.Context, q Querier, tenantID string, r *segment.Rule, root string) (map[string]*segment.Rule, error) {
	refs := map[string]*segment.Rule{}
	var problems []kalcifer.Detail
	var load func(r *segment.Rule, path string, depth int) error
	load = func(r *segment.Rule, path string, depth int) error {
		var err error
		r.Walk(path, func(p string, c *segment.Rule) {
			if err != nil || c.Segment == "" {
				return
			}
			if _, ok := refs[c.Segment]; ok {
				return
			}
			if depth >= maxSegmentRefDepth {
				err = kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "segments refer to segments more than %d deep", maxSegmentRefDepth)
				return
			}
			var raw string
			e := q.QueryRow(ctx, `SELECT rule FROM segments WHERE tenant_id = $1 AND id = $2`, tenantID, c.Segment).Scan(&raw)
			if e == ErrNoRows {
				if depth == 0 {
					problems = append(problems, kalcifer.Detail{Field: p + ".segment", Message: fmt.Sprintf("segment %q not found", c.Segment)})
				} else {
					err = kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "segment %q, referred to by another, no longer exists", c.Segment)
				}
				return
			}
			if e != nil {
				err = fmt.Errorf("read segment %s: %w", c.Segment, e)
				return
			}
			var ref segment.Rule
			if e := jsonUnmarshal(raw, &ref); e != nil {
				err = fmt.Errorf("decode segment %s: %w", c.Segment, e)
				return
			}
			refs[c.Segment] = &ref
			err = load(&ref, "segment "+c.Segment, depth+1)
		})
		return err
	}
	if err := load(r, root, 0); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
			Message: "the segment rule is invalid: " + problems[0].Field + ": " + problems[0].Message, Details: problems}
	}
	return refs, nil
}

// compileSegment resolves r's references and compiles it for the tenant.
func compileSegment(ctx context.Context, q Querier, d JSONDialect, tenantID string, r *segment.Rule, now time.Time, perCustomer bool) (*segmentQuery, string, error) {
	if err := r.Validate("rule"); err != nil {
		return nil, "", err
	}
	refs, err := resolveSegmentRefs(ctx, q, tenantID, r, "rule")
	if err != nil {
		return nil, "", err
	}
	sq := newSegmentQuery(d, tenantID, now, refs)
	sq.perCustomer = perCustomer
	pred, err := sq.pred(r, "c.attributes", nil)
	return sq, pred, err
}

// CountSegment counts the tenant's customers who match r now, in one query.
func (s *Store) CountSegment(ctx context.Context, tenantID string, r *segment.Rule) (int64, error) {
	sq, pred, err := compileSegment(ctx, s.b.Q(), s.d.JSON, tenantID, r, s.now(), false)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.b.Q().QueryRow(ctx, `SELECT COUNT(*) FROM customers c WHERE c.tenant_id = $1 AND `+pred, sq.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// SegmentMembersParams select a page of a rule's members: customers in id
// order after After (empty: from the first), at most Limit (1 to 10,000).
type SegmentMembersParams struct {
	TenantID string
	Rule     *segment.Rule
	After    string
	Limit    int
}

// MaxSegmentPage bounds one page of SegmentMembers and SegmentCustomers.
const MaxSegmentPage = 10_000

// SegmentMembers returns the ids of one page of the customers who match
// p.Rule now, in id order: page through a segment by passing the last id
// as the next After. One query per page.
func (s *Store) SegmentMembers(ctx context.Context, p SegmentMembersParams) ([]string, error) {
	ids := []string{}
	err := s.segmentPage(ctx, p, "c.id", func(r Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}

// SegmentCustomers is SegmentMembers returning whole profiles; a nil
// p.Rule pages through every customer of the tenant.
func (s *Store) SegmentCustomers(ctx context.Context, p SegmentMembersParams) ([]*kalcifer.Customer, error) {
	out := []*kalcifer.Customer{}
	err := s.segmentPage(ctx, p, "c."+strings.ReplaceAll(customerColumns, ", ", ", c."), func(r Rows) error {
		c, err := scanCustomer(r)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (s *Store) segmentPage(ctx context.Context, p SegmentMembersParams, columns string, scan func(Rows) error) error {
	if p.Limit < 1 || p.Limit > MaxSegmentPage {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "a page of segment members holds 1 to %d customers, not %d", MaxSegmentPage, p.Limit)
	}
	sq, pred := newSegmentQuery(s.d.JSON, p.TenantID, s.now(), nil), "TRUE"
	if p.Rule != nil {
		var err error
		if sq, pred, err = compileSegment(ctx, s.b.Q(), s.d.JSON, p.TenantID, p.Rule, s.now(), false); err != nil {
			return err
		}
	}
	after, limit := sq.arg(p.After), sq.arg(p.Limit)
	rows, err := s.b.Q().Query(ctx, `SELECT `+columns+` FROM customers c WHERE c.tenant_id = $1 AND c.id > `+after+` AND `+pred+
		` ORDER BY c.id LIMIT `+limit, sq.args...)
	if err != nil {
		return fmt.Errorf("segment members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("segment members: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("segment members: %w", err)
	}
	return nil
}

// SegmentMatches returns which of customerIDs match r now (those that
// exist and match), in one query that reads only those customers and
// their events: "does customer X match segment S?" after a change.
func (s *Store) SegmentMatches(ctx context.Context, tenantID string, r *segment.Rule, customerIDs []string) ([]string, error) {
	return segmentMatches(ctx, s.b.Q(), s.d.JSON, tenantID, r, customerIDs, s.now())
}

// SegmentMatches is Store.SegmentMatches inside the engine's transaction,
// at its time.
func (t *EngineTx) SegmentMatches(tenantID string, r *segment.Rule, customerIDs []string) ([]string, error) {
	return segmentMatches(t.ctx, t.tx, t.s.d.JSON, tenantID, r, customerIDs, t.now)
}

func segmentMatches(ctx context.Context, q Querier, d JSONDialect, tenantID string, r *segment.Rule, customerIDs []string, now time.Time) ([]string, error) {
	out := []string{}
	if len(customerIDs) == 0 {
		return out, nil
	}
	sq, pred, err := compileSegment(ctx, q, d, tenantID, r, now, true)
	if err != nil {
		return nil, err
	}
	ids := sq.arg(d.bindList(customerIDs))
	rows, err := q.Query(ctx, `SELECT c.id FROM customers c WHERE c.tenant_id = $1 AND `+fmt.Sprintf(d.InList, "c.id", ids)+` AND `+pred+
		` ORDER BY c.id`, sq.args...)
	if err != nil {
		return nil, fmt.Errorf("segment matches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("segment matches: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

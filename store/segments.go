package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

// Bounds of a segment's name and description, in characters.
const (
	MaxSegmentNameLen        = 200
	MaxSegmentDescriptionLen = 2000
)

const segmentColumns = `id, tenant_id, name, description, rule, created_at, updated_at`

// checkSegment refuses a bad name or description, and a name that could be
// taken for a segment id.
func checkSegment(name, description string) error {
	var field, msg string
	switch {
	case strings.TrimSpace(name) == "":
		field, msg = "name", "must not be empty"
	case utf8.RuneCountInString(name) > MaxSegmentNameLen:
		field, msg = "name", fmt.Sprintf("must be at most %d characters", MaxSegmentNameLen)
	case strings.HasPrefix(name, "seg_"):
		field, msg = "name", `must not start with "seg_", which segment ids start with`
	case utf8.RuneCountInString(description) > MaxSegmentDescriptionLen:
		field, msg = "description", fmt.Sprintf("must be at most %d characters", MaxSegmentDescriptionLen)
	default:
		return nil
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "segment " + field + " " + msg,
		Details: []kalcifer.Detail{{Field: field, Message: msg}}}
}

// checkSegmentRule validates r for segment id (empty when new) of the
// tenant: every segment it refers to exists, and none refers back to id.
func checkSegmentRule(ctx context.Context, q Querier, tenantID, id string, r *segment.Rule) error {
	if err := r.Validate("rule"); err != nil {
		return err
	}
	refs, err := resolveSegmentRefs(ctx, q, tenantID, r, "rule")
	if err != nil {
		return err
	}
	if _, ok := refs[id]; ok {
		var path string
		r.Walk("rule", func(p string, c *segment.Rule) {
			if c.Segment != "" && path == "" && reaches(refs, c.Segment, id, 0) {
				path = p + ".segment"
			}
		})
		msg := fmt.Sprintf("segment %q is, or contains, this segment: %s", refSegmentAt(r, path), segmentRefCycleHint)
		return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "the segment rule is invalid: " + path + ": " + msg,
			Details: []kalcifer.Detail{{Field: path, Message: msg}}}
	}
	// Compiling finds what resolving cannot: cycles among the others, and
	// a rule too large once they are inlined.
	_, err = newSegmentQueryFor(tenantID, refs).pred(r, "c.attributes", nil)
	return err
}

// newSegmentQueryFor is a query only compiled to be checked.
func newSegmentQueryFor(tenantID string, refs map[string]*segment.Rule) *segmentQuery {
	return newSegmentQuery(JSONDialect{}, tenantID, fromMicros(0), refs)
}

// reaches reports whether segment from is, or refers (transitively) to, to.
func reaches(refs map[string]*segment.Rule, from, to string, depth int) bool {
	if from == to {
		return true
	}
	r, ok := refs[from]
	if !ok || depth > maxSegmentRefDepth {
		return false
	}
	for _, next := range r.References() {
		if reaches(refs, next, to, depth+1) {
			return true
		}
	}
	return false
}

func refSegmentAt(r *segment.Rule, path string) string {
	var id string
	r.Walk("rule", func(p string, c *segment.Rule) {
		if p+".segment" == path {
			id = c.Segment
		}
	})
	return id
}

// scanSegment reads a row of segmentColumns, and into extra the columns
// selected after them.
func scanSegment(r Row, extra ...any) (*segment.Segment, error) {
	var sg segment.Segment
	var rule string
	var created, updated int64
	if err := r.Scan(append([]any{&sg.ID, &sg.TenantID, &sg.Name, &sg.Description, &rule, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(rule, &sg.Rule); err != nil {
		return nil, fmt.Errorf("decode segment %s: %w", sg.ID, err)
	}
	sg.RuleText, sg.CreatedAt, sg.UpdatedAt = sg.Rule.String(), fromMicros(created), fromMicros(updated)
	return &sg, nil
}

// CreateSegment stores sg as a new segment of sg.TenantID, filling in its
// ID, rule text and times. Its rule must be valid and refer only to
// existing segments. Its stored members are built in the background
// (SegmentPassBatch).
func (s *Store) CreateSegment(ctx context.Context, actor string, sg *segment.Segment) error {
	defer s.customersChanged() // segments' members are to be built: wake the entry loop
	if err := checkSegment(sg.Name, sg.Description); err != nil {
		return err
	}
	rule, err := json.Marshal(sg.Rule)
	if err != nil {
		return fmt.Errorf("encode segment rule: %w", err)
	}
	now := s.now()
	sg.ID, sg.RuleText, sg.CreatedAt, sg.UpdatedAt = kalcifer.NewID("seg"), sg.Rule.String(), now, now
	return s.b.WithTx(ctx, func(tx Tx) error {
		if err := checkSegmentRule(ctx, tx, sg.TenantID, sg.ID, &sg.Rule); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO segments (id, tenant_id, name, description, rule, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, sg.ID, sg.TenantID, sg.Name, sg.Description, string(rule), micros(now))
		if s.b.IsUniqueViolation(err) {
			return segmentNameTaken(sg.Name)
		}
		if err != nil {
			return fmt.Errorf("insert segment: %w", err)
		}
		if err := rebuildSegments(ctx, tx, sg.TenantID, sg.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, sg.TenantID, actor, "segment.create", "segment", sg.ID,
			map[string]any{"name": sg.Name, "rule": sg.RuleText})
	})
}

func segmentNameTaken(name string) error {
	return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("a segment named %q exists already", name),
		Details: []kalcifer.Detail{{Field: "name", Message: "is taken"}}}
}

// GetSegment returns one of the tenant's segments; ENOTFOUND for another
// tenant's.
func (s *Store) GetSegment(ctx context.Context, tenantID, id string) (*segment.Segment, error) {
	return getSegment(ctx, s.b.Q(), tenantID, id)
}

func getSegment(ctx context.Context, q Querier, tenantID, id string) (*segment.Segment, error) {
	sg, err := scanSegment(q.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "segment %q not found", id)
	}
	return sg, nil
}

// ListSegments returns one page of the tenant's segments, newest first.
func (s *Store) ListSegments(ctx context.Context, f segment.Filter) (kalcifer.Page[*segment.Segment], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	page := kalcifer.Page[*segment.Segment]{Data: []*segment.Segment{}}
	rows, err := s.b.Q().Query(ctx, `SELECT `+segmentColumns+` FROM segments
		WHERE tenant_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, f.TenantID, f.Cursor, limit+1)
	if err != nil {
		return page, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return page, fmt.Errorf("list segments: %w", err)
		}
		page.Data = append(page.Data, sg)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list segments: %w", err)
	}
	return pageOf(page.Data, limit, func(sg *segment.Segment) string { return sg.ID }), nil
}

// UpdateSegmentParams are a segment change's arguments: the fields that
// are not nil replace the segment's.
type UpdateSegmentParams struct {
	Actor       string
	TenantID    string
	SegmentID   string
	Name        *string
	Description *string
	Rule        *segment.Rule
}

// UpdateSegment changes a segment. A new rule must be valid, refer only to
// existing segments and not, through them, to this one; the stored members
// of the segment, and of those that refer to it, are then built again.
func (s *Store) UpdateSegment(ctx context.Context, p UpdateSegmentParams) (*segment.Segment, error) {
	defer s.customersChanged() // segments' members are to be built: wake the entry loop
	var out *segment.Segment
	err := s.b.WithTx(ctx, func(tx Tx) error {
		sg, err := getSegment(ctx, tx, p.TenantID, p.SegmentID)
		if err != nil {
			return err
		}
		if p.Name != nil {
			sg.Name = *p.Name
		}
		if p.Description != nil {
			sg.Description = *p.Description
		}
		if err := checkSegment(sg.Name, sg.Description); err != nil {
			return err
		}
		if p.Rule != nil {
			if err := checkSegmentRule(ctx, tx, p.TenantID, sg.ID, p.Rule); err != nil {
				return err
			}
			sg.Rule = *p.Rule
		}
		rule, err := json.Marshal(sg.Rule)
		if err != nil {
			return fmt.Errorf("encode segment rule: %w", err)
		}
		sg.RuleText, sg.UpdatedAt = sg.Rule.String(), s.now()
		_, err = tx.Exec(ctx, `UPDATE segments SET name = $1, description = $2, rule = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6`,
			sg.Name, sg.Description, string(rule), micros(sg.UpdatedAt), p.TenantID, sg.ID)
		if s.b.IsUniqueViolation(err) {
			return segmentNameTaken(sg.Name)
		}
		if err != nil {
			return fmt.Errorf("update segment %s: %w", sg.ID, err)
		}
		if p.Rule != nil {
			// Its stored members, and those of the segments that refer to
			// it, are built again.
			if err := rebuildSegments(ctx, tx, p.TenantID, sg.ID); err != nil {
				return err
			}
		}
		out = sg
		return s.audit(ctx, tx, p.TenantID, p.Actor, "segment.update", "segment", sg.ID,
			map[string]any{"name": sg.Name, "rule": sg.RuleText})
	})
	return out, err
}

// DeleteSegment deletes a segment that no other segment refers to
// (ECONFLICT naming them otherwise).
func (s *Store) DeleteSegment(ctx context.Context, actor, tenantID, id string) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		sg, err := getSegment(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, rule FROM segments WHERE tenant_id = $1 AND id <> $2 ORDER BY id`, tenantID, id)
		if err != nil {
			return fmt.Errorf("read segments: %w", err)
		}
		var users []string
		for rows.Next() {
			var other, raw string
			var r segment.Rule
			if err := rows.Scan(&other, &raw); err != nil {
				rows.Close()
				return fmt.Errorf("read segments: %w", err)
			}
			if err := jsonUnmarshal(raw, &r); err != nil {
				rows.Close()
				return fmt.Errorf("decode segment %s: %w", other, err)
			}
			for _, ref := range r.References() {
				if ref == id {
					users = append(users, other)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read segments: %w", err)
		}
		if len(users) > 0 {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT,
				Message: fmt.Sprintf("segment %q is used by segments %s: change them first", id, strings.Join(users, ", ")),
				State:   map[string]any{"used_by": users}}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM segments WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return fmt.Errorf("delete segment %s: %w", id, err)
		}
		return s.audit(ctx, tx, tenantID, actor, "segment.delete", "segment", id, map[string]any{"name": sg.Name})
	})
}

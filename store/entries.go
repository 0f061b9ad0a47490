package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/segment"
)

// Kinds of entry runs (EntryRun.Kind).
const (
	EntryRunSegment   = "segment"   // a segment_entry
	EntryRunScheduled = "scheduled" // a scheduled_entry
)

// Passes of an entry run (EntryRun.Pass): a walk over the segment (or
// every customer) in id order, a batch per transaction.
const (
	PassNone   = ""       // no pass is running
	PassEnrol  = "enrol"  // a segment_entry enrols who matches at activation
	PassRescan = "rescan" // a segment_entry's periodic re-evaluation
	PassTick   = "tick"   // a scheduled_entry's tick
)

// EntryRun is the state of one segment_entry or scheduled_entry node of a
// journey: its pass in progress and when it runs next.
type EntryRun struct {
	TenantID  string `json:"-"`
	JourneyID string `json:"journey_id"`
	NodeID    string `json:"node_id"`
	Kind      string `json:"kind"`
	// Config is what the run was made for (segment, mode, schedule): a
	// new version whose entry differs starts it afresh.
	Config string `json:"-"`
	// Pass is the pass running, PassNone between passes; Cursor is the
	// last customer id it has done.
	Pass   string `json:"pass"`
	Cursor string `json:"-"`
	// Total is how many customers the pass walks, as counted when it
	// began; Scanned how many it has walked; Enrolled how many of those
	// it started an instance for.
	Total      int64      `json:"total"`
	Scanned    int64      `json:"scanned"`
	Enrolled   int64      `json:"enrolled"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// TickAt is the scheduled time of the tick being (or last) run.
	TickAt *time.Time `json:"tick_at"`
	// NextRunAt is when the next pass starts; nil: never again (a
	// schedule past its end, or an entry of existing members only).
	NextRunAt *time.Time `json:"next_run_at"`
	// Error says why the last batch could not run (a deleted segment).
	Error string `json:"error,omitempty"`
}

const entryRunColumns = `journey_id, node_id, tenant_id, kind, config, pass, cursor, total, scanned, enrolled,
	started_at, finished_at, tick_at, next_run_at, error`

func scanEntryRun(r Row) (*EntryRun, error) {
	var e EntryRun
	var started, finished, tick, next *int64
	if err := r.Scan(&e.JourneyID, &e.NodeID, &e.TenantID, &e.Kind, &e.Config, &e.Pass, &e.Cursor, &e.Total, &e.Scanned, &e.Enrolled,
		&started, &finished, &tick, &next, &e.Error); err != nil {
		return nil, err
	}
	e.StartedAt, e.FinishedAt, e.TickAt, e.NextRunAt = fromNullMicros(started), fromNullMicros(finished), fromNullMicros(tick), fromNullMicros(next)
	return &e, nil
}

// EntryRuns returns the entry runs of one of the tenant's journeys, in
// node order: the progress of its segment and scheduled entries.
func (s *Store) EntryRuns(ctx context.Context, tenantID, journeyID string) ([]*EntryRun, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT `+entryRunColumns+` FROM entry_runs WHERE tenant_id = $1 AND journey_id = $2 ORDER BY node_id`,
		tenantID, journeyID)
	if err != nil {
		return nil, fmt.Errorf("entry runs: %w", err)
	}
	defer rows.Close()
	out := []*EntryRun{}
	for rows.Next() {
		e, err := scanEntryRun(rows)
		if err != nil {
			return nil, fmt.Errorf("entry runs: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EntryRun returns the run of a journey's entry node, claimed for the rest
// of the transaction: on PostgreSQL nil when another transaction holds
// it (it is being advanced), and nil when there is none.
func (t *EngineTx) EntryRun(journeyID, nodeID string) (*EntryRun, error) {
	e, err := scanEntryRun(t.tx.QueryRow(t.ctx, `SELECT `+entryRunColumns+` FROM entry_runs WHERE journey_id = $1 AND node_id = $2`+
		t.s.skipLocked(), journeyID, nodeID))
	if err == ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("entry run %s/%s: %w", journeyID, nodeID, err)
	}
	return e, nil
}

// PeekEntryRun is EntryRun without claiming it.
func (t *EngineTx) PeekEntryRun(journeyID, nodeID string) (*EntryRun, error) {
	e, err := scanEntryRun(t.tx.QueryRow(t.ctx, `SELECT `+entryRunColumns+` FROM entry_runs WHERE journey_id = $1 AND node_id = $2`,
		journeyID, nodeID))
	if err == ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("entry run %s/%s: %w", journeyID, nodeID, err)
	}
	return e, nil
}

// SaveEntryRun writes e whole, inserting it when new.
func (t *EngineTx) SaveEntryRun(e *EntryRun) error { return saveEntryRun(t.ctx, t.tx, e) }

func saveEntryRun(ctx context.Context, q Querier, e *EntryRun) error {
	_, err := q.Exec(ctx, `INSERT INTO entry_runs (`+entryRunColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (journey_id, node_id) DO UPDATE SET kind = excluded.kind, config = excluded.config, pass = excluded.pass,
			cursor = excluded.cursor, total = excluded.total, scanned = excluded.scanned, enrolled = excluded.enrolled,
			started_at = excluded.started_at, finished_at = excluded.finished_at, tick_at = excluded.tick_at,
			next_run_at = excluded.next_run_at, error = excluded.error`,
		e.JourneyID, e.NodeID, e.TenantID, e.Kind, e.Config, e.Pass, e.Cursor, e.Total, e.Scanned, e.Enrolled,
		nullMicros(e.StartedAt), nullMicros(e.FinishedAt), nullMicros(e.TickAt), nullMicros(e.NextRunAt), e.Error)
	if err != nil {
		return fmt.Errorf("save entry run %s/%s: %w", e.JourneyID, e.NodeID, err)
	}
	return nil
}

// EntrySpec is a segment_entry's or scheduled_entry's node, decoded.
type EntrySpec struct {
	NodeID    string
	Segment   *graph.SegmentEntryConfig   // a segment_entry's config
	Scheduled *graph.ScheduledEntryConfig // a scheduled_entry's config
}

// Key is the config the run is made for (EntryRun.Config).
func (e EntrySpec) Key() string {
	if e.Segment != nil {
		return e.Segment.Key()
	}
	return e.Scheduled.Key()
}

// entrySpecs decodes the segment and scheduled entries of g.
func entrySpecs(g *graph.Graph) ([]EntrySpec, error) {
	var out []EntrySpec
	for _, n := range g.Nodes {
		switch n.Type {
		case graph.TypeSegmentEntry:
			c, err := graph.DecodeConfig[graph.SegmentEntryConfig](n)
			if err != nil {
				return nil, err
			}
			out = append(out, EntrySpec{NodeID: n.ID, Segment: &c})
		case graph.TypeScheduledEntry:
			c, err := graph.DecodeConfig[graph.ScheduledEntryConfig](n)
			if err != nil {
				return nil, err
			}
			out = append(out, EntrySpec{NodeID: n.ID, Scheduled: &c})
		}
	}
	return out, nil
}

// StartEntryRun makes the run of a journey's entry afresh (a new version
// changed the entry); activation does it in its own transaction.
func (t *EngineTx) StartEntryRun(tenantID, journeyID string, e EntrySpec) (*EntryRun, error) {
	return startEntryRun(t.ctx, t.tx, t.s.d.JSON, tenantID, journeyID, e, t.now)
}

// startEntryRun makes and saves the run of an entry, at now. A segment
// entry of new members records who matches now (its stored members once
// built, else the rule's answer), in one statement, so that
// only customers who start matching afterwards enter; one of existing
// members starts its pass enrolling them. A scheduled entry waits for its
// first tick.
func startEntryRun(ctx context.Context, q Querier, d JSONDialect, tenantID, journeyID string, e EntrySpec, now time.Time) (*EntryRun, error) {
	if _, err := q.Exec(ctx, `DELETE FROM entry_members WHERE journey_id = $1 AND node_id = $2`, journeyID, e.NodeID); err != nil {
		return nil, fmt.Errorf("forget entry members: %w", err)
	}
	run := &EntryRun{TenantID: tenantID, JourneyID: journeyID, NodeID: e.NodeID, Config: e.Key(), StartedAt: &now}
	var err error
	if c := e.Scheduled; c != nil {
		run.Kind, run.StartedAt = EntryRunScheduled, nil
		if run.NextRunAt, err = c.NextRun(now); err != nil {
			return nil, err
		}
		return run, saveEntryRun(ctx, q, run)
	}
	c := e.Segment
	run.Kind = EntryRunSegment
	if run.NextRunAt, err = c.NextRun(now); err != nil {
		return nil, err
	}
	if c.EnrolMode() != graph.EnrolNew {
		run.Pass, run.Total = PassEnrol, -1
		return run, saveEntryRun(ctx, q, run)
	}
	sg, size, err := segmentSize(ctx, q, tenantID, c.SegmentID)
	if kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
		run.Error = fmt.Sprintf("segment %q does not exist (deleted?): nobody is enrolled", c.SegmentID)
		return run, saveEntryRun(ctx, q, run)
	}
	if err != nil {
		return nil, fmt.Errorf("read segment %s: %w", c.SegmentID, err)
	}
	var members int64
	if size.Status == SegmentReady {
		members, err = q.Exec(ctx, `INSERT INTO entry_members (journey_id, node_id, customer_id)
			SELECT $1, $2, customer_id FROM segment_members WHERE segment_id = $3`, journeyID, e.NodeID, c.SegmentID)
	} else {
		sq, pred, cerr := compileSegment(ctx, q, d, tenantID, &sg.Rule, now, false)
		if cerr != nil {
			return nil, cerr
		}
		j, n := sq.arg(journeyID), sq.arg(e.NodeID)
		members, err = q.Exec(ctx, `INSERT INTO entry_members (journey_id, node_id, customer_id)
			SELECT `+j+`, `+n+`, c.id FROM customers c WHERE c.tenant_id = $1 AND `+pred, sq.args...)
	}
	if err != nil {
		return nil, fmt.Errorf("record the members of segment %s: %w", c.SegmentID, err)
	}
	run.Total, run.Scanned, run.FinishedAt = members, members, &now
	return run, saveEntryRun(ctx, q, run)
}

// startEntryRuns starts the runs of the segment and scheduled entries of
// g, a journey being activated.
func startEntryRuns(ctx context.Context, q Querier, d JSONDialect, tenantID, journeyID string, g *graph.Graph, now time.Time) error {
	specs, err := entrySpecs(g)
	if err != nil {
		return err
	}
	for _, e := range specs {
		if _, err := startEntryRun(ctx, q, d, tenantID, journeyID, e, now); err != nil {
			return fmt.Errorf("entry %s: %w", e.NodeID, err)
		}
	}
	return nil
}

// SegmentByID reads one of the tenant's segments inside the transaction.
func (t *EngineTx) SegmentByID(tenantID, id string) (*segment.Segment, error) {
	sg, err := scanSegment(t.tx.QueryRow(t.ctx, `SELECT `+segmentColumns+` FROM segments WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "segment %q not found", id)
	}
	return sg, nil
}

// CountSegment is Store.CountSegment inside the transaction; a nil rule
// counts every customer of the tenant.
func (t *EngineTx) CountSegment(tenantID string, r *segment.Rule) (int64, error) {
	var n int64
	if r == nil {
		err := t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM customers WHERE tenant_id = $1`, tenantID).Scan(&n)
		return n, err
	}
	sq, pred, err := compileSegment(t.ctx, t.tx, t.s.d.JSON, tenantID, r, t.now, false)
	if err != nil {
		return 0, err
	}
	if err := t.tx.QueryRow(t.ctx, `SELECT COUNT(*) FROM customers c WHERE c.tenant_id = $1 AND `+pred, sq.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// SegmentMembers is Store.SegmentMembers inside the transaction, at its
// time; a nil p.Rule pages through every customer of the tenant.
func (t *EngineTx) SegmentMembers(p SegmentMembersParams) ([]string, error) {
	if p.Limit < 1 || p.Limit > MaxSegmentPage {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "a page of segment members holds 1 to %d customers, not %d", MaxSegmentPage, p.Limit)
	}
	args, pred := []any{p.TenantID}, "TRUE"
	if p.Rule != nil {
		sq, compiled, err := compileSegment(t.ctx, t.tx, t.s.d.JSON, p.TenantID, p.Rule, t.now, false)
		if err != nil {
			return nil, err
		}
		args, pred = sq.args, compiled
	}
	args = append(args, p.After, p.Limit)
	return t.ids(`SELECT c.id FROM customers c WHERE c.tenant_id = $1 AND c.id > $`+fmt.Sprint(len(args)-1)+` AND `+pred+
		` ORDER BY c.id LIMIT $`+fmt.Sprint(len(args)), args...)
}

// MembersBetween returns the customers a segment_entry has recorded as
// members with ids in (after, upTo], or after after when upTo is empty.
func (t *EngineTx) MembersBetween(journeyID, nodeID, after, upTo string) ([]string, error) {
	q := `SELECT customer_id FROM entry_members WHERE journey_id = $1 AND node_id = $2 AND customer_id > $3`
	args := []any{journeyID, nodeID, after}
	if upTo != "" {
		q += ` AND customer_id <= $4`
		args = append(args, upTo)
	}
	return t.ids(q+` ORDER BY customer_id`, args...)
}

// AddMembers records customers (of the tenant) as members of a
// segment_entry's segment and returns those who were not already: they
// have just started matching. Of two transactions adding the same
// customer, one gets them.
func (t *EngineTx) AddMembers(tenantID, journeyID, nodeID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	d := t.s.d.JSON
	return t.ids(`INSERT INTO entry_members (journey_id, node_id, customer_id)
		SELECT $1, $2, c.id FROM customers c WHERE c.tenant_id = $3 AND `+fmt.Sprintf(d.InList, "c.id", "$4")+`
		ON CONFLICT (journey_id, node_id, customer_id) DO NOTHING RETURNING customer_id`,
		journeyID, nodeID, tenantID, d.bindList(ids))
}

// RemoveMembers forgets that customers matched a segment_entry's segment:
// they stopped matching, and may start again.
func (t *EngineTx) RemoveMembers(journeyID, nodeID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	d := t.s.d.JSON
	_, err := t.tx.Exec(t.ctx, `DELETE FROM entry_members WHERE journey_id = $1 AND node_id = $2 AND `+
		fmt.Sprintf(d.InList, "customer_id", "$3"), journeyID, nodeID, d.bindList(ids))
	if err != nil {
		return fmt.Errorf("remove entry members: %w", err)
	}
	return nil
}

func (t *EngineTx) ids(query string, args ...any) ([]string, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CustomerChange is a customer whose profile or events changed while
// their tenant had segment entries.
type CustomerChange struct {
	Seq        int64
	TenantID   string
	CustomerID string
	// EventType is the type of the event the customer performed; empty
	// for a change of the profile (or a customer made or removed).
	EventType string
}

// claimChanges takes up to limit of the oldest customer changes and
// deletes them: they are done when the transaction commits. Concurrent
// claimers take different ones.
func (t *EngineTx) claimChanges(limit int) ([]CustomerChange, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT seq, tenant_id, customer_id, event_type FROM customer_changes ORDER BY seq LIMIT $1`+t.s.skipLocked(), limit)
	if err != nil {
		return nil, fmt.Errorf("claim customer changes: %w", err)
	}
	var out []CustomerChange
	for rows.Next() {
		var c CustomerChange
		if err := rows.Scan(&c.Seq, &c.TenantID, &c.CustomerID, &c.EventType); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim customer changes: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim customer changes: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM customer_changes WHERE seq IN (`+bindSeqs(out)+`)`); err != nil {
		return nil, fmt.Errorf("delete customer changes: %w", err)
	}
	return out, nil
}

// bindSeqs lists the changes' sequence numbers as SQL literals (they are
// integers the database made).
func bindSeqs(cs []CustomerChange) string {
	b := make([]byte, 0, 8*len(cs))
	for i, c := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", c.Seq)
	}
	return string(b)
}

// NoteChanged records that customers of the tenant changed: they
// performed an event of eventType (routed for them), or, when eventType is
// empty, their profile changed; see noteChanged.
func (t *EngineTx) NoteChanged(tenantID, eventType string, ids []string) error {
	ok, err := noteChanged(t.ctx, t.tx, t.s.d.JSON, tenantID, eventType, ids)
	t.changed = t.changed || ok
	return err
}

// noteChanged queues customers of the tenant whose profile changed, or who
// performed an event of eventType, for the stored members of the tenant's
// segments and their segment entries (segmembers.go): a profile change when
// the tenant has segments, an event when one of them can depend on its
// type. Otherwise nothing is written. It reports whether it queued any.
func noteChanged(ctx context.Context, q Querier, d JSONDialect, tenantID, eventType string, ids []string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	args := []any{tenantID, d.bindList(ids), eventType}
	which := ""
	if eventType != "" {
		quoted, _ := json.Marshal(eventType) // as on_events holds it
		args = append(args, string(quoted))
		which = ` AND (` + fmt.Sprintf(d.Strpos, "s.on_events", "$4") + ` > 0 OR s.on_events = '["` + anyEvent + `"]')`
	}
	n, err := q.Exec(ctx, `INSERT INTO customer_changes (tenant_id, customer_id, event_type)
		SELECT $1, c.id, $3 FROM customers c WHERE c.tenant_id = $1 AND `+fmt.Sprintf(d.InList, "c.id", "$2")+`
		AND EXISTS (SELECT 1 FROM segments s WHERE s.tenant_id = $1`+which+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("note customer changes: %w", err)
	}
	return n > 0, nil
}

// OnCustomersChanged sets fn to be called after a transaction that queued
// customer changes commits, or that started a segment's full pass (a
// segment written, customers or events loaded in bulk): the engine's poke
// of its entry loop.
func (s *Store) OnCustomersChanged(fn func()) { s.onChanged.Store(&fn) }

// customersChanged calls the OnCustomersChanged hook.
func (s *Store) customersChanged() {
	if fn := s.onChanged.Load(); fn != nil {
		(*fn)()
	}
}

// CheckEntrySegments refuses (EUNPROCESSABLE) a graph whose segment or
// scheduled entries name a segment the tenant does not have, naming each
// node: such an entry would enrol nobody. Activation and publishing call
// it.
func (s *Store) CheckEntrySegments(ctx context.Context, tenantID string, g *graph.Graph) error {
	return checkEntrySegments(ctx, s.b.Q(), tenantID, g)
}

func checkEntrySegments(ctx context.Context, q Querier, tenantID string, g *graph.Graph) error {
	specs, err := entrySpecs(g)
	if err != nil {
		return err
	}
	var details []kalcifer.Detail
	for _, e := range specs {
		var id string
		if e.Segment != nil {
			id = e.Segment.SegmentID
		} else {
			id = e.Scheduled.SegmentID
		}
		if id == "" {
			continue
		}
		var one int
		err := q.QueryRow(ctx, `SELECT 1 FROM segments WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&one)
		if err == ErrNoRows {
			details = append(details, kalcifer.Detail{NodeID: e.NodeID, Field: "segment_id",
				Message: fmt.Sprintf("segment %q does not exist: create it first (POST /segments) or name another", id)})
			continue
		}
		if err != nil {
			return fmt.Errorf("check entry segment %s: %w", id, err)
		}
	}
	if len(details) == 0 {
		return nil
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "the journey cannot run: node " + details[0].NodeID + ": " + details[0].Message,
		Details: details}
}

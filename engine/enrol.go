package engine

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// The entry loop keeps segments' stored members (store/segmembers.go):
// each round applies a batch of customer changes to them and runs a batch
// of a due full pass. Segment and scheduled entries enrol customers from
// the same loop, not from events:
//
//   - A segment_entry keeps, per customer, whether they matched its
//     segment when last checked (store.AddMembers): a customer enters when
//     that row is inserted — they started matching. Profile changes and
//     routed events queue the customer (store customer_changes); the loop
//     checks the queued customers against the segments of their tenant's
//     segment entries, a batch at a time with one query per segment
//     (EnrolChanged). A periodic pass over the whole segment finds those
//     whom time alone made match ("in the last 30 days").
//   - A scheduled_entry's run row holds its next tick; the replica that
//     claims the row when the tick is due starts a pass and moves the tick
//     past now, so a tick runs once, and ticks missed while no replica ran
//     run once.
//
// A pass walks the segment (or every customer) in id order, one batch per
// transaction, recording its cursor and progress in the entry run
// (GET /journeys/{id}/enrolment): between batches the event loops get the
// database.

// Defaults of Config.EnrolBatch (DefaultEnrolBatchSingleWriter where the
// database has one writer, so that a batch holds it for tens of
// milliseconds) and Config.ChangeBatch.
const (
	DefaultEnrolBatch             = 500
	DefaultEnrolBatchSingleWriter = 100
	DefaultChangeBatch            = 500
)

// Defaults of Config.SegmentBatch: a range of customers a segment's full
// pass checks in one transaction (one query over the range, two writes).
const (
	DefaultSegmentBatch             = 2000
	DefaultSegmentBatchSingleWriter = 500
)

// Types of the events admit is told about for customers enrolled by a
// segment or a schedule (they start no instance themselves).
const (
	enrolBySegment  = "$segment"
	enrolBySchedule = "$schedule"
)

// newEnrolEntry is the enrolEntry of node n, if it is a segment or
// scheduled entry.
func newEnrolEntry(tenantID string, en entry, n *node) (enrolEntry, bool) {
	ee := enrolEntry{entry: en, tenantID: tenantID, spec: store.EntrySpec{NodeID: n.id, Segment: n.segmentEntry, Scheduled: n.scheduledEntry}}
	switch {
	case n.segmentEntry != nil:
		ee.kind, ee.segmentID, ee.mode = store.EntryRunSegment, n.segmentEntry.SegmentID, n.segmentEntry.EnrolMode()
	case n.scheduledEntry != nil:
		ee.kind, ee.segmentID = store.EntryRunScheduled, n.scheduledEntry.SegmentID
	default:
		return ee, false
	}
	return ee, true
}

// nextRun is the entry's first tick after now, or nil when there is none
// (past a schedule's end; an entry of existing members runs once).
func (ee enrolEntry) nextRun(now time.Time) (*time.Time, error) {
	if c := ee.spec.Segment; c != nil {
		return c.NextRun(now)
	}
	return ee.spec.Scheduled.NextRun(now)
}

// Enrol does one round of the entry loop: a batch of changed customers,
// and a batch of each segment and scheduled entry's pass (starting the
// passes that are due). It returns how many customers it went through.
func (rt *Runtime) Enrol(ctx context.Context) (int, error) {
	rt.enrolDue.Store(0)
	idx, err := rt.entryIndex(ctx)
	if err != nil {
		return 0, err
	}
	n, err := rt.EnrolChanged(ctx, idx)
	if err != nil {
		return n, err
	}
	began := time.Now()
	m, err := rt.segmentPass(ctx)
	if err != nil {
		return n, err
	}
	n += m
	rt.yieldAfter(ctx, &rt.segmentSizer, m, began)
	for _, ee := range idx.enrols {
		began := time.Now()
		m, err := rt.advanceEntry(ctx, ee)
		if err != nil {
			return n, fmt.Errorf("entry %s of journey %s: %w", ee.nodeID, ee.journeyID, err)
		}
		n += m
		rt.yieldAfter(ctx, &rt.enrolSizer, m, began)
	}
	return n, nil
}

// yieldAfter leaves the one writer (SQLite) to the event loops for as long
// as a batch begun at began held it, when it walked more than one
// customer: a pass would otherwise take every commit, and POST /events
// would wait. PostgreSQL commits them side by side. The batch's time per
// customer sizes the pass's next batch (sizer).
func (rt *Runtime) yieldAfter(ctx context.Context, sizer *batchSizer, walked int, began time.Time) {
	if walked > 1 && rt.st.Dialect().SingleWriter {
		took := time.Since(began)
		sizer.observe(walked, took)
		yield(ctx, took)
	}
}

// Bounds of a background batch on a single-writer database (batchSizer).
const (
	batchHold = 25 * time.Millisecond
	minBatch  = 10
)

// batchSizer sizes the batches of a background pass (segment entries'
// enrolments, segments' full passes) on a single-writer database so that
// each holds the writer about batchHold, whatever the machine's load: an
// event waiting to be stored waits at most about that long for a batch.
// The size follows the smoothed time per customer of the pass's last
// batches, between minBatch and the configured size. On PostgreSQL a
// batch is the configured size.
type batchSizer struct {
	per atomic.Int64 // nanoseconds per customer; 0: not measured yet
}

// size is the next batch's size, at most limit.
func (b *batchSizer) size(limit int) int {
	per := b.per.Load()
	if per <= 0 {
		return limit
	}
	return max(min(int(int64(batchHold)/per), limit), min(minBatch, limit))
}

// observe records that a batch walked walked customers in took.
func (b *batchSizer) observe(walked int, took time.Duration) {
	p := int64(took) / int64(walked)
	if old := b.per.Load(); old > 0 {
		p = (3*old + p) / 4
	}
	b.per.Store(max(p, 1))
}

// segmentPass runs one batch of a segment's full pass (the build or
// refresh of its stored members), if one is due, in one transaction.
func (rt *Runtime) segmentPass(ctx context.Context) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		var err error
		n, err = t.SegmentPassBatch(rt.segmentSizer.size(rt.cfg.SegmentBatch), rt.cfg.SegmentRefresh)
		return err
	})
	return n, err
}

// EnrolChanged brings the stored members of segments up to date for a
// batch of changed customers, and checks them against the segments of
// their tenants' segment entries, in one transaction: those who match and
// were not members enter, those who no longer match stop being members.
func (rt *Runtime) EnrolChanged(ctx context.Context, idx *entryIndex) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		changes, err := t.ApplyChanges(rt.cfg.ChangeBatch)
		if err != nil || len(changes) == 0 {
			return err
		}
		n = len(changes)
		byTenant := map[string][]string{}
		var tenants []string
		for _, c := range changes {
			if _, ok := byTenant[c.TenantID]; !ok {
				tenants = append(tenants, c.TenantID)
			}
			if !slices.Contains(byTenant[c.TenantID], c.CustomerID) {
				byTenant[c.TenantID] = append(byTenant[c.TenantID], c.CustomerID)
			}
		}
		slices.Sort(tenants)
		for _, tenant := range tenants {
			entries := idx.bySegmentTenant[tenant]
			if len(entries) == 0 {
				continue // the journey was deactivated since
			}
			q, err := tenantQuotas(t, tenant)
			if err != nil {
				return err
			}
			for _, ee := range entries {
				if err := rt.checkChanged(ctx, t, q, ee, byTenant[tenant]); err != nil {
					return fmt.Errorf("entry %s of journey %s: %w", ee.nodeID, ee.journeyID, err)
				}
			}
		}
		return nil
	})
	return n, err
}

// checkChanged updates ee's members among the changed customers ids and
// enrols those who started matching.
func (rt *Runtime) checkChanged(ctx context.Context, t *store.EngineTx, q quotas, ee enrolEntry, ids []string) error {
	run, err := t.PeekEntryRun(ee.journeyID, ee.nodeID)
	if err != nil || run == nil || run.Config != ee.spec.Key() {
		return err // not set up for this version yet: its first pass will see them
	}
	sg, err := t.SegmentByID(ee.tenantID, ee.segmentID)
	if kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
		return nil // the pass records the error on the run
	}
	if err != nil {
		return err
	}
	size, err := t.SegmentSize(ee.tenantID, ee.segmentID)
	if err != nil {
		return err
	}
	var match []string
	if size.Status == store.SegmentReady {
		// ApplyChanges has just brought them up to date.
		match, err = t.StoredMembersAmong(ee.segmentID, ids)
	} else {
		match, err = t.SegmentMatches(ee.tenantID, &sg.Rule, ids)
	}
	if err != nil {
		return err
	}
	gone := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(match, id) })
	if err := t.RemoveMembers(ee.journeyID, ee.nodeID, gone); err != nil {
		return err
	}
	added, err := t.AddMembers(ee.tenantID, ee.journeyID, ee.nodeID, match)
	if err != nil {
		return err
	}
	_, err = rt.enrolAll(ctx, t, q, ee, added)
	return err
}

// advanceEntry sets up ee's run, starts its pass when one is due, and runs
// one batch of the pass, in one transaction. A run another replica holds
// is left to it.
func (rt *Runtime) advanceEntry(ctx context.Context, ee enrolEntry) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		now := t.Now()
		run, err := t.EntryRun(ee.journeyID, ee.nodeID)
		if err != nil {
			return err
		}
		if run == nil {
			if other, err := t.PeekEntryRun(ee.journeyID, ee.nodeID); err != nil || other != nil {
				return err // claimed by another replica
			}
		}
		if run == nil || run.Config != ee.spec.Key() {
			// A new version changed the entry (activation made the run).
			if run, err = t.StartEntryRun(ee.tenantID, ee.journeyID, ee.spec); err != nil {
				return err
			}
			n = 1 // made work: come back for the first batch
		}
		if run.Pass == store.PassNone && run.NextRunAt != nil && !run.NextRunAt.After(now) {
			pass := store.PassRescan
			if ee.kind == store.EntryRunScheduled {
				pass = store.PassTick
			}
			run.TickAt = run.NextRunAt
			if run.NextRunAt, err = ee.nextRun(now); err != nil {
				return err
			}
			startPass(run, pass, now)
		}
		if run.Pass == store.PassNone {
			rt.noteEnrolDue(run.NextRunAt)
			if n > 0 {
				return t.SaveEntryRun(run)
			}
			return nil
		}
		done, err := rt.passBatch(ctx, t, ee, run)
		if err != nil {
			return err
		}
		n += done
		return t.SaveEntryRun(run)
	})
	return n, err
}

func startPass(run *store.EntryRun, pass string, now time.Time) {
	run.Pass, run.Cursor, run.Total, run.Scanned, run.Enrolled, run.Error = pass, "", -1, 0, 0, ""
	run.StartedAt, run.FinishedAt = &now, nil
}

// passBatch runs one batch of run's pass: the next members after its
// cursor. It returns how many customers it went through.
func (rt *Runtime) passBatch(ctx context.Context, t *store.EngineTx, ee enrolEntry, run *store.EntryRun) (int, error) {
	var rule *segment.Rule
	if ee.segmentID != "" {
		sg, err := t.SegmentByID(ee.tenantID, ee.segmentID)
		if kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
			// Deleted while the journey runs: say so on the run, and try
			// again at the next tick.
			run.Error = fmt.Sprintf("segment %q does not exist (deleted?): nobody is enrolled", ee.segmentID)
			run.Pass, run.FinishedAt = store.PassNone, new(t.Now())
			rt.log.Error("entry cannot enrol", "journey_id", ee.journeyID, "node_id", ee.nodeID, "err", run.Error)
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		rule = &sg.Rule
	}
	// A built segment's pass walks its stored members; otherwise the rule
	// is evaluated a page at a time.
	stored := &store.SegmentSize{}
	if rule != nil {
		var err error
		if stored, err = t.SegmentSize(ee.tenantID, ee.segmentID); err != nil {
			return 0, err
		}
	}
	if run.Total < 0 {
		total, err := stored.Count, error(nil)
		if stored.Status != store.SegmentReady {
			total, err = t.CountSegment(ee.tenantID, rule)
		}
		if err != nil {
			return 0, err
		}
		run.Total = total
	}
	var page []string
	var err error
	limit := rt.enrolSizer.size(rt.cfg.EnrolBatch)
	if stored.Status == store.SegmentReady {
		page, err = t.StoredMembers(ee.segmentID, run.Cursor, limit)
	} else {
		page, err = t.SegmentMembers(store.SegmentMembersParams{TenantID: ee.tenantID, Rule: rule, After: run.Cursor, Limit: limit})
	}
	if err != nil {
		return 0, err
	}
	last := len(page) < limit
	enrol := page
	if ee.kind == store.EntryRunSegment {
		upTo := ""
		if !last {
			upTo = page[len(page)-1]
		}
		before, err := t.MembersBetween(ee.journeyID, ee.nodeID, run.Cursor, upTo)
		if err != nil {
			return 0, err
		}
		in := make(map[string]bool, len(page))
		for _, id := range page {
			in[id] = true
		}
		gone := slices.DeleteFunc(before, func(id string) bool { return in[id] })
		if err := t.RemoveMembers(ee.journeyID, ee.nodeID, gone); err != nil {
			return 0, err
		}
		if enrol, err = t.AddMembers(ee.tenantID, ee.journeyID, ee.nodeID, page); err != nil {
			return 0, err
		}
	}
	q, err := tenantQuotas(t, ee.tenantID)
	if err != nil {
		return 0, err
	}
	started, err := rt.enrolAll(ctx, t, q, ee, enrol)
	if err != nil {
		return 0, err
	}
	run.Scanned += int64(len(page))
	run.Enrolled += int64(started)
	if len(page) > 0 {
		run.Cursor = page[len(page)-1]
	}
	if last {
		run.Pass, run.Cursor, run.FinishedAt = store.PassNone, "", new(t.Now())
	}
	return len(page), nil
}

// enrolAll starts ee's journey for each customer of ids, within the
// tenant's quota and the journey's re-entry rule, and returns how many it
// started.
func (rt *Runtime) enrolAll(ctx context.Context, t *store.EngineTx, q quotas, ee enrolEntry, ids []string) (int, error) {
	typ := enrolBySegment
	if ee.kind == store.EntryRunScheduled {
		typ = enrolBySchedule
	}
	started := 0
	for _, id := range ids {
		ok, err := rt.admit(t, q, &kalcifer.Event{TenantID: ee.tenantID, CustomerID: id, Type: typ}, ee.entry)
		if err != nil {
			return started, err
		}
		if !ok {
			continue
		}
		customer, err := t.Customer(ee.tenantID, id)
		if err != nil {
			return started, err
		}
		in, err := rt.start(ctx, t, ee.tenantID, ee.journeyID, ee.version, ee.allowReentry, ee.nodeID, customer, nil)
		if err != nil {
			return started, err
		}
		if in != nil {
			q.started(ee.tenantID)
			started++
		}
	}
	return started, nil
}

// noteEnrolDue notes when an entry runs next, for untilNextEnrol.
func (rt *Runtime) noteEnrolDue(at *time.Time) {
	if at == nil {
		return
	}
	for {
		old := rt.enrolDue.Load()
		if old != 0 && old <= at.UnixNano() {
			return
		}
		if rt.enrolDue.CompareAndSwap(old, at.UnixNano()) {
			return
		}
	}
}

// untilNextEnrol is how long until the next run of a scheduled or segment
// entry that the entry loop's last round saw, so that it runs on time
// rather than on the next poll. A time-relative segment's refresh waits for
// the poll (at most MaxPollInterval late, against a refresh every 15
// minutes by default).
func (rt *Runtime) untilNextEnrol(context.Context) time.Duration {
	due := rt.enrolDue.Load()
	if due == 0 {
		return rt.cfg.MaxPollInterval
	}
	return time.Unix(0, due).Sub(rt.clock.Now())
}

// yield waits d (at most a second), or until ctx ends.
func yield(ctx context.Context, d time.Duration) {
	t := time.NewTimer(min(d, time.Second))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// tenantQuotas reads one tenant's active-instance quota.
func tenantQuotas(t *store.EngineTx, tenantID string) (quotas, error) {
	return batchQuotas(t, []kalcifer.Event{{TenantID: tenantID}})
}

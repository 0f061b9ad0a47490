package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Live version rollout (kalcifer.Migration, not the backends' schema
// migrations): publishing a version, controlling the rollout and releasing
// held instances. The loop's batches are in rolloutbatch.go, the pure
// planner in plan.go.

// Publish makes p.Version the journey's current version and starts moving
// its running instances per p.Request (seed FR-3.3): new_entries_only
// leaves them, migrate_all and gradual move them in the background. With
// p.Rollback, the version is an earlier published one (FR-3.9). The node
// mapping is the automatic proposal with the request's NodeMapping laid
// over it; a mapping that names unknown nodes, reverses the order of steps,
// or leaves a node where customers wait unmapped without a
// removed_node_policy is refused (EUNPROCESSABLE) before anything changes.
// A dry run only answers the plan.
func (rt *Runtime) Publish(ctx context.Context, p store.PublishParams) (*kalcifer.PublishPlan, error) {
	actor, tenantID, journeyID, version, rollback, req := p.Actor, p.TenantID, p.JourneyID, p.Version, p.Rollback, p.Request
	if req.Config.BatchSize == 0 && rt.st.Dialect().SingleWriter {
		// SQLite has one writer: a batch's transaction holds up event
		// ingestion, and 1,000 instances measured ~100 ms (docs/PERFORMANCE.md).
		req.Config.BatchSize = SingleWriterMigrationBatch
	}
	if err := req.Config.Normalize(req.Strategy); err != nil {
		return nil, err
	}
	j, err := rt.st.GetJourney(ctx, tenantID, journeyID)
	if err != nil {
		return nil, err
	}
	if j.CurrentVersion == 0 {
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the journey was never activated: activate it to publish its first version",
			State: map[string]any{"status": string(j.Status)}}
	}
	fromV, err := rt.st.GetVersion(ctx, tenantID, journeyID, j.CurrentVersion)
	if err != nil {
		return nil, err
	}
	toV, err := rt.st.GetVersion(ctx, tenantID, journeyID, version)
	if err != nil {
		return nil, err
	}
	// The publish transaction checks these again; checking them here too
	// makes a dry run answer what the publish would.
	switch {
	case version == j.CurrentVersion:
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("version %d is already the current version", version),
			State: map[string]any{"current_version": j.CurrentVersion}}
	case !rollback && toV.Status != kalcifer.VersionDraft:
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("version %d is already published (roll back to it instead)", version),
			State: map[string]any{"version_status": string(toV.Status)}}
	case rollback && toV.Status != kalcifer.VersionPublished:
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("version %d is a draft: publish it instead of rolling back to it", version),
			State: map[string]any{"version_status": string(toV.Status)}}
	}
	if err := store.CheckRunnable(&toV.Graph, rt.On()...); err != nil {
		return nil, err
	}
	if err := rt.st.CheckEntrySegments(ctx, tenantID, &toV.Graph); err != nil {
		return nil, err
	}
	from, err := rt.program(ctx, nil, tenantID, journeyID, fromV.Version)
	if err != nil {
		return nil, err
	}
	to, err := Compile(journeyID, toV.Version, &toV.Graph) // a draft may still change: not cached
	if err != nil {
		return nil, err
	}

	proposal := graph.ProposeMapping(&fromV.Graph, &toV.Graph)
	mapping, confidence := proposal.Nodes, proposal.Confidence
	for old, nw := range req.NodeMapping {
		delete(mapping, old)
		delete(confidence, old)
		if nw != "" {
			mapping[old], confidence[old] = nw, 1
		}
	}
	// Unknown names must reach NewPlan to be reported: give it the request's.
	check := maps.Clone(mapping)
	for old, nw := range req.NodeMapping {
		check[old] = nw
	}
	plan, err := NewPlan(from, to, check, req.Config.RemovedNodePolicy)
	if err != nil {
		return nil, err
	}
	out := &kalcifer.PublishPlan{FromVersion: fromV.Version, ToVersion: toV.Version, Strategy: req.Strategy, Config: req.Config,
		Mapping: plan.Mapping, Confidence: confidence, Unmapped: []string{}, Populated: map[string]int{},
		Diff: graph.Compare(&fromV.Graph, &toV.Graph), Warnings: rt.Warnings(tenantID, &toV.Graph)}
	for _, n := range fromV.Graph.Nodes {
		if _, ok := plan.Mapping[n.ID]; !ok {
			out.Unmapped = append(out.Unmapped, n.ID)
		}
	}
	if req.Strategy != kalcifer.StrategyNewEntriesOnly {
		if out.Populated, err = rt.st.PopulatedNodes(ctx, tenantID, journeyID, fromV.Version); err != nil {
			return nil, err
		}
		if left := plan.Unmapped(out.Populated); len(left) > 0 {
			e := &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
				Message: fmt.Sprintf("%d nodes where customers are have no counterpart in version %d: map them in node_mapping or choose a removed_node_policy (skip_to_next_mapped, exit or hold)", len(left), toV.Version)}
			for _, id := range slices.Sorted(maps.Keys(left)) {
				e.Details = append(e.Details, kalcifer.Detail{NodeID: id, Field: "node_mapping." + id,
					Message: fmt.Sprintf("node %q holds %d customers and is not mapped to a node of version %d", id, left[id], toV.Version)})
			}
			return nil, e
		}
	}
	if req.DryRun {
		return out, nil
	}
	m := &kalcifer.Migration{TenantID: tenantID, JourneyID: journeyID, FromVersion: fromV.Version, ToVersion: toV.Version,
		Strategy: req.Strategy, Config: req.Config, Mapping: plan.Mapping, Confidence: confidence, Rollback: rollback, Actor: actor}
	if err := rt.st.Publish(ctx, m); err != nil {
		return nil, err
	}
	out.Migration = m
	rt.nudge(nudgeMigrations)
	return out, nil
}

// SingleWriterMigrationBatch is the default batch size on a database with
// a single writer (Dialect.SingleWriter: SQLite).
const SingleWriterMigrationBatch = 100

// Migration commands of the API.
const (
	MigrationPause   = "pause"
	MigrationResume  = "resume"
	MigrationAbort   = "abort"
	MigrationRollout = "rollout"
)

// ControlMigration pauses, resumes or aborts a migration, or raises a
// gradual rollout to p.Percent. An abort returns the moved instances to their
// old version and position (those that moved on since stay, and are
// counted) and makes the old version current again if the migration's was
// still current.
func (rt *Runtime) ControlMigration(ctx context.Context, p store.ControlMigrationParams) (*kalcifer.Migration, error) {
	action, percent := p.Action, p.Percent
	change := store.ChangeMigrationParams{Actor: p.Actor, TenantID: p.TenantID, MigrationID: p.MigrationID, Action: p.Action}
	m, err := rt.st.ChangeMigration(ctx, change, func(j *kalcifer.Journey, m *kalcifer.Migration) error {
		refuse := func(why string) error {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("cannot %s a migration that is %s%s", action, m.Status, why),
				State: map[string]any{"status": string(m.Status)}}
		}
		switch action {
		case MigrationPause:
			if m.Status != kalcifer.MigrationRunning {
				return refuse("")
			}
			m.Status = kalcifer.MigrationPaused
		case MigrationResume:
			if m.Status != kalcifer.MigrationPaused {
				return refuse("")
			}
			m.Status, m.Reason = kalcifer.MigrationRunning, ""
			m.Progress.TriedAtResume, m.Progress.FailedAtResume = m.Progress.Tried(), m.Progress.Failed
		case MigrationAbort:
			if m.Status == kalcifer.MigrationAborting || m.Status == kalcifer.MigrationAborted {
				return refuse("")
			}
			if j.CurrentVersion != m.ToVersion {
				// A later publish or rollback moved on: undoing this one
				// would strand customers on a version nothing migrates.
				return refuse(fmt.Sprintf(": version %d is no longer current (it is %d); publish or roll back instead", m.ToVersion, j.CurrentVersion))
			}
			m.Status, m.Cursor, m.Reason, m.FinishedAt = kalcifer.MigrationAborting, "", "", nil
			m.Progress.Passes = 0
			j.CurrentVersion = m.FromVersion
		case MigrationRollout:
			switch {
			case m.Strategy != kalcifer.StrategyGradual:
				return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "only a gradual migration has a rollout percentage; this one is %s", m.Strategy)
			case m.Status != kalcifer.MigrationRunning && m.Status != kalcifer.MigrationPaused && m.Status != kalcifer.MigrationPartial:
				return refuse("")
			case j.CurrentVersion != m.ToVersion:
				return refuse(fmt.Sprintf(": version %d is no longer the journey's current version", m.ToVersion))
			case percent <= m.Config.RolloutPercent || percent > 100:
				return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "rollout_percent can only rise, from %d up to 100; %d is not allowed", m.Config.RolloutPercent, percent)
			}
			m.Config.RolloutPercent, m.Cursor, m.Progress.Passes = percent, "", 0
			if m.Status == kalcifer.MigrationPartial {
				m.Status, m.FinishedAt = kalcifer.MigrationRunning, nil
			}
		default:
			return kalcifer.Errorf(kalcifer.EINVALID, "unknown migration action %q", action)
		}
		return nil
	})
	if err == nil {
		rt.nudge(nudgeMigrations)
	}
	return m, err
}

// ReleaseHeld moves instances a migration held for review onto its new
// version, with extra mapping for their removed nodes, or ends them.
func (rt *Runtime) ReleaseHeld(ctx context.Context, tenantID, migrationID string, req kalcifer.ReleaseRequest) (*kalcifer.ReleaseResult, error) {
	if req.Policy == kalcifer.PolicyHold {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "releasing needs removed_node_policy skip_to_next_mapped or exit, not hold")
	}
	m, err := rt.st.GetMigration(ctx, tenantID, migrationID)
	if err != nil {
		return nil, err
	}
	if m.Status == kalcifer.MigrationAborting || m.Status == kalcifer.MigrationAborted {
		return nil, &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the migration was aborted: its held instances are back on version " + fmt.Sprint(m.FromVersion),
			State: map[string]any{"status": string(m.Status)}}
	}
	mapping := maps.Clone(m.Mapping)
	maps.Copy(mapping, req.NodeMapping)
	from, err := rt.program(ctx, nil, tenantID, m.JourneyID, m.FromVersion)
	if err != nil {
		return nil, err
	}
	to, err := rt.program(ctx, nil, tenantID, m.JourneyID, m.ToVersion)
	if err != nil {
		return nil, err
	}
	// The publish checked the order of steps for every mapped node; the
	// held customers are at the nodes the release maps.
	at := map[string]bool{}
	for old := range req.NodeMapping {
		at[old] = true
	}
	plan, err := newPlan(from, to, mapping, req.Policy, at)
	if err != nil {
		return nil, err
	}
	ids := req.InstanceIDs
	if len(ids) == 0 {
		for cursor := ""; ; {
			page, err := rt.st.HeldInstances(ctx, tenantID, migrationID, kalcifer.MaxPageLimit, cursor)
			if err != nil {
				return nil, err
			}
			for _, in := range page.Data {
				ids = append(ids, in.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	sort.Strings(ids)
	res := &kalcifer.ReleaseResult{Skipped: []string{}, Failed: []kalcifer.ReleaseFailure{}}
	for start := 0; start < len(ids); start += m.Config.BatchSize {
		chunk := ids[start:min(start+m.Config.BatchSize, len(ids))]
		var batch kalcifer.ReleaseResult
		err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
			batch = kalcifer.ReleaseResult{}
			mig, err := t.Migration(tenantID, migrationID)
			if err != nil {
				return err
			}
			if mig.Status == kalcifer.MigrationAborting || mig.Status == kalcifer.MigrationAborted {
				return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "the migration was aborted meanwhile",
					State: map[string]any{"status": string(mig.Status)}}
			}
			for _, id := range chunk {
				mi, err := t.HeldMove(migrationID, id)
				if err != nil {
					return err
				}
				if mi == nil || mi.Current.LockVersion != mi.LockVersion {
					batch.Skipped = append(batch.Skipped, id)
					continue
				}
				in := *mi.Current
				in.Status = mi.PriorStatus // held made it paused; released, it is as it was
				mv, err := rt.move(t, plan, &in)
				if err == nil && mv.Outcome == kalcifer.MoveHeld {
					err = errors.New("a node it is at is still unmapped")
				}
				if err != nil { // it stays held; the others go on
					batch.Failed = append(batch.Failed, kalcifer.ReleaseFailure{InstanceID: id, Error: err.Error()})
					continue
				}
				mv.Prior = mi.Current
				if err := t.ReleaseHeld(migrationID, mv); err != nil {
					return err
				}
				if mv.Status == kalcifer.InstanceActive { // sends that finished while it was held
					if err := rt.replaySendsOf(ctx, t, id); err != nil {
						return err
					}
				}
				if mv.Outcome == kalcifer.MoveExited {
					batch.Exited++
				} else {
					batch.Migrated++
				}
			}
			mig.Progress.Held -= batch.Migrated + batch.Exited
			mig.Progress.Migrated += batch.Migrated
			mig.Progress.Exited += batch.Exited
			return t.SaveMigration(mig, nil)
		})
		if err != nil {
			return nil, err
		}
		res.Migrated += batch.Migrated
		res.Exited += batch.Exited
		res.Skipped = append(res.Skipped, batch.Skipped...)
		res.Failed = append(res.Failed, batch.Failed...)
	}
	rt.pokeTimers()
	return res, nil
}

package engine

import (
	"context"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// The rollout loop's batches: each moves a batch of a migration's
// instances onto the new version (Plan.Move), or back for an abort, in one
// transaction.

// maxPasses bounds how often a migration starts over to find instances it
// passed by: rows another transaction held (PostgreSQL), or instances that
// entered the old version while the journey changed over.
const maxPasses = 10

// maxBatchErrors bounds the errors one batch keeps.
const maxBatchErrors = 20

// MigrateBatch does one batch of the migration work there is, in one
// transaction: moving instances forward, or back for an abort. It returns
// how many instances it looked at.
func (rt *Runtime) MigrateBatch(ctx context.Context) (int, error) {
	n := 0
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		m, err := t.NextMigration()
		if err != nil || m == nil {
			return err
		}
		if m.Status == kalcifer.MigrationAborting {
			n, err = rt.restoreBatch(ctx, t, m)
		} else {
			n, err = rt.migrateBatch(ctx, t, m)
		}
		return err
	})
	return n, err
}

// plan returns the checked plan of a migration, made once per process.
func (rt *Runtime) plan(ctx context.Context, t *store.EngineTx, m *kalcifer.Migration) (*Plan, error) {
	if p, ok := rt.plans.Load(m.ID); ok {
		return p.(*Plan), nil
	}
	from, err := rt.program(ctx, t, m.TenantID, m.JourneyID, m.FromVersion)
	if err != nil {
		return nil, err
	}
	to, err := rt.program(ctx, t, m.TenantID, m.JourneyID, m.ToVersion)
	if err != nil {
		return nil, err
	}
	p, err := NewPlan(from, to, m.Mapping, m.Config.RemovedNodePolicy)
	if err != nil {
		return nil, err
	}
	rt.plans.Store(m.ID, p)
	return p, nil
}

func (rt *Runtime) migrateBatch(ctx context.Context, t *store.EngineTx, m *kalcifer.Migration) (int, error) {
	plan, err := rt.plan(ctx, t, m)
	if err != nil {
		// The plan was checked at publish; failing now means the versions
		// cannot be read or compiled. Pause rather than retry forever.
		m.Status, m.Reason = kalcifer.MigrationPaused, "paused by itself: "+err.Error()
		return 0, t.SaveMigration(m, nil)
	}
	cands, err := t.MigrationCandidates(m, m.Config.BatchSize)
	if err != nil {
		return 0, err
	}
	b := kalcifer.MigrationBatch{Seq: m.Progress.Batches + 1, StartedAt: t.Now()}
	m.Progress.Examined += len(cands)
	moves := make([]store.InstanceMove, 0, len(cands))
	for _, in := range cands {
		m.Cursor = in.ID
		if !kalcifer.SelectedForRollout(in.ID, m.Config.RolloutPercent) {
			continue
		}
		mv, err := rt.move(t, plan, in)
		if err != nil {
			mv = store.InstanceMove{Prior: in, Outcome: kalcifer.MoveFailed, Detail: err.Error()}
			if len(b.Errors) < maxBatchErrors {
				b.Errors = append(b.Errors, fmt.Sprintf("instance %s: %v", in.ID, err))
			}
		}
		moves = append(moves, mv)
		switch mv.Outcome {
		case kalcifer.MoveMigrated:
			b.Migrated++
		case kalcifer.MoveHeld:
			b.Held++
		case kalcifer.MoveExited:
			b.Exited++
		case kalcifer.MoveFailed:
			b.Failed++
		}
	}
	if err := t.ApplyMoves(m.ID, moves); err != nil {
		return 0, err
	}
	p := &m.Progress
	p.Migrated, p.Held, p.Exited, p.Failed = p.Migrated+b.Migrated, p.Held+b.Held, p.Exited+b.Exited, p.Failed+b.Failed
	if len(cands) < m.Config.BatchSize { // the end of a pass
		left, err := t.MigrationLeft(m)
		if err != nil {
			return 0, err
		}
		chosen := 0
		for _, id := range left {
			if kalcifer.SelectedForRollout(id, m.Config.RolloutPercent) {
				chosen++
			}
		}
		p.NotSelected, p.Passes = len(left)-chosen, p.Passes+1
		switch {
		case chosen > 0 && p.Passes < maxPasses:
			m.Cursor = "" // some were passed by: go round again
		case chosen > 0:
			m.Status, m.Reason = kalcifer.MigrationPaused, fmt.Sprintf("paused by itself: %d instances stayed busy through %d passes; resume to try again", chosen, maxPasses)
			p.Passes = 0
		default:
			now := t.Now()
			m.Status, m.FinishedAt = kalcifer.MigrationCompleted, &now
			if m.Config.RolloutPercent < 100 {
				m.Status = kalcifer.MigrationPartial
			}
		}
	}
	if p.FailureRateExceeded(m.Config.FailureThreshold) && m.Status == kalcifer.MigrationRunning {
		tried, failed := p.Tried()-p.TriedAtResume, p.Failed-p.FailedAtResume
		m.Status, m.Reason = kalcifer.MigrationPaused, fmt.Sprintf("paused by itself: %d of %d instances failed to migrate (%.1f%%), above the %.1f%% threshold",
			failed, tried, 100*float64(failed)/float64(tried), 100*m.Config.FailureThreshold)
	}
	var batch *kalcifer.MigrationBatch
	if len(moves) > 0 {
		b.FinishedAt, p.Batches = rt.clock.Now().UTC(), b.Seq
		batch = &b
	}
	return len(cands), t.SaveMigration(m, batch)
}

// move works out one instance's migration.
func (rt *Runtime) move(t *store.EngineTx, plan *Plan, in *kalcifer.Instance) (store.InstanceMove, error) {
	if plan.Untouched(in.Nodes) { // most customers of a small edit: only the version changes
		return store.InstanceMove{Prior: in, Outcome: kalcifer.MoveMigrated, Version: plan.To.Version, Status: in.Status,
			State: in.State, Nodes: in.Nodes, Detail: fmt.Sprintf("migrated from version %d to %d", plan.From.Version, plan.To.Version)}, nil
	}
	state, err := decodeState(in)
	if err != nil {
		return store.InstanceMove{}, err
	}
	mv, err := plan.Move(state, t.Now(), func() (*kalcifer.Customer, error) { return t.Customer(in.TenantID, in.CustomerID) })
	if err != nil {
		return store.InstanceMove{}, err
	}
	return instanceMove(in, plan, mv)
}

// instanceMove turns a Move into the rows to write.
func instanceMove(in *kalcifer.Instance, plan *Plan, mv Move) (store.InstanceMove, error) {
	raw, err := encodeState(&mv.State)
	if err != nil {
		return store.InstanceMove{}, err
	}
	out := store.InstanceMove{Prior: in, Outcome: mv.Outcome, Version: plan.To.Version, Status: mv.Status, State: raw,
		Nodes: []string{}, Waits: mv.Waits, Drop: mv.Drop, Detail: mv.Detail}
	for _, p := range mv.State.Paths {
		out.Nodes = append(out.Nodes, p.Node)
	}
	switch {
	case mv.Outcome == kalcifer.MoveHeld:
		out.Version, out.Status, out.Reason = plan.From.Version, kalcifer.InstancePaused, mv.Detail
	case mv.Outcome == kalcifer.MoveExited:
		out.Version, out.Reason = plan.From.Version, mv.Detail
	case in.Status == kalcifer.InstancePaused && mv.Status == kalcifer.InstanceActive:
		out.Status = kalcifer.InstancePaused // an operator's pause outlives the migration
	}
	return out, nil
}

// restoreBatch returns one batch of an aborted migration's instances to
// where they were.
func (rt *Runtime) restoreBatch(ctx context.Context, t *store.EngineTx, m *kalcifer.Migration) (int, error) {
	list, err := t.MovesToRestore(m, m.Config.BatchSize)
	if err != nil {
		return 0, err
	}
	j, err := t.Journey(m.TenantID, m.JourneyID)
	if err != nil {
		return 0, err
	}
	b := kalcifer.MigrationBatch{Seq: m.Progress.Batches + 1, StartedAt: t.Now()}
	movedOn := 0
	for _, mi := range list {
		m.Cursor = mi.Current.ID
		prior, err := parseState(mi.PriorState)
		if err != nil {
			return 0, fmt.Errorf("decode prior state of %s: %w", mi.Current.ID, err)
		}
		waits := map[int]kalcifer.Wait{}
		for _, p := range prior.Paths {
			if p.Wait != nil {
				waits[p.ID] = *p.Wait
			}
		}
		ok, err := t.RestoreMove(m.ID, mi, waits, j.Settings.AllowReentry)
		if err != nil {
			return 0, err
		}
		if ok {
			b.Restored++
			switch mi.Outcome { // it no longer counts as what the migration did
			case kalcifer.MoveMigrated:
				m.Progress.Migrated--
			case kalcifer.MoveHeld:
				m.Progress.Held--
			case kalcifer.MoveExited:
				m.Progress.Exited--
			}
			if mi.PriorStatus == kalcifer.InstanceActive { // a send that finished meanwhile moves it on now
				if err := rt.replaySendsOf(ctx, t, mi.Current.ID); err != nil {
					return 0, err
				}
			}
		} else {
			movedOn++
			if len(b.Errors) < maxBatchErrors {
				b.Errors = append(b.Errors, fmt.Sprintf("instance %s moved on since it was migrated: it stays on version %d", mi.Current.ID, mi.Current.Version))
			}
		}
	}
	p := &m.Progress
	p.Restored += b.Restored
	p.MovedOn += movedOn
	if len(list) < m.Config.BatchSize {
		p.Passes++
		left, err := t.RestoreLeft(m)
		if err != nil {
			return 0, err
		}
		if left > 0 {
			m.Cursor = ""
		} else {
			now := t.Now()
			m.Status, m.FinishedAt = kalcifer.MigrationAborted, &now
			if p.MovedOn > 0 {
				m.Reason = fmt.Sprintf("%d instances had moved on since they were migrated and stay on version %d", p.MovedOn, m.ToVersion)
			}
		}
	}
	var batch *kalcifer.MigrationBatch
	if len(list) > 0 {
		b.FinishedAt, p.Batches = rt.clock.Now().UTC(), b.Seq
		batch = &b
	}
	return len(list), t.SaveMigration(m, batch)
}

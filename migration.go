package kalcifer

import (
	"time"

	"github.com/kalcifer/kalcifer/graph"
)

// MigrationStrategy says which running instances a newly published version
// takes over (seed FR-3.3).
type MigrationStrategy string

// Strategies.
const (
	// StrategyNewEntriesOnly leaves running instances on their version;
	// only new entries use the new one.
	StrategyNewEntriesOnly MigrationStrategy = "new_entries_only"
	// StrategyMigrateAll moves every running instance of the previous
	// version.
	StrategyMigrateAll MigrationStrategy = "migrate_all"
	// StrategyGradual moves RolloutPercent of them, chosen deterministically
	// by instance; the percentage can be raised later up to 100.
	StrategyGradual MigrationStrategy = "gradual"
)

// RemovedNodePolicy says what happens to a customer whose node has no
// counterpart in the new version (seed FR-3.6).
type RemovedNodePolicy string

// Policies.
const (
	// PolicySkipToNextMapped moves the customer to the nearest mapped node
	// downstream of theirs in the old graph, which they then enter.
	PolicySkipToNextMapped RemovedNodePolicy = "skip_to_next_mapped"
	// PolicyExit ends the customer's instance.
	PolicyExit RemovedNodePolicy = "exit"
	// PolicyHold parks the customer on the old version for review: the
	// instance is paused until released.
	PolicyHold RemovedNodePolicy = "hold"
)

// MigrationStatus is where a migration is.
type MigrationStatus string

// Statuses: running → completed (or partial, for a gradual rollout under
// 100 %, until raised); running ⇄ paused; running or paused → aborting →
// aborted.
const (
	MigrationRunning   MigrationStatus = "running"
	MigrationPaused    MigrationStatus = "paused"
	MigrationPartial   MigrationStatus = "partial"
	MigrationCompleted MigrationStatus = "completed"
	MigrationAborting  MigrationStatus = "aborting"
	MigrationAborted   MigrationStatus = "aborted"
)

// Finished reports whether nothing more happens to the migration on its own.
func (s MigrationStatus) Finished() bool {
	return s == MigrationCompleted || s == MigrationAborted
}

// Default migration settings.
const (
	DefaultMigrationBatch    = 1000
	MaxMigrationBatch        = 10_000
	DefaultFailureThreshold  = 0.05 // a failure rate above this pauses the migration
	failureThresholdMinCount = 100  // …once this many instances were tried
)

// MigrationConfig is how a migration runs.
type MigrationConfig struct {
	RolloutPercent    int               `json:"rollout_percent"`
	BatchSize         int               `json:"batch_size"`
	RemovedNodePolicy RemovedNodePolicy `json:"removed_node_policy,omitempty"`
	// FailureThreshold is the share of failed instances (0–1) above which
	// the migration pauses itself.
	FailureThreshold float64 `json:"failure_threshold"`
}

// Normalize fills defaults and checks the config for strategy.
func (c *MigrationConfig) Normalize(strategy MigrationStrategy) error {
	switch strategy {
	case StrategyNewEntriesOnly, StrategyMigrateAll:
		if c.RolloutPercent != 0 && c.RolloutPercent != 100 {
			return Errorf(EUNPROCESSABLE, "rollout_percent applies only to the gradual strategy")
		}
		c.RolloutPercent = 100
		if strategy == StrategyNewEntriesOnly {
			c.RolloutPercent = 0
		}
	case StrategyGradual:
		if c.RolloutPercent < 1 || c.RolloutPercent > 100 {
			return Errorf(EUNPROCESSABLE, "the gradual strategy needs a rollout_percent from 1 to 100, not %d", c.RolloutPercent)
		}
	case "":
		return Errorf(EUNPROCESSABLE, "migration_strategy is required: new_entries_only, migrate_all or gradual")
	default:
		return Errorf(EUNPROCESSABLE, "unknown migration_strategy %q: use new_entries_only, migrate_all or gradual", strategy)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultMigrationBatch
	}
	if c.BatchSize < 1 || c.BatchSize > MaxMigrationBatch {
		return Errorf(EUNPROCESSABLE, "batch_size must be from 1 to %d, not %d", MaxMigrationBatch, c.BatchSize)
	}
	switch c.RemovedNodePolicy {
	case "", PolicySkipToNextMapped, PolicyExit, PolicyHold:
	default:
		return Errorf(EUNPROCESSABLE, "unknown removed_node_policy %q: use skip_to_next_mapped, exit or hold", c.RemovedNodePolicy)
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.FailureThreshold < 0 || c.FailureThreshold > 1 {
		return Errorf(EUNPROCESSABLE, "failure_threshold must be from 0 to 1, not %v", c.FailureThreshold)
	}
	return nil
}

// Migration moves a journey's running instances from one version to
// another, in batches, in the background.
type Migration struct {
	ID          string            `json:"id"`
	TenantID    string            `json:"tenant_id"`
	JourneyID   string            `json:"journey_id"`
	FromVersion int               `json:"from_version"`
	ToVersion   int               `json:"to_version"`
	Strategy    MigrationStrategy `json:"strategy"`
	Config      MigrationConfig   `json:"config"`
	// Mapping is the node mapping used: old node id → new node id.
	Mapping    map[string]string  `json:"node_mapping"`
	Confidence map[string]float64 `json:"confidence,omitempty"`
	Rollback   bool               `json:"rollback"`
	Status     MigrationStatus    `json:"status"`
	// Reason says why it paused by itself or what an abort left behind.
	Reason   string            `json:"reason,omitempty"`
	Progress MigrationProgress `json:"progress"`
	Actor    string            `json:"actor"`
	// Cursor is the last instance id examined in the current pass.
	Cursor      string     `json:"-"`
	LockVersion int        `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// MigrationProgress counts what a migration did to instances.
type MigrationProgress struct {
	// Total is how many instances were on the old version when it started.
	Total int `json:"total"`
	// Examined counts instance rows looked at, over every pass.
	Examined int `json:"examined"`
	Migrated int `json:"migrated"`
	Held     int `json:"held"`
	Exited   int `json:"exited"`
	Failed   int `json:"failed"`
	// NotSelected are instances a gradual rollout left on the old version.
	NotSelected int `json:"not_selected"`
	// Restored counts instances an abort returned to the old version;
	// MovedOn those it left because they had moved on since.
	Restored int `json:"restored"`
	MovedOn  int `json:"moved_on"`
	Batches  int `json:"batches"`
	// Passes counts trips through the instances in the current phase.
	Passes int `json:"passes"`
	// TriedAtResume and FailedAtResume are the counts when the migration
	// was last resumed: the failure rate is measured since then.
	TriedAtResume  int `json:"tried_at_resume,omitempty"`
	FailedAtResume int `json:"failed_at_resume,omitempty"`
}

// FailureRateExceeded reports whether failures are above threshold, once
// enough instances were tried for the rate to mean something.
// Failures before the last resume do not count.
func (p MigrationProgress) FailureRateExceeded(threshold float64) bool {
	tried, failed := p.Tried()-p.TriedAtResume, p.Failed-p.FailedAtResume
	return tried >= failureThresholdMinCount && float64(failed) > threshold*float64(tried)
}

// Tried counts the instances the migration tried to move.
func (p MigrationProgress) Tried() int { return p.Migrated + p.Held + p.Exited + p.Failed }

// MigrationBatch is one batch's result.
type MigrationBatch struct {
	Seq        int       `json:"seq"`
	Migrated   int       `json:"migrated"`
	Held       int       `json:"held"`
	Exited     int       `json:"exited"`
	Failed     int       `json:"failed"`
	Restored   int       `json:"restored"`
	Errors     []string  `json:"errors,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// Per-instance outcomes of a migration.
const (
	MoveMigrated = "migrated"
	MoveHeld     = "held"
	MoveExited   = "exited"
	MoveFailed   = "failed"
)

// PublishRequest is the body of publish and rollback.
type PublishRequest struct {
	Strategy MigrationStrategy `json:"migration_strategy"`
	Config   MigrationConfig   `json:"migration_config"`
	// NodeMapping overrides the automatic proposal: old node id → new node
	// id; an empty value leaves the old node unmapped.
	NodeMapping map[string]string `json:"node_mapping"`
	// DryRun answers with the plan without publishing.
	DryRun bool `json:"dry_run"`
}

// SelectedForRollout reports whether a gradual rollout of percent takes the
// instance: a stable hash of its id, so raising the percentage keeps every
// instance already chosen.
func SelectedForRollout(instanceID string, percent int) bool {
	if percent >= 100 {
		return true
	}
	var h uint32 = 2166136261 // FNV-1a
	for i := 0; i < len(instanceID); i++ {
		h ^= uint32(instanceID[i])
		h *= 16777619
	}
	return int(h%100) < percent
}

// PublishPlan is what publishing a version will do (the answer to a dry
// run), and, once published, the migration started.
type PublishPlan struct {
	FromVersion int                `json:"from_version"`
	ToVersion   int                `json:"to_version"`
	Strategy    MigrationStrategy  `json:"migration_strategy"`
	Config      MigrationConfig    `json:"migration_config"`
	Mapping     map[string]string  `json:"node_mapping"`
	Confidence  map[string]float64 `json:"confidence"`
	// Unmapped lists the old nodes without a counterpart.
	Unmapped []string `json:"unmapped"`
	// Populated counts the running instances at each old node.
	Populated map[string]int `json:"populated"`
	Diff      graph.Diff     `json:"diff"`
	Migration *Migration     `json:"migration,omitempty"`
	// Warnings say what will not work as a user may expect in the version
	// published (e.g. messages a dry-run provider only logs).
	Warnings []Warning `json:"warnings,omitempty"`
}

// ReleaseRequest says what to do with instances a migration holds.
type ReleaseRequest struct {
	// InstanceIDs names the instances; empty releases every held one.
	InstanceIDs []string `json:"instance_ids"`
	// NodeMapping maps removed nodes for these instances (old id → new id).
	NodeMapping map[string]string `json:"node_mapping"`
	// Policy applies to removed nodes still unmapped: skip_to_next_mapped
	// or exit.
	Policy RemovedNodePolicy `json:"removed_node_policy"`
}

// ReleaseResult counts what a release did.
type ReleaseResult struct {
	Migrated int      `json:"migrated"`
	Exited   int      `json:"exited"`
	Skipped  []string `json:"skipped"` // not held (any more), or changed since
	// Failed lists the instances that could not move; they stay held.
	Failed []ReleaseFailure `json:"failed"`
}

// ReleaseFailure says why one held instance could not be released.
type ReleaseFailure struct {
	InstanceID string `json:"instance_id"`
	Error      string `json:"error"`
}

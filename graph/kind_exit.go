package graph

// Exit node types: each ends the path, and maybe the instance.
const (
	TypeGoalReached = "goal_reached"
	TypeJourneyExit = "journey_exit"
)

var exitKinds = []Kind{
	{Type: TypeGoalReached, Group: GroupExit, Config: GoalReachedConfig{},
		OptionalBranches: []string{DefaultBranch}, DynamicBranches: "default, followed only when exit_after_goal is false",
		Description: "Marks a conversion goal; optionally ends the journey."},
	{Type: TypeJourneyExit, Group: GroupExit, Config: JourneyExitConfig{},
		Description: "Ends the journey for the customer."},
}

// GoalReachedConfig is a goal_reached's config.
type GoalReachedConfig struct {
	nothingToCheck
	GoalName      string `json:"goal_name" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The conversion goal, e.g. first_purchase."`
	ExitAfterGoal bool   `json:"exit_after_goal,omitempty" jsonschema:"default=false" jsonschema_description:"End the journey when the goal is reached; otherwise continue on the default branch."`
}

// JourneyExitConfig is a journey_exit's config.
type JourneyExitConfig struct {
	nothingToCheck
	Reason string `json:"reason,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Why customers leave here, for reports."`
}

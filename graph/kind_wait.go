package graph

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Wait node types: each holds the path until a time or an event.
const (
	TypeWait         = "wait"
	TypeWaitUntil    = "wait_until"
	TypeWaitForEvent = "wait_for_event"
)

// The branches out of a wait_for_event unless its config renames them.
const (
	BranchEventReceived = "event_received"
	BranchTimedOut      = "timed_out"
)

var waitKinds = []Kind{
	{Type: TypeWait, Group: GroupLogic, Holds: HoldsWait, Branches: []string{DefaultBranch}, Config: WaitConfig{},
		Description: "Waits for a fixed duration."},
	{Type: TypeWaitUntil, Group: GroupLogic, Holds: HoldsWait, Branches: []string{DefaultBranch}, Config: WaitUntilConfig{},
		Description: "Waits until a fixed time or a time held in a customer attribute."},
	{Type: TypeWaitForEvent, Group: GroupLogic, Holds: HoldsWait, Config: WaitForEventConfig{},
		Description:     "Waits for a customer event or a timeout, whichever comes first.",
		DynamicBranches: "event_branch and timeout_branch from the config (default " + BranchEventReceived + " and " + BranchTimedOut + ")"},
}

// WaitConfig is a wait's config.
type WaitConfig struct {
	Duration Duration `json:"duration"`
}

// Check refuses a duration of zero or past MaxDuration.
func (c WaitConfig) Check(bad func(string, error)) {
	checkDuration(string(c.Duration), MaxDuration, "duration", bad)
}

// WaitUntilConfig is a wait_until's config.
type WaitUntilConfig struct {
	Until  string `json:"until" jsonschema:"minLength=1" jsonschema_description:"An RFC 3339 time (2026-12-24T09:00:00Z) or a customer attribute holding one (customer.trial_ends_at)."`
	Offset string `json:"offset,omitempty" jsonschema:"pattern=^-?[0-9]{1\\,9}(ms|s|m|h|d)$" jsonschema_description:"Shifts the time waited for: -2d waits until 2 days before it, 3h until 3 hours after it."`
}

// OffsetValue is the signed offset, 0 when there is none.
func (c WaitUntilConfig) OffsetValue() (time.Duration, error) {
	if c.Offset == "" {
		return 0, nil
	}
	d, err := ParseDuration(strings.TrimPrefix(c.Offset, "-"))
	if strings.HasPrefix(c.Offset, "-") {
		d = -d
	}
	return d, err
}

var customerAttr = regexp.MustCompile(`^customer\.[A-Za-z_][A-Za-z0-9_.]*$`)

// Check refuses an until that is neither an RFC 3339 time nor a customer
// attribute, and an offset that is not a signed duration.
func (c WaitUntilConfig) Check(bad func(string, error)) {
	if c.Offset != "" {
		checkDuration(strings.TrimPrefix(c.Offset, "-"), MaxDuration, "offset", bad)
	}
	if _, err := time.Parse(time.RFC3339, c.Until); err == nil || customerAttr.MatchString(c.Until) {
		return
	}
	bad("until", fmt.Errorf("%q is neither an RFC 3339 time (2026-12-24T09:00:00Z) nor a customer attribute (customer.trial_ends_at)", c.Until))
}

// WaitForEventConfig is a wait_for_event's config.
type WaitForEventConfig struct {
	EventType     string         `json:"event_type" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The customer event to wait for, e.g. email_opened."`
	Timeout       Duration       `json:"timeout"`
	Filter        map[string]any `json:"filter,omitempty" jsonschema_description:"Only events whose data has these keys with equal values count."`
	EventBranch   string         `json:"event_branch,omitempty" jsonschema:"minLength=1,default=event_received" jsonschema_description:"Branch taken when the event arrives."`
	TimeoutBranch string         `json:"timeout_branch,omitempty" jsonschema:"minLength=1,default=timed_out" jsonschema_description:"Branch taken when the timeout passes first."`
}

// EventBranchName is the branch taken when the event arrives.
func (c WaitForEventConfig) EventBranchName() string {
	if c.EventBranch == "" {
		return BranchEventReceived
	}
	return c.EventBranch
}

// TimeoutBranchName is the branch taken when the timeout passes first.
func (c WaitForEventConfig) TimeoutBranchName() string {
	if c.TimeoutBranch == "" {
		return BranchTimedOut
	}
	return c.TimeoutBranch
}

// Branches are the event and the timeout branch, both required.
func (c WaitForEventConfig) Branches() (required, optional []string) {
	return []string{c.EventBranchName(), c.TimeoutBranchName()}, nil
}

// Check refuses a timeout of zero or past MaxDuration, and two branches of
// the same name.
func (c WaitForEventConfig) Check(bad func(string, error)) {
	checkDuration(string(c.Timeout), MaxDuration, "timeout", bad)
	if eb, tb := c.EventBranchName(), c.TimeoutBranchName(); eb == tb {
		bad("timeout_branch", fmt.Errorf("must differ from event_branch (both are %q)", eb))
	}
}

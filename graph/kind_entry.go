package graph

import (
	"fmt"
	"time"

	"github.com/adhocore/gronx"
)

// Entry node types: they start a journey for a customer.
const (
	TypeEventEntry     = "event_entry"
	TypeSegmentEntry   = "segment_entry"
	TypeWebhookEntry   = "webhook_entry"
	TypeScheduledEntry = "scheduled_entry"
)

var entryKinds = []Kind{
	{Type: TypeEventEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: EventEntryConfig{},
		Description: "Starts the journey for a customer when an event of a given type arrives."},
	{Type: TypeSegmentEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: SegmentEntryConfig{},
		Description: "Starts the journey for customers who enter a segment."},
	{Type: TypeWebhookEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: WebhookEntryConfig{},
		Description: "Starts the journey when an external system POSTs to the journey's webhook."},
	{Type: TypeScheduledEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: ScheduledEntryConfig{},
		Description: "Starts the journey on a cron schedule for matching customers."},
}

// EventEntryConfig is an event_entry's config.
type EventEntryConfig struct {
	nothingToCheck
	EventType string         `json:"event_type" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The event type that starts the journey, e.g. signed_up."`
	Filter    map[string]any `json:"filter,omitempty" jsonschema_description:"Only events whose data has these keys with equal values start the journey."`
}

// Who a segment_entry enrols (SegmentEntryConfig.Enrol).
const (
	EnrolNew      = "new"      // customers who start matching after activation (the default)
	EnrolExisting = "existing" // the members at activation, once
	EnrolBoth     = "both"     // the members at activation, then those who start matching
)

// DefaultSegmentSchedule is when a segment_entry re-evaluates its whole
// segment when it names no schedule: every hour, for rules relative to now
// ("in the last 30 days") that change membership without any change to
// the customer.
const DefaultSegmentSchedule = "0 * * * *"

// SegmentEntryConfig is a segment_entry's config.
type SegmentEntryConfig struct {
	SegmentID string  `json:"segment_id" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The segment whose members enter the journey."`
	Schedule  *string `json:"schedule,omitempty" jsonschema_description:"When to re-evaluate the whole segment (UTC), as a 5-field cron expression, for rules relative to now such as in the last 30 days; default hourly (0 * * * *). A profile change or event is checked at once whatever the schedule."`
	Enrol     string  `json:"enrol,omitempty" jsonschema:"enum=new,enum=existing,enum=both,default=new" jsonschema_description:"Who enters: new, customers who start matching after activation; existing, the members at activation (once); both. Default new."`
}

// EnrolMode is Enrol with its default.
func (c SegmentEntryConfig) EnrolMode() string {
	if c.Enrol == "" {
		return EnrolNew
	}
	return c.Enrol
}

// ScheduleOrDefault is Schedule with its default.
func (c SegmentEntryConfig) ScheduleOrDefault() string {
	if c.Schedule == nil {
		return DefaultSegmentSchedule
	}
	return *c.Schedule
}

// Key says what the entry's enrolment depends on: when it changes (a new
// version), the entry starts afresh.
func (c SegmentEntryConfig) Key() string {
	return fmt.Sprintf("segment=%s enrol=%s schedule=%s", c.SegmentID, c.EnrolMode(), c.ScheduleOrDefault())
}

// NextRun is when the segment is next re-evaluated after t (UTC), or nil
// for an entry of the existing members only, which runs once.
func (c SegmentEntryConfig) NextRun(t time.Time) (*time.Time, error) {
	if c.EnrolMode() == EnrolExisting {
		return nil, nil
	}
	return nextTick(c.ScheduleOrDefault(), t.UTC(), nil)
}

// Check refuses a schedule that is not a 5-field cron firing within 5 years.
func (c SegmentEntryConfig) Check(bad func(string, error)) {
	if c.Schedule != nil {
		if err := checkCron(*c.Schedule); err != nil {
			bad("schedule", err)
		}
	}
}

// WebhookEntryConfig is a webhook_entry's config.
type WebhookEntryConfig struct {
	nothingToCheck
	Description string `json:"description,omitempty" jsonschema:"maxLength=1000" jsonschema_description:"What system calls this webhook, for the journey's readers."`
}

// ScheduledEntryConfig is a scheduled_entry's config.
type ScheduledEntryConfig struct {
	Cron      string  `json:"cron" jsonschema:"minLength=1" jsonschema_description:"When to run, as a 5-field cron expression, e.g. 0 9 * * 1 for Mondays at 09:00."`
	Timezone  *string `json:"timezone,omitempty" jsonschema_description:"IANA time zone of the schedule, e.g. Europe/Paris; default UTC."`
	SegmentID string  `json:"segment_id,omitempty" jsonschema_description:"Only members of this segment enter; default: every customer."`
	EndAt     *string `json:"end_at,omitempty" jsonschema:"format=date-time" jsonschema_description:"RFC 3339 time after which the schedule stops by itself, e.g. 2027-01-01T00:00:00Z; default: never."`
}

// Location is the schedule's time zone (UTC by default). Check has
// refused a zone Go does not know.
func (c ScheduledEntryConfig) Location() *time.Location {
	if c.Timezone == nil {
		return time.UTC
	}
	loc, err := time.LoadLocation(*c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// End is EndAt as a time; ok is false when the schedule has no end.
func (c ScheduledEntryConfig) End() (end time.Time, ok bool) {
	if c.EndAt == nil {
		return time.Time{}, false
	}
	end, err := time.Parse(time.RFC3339, *c.EndAt)
	return end, err == nil
}

// Key says what the schedule depends on: when it changes (a new version),
// the schedule starts afresh.
func (c ScheduledEntryConfig) Key() string {
	end := ""
	if c.EndAt != nil {
		end = *c.EndAt
	}
	return fmt.Sprintf("cron=%s tz=%s segment=%s end=%s", c.Cron, c.Location(), c.SegmentID, end)
}

// NextRun is the schedule's first tick after t, in its time zone (so
// daylight saving time moves it as the zone's clocks move), or nil when
// there is none before its end.
func (c ScheduledEntryConfig) NextRun(t time.Time) (*time.Time, error) {
	var end *time.Time
	if e, ok := c.End(); ok {
		end = &e
	}
	return nextTick(c.Cron, t.In(c.Location()), end)
}

// nextTick is cron's first tick after t, in UTC, or nil when it is after
// end.
func nextTick(cron string, t time.Time, end *time.Time) (*time.Time, error) {
	next, err := gronx.NextTickAfter(cron, t, false)
	if err != nil {
		return nil, fmt.Errorf("next tick of %q: %w", cron, err)
	}
	next = next.UTC()
	if end != nil && next.After(*end) {
		return nil, nil
	}
	return &next, nil
}

// Check refuses a cron that never fires, a time zone Go does not know and
// an end that is not an RFC 3339 time.
func (c ScheduledEntryConfig) Check(bad func(string, error)) {
	if c.EndAt != nil {
		if _, err := time.Parse(time.RFC3339, *c.EndAt); err != nil {
			bad("end_at", fmt.Errorf("%q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", *c.EndAt))
		}
	}
	if err := checkCron(c.Cron); err != nil {
		bad("cron", err)
	}
	if c.Timezone != nil {
		tz := *c.Timezone
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			bad("timezone", fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", tz))
		}
	}
}

package graph

import (
	"fmt"
	"time"
)

// Entry node types: they start a journey for a customer.
const (
	TypeEventEntry     = "event_entry"
	TypeSegmentEntry   = "segment_entry"
	TypeWebhookEntry   = "webhook_entry"
	TypeScheduledEntry = "scheduled_entry"
)

// useInstead names the entries that work, for the types that do not yet.
const useInstead = "use event_entry, webhook_entry or POST /journeys/{id}/trigger"

var entryKinds = []Kind{
	{Type: TypeEventEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: EventEntryConfig{},
		Description: "Starts the journey for a customer when an event of a given type arrives."},
	{Type: TypeSegmentEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: SegmentEntryConfig{},
		Description: "Starts the journey for customers who enter a segment.",
		NotRunnable: "segment_entry cannot enrol customers yet: segments are not implemented; " + useInstead},
	{Type: TypeWebhookEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: WebhookEntryConfig{},
		Description: "Starts the journey when an external system POSTs to the journey's webhook."},
	{Type: TypeScheduledEntry, Group: GroupEntry, Branches: []string{DefaultBranch}, Config: ScheduledEntryConfig{},
		Description: "Starts the journey on a cron schedule for matching customers.",
		NotRunnable: "scheduled_entry cannot enrol customers yet: scheduled entries are not implemented; " + useInstead},
}

// EventEntryConfig is an event_entry's config.
type EventEntryConfig struct {
	nothingToCheck
	EventType string         `json:"event_type" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The event type that starts the journey, e.g. signed_up."`
	Filter    map[string]any `json:"filter,omitempty" jsonschema_description:"Only events whose data has these keys with equal values start the journey."`
}

// SegmentEntryConfig is a segment_entry's config.
type SegmentEntryConfig struct {
	SegmentID string  `json:"segment_id" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The segment whose new members enter the journey."`
	Schedule  *string `json:"schedule,omitempty" jsonschema_description:"How often to re-evaluate the segment, as a 5-field cron expression; default: on every profile change."`
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
}

// Check refuses a cron that never fires and a time zone Go does not know.
func (c ScheduledEntryConfig) Check(bad func(string, error)) {
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

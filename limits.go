package kalcifer

import (
	"fmt"
	"time"
)

// MaxLimit bounds every limit and quota, so that a typo cannot overflow
// anything downstream.
const MaxLimit = 1_000_000_000

// Limits are a tenant's rate limits and quotas. Zero means unlimited.
type Limits struct {
	// EventsPerSecond bounds the events a tenant sends (each event of a
	// batch and each webhook entry counts); bursts of one second's worth
	// pass at once.
	EventsPerSecond int `json:"events_per_second"`
	// APIPerMinute bounds authenticated API requests; bursts of one
	// minute's worth pass at once.
	APIPerMinute int `json:"api_per_minute"`
	// ActiveInstances bounds instances that have not ended (active or
	// paused): an entry beyond it is skipped and counted.
	ActiveInstances int `json:"active_instances"`
	// Journeys bounds journeys that are not archived.
	Journeys int `json:"journeys"`
	// UploadsPerDay bounds campaign-plan uploads per UTC day.
	UploadsPerDay int `json:"uploads_per_day"`
}

// LimitOverrides are the limits the operator set for one tenant; a nil
// field follows the server's default.
type LimitOverrides struct {
	EventsPerSecond *int `json:"events_per_second,omitempty"`
	APIPerMinute    *int `json:"api_per_minute,omitempty"`
	ActiveInstances *int `json:"active_instances,omitempty"`
	Journeys        *int `json:"journeys,omitempty"`
	UploadsPerDay   *int `json:"uploads_per_day,omitempty"`
}

// Fields pairs each override with its name and its field of Limits, in the
// order the CLI and the API show them.
func (o *LimitOverrides) Fields(l *Limits) []LimitField {
	return []LimitField{
		{"events-per-second", &o.EventsPerSecond, &l.EventsPerSecond},
		{"api-per-minute", &o.APIPerMinute, &l.APIPerMinute},
		{"active-instances", &o.ActiveInstances, &l.ActiveInstances},
		{"journeys", &o.Journeys, &l.Journeys},
		{"uploads-per-day", &o.UploadsPerDay, &l.UploadsPerDay},
	}
}

// LimitField is one limit: its name, its override and its effective value.
type LimitField struct {
	Name     string
	Override **int
	Value    *int
}

// Over returns the effective limits: each override, or the default d.
func (o LimitOverrides) Over(d Limits) Limits {
	for _, f := range o.Fields(&d) {
		if *f.Override != nil {
			*f.Value = **f.Override
		}
	}
	return d
}

// Validate checks that every override is a whole number from 0 (unlimited)
// to MaxLimit.
func (o LimitOverrides) Validate() error {
	var problems []Detail
	for _, f := range o.Fields(&Limits{}) {
		if v := *f.Override; v != nil && (*v < 0 || *v > MaxLimit) {
			problems = append(problems, Detail{Field: f.Name, Message: fmt.Sprintf("must be from 0 (unlimited) to %d, not %d", MaxLimit, *v)})
		}
	}
	if len(problems) > 0 {
		return &Error{Code: EUNPROCESSABLE, Message: "invalid limits: " + problems[0].Field + " " + problems[0].Message, Details: problems}
	}
	return nil
}

// Usage is what a tenant uses of its quotas now.
type Usage struct {
	// ActiveInstances counts instances that have not ended.
	ActiveInstances int `json:"active_instances"`
	// Journeys counts journeys that are not archived.
	Journeys int `json:"journeys"`
	// UploadsToday counts uploads this UTC day.
	UploadsToday int `json:"uploads_today"`
	// SkippedEntriesToday counts entries the active-instance quota
	// refused this UTC day: customers who were not started.
	SkippedEntriesToday int `json:"skipped_entries_today"`
}

// UTCDay numbers the UTC day of t (days since 1970-01-01), the key of the
// daily counts.
func UTCDay(t time.Time) int64 { return t.Unix() / 86400 }

// NextUTCDay is when the UTC day after t's begins.
func NextUTCDay(t time.Time) time.Time { return time.Unix((UTCDay(t)+1)*86400, 0).UTC() }

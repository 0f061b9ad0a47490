package kalcifer

import (
	"time"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer/graph"
)

// Alert rule kinds (FR-10.5).
const (
	// AlertFailureRate fires when the share of a journey's sends (or
	// instances) that failed over Window is above Threshold (0–1).
	AlertFailureRate = "failure_rate"
	// AlertDeliveryRate fires when the share of a channel's finished sends
	// that were delivered over Window drops below Threshold (0–1).
	AlertDeliveryRate = "delivery_rate"
	// AlertStuck fires when more than Threshold customers have been at a
	// journey's node (any node when NodeID is empty) without moving for
	// longer than StuckFor.
	AlertStuck = "stuck"
)

// Failure-rate subjects.
const (
	AlertSubjectSends     = "sends"
	AlertSubjectInstances = "instances"
)

// AlertRule is a condition the alert loop evaluates continuously. It fires
// once per episode (an Alert) and resolves when the condition clears.
type AlertRule struct {
	ID        string `json:"id"`
	TenantID  string `json:"-"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	JourneyID string `json:"journey_id,omitempty"`
	// Subject is what a failure_rate rule counts: sends (default) or
	// instances.
	Subject string `json:"subject,omitempty"`
	// Channel is what a delivery_rate rule watches (email, sms, …).
	Channel string `json:"channel,omitempty"`
	// NodeID narrows a stuck rule to one node.
	NodeID string `json:"node_id,omitempty"`
	// Window is how far back rates look ("1h" by default).
	Window string `json:"window,omitempty"`
	// StuckFor is how long a customer must stay at a node to count as
	// stuck (stuck rules; required).
	StuckFor string `json:"stuck_for,omitempty"`
	// Threshold is a share (0–1) for rates, a number of customers for stuck.
	Threshold float64 `json:"threshold"`
	// MinCount is the fewest sends or instances in the window a rate is
	// judged on (10 by default), so that one failure of two is no alert.
	MinCount  int       `json:"min_count,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Default alert rule settings.
const (
	DefaultAlertWindow   = "1h"
	DefaultAlertMinCount = 10
	MaxAlertNameLen      = 200
	maxAlertWindow       = 30 * 24 * time.Hour
)

// Normalize fills a rule's defaults and checks it, naming the field at
// fault.
func (r *AlertRule) Normalize() error {
	if r.Name == "" {
		return Errorf(EUNPROCESSABLE, "name is required")
	}
	if n := utf8.RuneCountInString(r.Name); n > MaxAlertNameLen {
		return Errorf(EUNPROCESSABLE, "name has at most %d characters; this one has %d", MaxAlertNameLen, n)
	}
	if r.Threshold < 0 {
		return Errorf(EUNPROCESSABLE, "threshold must not be negative")
	}
	if r.MinCount < 0 {
		return Errorf(EUNPROCESSABLE, "min_count must not be negative")
	}
	rate := func() error {
		if r.Window == "" {
			r.Window = DefaultAlertWindow
		}
		if _, err := r.WindowDuration(); err != nil {
			return err
		}
		if r.Threshold > 1 {
			return Errorf(EUNPROCESSABLE, "threshold of a %s rule is a share between 0 and 1, not %v", r.Kind, r.Threshold)
		}
		if r.MinCount == 0 {
			r.MinCount = DefaultAlertMinCount
		}
		if r.StuckFor != "" || r.NodeID != "" {
			return Errorf(EUNPROCESSABLE, "stuck_for and node_id belong to stuck rules, not %s", r.Kind)
		}
		return nil
	}
	switch r.Kind {
	case AlertFailureRate:
		if r.JourneyID == "" {
			return Errorf(EUNPROCESSABLE, "journey_id is required for a failure_rate rule")
		}
		if r.Subject == "" {
			r.Subject = AlertSubjectSends
		}
		if r.Subject != AlertSubjectSends && r.Subject != AlertSubjectInstances {
			return Errorf(EUNPROCESSABLE, "subject %q: use sends or instances", r.Subject)
		}
		if r.Channel != "" {
			return Errorf(EUNPROCESSABLE, "channel belongs to delivery_rate rules, not failure_rate")
		}
		return rate()
	case AlertDeliveryRate:
		if r.Channel == "" {
			return Errorf(EUNPROCESSABLE, "channel is required for a delivery_rate rule (email, sms, push, whatsapp or webhook)")
		}
		if r.Subject != "" {
			return Errorf(EUNPROCESSABLE, "subject belongs to failure_rate rules, not delivery_rate")
		}
		return rate()
	case AlertStuck:
		if r.JourneyID == "" {
			return Errorf(EUNPROCESSABLE, "journey_id is required for a stuck rule")
		}
		if r.StuckFor == "" {
			return Errorf(EUNPROCESSABLE, "stuck_for is required for a stuck rule, such as 2h or 3d")
		}
		if _, err := r.StuckDuration(); err != nil {
			return err
		}
		if r.Window != "" || r.Subject != "" || r.Channel != "" || r.MinCount != 0 {
			return Errorf(EUNPROCESSABLE, "window, subject, channel and min_count belong to rate rules, not stuck")
		}
		if r.Threshold != float64(int64(r.Threshold)) {
			return Errorf(EUNPROCESSABLE, "threshold of a stuck rule is a number of customers, not %v", r.Threshold)
		}
		return nil
	case "":
		return Errorf(EUNPROCESSABLE, "kind is required: failure_rate, delivery_rate or stuck")
	default:
		return Errorf(EUNPROCESSABLE, "unknown kind %q: use failure_rate, delivery_rate or stuck", r.Kind)
	}
}

// WindowDuration is Window as a duration.
func (r *AlertRule) WindowDuration() (time.Duration, error) {
	d, err := graph.ParseDuration(r.Window)
	if err != nil || d <= 0 || d > maxAlertWindow {
		return 0, Errorf(EUNPROCESSABLE, "window %q must be a duration such as 15m, 1h or 1d, at most 30d", r.Window)
	}
	return d, nil
}

// StuckDuration is StuckFor as a duration.
func (r *AlertRule) StuckDuration() (time.Duration, error) {
	d, err := graph.ParseDuration(r.StuckFor)
	if err != nil || d <= 0 {
		return 0, Errorf(EUNPROCESSABLE, "stuck_for %q must be a duration such as 30m, 2h or 3d", r.StuckFor)
	}
	return d, nil
}

// Alert statuses.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// Alert is one episode of a rule's condition: fired when it began to hold,
// resolved when it stopped.
type Alert struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	RuleID   string `json:"rule_id"`
	RuleName string `json:"rule_name"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	// Value is the measure when it fired (a share, or a number of
	// customers); LastValue the latest seen while it held.
	Value      float64    `json:"value"`
	LastValue  float64    `json:"last_value"`
	Message    string     `json:"message"`
	FiredAt    time.Time  `json:"fired_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

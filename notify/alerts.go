package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// DefaultAlertInterval is how often the alert loop evaluates the rules.
const DefaultAlertInterval = 30 * time.Second

// Alerts evaluates every tenant's active alert rules: a rule whose
// condition holds fires one alert (an episode) and its alert.fired
// webhooks; the alert resolves, with alert.resolved, at the first
// evaluation where the condition no longer holds.
type Alerts struct {
	st       *store.Store
	clock    kalcifer.Clock
	logger   *slog.Logger
	interval time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewAlerts returns the alert loop over st, evaluating every interval
// (DefaultAlertInterval when 0); clock and logger may be nil.
func NewAlerts(st *store.Store, clock kalcifer.Clock, logger *slog.Logger, interval time.Duration) *Alerts {
	if clock == nil {
		clock = kalcifer.SystemClock{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	if interval <= 0 {
		interval = DefaultAlertInterval
	}
	return &Alerts{st: st, clock: clock, logger: logger, interval: interval}
}

// Start runs the loop until Stop.
func (a *Alerts) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	a.mu.Lock()
	a.cancel, a.done = cancel, make(chan struct{})
	done := a.done
	a.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(a.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := a.Evaluate(ctx); err != nil && ctx.Err() == nil {
					a.logger.Error("evaluate alert rules", "err", err)
				}
			}
		}
	}()
}

// Stop ends the loop and waits for it.
func (a *Alerts) Stop() {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Evaluate judges every active rule once and returns how many alerts fired
// or resolved. A rule that cannot be measured is logged and skipped, so one
// broken rule never stops the others.
func (a *Alerts) Evaluate(ctx context.Context) (int, error) {
	rules, err := a.st.ActiveAlertRules(ctx)
	if err != nil {
		return 0, err
	}
	changed := 0
	var errs []error
	for _, r := range rules {
		n, err := a.evaluate(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("alert rule %s: %w", r.ID, err))
			continue
		}
		changed += n
	}
	return changed, errors.Join(errs...)
}

func (a *Alerts) evaluate(ctx context.Context, r *kalcifer.AlertRule) (int, error) {
	holds, value, msg, err := a.measure(ctx, r)
	if err != nil {
		return 0, err
	}
	open, err := a.st.OpenAlert(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	switch {
	case holds && open == nil:
		_, fired, err := a.st.FireAlert(ctx, r, value, msg)
		if fired {
			a.logger.Warn("alert fired", "tenant_id", r.TenantID, "rule_id", r.ID, "rule", r.Name, "value", value)
			return 1, err
		}
		return 0, err
	case holds:
		return 0, a.st.NoteAlertValue(ctx, open, value)
	case open != nil:
		a.logger.Info("alert resolved", "tenant_id", r.TenantID, "rule_id", r.ID, "rule", r.Name, "value", value)
		return 1, a.st.ResolveAlert(ctx, r, open, value)
	}
	return 0, nil
}

// measure computes a rule's value and whether its condition holds.
func (a *Alerts) measure(ctx context.Context, r *kalcifer.AlertRule) (holds bool, value float64, msg string, err error) {
	now := a.clock.Now()
	switch r.Kind {
	case kalcifer.AlertFailureRate, kalcifer.AlertDeliveryRate:
		window, err := r.WindowDuration()
		if err != nil {
			return false, 0, "", err
		}
		var part, total int
		if r.Kind == kalcifer.AlertFailureRate {
			part, total, err = a.st.FailureRate(ctx, r.TenantID, r.JourneyID, r.Subject, now.Add(-window))
		} else {
			part, total, err = a.st.DeliveryRate(ctx, r.TenantID, r.Channel, now.Add(-window))
		}
		if err != nil || total == 0 {
			return false, 0, "", err
		}
		value = float64(part) / float64(total)
		if total < r.MinCount {
			return false, value, "", nil
		}
		if r.Kind == kalcifer.AlertFailureRate {
			return value > r.Threshold, value, fmt.Sprintf("%d of %d %s of journey %s failed in the last %s (%.1f%%, above %.1f%%)",
				part, total, r.Subject, r.JourneyID, r.Window, 100*value, 100*r.Threshold), nil
		}
		return value < r.Threshold, value, fmt.Sprintf("%d of %d %s sends were delivered in the last %s (%.1f%%, below %.1f%%)",
			part, total, r.Channel, r.Window, 100*value, 100*r.Threshold), nil
	case kalcifer.AlertStuck:
		d, err := r.StuckDuration()
		if err != nil {
			return false, 0, "", err
		}
		n, err := a.st.Stuck(ctx, r.TenantID, r.JourneyID, r.NodeID, now.Add(-d))
		if err != nil {
			return false, 0, "", err
		}
		where := "journey " + r.JourneyID
		if r.NodeID != "" {
			where = "node " + r.NodeID + " of " + where
		}
		return float64(n) > r.Threshold, float64(n), fmt.Sprintf("%d customers have been at %s for more than %s", n, where, r.StuckFor), nil
	}
	return false, 0, "", fmt.Errorf("unknown kind %q", r.Kind)
}

package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// wait blocks a path for a fixed duration.
type wait struct{ d time.Duration }

func newWait(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.WaitConfig](n)
	if err != nil {
		return nil, err
	}
	d, err := c.Duration.Value()
	if err != nil {
		return nil, err
	}
	return wait{d}, nil
}

func (k wait) enter(r *run, _ *Path) result {
	due := r.in.Now.Add(k.d)
	return result{wait: &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due}}
}

func (wait) resume(_ *run, p *Path, w Wake) result { return timerDone(p, w) }

// timerDone continues a path whose timer fired.
func timerDone(p *Path, w Wake) result {
	if w.Kind != WakeTimer {
		return result{err: fmt.Errorf("path %d waits for a timer, woken by %s", p.ID, w.Kind)}
	}
	return result{branch: graph.DefaultBranch}
}

// waitUntil blocks a path until a fixed time or a time held in a customer
// attribute, shifted by its offset. A time already past continues at once; a missing or
// unparseable attribute fails the instance with a message saying which.
type waitUntil struct {
	at     time.Time
	attr   string        // attribute path under customer., when not a fixed time
	offset time.Duration // added to the time: -48h is 2 days before it
}

func newWaitUntil(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.WaitUntilConfig](n)
	if err != nil {
		return nil, err
	}
	offset, err := c.OffsetValue()
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339, c.Until); err == nil {
		return waitUntil{at: t, offset: offset}, nil
	}
	if attr, ok := strings.CutPrefix(c.Until, "customer."); ok {
		return waitUntil{attr: attr, offset: offset}, nil
	}
	return nil, fmt.Errorf("until %q is neither an RFC 3339 time nor customer.<attribute>", c.Until)
}

func (k waitUntil) enter(r *run, _ *Path) result {
	at := k.at
	if k.attr != "" {
		v, ok := lookup(r.customerMap(), k.attr)
		if !ok {
			return result{err: fmt.Errorf("customer attribute %q is not set", k.attr)}
		}
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return result{err: fmt.Errorf("customer attribute %q = %v is not an RFC 3339 time", k.attr, v)}
		}
		at = t
	}
	at = at.Add(k.offset)
	if !at.After(r.in.Now) {
		return result{branch: graph.DefaultBranch}
	}
	at = at.UTC()
	return result{wait: &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &at}}
}

func (waitUntil) resume(_ *run, p *Path, w Wake) result { return timerDone(p, w) }

// waitForEvent blocks a path until a matching event or the timeout,
// whichever the runtime commits first.
type waitForEvent struct {
	eventType     string
	filter        map[string]any
	timeout       time.Duration
	eventBranch   string
	timeoutBranch string
	varKey        string // in State.Vars: "event:<node ID>"
}

func newWaitForEvent(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.WaitForEventConfig](n)
	if err != nil {
		return nil, err
	}
	d, err := c.Timeout.Value()
	if err != nil {
		return nil, err
	}
	return waitForEvent{eventType: c.EventType, filter: c.Filter, timeout: d,
		eventBranch: c.EventBranchName(), timeoutBranch: c.TimeoutBranchName(), varKey: "event:" + n.ID}, nil
}

func (k waitForEvent) enter(r *run, _ *Path) result {
	due := r.in.Now.Add(k.timeout)
	return result{wait: &kalcifer.Wait{Kind: kalcifer.WaitEvent, EventType: k.eventType, Filter: k.filter, DueAt: &due}}
}

func (k waitForEvent) resume(r *run, p *Path, w Wake) result {
	switch w.Kind {
	case WakeEvent:
		if w.Event != nil {
			r.state.Vars[k.varKey] = w.Event.Type
		}
		return result{branch: k.eventBranch}
	case WakeTimer:
		return result{branch: k.timeoutBranch}
	}
	return result{err: fmt.Errorf("path %d waits for an event, woken by %s", p.ID, w.Kind)}
}

// WaitMatches reports whether an event satisfies a wait's type and filter:
// each filter key must equal the event data's value at that key (compared
// as JSON values).
func WaitMatches(w kalcifer.Wait, e kalcifer.Event) bool {
	if w.Kind != kalcifer.WaitEvent || w.EventType != e.Type {
		return false
	}
	return FilterMatches(w.Filter, e.Data)
}

// FilterMatches reports whether data (a JSON object) has every key of filter
// with an equal value.
func FilterMatches(filter map[string]any, data json.RawMessage) bool {
	if len(filter) == 0 {
		return true
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return false
	}
	for k, want := range filter {
		got, ok := m[k]
		if !ok || !jsonEqual(got, want) {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}

// lookup finds a dotted path ("address.city") in nested maps.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/sandbox"
)

// updateProfile sets customer attributes.
type updateProfile struct{ set map[string]any }

func newUpdateProfile(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.UpdateProfileConfig](n)
	if err != nil {
		return nil, err
	}
	return updateProfile{c.Set}, nil
}

func (k updateProfile) enter(r *run, _ *Path) result {
	if r.out.Set == nil {
		r.out.Set = make(map[string]any, len(k.set))
	}
	for key, v := range k.set {
		r.setAttribute(key, v)
	}
	return result{branch: graph.DefaultBranch}
}

func (updateProfile) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// tag adds or removes a customer tag.
type tag struct {
	name string
	add  bool
}

func newTag(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.TagConfig](n)
	if err != nil {
		return nil, err
	}
	return tag{name: c.Tag, add: n.Type == graph.TypeAddTag}, nil
}

func (k tag) enter(r *run, _ *Path) result {
	tags := make([]string, 0, len(r.tags)+1) // a new slice: r.tags may be the caller's
	for _, t := range r.tags {
		if t != k.name {
			tags = append(tags, t)
		}
	}
	if k.add {
		tags = append(tags, k.name)
		r.out.AddTags = append(r.out.AddTags, k.name)
	} else {
		r.out.RemoveTags = append(r.out.RemoveTags, k.name)
	}
	r.setTags(tags)
	return result{branch: graph.DefaultBranch}
}

func (tag) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// customCode runs the node's Lua in the sandbox (Input.RunCode) and merges
// the table it returns into the instance's data. The code can do nothing
// but compute that table, so running it again — after a transaction rolled
// back, or a crash before the commit — changes nothing twice; only the
// committed run's table is kept.
type customCode struct {
	code    string
	timeout time.Duration
}

func newCustomCode(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.CustomCodeConfig](n)
	if err != nil {
		return nil, err
	}
	return customCode{code: c.Code, timeout: c.TimeoutOrDefault()}, nil
}

// A server with custom code off fails the instances that reach it (their
// version was published where it was on).
var errCustomCodeOff = errors.New(must(graph.LookupKind(graph.TypeCustomCode)).Off)

func (k customCode) enter(r *run, _ *Path) result {
	if r.in.RunCode == nil {
		return result{err: errCustomCodeOff}
	}
	data, err := r.state.instanceData()
	if err != nil {
		return result{err: err}
	}
	if data == nil {
		data = map[string]any{}
	}
	res, err := r.in.RunCode(sandbox.Request{Code: k.code, Timeout: k.timeout, Globals: map[string]any{
		"customer": r.customerMap(), "event": r.eventMap(),
		"instance": map[string]any{"id": r.in.InstanceID, "journey": r.prog.journey, "data": data}}})
	if err != nil {
		return result{err: fmt.Errorf("custom code: %w", err)}
	}
	if len(res.Data) > 0 { // a new map: the caller's state is never changed
		merged := make(map[string]any, len(data)+len(res.Data))
		maps.Copy(merged, data)
		maps.Copy(merged, res.Data)
		r.state.setData(merged)
	}
	return result{branch: graph.DefaultBranch, detail: codeDetail(res)}
}

// codeDetail is a custom_code step's detail: the keys it set and what it
// printed, shortened.
func codeDetail(res sandbox.Result) string {
	keys := slices.Sorted(maps.Keys(res.Data))
	if len(keys) > 10 {
		keys = append(keys[:10], "…")
	}
	d := "set " + strings.Join(keys, ", ")
	if len(keys) == 0 {
		d = "set nothing"
	}
	if p := strings.TrimSpace(res.Printed); p != "" {
		if len(p) > 500 {
			p = p[:500] + "…"
		}
		d += "; printed: " + p
	}
	return d
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("engine: a kind the catalog lacks")
	}
	return v
}

func (customCode) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// goal marks a conversion; with exit_after_goal the instance exits.
type goal struct {
	name string
	exit bool
	key  string // in State.Vars: "goal:<name>"
	why  string // the exit reason
}

func newGoal(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.GoalReachedConfig](n)
	if err != nil {
		return nil, err
	}
	return goal{name: c.GoalName, exit: c.ExitAfterGoal, key: "goal:" + c.GoalName, why: "goal reached: " + c.GoalName}, nil
}

func (k goal) enter(r *run, _ *Path) result {
	r.out.Goals = append(r.out.Goals, k.name)
	r.state.Vars[k.key] = r.in.Now.UTC().Format(time.RFC3339)
	if k.exit {
		return result{exit: k.why}
	}
	return result{branch: graph.DefaultBranch}
}

func (goal) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// journeyExit ends the whole instance.
type journeyExit struct{}

func (journeyExit) enter(*run, *Path) result { return result{exit: "journey_exit"} }

func (journeyExit) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

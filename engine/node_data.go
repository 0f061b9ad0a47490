package engine

import (
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer/graph"
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

// customCode is not run yet: Lua runs in a sandboxed child process, which
// comes with the custom code work. Until then the node fails its instance
// with a clear reason rather than being skipped silently.
type customCode struct{}

func (customCode) enter(*run, *Path) result {
	return result{err: fmt.Errorf("custom_code nodes are not enabled on this server")}
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

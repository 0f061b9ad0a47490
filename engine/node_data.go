package engine

import (
	"fmt"

	"github.com/kalcifer/kalcifer/graph"
)

// updateProfile sets customer attributes.
type updateProfile struct{ set map[string]any }

func newUpdateProfile(n graph.Node) (kind, error) {
	var c struct {
		Set map[string]any `json:"set"`
	}
	if err := decode(n, &c); err != nil {
		return nil, err
	}
	return updateProfile{c.Set}, nil
}

func (k updateProfile) enter(r *run, _ *Path) result {
	if r.out.Set == nil {
		r.out.Set = map[string]any{}
	}
	if r.in.Customer.Attributes == nil {
		r.in.Customer.Attributes = map[string]any{}
	}
	for key, v := range k.set {
		r.out.Set[key] = v
		r.in.Customer.Attributes[key] = v // later nodes of this run see it
	}
	r.cust = nil
	return result{branch: graph.DefaultBranch}
}

func (updateProfile) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// tag adds or removes a customer tag.
type tag struct {
	name string
	add  bool
}

func newTag(n graph.Node) (kind, error) {
	var c struct {
		Tag string `json:"tag"`
	}
	if err := decode(n, &c); err != nil {
		return nil, err
	}
	return tag{name: c.Tag, add: n.Type == "add_tag"}, nil
}

func (k tag) enter(r *run, _ *Path) result {
	tags := r.in.Customer.Tags[:0:0]
	for _, t := range r.in.Customer.Tags {
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
	r.in.Customer.Tags = tags
	r.cust = nil
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
}

func newGoal(n graph.Node) (kind, error) {
	var c struct {
		GoalName      string `json:"goal_name"`
		ExitAfterGoal bool   `json:"exit_after_goal"`
	}
	if err := decode(n, &c); err != nil {
		return nil, err
	}
	return goal{name: c.GoalName, exit: c.ExitAfterGoal}, nil
}

func (k goal) enter(r *run, _ *Path) result {
	r.out.Goals = append(r.out.Goals, k.name)
	r.state.Vars["goal:"+k.name] = r.in.Now.UTC().Format("2006-01-02T15:04:05Z07:00")
	if k.exit {
		return result{exit: "goal reached: " + k.name}
	}
	return result{branch: graph.DefaultBranch}
}

func (goal) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// journeyExit ends the whole instance.
type journeyExit struct{}

func (journeyExit) enter(*run, *Path) result { return result{exit: "journey_exit"} }

func (journeyExit) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

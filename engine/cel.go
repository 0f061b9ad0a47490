package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"

	"github.com/kalcifer/kalcifer/graph"
)

// ResolveName makes a run the interpreter.Activation its CEL expressions
// see: customer (attributes plus id and tags), event (type, data, timestamp
// of the latest event) and journey (id, version). Each is built when an
// expression first names it, so an expression pays only for what it reads,
// and passing the run itself spares wrapping a map on every evaluation. The
// customer's map is kept up to date as nodes change the profile.
func (r *run) ResolveName(name string) (any, bool) {
	switch name {
	case "customer":
		return r.customerMap(), true
	case "event":
		return r.eventMap(), true
	case "journey":
		return r.prog.journey, true
	}
	return nil, false
}

// Parent implements interpreter.Activation: there is none.
func (r *run) Parent() interpreter.Activation { return nil }

// eventMap is the event that woke the run, or else the one that started the
// instance, as CEL sees it.
func (r *run) eventMap() map[string]any {
	if r.event != nil {
		return r.event
	}
	ev := map[string]any{}
	e := r.in.Wake.Event
	if e == nil {
		e = r.state.Event
	}
	if e != nil {
		ev["type"] = e.Type
		ev["timestamp"] = e.OccurredAt
		var data map[string]any
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &data) == nil {
			ev["data"] = data
		}
	}
	r.event = ev
	return ev
}

// customerMap is the customer's attributes, with this run's profile changes
// laid over them and "id" and "tags" added.
func (r *run) customerMap() map[string]any {
	if r.cust != nil {
		return r.cust
	}
	c := r.in.Customer
	m := make(map[string]any, len(c.Attributes)+len(r.out.Set)+2)
	maps.Copy(m, c.Attributes)
	maps.Copy(m, r.out.Set)
	m["id"], m["tags"] = c.ID, r.tags
	r.cust = m
	return m
}

// setAttribute changes a profile attribute for the rest of the run and for
// the runtime to store; r.out.Set must be made.
func (r *run) setAttribute(key string, v any) {
	r.out.Set[key] = v
	r.exitKnown = false
	if r.cust != nil && key != "id" && key != "tags" { // those two are the customer's own
		r.cust[key] = v
	}
}

// setTags replaces the customer's tags for the rest of the run.
func (r *run) setTags(tags []string) {
	r.tags, r.exitKnown = tags, false
	if r.cust != nil {
		r.cust["tags"] = tags
	}
}

// evalBool evaluates an expression compiled from graph.CELEnv, whose
// programs stop at graph.ExprCostLimit.
func evalBool(prg cel.Program, r *run) (bool, error) {
	v, _, err := prg.Eval(r)
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return false, fmt.Errorf("evaluate expression: stopped at the cost limit of %d, too costly for this customer's data: %w", graph.ExprCostLimit, err)
	}
	if err != nil {
		return false, fmt.Errorf("evaluate expression: %w", err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %v, not true or false", v.Value())
	}
	return b, nil
}

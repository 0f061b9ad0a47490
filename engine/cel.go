package engine

import (
	"encoding/json"
	"fmt"

	"cel.dev/cel-go/cel"
)

// activation is what CEL expressions see: customer (attributes plus id and
// tags), event (type, data, timestamp of the latest event) and journey (id,
// version). It is built once per run and rebuilt after the profile changes.
func (r *run) activation() map[string]any {
	if r.act != nil && r.cust != nil {
		return r.act
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
	r.act = map[string]any{
		"customer": r.customerMap(),
		"event":    ev,
		"journey":  map[string]any{"id": r.prog.JourneyID, "version": int64(r.prog.Version)},
	}
	return r.act
}

// customerMap is the customer's attributes with "id" and "tags" added.
func (r *run) customerMap() map[string]any {
	if r.cust != nil {
		return r.cust
	}
	c := r.in.Customer
	m := make(map[string]any, len(c.Attributes)+2)
	for k, v := range c.Attributes {
		m[k] = v
	}
	tags := make([]any, len(c.Tags))
	for i, t := range c.Tags {
		tags[i] = t
	}
	m["id"], m["tags"] = c.ID, tags
	r.cust = m
	return m
}

func evalBool(prg cel.Program, act map[string]any) (bool, error) {
	v, _, err := prg.Eval(act)
	if err != nil {
		return false, fmt.Errorf("evaluate expression: %w", err)
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %v, not true or false", v.Value())
	}
	return b, nil
}

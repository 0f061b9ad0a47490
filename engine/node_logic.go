package engine

import (
	"fmt"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/kalcifer/kalcifer/graph"
)

// condition routes a path to "true" or "false" by a CEL expression over
// customer, event and journey.
type condition struct{ prg cel.Program }

func newCondition(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.ConditionConfig](n)
	if err != nil {
		return nil, err
	}
	prg, err := compileCEL(c.Expression)
	if err != nil {
		return nil, err
	}
	return condition{prg}, nil
}

func (k condition) enter(r *run, _ *Path) result {
	v, err := evalBool(k.prg, r)
	if err != nil {
		return result{err: err}
	}
	if v {
		return result{branch: graph.BranchTrue}
	}
	return result{branch: graph.BranchFalse}
}

func (condition) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// abSplit assigns a customer to a variant by a hash of customer and journey,
// so the same customer always gets the same variant of a journey.
type abSplit struct {
	keys    []string
	weights []uint32
	total   uint32
	varKey  string // in State.Vars: "variant:<node ID>"
}

func newABSplit(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.ABSplitConfig](n)
	if err != nil {
		return nil, err
	}
	k := abSplit{varKey: "variant:" + n.ID}
	for _, v := range c.Variants {
		k.keys = append(k.keys, v.Key)
		k.weights = append(k.weights, v.Weight)
		k.total += v.Weight
	}
	if k.total == 0 {
		return nil, fmt.Errorf("ab_split needs variants with positive weights")
	}
	return k, nil
}

func (k abSplit) enter(r *run, p *Path) result {
	v := k.pick(r.in.Customer.ID, r.prog.JourneyID)
	r.state.Vars[k.varKey] = v
	return result{branch: v}
}

// pick maps (customer, journey) to a variant, in proportion to the weights.
func (k abSplit) pick(customerID, journeyID string) string {
	point := uint32(splitHash(customerID, journeyID) % uint64(k.total))
	for i, w := range k.weights {
		if point < w {
			return k.keys[i]
		}
		point -= w
	}
	return k.keys[len(k.keys)-1]
}

// splitHash is 64-bit FNV-1a of customer ID, a zero byte and journey ID.
// It is hash/fnv's New64a written out, because that one allocates on every
// call; variants already assigned depend on it never changing.
func splitHash(customerID, journeyID string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(customerID); i++ {
		h = (h ^ uint64(customerID[i])) * prime
	}
	h *= prime // the zero byte: h ^ 0 is h
	for i := 0; i < len(journeyID); i++ {
		h = (h ^ uint64(journeyID[i])) * prime
	}
	return h
}

func (abSplit) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// frequencyCap routes to "within_cap" or "exceeded" by how many messages the
// customer got on a channel, across journeys, in the window.
type frequencyCap struct {
	channel string
	max     int
	window  time.Duration
}

func newFrequencyCap(n graph.Node) (kind, error) {
	c, err := graph.DecodeConfig[graph.FrequencyCapConfig](n)
	if err != nil {
		return nil, err
	}
	d, err := c.Window.Value()
	if err != nil {
		return nil, err
	}
	return frequencyCap{channel: c.Channel, max: c.Max, window: d}, nil
}

func (k frequencyCap) enter(r *run, _ *Path) result {
	if r.in.SentSince == nil {
		return result{err: fmt.Errorf("frequency_cap: no send history available")}
	}
	if r.in.SentSince(k.channel, r.in.Now.Add(-k.window)) >= k.max {
		return result{branch: graph.BranchExceeded}
	}
	return result{branch: graph.BranchWithinCap}
}

func (frequencyCap) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

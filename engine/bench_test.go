package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// The benchmarks below measure Program.Run alone, in memory: no store, no
// JSON of the instance row. They report node executions per second, the
// figure the engine's throughput target is stated in.

// benchCustomer is a profile of a realistic size: a dozen attributes, a few
// tags.
func benchCustomer() *kalcifer.Customer {
	attrs := map[string]any{"plan": "premium", "score": 7.0, "country": "NL", "unsubscribed": false,
		"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "orders": 12.0,
		"trial_ends_at": "2026-12-01T00:00:00Z", "locale": "nl-NL", "ltv": 420.5,
		"address": map[string]any{"city": "Utrecht", "zip": "3511"}}
	return &kalcifer.Customer{ID: "c42", Attributes: attrs, Tags: []string{"newsletter", "beta", "vip"}}
}

var benchEvent = &kalcifer.Event{Type: "order_placed", OccurredAt: t0,
	Data: json.RawMessage(`{"order_id":"o-981","amount":59.9,"currency":"EUR","items":3}`)}

// mixedJourney is entry → profile and tag changes → conditions over
// customer and event → A/B split → a timer wait; the timer leads to a
// condition, a goal, a tag removal and the exit.
func mixedJourney(b *testing.B, exitCriteria bool) *Program {
	var extra []func(*graph.Graph)
	if exitCriteria {
		extra = append(extra, func(g *graph.Graph) {
			g.ExitCriteria = &graph.ExitCriteria{Expression: "customer.unsubscribed == true"}
		})
	}
	return build(b, []string{`in:event_entry:{"event_type":"order_placed"}`,
		`u:update_profile:{"set":{"last_order":"o-981","orders":13}}`,
		`t:add_tag:{"tag":"buyer"}`,
		`c1:condition:{"expression":"customer.plan == 'premium' && event.data.amount > 50.0"}`,
		`c2:condition:{"expression":"'vip' in customer.tags || customer.ltv > 1000.0"}`,
		`s:ab_split:{"variants":[{"key":"a","weight":50},{"key":"b","weight":50}]}`,
		`w:wait:{"duration":"1d"}`,
		`c3:condition:{"expression":"customer.country == 'NL' && journey.version > 0"}`,
		`g:goal_reached:{"goal_name":"repeat_buyer"}`,
		`r:remove_tag:{"tag":"beta"}`,
		"x:journey_exit"},
		[]string{"in->u", "u->t", "t->c1", "c1-true->c2", "c1-false->c2", "c2-true->s", "c2-false->s",
			"s-a->w", "s-b->w", "w->c3", "c3-true->g", "c3-false->r", "g->r", "r->x"}, extra...)
}

// BenchmarkRunMixed starts an instance (seven nodes, ending in a wait) and
// resumes it on its timer (five nodes to the exit), as the runtime does.
func BenchmarkRunMixed(b *testing.B) {
	for _, exitCriteria := range []bool{false, true} {
		b.Run(fmt.Sprintf("exit_criteria=%t", exitCriteria), func(b *testing.B) {
			p := mixedJourney(b, exitCriteria)
			c := benchCustomer()
			nodes := 0
			b.ReportAllocs()
			for b.Loop() {
				out, err := p.Run(Input{Now: t0, InstanceID: "i", Customer: c, Wake: Wake{Kind: WakeStart, Event: benchEvent}})
				if err != nil || out.Status != kalcifer.InstanceActive {
					b.Fatalf("start: %v %s %s", err, out.Status, out.Reason)
				}
				nodes += len(out.Steps)
				out, err = p.Run(Input{Now: t0.Add(24 * time.Hour), InstanceID: "i", Customer: c, State: out.State,
					Wake: Wake{Kind: WakeTimer, PathID: out.State.Paths[0].ID}})
				if err != nil || out.Status != kalcifer.InstanceExited {
					b.Fatalf("resume: %v %s %s", err, out.Status, out.Reason)
				}
				nodes += len(out.Steps)
			}
			b.ReportMetric(float64(nodes)/b.Elapsed().Seconds(), "nodes/s")
		})
	}
}

// BenchmarkRunWaitForEvent resumes a path on a matching event: the event
// leads through a condition on its data to a tag and the end.
func BenchmarkRunWaitForEvent(b *testing.B) {
	p := build(b, []string{entryNode, `w:wait_for_event:{"event_type":"order_placed","timeout":"3d"}`,
		`c:condition:{"expression":"event.data.items >= 3"}`, `y:add_tag:{"tag":"big"}`, `n:add_tag:{"tag":"small"}`},
		[]string{"in->w", "w-event_received->c", "w-timed_out->n", "c-true->y", "c-false->n"})
	c := benchCustomer()
	waiting := start(b, p, c)
	id, _ := onlyWait(b, waiting)
	nodes := 0
	b.ReportAllocs()
	for b.Loop() {
		out, err := p.Run(Input{Now: t0.Add(time.Hour), InstanceID: "i", Customer: c, State: waiting.State,
			Wake: Wake{Kind: WakeEvent, PathID: id, Event: benchEvent}})
		if err != nil || out.Status != kalcifer.InstanceCompleted {
			b.Fatalf("%v %s %s", err, out.Status, out.Reason)
		}
		nodes += len(out.Steps)
	}
	b.ReportMetric(float64(nodes)/b.Elapsed().Seconds(), "nodes/s")
}

// BenchmarkRunLatency times each run of a logic-node journey (six logic
// nodes between entry and exit) and reports the distribution: a node's
// latency is bounded by its run's.
func BenchmarkRunLatency(b *testing.B) {
	p := mixedJourney(b, true)
	c := benchCustomer()
	var samples []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t := time.Now()
		out, err := p.Run(Input{Now: t0, InstanceID: "i", Customer: c, Wake: Wake{Kind: WakeStart, Event: benchEvent}})
		samples = append(samples, time.Since(t))
		if err != nil || out.Status != kalcifer.InstanceActive {
			b.Fatalf("%v %s %s", err, out.Status, out.Reason)
		}
	}
	slices.Sort(samples)
	at := func(q float64) float64 { return float64(samples[int(q*float64(len(samples)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(at(0.999), "p99.9-ns")
}

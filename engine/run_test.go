package engine

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"

	"github.com/kalcifer/kalcifer/graph"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// build compiles a graph written compactly: nodes "id:type:config" and
// edges "src->dst" or "src-branch->dst".
func build(t testing.TB, nodes []string, edges []string, extra ...func(*graph.Graph)) *Program {
	t.Helper()
	g := &graph.Graph{}
	for _, n := range nodes {
		parts := strings.SplitN(n, ":", 3)
		cfg := "{}"
		if len(parts) == 3 {
			cfg = parts[2]
		}
		g.Nodes = append(g.Nodes, graph.Node{ID: parts[0], Type: parts[1], Config: json.RawMessage(cfg)})
	}
	for i, e := range edges {
		src, dst, _ := strings.Cut(e, "->")
		src, branch, _ := strings.Cut(src, "-")
		g.Edges = append(g.Edges, graph.Edge{ID: fmt.Sprintf("e%d", i), Source: src, Target: dst, Branch: branch})
	}
	for _, f := range extra {
		f(g)
	}
	if ps := graph.Validate(g); ps != nil {
		t.Fatalf("test graph invalid: %+v", ps)
	}
	p, err := Compile("j1", 1, g)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func start(t testing.TB, p *Program, c *kalcifer.Customer) Output {
	t.Helper()
	out, err := p.Run(Input{Now: t0, InstanceID: "i1", Customer: c, State: State{},
		Wake: Wake{Kind: WakeStart, Event: &kalcifer.Event{Type: "signed_up", OccurredAt: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wake(t testing.TB, p *Program, prev Output, now time.Time, w Wake) Output {
	t.Helper()
	out, err := p.Run(Input{Now: now, InstanceID: "i1", Customer: &kalcifer.Customer{ID: "c1"}, State: prev.State, Wake: w})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func onlyWait(t testing.TB, out Output) (int, kalcifer.Wait) {
	t.Helper()
	if len(out.Waits) != 1 {
		t.Fatalf("waits = %+v, want one", out.Waits)
	}
	for id, w := range out.Waits {
		return id, w
	}
	panic("unreachable")
}

func trail(out Output) string {
	var s []string
	for _, st := range out.Steps {
		s = append(s, st.NodeID+"="+st.Result)
	}
	return strings.Join(s, " ")
}

const entryNode = `in:event_entry:{"event_type":"signed_up"}`

func TestWait(t *testing.T) {
	p := build(t, []string{entryNode, `w:wait:{"duration":"3d"}`, "x:journey_exit"}, []string{"in->w", "w->x"})
	out := start(t, p, &kalcifer.Customer{ID: "c1"})
	id, w := onlyWait(t, out)
	if out.Status != kalcifer.InstanceActive || w.Kind != kalcifer.WaitTimer || !w.DueAt.Equal(t0.Add(72*time.Hour)) {
		t.Fatalf("status %s wait %+v", out.Status, w)
	}
	if got := trail(out); got != "in=default w=waiting" {
		t.Fatalf("trail %q", got)
	}
	// A wake for the wrong kind is refused; the timer moves it on.
	if _, err := p.Run(Input{Now: t0, Customer: &kalcifer.Customer{}, State: out.State, Wake: Wake{Kind: WakeTimer, PathID: 99}}); err != ErrStaleWake {
		t.Fatalf("unknown path: %v", err)
	}
	out = wake(t, p, out, t0.Add(72*time.Hour), Wake{Kind: WakeTimer, PathID: id})
	if out.Status != kalcifer.InstanceExited || trail(out) != "w=default x=exited" {
		t.Fatalf("status %s trail %q", out.Status, trail(out))
	}
	// The same timer again finds nothing waiting.
	if _, err := p.Run(Input{Now: t0, Customer: &kalcifer.Customer{}, State: out.State, Wake: Wake{Kind: WakeTimer, PathID: id}}); err != ErrStaleWake {
		t.Fatalf("second fire: %v", err)
	}
}

func TestWaitUntil(t *testing.T) {
	p := build(t, []string{entryNode, `w:wait_until:{"until":"customer.trial_ends_at"}`}, []string{"in->w"})
	out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"trial_ends_at": "2026-11-30T00:00:00Z"}})
	if _, w := onlyWait(t, out); !w.DueAt.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("due %v", w.DueAt)
	}
	past := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"trial_ends_at": "2020-01-01T00:00:00Z"}})
	if past.Status != kalcifer.InstanceCompleted {
		t.Fatalf("a time already past continues at once: %s %q", past.Status, trail(past))
	}
	missing := start(t, p, &kalcifer.Customer{ID: "c1"})
	if missing.Status != kalcifer.InstanceFailed || !strings.Contains(missing.Reason, "trial_ends_at") {
		t.Fatalf("missing attribute: %s %q", missing.Status, missing.Reason)
	}
}

// An offset shifts the time waited for: -2d is two days before the renewal.
func TestWaitUntilOffset(t *testing.T) {
	p := build(t, []string{entryNode, `w:wait_until:{"until":"customer.renewal_date","offset":"-2d"}`}, []string{"in->w"})
	out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"renewal_date": "2026-11-30T09:00:00Z"}})
	if _, w := onlyWait(t, out); !w.DueAt.Equal(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("due %v, want 2 days before the renewal", w.DueAt)
	}
	after := build(t, []string{entryNode, `w:wait_until:{"until":"2026-11-30T09:00:00Z","offset":"3h"}`}, []string{"in->w"})
	if _, w := onlyWait(t, start(t, after, &kalcifer.Customer{ID: "c1"})); !w.DueAt.Equal(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("due %v, want 3 hours after", w.DueAt)
	}
}

func TestWaitForEvent(t *testing.T) {
	p := build(t, []string{entryNode, `w:wait_for_event:{"event_type":"email_opened","timeout":"3d","filter":{"campaign":"welcome"}}`,
		`yes:add_tag:{"tag":"opened"}`, `no:add_tag:{"tag":"ignored"}`},
		[]string{"in->w", "w-event_received->yes", "w-timed_out->no"})
	out := start(t, p, &kalcifer.Customer{ID: "c1"})
	id, w := onlyWait(t, out)
	if w.Kind != kalcifer.WaitEvent || w.EventType != "email_opened" || !w.DueAt.Equal(t0.Add(72*time.Hour)) {
		t.Fatalf("wait %+v", w)
	}
	if WaitMatches(w, kalcifer.Event{Type: "email_opened", Data: json.RawMessage(`{"campaign":"other"}`)}) ||
		!WaitMatches(w, kalcifer.Event{Type: "email_opened", Data: json.RawMessage(`{"campaign":"welcome","x":1}`)}) ||
		WaitMatches(w, kalcifer.Event{Type: "clicked", Data: json.RawMessage(`{"campaign":"welcome"}`)}) {
		t.Fatal("filter matching is wrong")
	}
	byEvent := wake(t, p, out, t0.Add(time.Hour), Wake{Kind: WakeEvent, PathID: id, Event: &kalcifer.Event{Type: "email_opened"}})
	if byEvent.Status != kalcifer.InstanceCompleted || len(byEvent.AddTags) != 1 || byEvent.AddTags[0] != "opened" {
		t.Fatalf("event branch: %s %+v", byEvent.Status, byEvent.AddTags)
	}
	byTimer := wake(t, p, out, t0.Add(72*time.Hour), Wake{Kind: WakeTimer, PathID: id})
	if len(byTimer.AddTags) != 1 || byTimer.AddTags[0] != "ignored" {
		t.Fatalf("timeout branch: %+v", byTimer.AddTags)
	}
	// Whichever wins, the other finds nothing to do.
	if _, err := p.Run(Input{Now: t0, Customer: &kalcifer.Customer{}, State: byEvent.State, Wake: Wake{Kind: WakeTimer, PathID: id}}); err != ErrStaleWake {
		t.Fatalf("timer after event: %v", err)
	}
}

func TestCondition(t *testing.T) {
	p := build(t, []string{entryNode, `c:condition:{"expression":"customer.plan == 'premium' && event.type == 'signed_up'"}`,
		`t:add_tag:{"tag":"t"}`, `f:add_tag:{"tag":"f"}`}, []string{"in->c", "c-true->t", "c-false->f"})
	if out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"plan": "premium"}}); out.AddTags[0] != "t" {
		t.Fatalf("premium: %q", trail(out))
	}
	if out := start(t, p, &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"plan": "free"}}); out.AddTags[0] != "f" {
		t.Fatalf("free: %q", trail(out))
	}
	// An expression that cannot be evaluated (no such attribute) fails the instance, not the process.
	if out := start(t, p, &kalcifer.Customer{ID: "c1"}); out.Status != kalcifer.InstanceFailed || !strings.Contains(out.Reason, `node "c"`) {
		t.Fatalf("missing attribute: %s %q", out.Status, out.Reason)
	}
}

func TestABSplit(t *testing.T) {
	p := build(t, []string{entryNode, `s:ab_split:{"variants":[{"key":"a","weight":70},{"key":"b","weight":30}]}`, "x:journey_exit", "y:journey_exit"},
		[]string{"in->s", "s-a->x", "s-b->y"})
	counts := map[string]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		c := &kalcifer.Customer{ID: fmt.Sprintf("c%d", i)}
		out := start(t, p, c)
		v := out.State.Vars["variant:s"]
		counts[v]++
		if again := start(t, p, c); again.State.Vars["variant:s"] != v {
			t.Fatal("a customer must always get the same variant")
		}
	}
	// 70% of 20,000 = 14,000; sd = sqrt(n p q) ≈ 65: allow 5 sd.
	if a := counts["a"]; a < 14000-325 || a > 14000+325 {
		t.Fatalf("variant a got %d of %d, want about 14000", a, n)
	}
}

func TestFrequencyCapNode(t *testing.T) {
	p := build(t, []string{entryNode, `f:frequency_cap:{"channel":"email","max":2,"window":"1d"}`, `ok:add_tag:{"tag":"ok"}`, `over:add_tag:{"tag":"over"}`},
		[]string{"in->f", "f-within_cap->ok", "f-exceeded->over"})
	for sent, want := range map[int]string{0: "ok", 1: "ok", 2: "over", 5: "over"} {
		var since time.Time
		out, err := p.Run(Input{Now: t0, Customer: &kalcifer.Customer{ID: "c"}, Wake: Wake{Kind: WakeStart},
			SentSince: func(ch string, s time.Time) int { since = s; return sent }})
		if err != nil || out.AddTags[0] != want || !since.Equal(t0.Add(-24*time.Hour)) {
			t.Fatalf("sent %d: %v %q since %v", sent, err, trail(out), since)
		}
	}
}

func TestChannelSendAndOutcome(t *testing.T) {
	p := build(t, []string{entryNode, `m:send_email:{"template_id":"welcome"}`, `ok:add_tag:{"tag":"sent"}`, `bad:add_tag:{"tag":"failed"}`},
		[]string{"in->m", "m->ok", "m-failed->bad"})
	out := start(t, p, &kalcifer.Customer{ID: "c1"})
	if len(out.Sends) != 1 || out.Sends[0].Key != "i1:m:1" || out.Sends[0].Channel != "email" || out.Sends[0].Config["template_id"] != "welcome" {
		t.Fatalf("sends %+v", out.Sends)
	}
	id, w := onlyWait(t, out)
	if w.Kind != kalcifer.WaitSend || w.SendKey != "i1:m:1" {
		t.Fatalf("wait %+v", w)
	}
	for outcome, tag := range map[SendOutcome]string{SendSent: "sent", SendFailed: "failed", SendAmbiguous: "failed", SendCapped: "failed"} {
		got := wake(t, p, out, t0, Wake{Kind: WakeSend, PathID: id, Send: outcome})
		if got.AddTags[0] != tag {
			t.Errorf("%s → %q, want %s", outcome, trail(got), tag)
		}
	}
	// Without a failed branch, a failed send continues on default.
	p2 := build(t, []string{entryNode, `m:send_sms:{"body":"hi"}`, `ok:add_tag:{"tag":"next"}`}, []string{"in->m", "m->ok"})
	out = start(t, p2, &kalcifer.Customer{ID: "c1"})
	id, _ = onlyWait(t, out)
	if got := wake(t, p2, out, t0, Wake{Kind: WakeSend, PathID: id, Send: SendFailed}); got.AddTags[0] != "next" {
		t.Fatalf("no failed branch: %q", trail(got))
	}
}

func TestForkAndJoin(t *testing.T) {
	p := build(t, []string{entryNode, `a:wait:{"duration":"1h"}`, `b:wait:{"duration":"2h"}`, `m:send_email:{"template_id":"t"}`},
		[]string{"in->a", "in->b", "a->m", "b->m"})
	out := start(t, p, &kalcifer.Customer{ID: "c1"})
	if len(out.Waits) != 2 || out.Status != kalcifer.InstanceActive {
		t.Fatalf("fork: waits %+v", out.Waits)
	}
	var first, second int
	for id, w := range out.Waits {
		if w.DueAt.Equal(t0.Add(time.Hour)) {
			first = id
		} else {
			second = id
		}
	}
	out = wake(t, p, out, t0.Add(time.Hour), Wake{Kind: WakeTimer, PathID: first})
	out = wake(t, p, out, t0.Add(2*time.Hour), Wake{Kind: WakeTimer, PathID: second})
	if len(out.Sends) != 1 || out.Sends[0].Key != "i1:m:2" {
		t.Fatalf("the second arrival at m is visit 2: %+v", out.Sends)
	}
	ids := []int{}
	for id := range out.Waits {
		ids = append(ids, id)
	}
	out = wake(t, p, out, t0, Wake{Kind: WakeSend, PathID: ids[0], Send: SendSent})
	if out.Status != kalcifer.InstanceActive {
		t.Fatalf("one path still waits for its send: %s", out.Status)
	}
	out = wake(t, p, out, t0, Wake{Kind: WakeSend, PathID: ids[1], Send: SendSent})
	if out.Status != kalcifer.InstanceCompleted {
		t.Fatalf("every path ended: %s", out.Status)
	}
}

func TestGoalAndExit(t *testing.T) {
	cont := build(t, []string{entryNode, `g:goal_reached:{"goal_name":"buy"}`, `t:add_tag:{"tag":"after"}`}, []string{"in->g", "g->t"})
	out := start(t, cont, &kalcifer.Customer{ID: "c"})
	if out.Status != kalcifer.InstanceCompleted || out.Goals[0] != "buy" || out.AddTags[0] != "after" {
		t.Fatalf("continue after goal: %s %+v", out.Status, out)
	}
	stop := build(t, []string{entryNode, `g:goal_reached:{"goal_name":"buy","exit_after_goal":true}`}, []string{"in->g"})
	if out := start(t, stop, &kalcifer.Customer{ID: "c"}); out.Status != kalcifer.InstanceExited || !strings.Contains(out.Reason, "buy") {
		t.Fatalf("exit after goal: %s %q", out.Status, out.Reason)
	}
}

func TestProfileNodes(t *testing.T) {
	p := build(t, []string{entryNode, `u:update_profile:{"set":{"plan":"premium"}}`, `r:remove_tag:{"tag":"trial"}`,
		`c:condition:{"expression":"customer.plan == 'premium' && !('trial' in customer.tags)"}`, `y:add_tag:{"tag":"ok"}`, `n:add_tag:{"tag":"no"}`},
		[]string{"in->u", "u->r", "r->c", "c-true->y", "c-false->n"})
	c := &kalcifer.Customer{ID: "c", Tags: []string{"trial"}, Attributes: map[string]any{"plan": "free"}}
	out := start(t, p, c)
	if out.Set["plan"] != "premium" || out.RemoveTags[0] != "trial" || out.AddTags[0] != "ok" {
		t.Fatalf("later nodes must see earlier profile changes: %q %+v", trail(out), out)
	}
	if c.Attributes["plan"] != "free" || len(c.Tags) != 1 {
		t.Fatal("Run must not change the caller's customer")
	}
}

func TestExitCriteriaExpression(t *testing.T) {
	p := build(t, []string{entryNode, `w:wait:{"duration":"1d"}`, `t:add_tag:{"tag":"late"}`}, []string{"in->w", "w->t"},
		func(g *graph.Graph) {
			g.ExitCriteria = &graph.ExitCriteria{Expression: "customer.unsubscribed == true"}
		})
	out := start(t, p, &kalcifer.Customer{ID: "c", Attributes: map[string]any{"unsubscribed": false}})
	id, _ := onlyWait(t, out)
	got, err := p.Run(Input{Now: t0, Customer: &kalcifer.Customer{ID: "c", Attributes: map[string]any{"unsubscribed": true}},
		State: out.State, Wake: Wake{Kind: WakeTimer, PathID: id}})
	if err != nil || got.Status != kalcifer.InstanceExited || len(got.AddTags) != 0 {
		t.Fatalf("exit criteria before the next step: %v %s %q", err, got.Status, trail(got))
	}
}

// Reaching custom_code where custom code is off (no RunCode) fails the
// instance, saying how to turn it on.
func TestCustomCodeOffFailsClearly(t *testing.T) {
	p := build(t, []string{entryNode, `c:custom_code:{"language":"lua","code":"return 1"}`}, []string{"in->c"})
	if out := start(t, p, &kalcifer.Customer{ID: "c"}); out.Status != kalcifer.InstanceFailed ||
		!strings.Contains(out.Reason, `node "c": custom_code is off on this server`) || !strings.Contains(out.Reason, "KALCIFER_ENABLE_CUSTOM_CODE=true") {
		t.Fatalf("%s %q", out.Status, out.Reason)
	}
}

// TestProfileChangesWithinRun: a change to the profile is seen by every
// later expression of the same run, exit criteria included, even when the
// expression's view of the customer was built before the change.
func TestProfileChangesWithinRun(t *testing.T) {
	exitOn := func(expr string) func(*graph.Graph) {
		return func(g *graph.Graph) { g.ExitCriteria = &graph.ExitCriteria{Expression: expr} }
	}
	tests := []struct {
		name   string
		nodes  []string
		edges  []string
		extra  []func(*graph.Graph)
		status kalcifer.InstanceStatus
		trail  string
	}{{
		name: "condition after update",
		nodes: []string{entryNode, `c1:condition:{"expression":"customer.plan == 'free'"}`, `u:update_profile:{"set":{"plan":"premium","id":"other"}}`,
			`c2:condition:{"expression":"customer.plan == 'premium' && customer.id == 'c'"}`, `y:add_tag:{"tag":"y"}`, `n:add_tag:{"tag":"n"}`},
		edges:  []string{"in->c1", "c1-true->u", "c1-false->n", "u->c2", "c2-true->y", "c2-false->n"},
		status: kalcifer.InstanceCompleted,
		trail:  "in=default c1=true u=default c2=true y=default",
	}, {
		name: "condition after tags",
		nodes: []string{entryNode, `c1:condition:{"expression":"'trial' in customer.tags"}`, `r:remove_tag:{"tag":"trial"}`, `a:add_tag:{"tag":"paid"}`,
			`c2:condition:{"expression":"customer.tags == ['paid'] && size(customer.tags) == 1"}`, `y:add_tag:{"tag":"y"}`, `n:add_tag:{"tag":"n"}`},
		edges:  []string{"in->c1", "c1-true->r", "c1-false->n", "r->a", "a->c2", "c2-true->y", "c2-false->n"},
		status: kalcifer.InstanceCompleted,
		trail:  "in=default c1=true r=default a=default c2=true y=default",
	}, {
		name:   "exit criteria after update",
		nodes:  []string{entryNode, `t:add_tag:{"tag":"x"}`, `u:update_profile:{"set":{"unsubscribed":true}}`, `n:add_tag:{"tag":"n"}`},
		edges:  []string{"in->t", "t->u", "u->n"},
		extra:  []func(*graph.Graph){exitOn("customer.unsubscribed == true")},
		status: kalcifer.InstanceExited,
		trail:  "in=default t=default u=default",
	}, {
		name:   "exit criteria after tag",
		nodes:  []string{entryNode, `u:update_profile:{"set":{"a":1}}`, `t:add_tag:{"tag":"stop"}`, `n:add_tag:{"tag":"n"}`},
		edges:  []string{"in->u", "u->t", "t->n"},
		extra:  []func(*graph.Graph){exitOn("'stop' in customer.tags")},
		status: kalcifer.InstanceExited,
		trail:  "in=default u=default t=default",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := build(t, tt.nodes, tt.edges, tt.extra...)
			c := &kalcifer.Customer{ID: "c", Tags: []string{"trial"}, Attributes: map[string]any{"plan": "free", "unsubscribed": false}}
			out := start(t, p, c)
			if out.Status != tt.status || trail(out) != tt.trail {
				t.Fatalf("got %s %q (%s), want %s %q", out.Status, trail(out), out.Reason, tt.status, tt.trail)
			}
			if c.Attributes["plan"] != "free" || len(c.Attributes) != 2 || len(c.Tags) != 1 || c.Tags[0] != "trial" {
				t.Fatalf("Run changed the caller's customer: %+v", c)
			}
		})
	}
}

// TestSplitHashIsFNV1a: variants already assigned depend on the hash.
func TestSplitHashIsFNV1a(t *testing.T) {
	for _, c := range [][2]string{{"", ""}, {"c1", "j1"}, {"cus_01J9ZK", "jrn_welcome"}, {"ü", "\x00"}} {
		h := fnv.New64a()
		h.Write([]byte(c[0]))
		h.Write([]byte{0})
		h.Write([]byte(c[1]))
		if got, want := splitHash(c[0], c[1]), h.Sum64(); got != want {
			t.Errorf("splitHash(%q, %q) = %x, want %x", c[0], c[1], got, want)
		}
	}
}

func TestSendKey(t *testing.T) {
	if got := SendKey("ins_1", "m", 12); got != "ins_1:m:12" {
		t.Fatalf("SendKey = %q", got)
	}
}

func BenchmarkRunLogicChain(b *testing.B) {
	p := build(b, []string{entryNode, `a:update_profile:{"set":{"x":1}}`, `b:add_tag:{"tag":"t"}`, `c:condition:{"expression":"customer.plan == 'premium'"}`,
		`d:remove_tag:{"tag":"t"}`, `e:ab_split:{"variants":[{"key":"a","weight":1},{"key":"b","weight":1}]}`, "x:journey_exit"},
		[]string{"in->a", "a->b", "b->c", "c-true->d", "c-false->d", "d->e", "e-a->x", "e-b->x"})
	c := &kalcifer.Customer{ID: "c1", Attributes: map[string]any{"plan": "premium"}}
	nodes := 0
	b.ReportAllocs()
	for b.Loop() {
		out, err := p.Run(Input{Now: t0, InstanceID: "i", Customer: c, Wake: Wake{Kind: WakeStart}})
		if err != nil {
			b.Fatal(err)
		}
		nodes += len(out.Steps)
	}
	b.ReportMetric(float64(nodes)/b.Elapsed().Seconds(), "nodes/s")
}

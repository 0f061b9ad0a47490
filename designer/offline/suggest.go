package offline

import (
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// Thresholds of the suggestion rules. A rule speaks only when enough
// customers went through the step it looks at for a rate to mean something,
// and the journey-wide rules only once the journey has had that many
// entries: with less data every answer is an empty list.
const (
	// MinSuggestVolume is how many customers a rate needs: decided waits
	// (event received + timed out), attempted sends (sent + failed), or
	// customers who entered a wait or the journey.
	MinSuggestVolume = 100
	// LowOpenRate: a wait for email_opened whose event arrives for fewer
	// than this share of decided customers has a low open rate.
	LowOpenRate = 0.20
	// HighFailureRate: a message step failing more often than this needs a
	// fallback on its failed branch.
	HighFailureRate = 0.10
	// EarlyExitShare: a wait of at least LongWait during which this share
	// of its customers leave the journey is too long.
	EarlyExitShare = 0.50
	// LongWait is the shortest wait the early-exit rule shortens.
	LongWait = 48 * time.Hour
)

// Suggest proposes improvements of g from its analytics (seed FR-1.7, POST
// /ai/suggest). stats holds what analytics counted per node id. Each
// suggestion carries the whole proposed graph, valid, and its diff from g.
// Rules, in the order steps come from the entry:
//   - sms_reminder, ab_test: a wait for email_opened with an open rate
//     under LowOpenRate: an SMS for the non-openers (when they get none
//     yet), and an A/B test of the email to try another subject;
//   - failure_fallback: a message failing more than HighFailureRate with
//     nothing on its failed branch: another channel there;
//   - shorten_wait: a wait of LongWait or more during which most customers
//     (EarlyExitShare) leave: half the wait;
//
// then, for the journey: unsubscribe_exit when it has no exit criteria, and
// frequency_cap for channels it sends on twice or more without a cap. The
// list is deterministic and may be empty.
func Suggest(g *graph.Graph, stats map[string]designer.NodeStats) []designer.Suggestion {
	out := []designer.Suggestion{}
	if g.Empty() || len(graph.Validate(g)) > 0 {
		return out
	}
	s := &suggester{g: g, base: newEditGraph(g), stats: stats, steps: stepNumbers(g), out: out}
	for _, id := range pathOrder(g) {
		n := *s.base.node(id)
		switch {
		case n.Type == "wait_for_event" && stepField(n, "event_type") == "email_opened":
			s.lowOpenRate(n)
		case graph.IsChannel(n.Type):
			s.failures(n)
		case n.Type == "wait":
			s.earlyExits(n)
		}
	}
	if s.entries() >= MinSuggestVolume {
		s.journeyRules()
	}
	return s.out
}

// suggester collects suggestions for one graph.
type suggester struct {
	g     *graph.Graph
	base  *editGraph // read-only view of g for lookups
	stats map[string]designer.NodeStats
	steps map[string]int // the step numbers explain uses
	out   []designer.Suggestion
}

// name names a step with its number in the explanation: `the first email
// "welcome" (step 1)`.
func (s *suggester) name(n graph.Node) string {
	name := s.base.name(n)
	num, ok := s.steps[n.ID]
	switch {
	case !ok:
		return name
	case strings.HasSuffix(name, ")"): // the first wait (3 days, step 2)
		return fmt.Sprintf("%s, step %d)", strings.TrimSuffix(name, ")"), num)
	}
	return fmt.Sprintf("%s (step %d)", name, num)
}

// propose runs edit on a copy of the graph and keeps the result as a
// suggestion when the edit applies and the graph stays valid.
func (s *suggester) propose(typ, description string, edit func(e *editGraph) error) {
	e := newEditGraph(s.g)
	if err := edit(e); err != nil || len(graph.Validate(e.g)) > 0 {
		return
	}
	diff := graph.Compare(s.g, e.g)
	if diff.Empty() {
		return
	}
	s.out = append(s.out, designer.Suggestion{Type: typ, Description: description, Graph: e.g, Diff: diff})
}

// lowOpenRate: few customers open the email before the wait times out.
func (s *suggester) lowOpenRate(wait graph.Node) {
	st := s.stats[wait.ID]
	decided := st.EventReceived + st.TimedOut
	if decided < MinSuggestVolume || float64(st.EventReceived) >= LowOpenRate*float64(decided) {
		return
	}
	var email graph.Node
	for _, ed := range s.base.inEdges(wait.ID) {
		if n := s.base.node(ed.Source); n.Type == "send_email" {
			email = *n
			break
		}
	}
	if email.ID == "" {
		return
	}
	name := s.name(email)
	rate := fmt.Sprintf("Only %d%% of the %d customers who got %s opened it within %s.",
		st.EventReceived*100/decided, decided, name, humanDuration(stepField(wait, "timeout")))
	s.propose("sms_reminder", rate+" Add an SMS reminder for those who do not open it.", func(e *editGraph) error {
		_, err := e.addNonOpenerFallback(email, "sms", "")
		return err
	})
	s.propose("ab_test", rate+" Test a new subject line: split the email 50/50 with a variant B whose subject or template you change.", func(e *editGraph) error {
		_, err := e.addABTest(email, []int{50, 50})
		return err
	})
}

// failures: a message that often fails and has no fallback.
func (s *suggester) failures(step graph.Node) {
	st := s.stats[step.ID]
	tried := st.Sent + st.Failed
	if tried < MinSuggestVolume || float64(st.Failed) <= HighFailureRate*float64(tried) || len(s.base.targets(step.ID, graph.BranchFailed)) > 0 {
		return
	}
	channel := "sms"
	if step.Type == "send_sms" {
		channel = "email"
	}
	s.propose("failure_fallback", fmt.Sprintf("%s failed for %d%% of the %d customers it was sent to. Send %s when it fails.",
		sentenceCase(s.name(step)), st.Failed*100/tried, tried, channelPhrases[channel]), func(e *editGraph) error {
		_, err := e.addFailureFallback(step, channel)
		return err
	})
}

// earlyExits: most customers leave the journey during a long wait.
func (s *suggester) earlyExits(wait graph.Node) {
	st := s.stats[wait.ID]
	d, err := graph.ParseDuration(stepField(wait, "duration"))
	if err != nil || d < LongWait || st.Entered < MinSuggestVolume || float64(st.Exited) < EarlyExitShare*float64(st.Entered) {
		return
	}
	half := formatDuration((d/2).Hours()/24, "days")
	s.propose("shorten_wait", fmt.Sprintf("%d%% of the %d customers who reached %s left the journey during it. Shorten it to %s so that more get the next step.",
		st.Exited*100/st.Entered, st.Entered, s.name(wait), humanDuration(half)), func(e *editGraph) error {
		_, err := e.setWait(wait.ID, half)
		return err
	})
}

// entries is how many customers entered the journey: the entry steps'
// counts, or the most any step saw when entries were not counted.
func (s *suggester) entries() int {
	total, most := 0, 0
	for _, n := range s.g.Nodes {
		st := s.stats[n.ID]
		if graph.IsEntry(n.Type) {
			total += st.Entered
		}
		most = max(most, st.Entered, st.Sent+st.Failed, st.EventReceived+st.TimedOut)
	}
	if total == 0 {
		return most
	}
	return total
}

// journeyRules: settings a journey that sends messages should have.
func (s *suggester) journeyRules() {
	sends := map[string]int{}
	for _, n := range s.g.Nodes {
		for ch, typ := range channelNodeTypes {
			if n.Type == typ {
				sends[ch]++
			}
		}
	}
	if len(sends) == 0 {
		return
	}
	if s.g.ExitCriteria == nil {
		s.propose("unsubscribe_exit", "The journey has no exit criteria: customers who unsubscribe keep getting its messages. Make them leave the journey when they unsubscribe.",
			func(e *editGraph) error {
				e.g.ExitCriteria = &graph.ExitCriteria{EventType: "unsubscribed"}
				return nil
			})
	}
	var caps []string
	for _, ch := range []string{"email", "sms", "push", "whatsapp"} {
		if _, capped := s.g.FrequencyCap[ch]; sends[ch] >= 2 && !capped {
			caps = append(caps, ch)
		}
	}
	if len(caps) == 0 {
		return
	}
	var what, limits []string
	for _, ch := range caps {
		what = append(what, fmt.Sprintf("%d %s", sends[ch], capChannelNames[ch]))
		limits = append(limits, fmt.Sprintf("%s per day", messageCount(suggestedCap(ch), ch)))
	}
	s.propose("frequency_cap", fmt.Sprintf("The journey sends %s with no frequency cap. Cap them at %s, counted across all journeys, so that customers are not flooded.",
		listAnd(what), listAnd(limits)), func(e *editGraph) error {
		for _, ch := range caps {
			e.setCap(ch, suggestedCap(ch), "1d")
		}
		return nil
	})
}

// suggestedCap is the daily cap proposed for a channel: 2 emails, 1 of the rest.
func suggestedCap(channel string) int {
	if channel == "email" {
		return 2
	}
	return 1
}

// sentenceCase capitalises the first letter of a sentence.
func sentenceCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

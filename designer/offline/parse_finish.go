package offline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// finish types the entry, puts the A/B tests in, closes every open arm and
// adds the journey-wide settings.
func (p *parser) finish() *graph.Graph {
	if p.entryType == "" {
		if seg, at, ok := leadingIdentifier(p.text); ok && seg != "" && segmentContext(p.text, at) {
			// "whales (segment `high_spenders`): whatsapp …"
			p.entryType, p.entryLabel, p.entryConfig, p.entrySpan = "segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg}, at
		} else if ev, at, _ := leadingIdentifier(p.text); ev != "" {
			// "`tutorial_completed` → split 70/30 …", "for `account_frozen`
			// events: sms …": an event written as code before the first
			// step is what starts the journey.
			p.entryType, p.entryLabel, p.entryConfig, p.entrySpan = "event_entry", "When "+ev+" happens", map[string]any{"event_type": ev}, at
		} else {
			p.entryType, p.entryLabel, p.entryConfig = "event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"}
			p.ask("What should start this journey? I used the signed_up event (a customer signs up).")
		}
	}
	if seg, at := segmentIdentifier(p.text); seg != "" {
		// a segment written as code is the one meant, over a name made up
		// from the words around it ("push to segment `sao_paulo_active`")
		// or the same name read as an event ("customers in segment `x`")
		id, _ := p.entryConfig["segment_id"].(string)
		switch {
		case (p.entryType == "segment_entry" || p.entryType == "scheduled_entry") && id != "" && id != seg && !strings.Contains(p.text, "`"+id+"`") &&
			(!strings.Contains(strings.ToLower(p.text), id) || !strings.Contains(id, "_")):
			p.entryConfig["segment_id"] = seg
			p.entryLabel = strings.Replace(p.entryLabel, id, seg, 1)
		case p.entryType == "event_entry" && p.entryConfig["event_type"] == seg:
			p.entryType, p.entryLabel, p.entryConfig, p.entrySpan = "segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg}, at
		}
	}
	if _, ok := p.entryConfig["segment_id"]; p.entryType == "scheduled_entry" && !ok {
		// "every Monday 9am … • to the `deal_subscribers` segment": the
		// segment a schedule runs for, said in a clause of its own
		if seg, _ := segmentIdentifier(p.text); seg != "" {
			p.entryConfig["segment_id"] = seg
			p.entryLabel += " for segment " + seg
		}
	}
	if ev, _ := p.entryConfig["event_type"].(string); p.entryType == "event_entry" && !knownEvents[ev] && !strings.Contains(strings.ToLower(p.text), ev) {
		p.ask(fmt.Sprintf("Which event should start this journey? I used %q.", ev))
	}
	p.j.b.Set(p.j.entry, p.entryType, p.entryLabel, p.entryConfig)
	p.j.merge()
	split := map[string]bool{}
	for _, s := range p.splits {
		id := p.splitTarget(s.which)
		if id == "" {
			p.ask("Which message should the A/B test split? I found no message to test.")
			continue
		}
		if !split[id] {
			split[id] = true
			p.j.split(id, s.weights)
			p.claim(s.span)
		}
	}
	p.claim(p.cur) // nodes made while merging arms belong to the last clause
	if p.goal != "" && p.j.addGoal(p.goal, p.goalEvent, p.goalWithin) {
		p.ask(fmt.Sprintf("How long should the journey wait for %s to count the goal %s? I used %s.", p.goalEvent, p.goal, humanDuration(goalTimeout)))
	}
	if dropped := p.j.finish(); len(dropped) > 0 {
		p.ask(fmt.Sprintf("These steps come after the journey has ended, so I left them out: %s. Where should they go?", strings.Join(dropped, ", ")))
	}
	p.claim(p.goalSpan)
	if p.entrySpan.valid() {
		p.spans[p.j.entry] = p.entrySpan
	}
	p.j.b.SetExitCriteria(p.exit)
	p.askMadeUpEvents()
	for _, c := range p.caps {
		if c.channel != "" {
			p.j.b.SetCap(c.channel, c.cap)
			continue
		}
		used := false
		for _, n := range p.j.b.g.Nodes {
			if ch := strings.TrimPrefix(n.Type, "send_"); ch != n.Type {
				p.j.b.SetCap(ch, c.cap)
				used = true
			}
		}
		if !used {
			p.j.b.SetCap("email", c.cap)
		}
	}
	return p.j.b.Graph()
}

// askMadeUpEvents asks about each event waited for whose name was made up
// from the words of a text that writes its events' names as code: there
// "has not logged in" is likely not logged_in but one of the writer's
// own events.
func (p *parser) askMadeUpEvents() {
	lower := strings.ToLower(p.text)
	if !identInTextRE.MatchString(lower) {
		return
	}
	for _, n := range p.j.b.g.Nodes {
		ev := configString(n.Config, "event_type")
		if n.Type == "wait_for_event" && ev != "" && !strings.Contains(lower, ev) {
			p.ask(fmt.Sprintf("Which of your events should the journey wait for at %q? I made up the name %s from the text.", n.Label, ev))
		}
	}
}

// identInTextRE is an event name written as code: `snake_case`.
var identInTextRE = regexp.MustCompile("`[a-z][a-z0-9]*(?:_[a-z0-9]+)+`|\\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\\b")

// splitTarget finds the email an A/B test is about: "first", "second",
// "last", or words of its name; the first email by default.
func (p *parser) splitTarget(which string) string {
	if len(p.emails) == 0 {
		for _, n := range p.j.b.g.Nodes {
			if graph.IsChannel(n.Type) {
				return n.ID
			}
		}
		return ""
	}
	switch which {
	case "", "first":
		return p.emails[0]
	case "last", "final":
		return p.emails[len(p.emails)-1]
	case "second", "third":
		if i := map[string]int{"second": 1, "third": 2}[which]; i < len(p.emails) {
			return p.emails[i]
		}
		return p.emails[len(p.emails)-1]
	}
	want := slug(nameWords(which))
	for _, id := range p.emails {
		n, _ := p.j.b.Node(id)
		if want != "" && strings.Contains(slug(n.Label)+" "+configString(n.Config, "template_id"), want) {
			return id
		}
	}
	return p.emails[0]
}

var (
	// stepWordRE is a word that says a step: what comes after it is no
	// longer what starts the journey.
	stepWordRE = regexp.MustCompile(`(?i)\b(?:e-?mails?|sms|texts?|push(?:es)?|whatsapp|webhook|message|notification|notify|remind|wait|send|split|a/b)\b`)
	// notEntryLeadRE ends the words just before an identifier that is an
	// event waited for, a goal or an exit, not the trigger.
	notEntryLeadRE = regexp.MustCompile(`(?i)(?:^|[\s(])(?:unless|if|until|within|exit|exits|stop|stops|goal|no|without|don't|doesn't|haven't|hasn't|not)\s[^\n]{0,25}$`)
)

// leadingIdentifier is the first event written as code (`snake_case` in
// backticks) before any step of the text, when it is not said as an event
// to wait for, a goal or an exit; "" when there is none. Its span is where
// it was written.
func leadingIdentifier(text string) (string, span, bool) {
	for _, m := range backtickRE.FindAllStringSubmatchIndex(text, -1) {
		before := text[:m[0]]
		if stepWordRE.MatchString(before) {
			return "", span{}, false
		}
		name := text[m[2]:m[3]]
		if !snakeEventRE.MatchString(name) || attributeNameRE.MatchString(name) || notEntryLeadRE.MatchString(before) {
			continue
		}
		return name, span{m[0], m[1]}, true
	}
	return "", span{}, false
}

var (
	segmentBeforeRE = regexp.MustCompile(`(?i)\b(?:segment(?: id)?|seg|everyone in|everybody in|all of|members of|customers in|users in|people in|audience|list)\s*[:=(]?\s*$`)
	segmentAfterRE  = regexp.MustCompile(`(?i)^\s*(?:segment|list|audience)\b`)
)

// segmentContext reports whether the identifier at s is said as a segment:
// "segment `vip`", "the `vip` segment", "everyone in `vip`".
func segmentContext(text string, s span) bool {
	return segmentBeforeRE.MatchString(text[:s.start]) || segmentAfterRE.MatchString(text[s.end:])
}

// segmentIdentifier is the first identifier written as code and said as a
// segment anywhere in the text.
func segmentIdentifier(text string) (string, span) {
	for _, m := range backtickRE.FindAllStringSubmatchIndex(text, -1) {
		s := span{m[0], m[1]}
		if name := text[m[2]:m[3]]; identRE.MatchString(name) && segmentContext(text, s) {
			return name, s
		}
	}
	return "", span{}
}

// identRE is a name written as an identifier.
var identRE = regexp.MustCompile(`^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$`)

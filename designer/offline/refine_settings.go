package offline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// Rules for journey settings (caps, exit criteria, goal) and step fields
// (template, subject, wait durations).

// capChannelNames are the graph-level cap channels, as the user reads them.
var capChannelNames = map[string]string{"email": "emails", "sms": "SMS messages", "push": "push notifications", "whatsapp": "WhatsApp messages", "webhook": "webhook calls"}

var edChannelWordRE = regexp.MustCompile(`\b(e-?mails?|sms(?:es)?|texts?|push(?:es)?|notifications?|whats-?app|webhooks?)\b`)

// capChannelsIn lists the cap channels named in low, in order, once each.
func capChannelsIn(low string) []string {
	var out []string
	for _, w := range edChannelWordRE.FindAllString(low, -1) {
		ch := capChannelOf(w)
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out
}

// capChannelOf maps a word for a channel ("texts", "e-mail") to its cap channel.
func capChannelOf(w string) string {
	switch {
	case strings.Contains(w, "mail"):
		return "email"
	case strings.HasPrefix(w, "sms"), strings.HasPrefix(w, "text"):
		return "sms"
	case strings.HasPrefix(w, "push"), strings.HasPrefix(w, "notification"):
		return "push"
	case strings.HasPrefix(w, "whats"):
		return "whatsapp"
	}
	return "webhook"
}

var (
	edCapRE = regexp.MustCompile(`\b(?:cap|caps|capped|limit|limits|limited|at most|no more than|not more than|max|maximum|up to)\b`)
	// edCapSpecRE reads "2 per day", "2 emails a day", "1 sms every 3 days", "3 weekly".
	edCapSpecRE = regexp.MustCompile(`\b(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|an?)\s+(?:(e-?mails?|sms(?:es)?|texts?(?: messages?)?|push(?:es)?(?: notifications?)?|notifications?|whats-?app(?: messages?)?|messages?|sends?)\s+)?(?:(?:per|a|an|each|every|/|in(?: a| one| any)?)\s*(?:(\d{1,3})\s*)?(minute|min|hour|day|week|month)s?|(hourly|daily|weekly|monthly))\b`)
)

// ruleCap: "cap emails at 2 per day" sets a journey-wide frequency cap on the
// channels named, or on every channel the journey sends on.
func ruleCap(e *editGraph, _, low string) (string, bool, error) {
	if !edCapRE.MatchString(low) {
		return "", false, nil
	}
	specs := edCapSpecRE.FindAllStringSubmatchIndex(low, -1)
	if specs == nil {
		if !strings.Contains(low, "cap") {
			return "", false, nil
		}
		return "", true, errors.New("say how many messages in what time, e.g. \"cap emails at 2 per day\"")
	}
	var out []string
	for i, m := range specs {
		group := func(k int) string {
			if m[2*k] < 0 {
				return ""
			}
			return low[m[2*k]:m[2*k+1]]
		}
		amount, _ := parseAmount(group(1))
		window := map[string]string{"hourly": "1h", "daily": "1d", "weekly": "7d", "monthly": "30d"}[group(5)]
		if window == "" {
			n := 1.0
			if group(3) != "" {
				n, _ = parseAmount(group(3))
			}
			window = formatDuration(n, group(4))
		}
		if amount < 1 || amount > 10000 || amount != float64(int(amount)) || window == "" {
			return "", true, errors.New("a frequency cap allows a whole number of messages (1 to 10000) per a time such as a day, e.g. \"cap emails at 2 per day\"")
		}
		// The channels: named in the spec, else before it (since the last spec), else all sent on.
		from := 0
		if i > 0 {
			from = specs[i-1][1]
		}
		chans := capChannelsIn(group(2))
		if len(chans) == 0 {
			chans = capChannelsIn(low[from:m[0]])
		}
		if len(chans) == 0 {
			chans = e.channelsUsed()
		}
		for _, ch := range chans {
			if c, ok := e.g.FrequencyCap[ch]; ok && c.Max == int(amount) && equalDurations(c.Window, window) {
				return "", true, fmt.Errorf("%s are already capped at %d per %s", capChannelNames[ch], c.Max, windowWords(c.Window))
			}
			out = append(out, e.setCap(ch, int(amount), window))
		}
	}
	return strings.Join(out, " "), true, nil
}

// channelsUsed lists the cap channels the journey sends on; email when none.
func (e *editGraph) channelsUsed() []string {
	var out []string
	for _, ch := range []string{"email", "sms", "push", "whatsapp"} {
		for _, n := range e.g.Nodes {
			if n.Type == channelNodeTypes[ch] {
				out = append(out, ch)
				break
			}
		}
	}
	if len(out) == 0 {
		out = []string{"email"}
	}
	return out
}

// setCap sets the journey's cap on channel and says what changed.
func (e *editGraph) setCap(channel string, maxSends int, window string) string {
	old, had := e.g.FrequencyCap[channel]
	e.SetCap(channel, graph.Cap{Max: maxSends, Window: window})
	s := fmt.Sprintf("Capped %s at %d per %s", capChannelNames[channel], maxSends, windowWords(window))
	if had {
		s += fmt.Sprintf(" (it was %d per %s)", old.Max, windowWords(old.Window))
	}
	return s + "."
}

// windowWords writes a cap window: "day" for 1d, "3 days" for 3d.
func windowWords(w string) string {
	switch w {
	case "1d":
		return "day"
	case "7d":
		return "week"
	case "1h":
		return "hour"
	}
	return humanDuration(w)
}

var (
	edExitWordRE = regexp.MustCompile(`\b(?:exit|exits|leave|leaves|stop|stops|end|ends|quit|drop out|take them out|remove them)\b`)
	edExitWhenRE = regexp.MustCompile(`\b(?:when|if|once|as soon as|whenever|after|on|upon)\b`)
	edReplaceRE  = regexp.MustCompile(`\b(?:change|replace|instead|switch|set)\b`)
)

// ruleExit: "add exit when they unsubscribe" sets the journey's exit event.
func ruleExit(e *editGraph, _, low string) (string, bool, error) {
	w := edExitWordRE.FindStringIndex(low)
	if w == nil {
		return "", false, nil
	}
	when := edExitWhenRE.FindStringIndex(low[w[1]:])
	if when == nil {
		return "", false, nil
	}
	rest := low[w[1]+when[1]:]
	event, ok := eventOf(rest, "email")
	if !ok {
		return "", true, fmt.Errorf("say which customer event ends the journey, e.g. \"exit when they unsubscribe\" or \"exit on the order_cancelled event\"")
	}
	ec := e.g.ExitCriteria
	switch {
	case ec != nil && ec.EventType == event:
		return "", true, fmt.Errorf("customers already leave the journey on the %q event", event)
	case ec != nil && ec.EventType != "" && !edReplaceRE.MatchString(low):
		return "", true, fmt.Errorf("customers already leave the journey on the %q event, and a journey exits on one event; say \"change the exit to %s\" to replace it", ec.EventType, event)
	}
	out := fmt.Sprintf("Customers now leave the journey at any point on the %q event.", event)
	if ec == nil {
		e.g.ExitCriteria = &graph.ExitCriteria{EventType: event}
		return out, true, nil
	}
	if ec.EventType != "" {
		out = fmt.Sprintf("Customers now leave the journey at any point on the %q event instead of %q.", event, ec.EventType)
	}
	ec.EventType = event
	return out, true, nil
}

var edGoalRE = regexp.MustCompile(`(?i)\bgoal\b.*?\b(?:to|as|into|is|be|:)\s+["'“]?([^"'”]+?)["'”]?$`)

// ruleGoal: "change the goal to first_purchase" renames a goal step's goal.
func ruleGoal(e *editGraph, s, low string) (string, bool, error) {
	m := edGoalRE.FindStringSubmatch(s)
	if m == nil || !edReplaceRE.MatchString(low) && !strings.Contains(low, "should") && !strings.Contains(low, "goal is") {
		return "", false, nil
	}
	name := slug(m[1])
	if name == "" {
		return "", true, errors.New("say what the goal is, e.g. \"change the goal to first_purchase\"")
	}
	goals := e.ofKind(stepsGoal)
	if len(goals) == 0 {
		return "", true, errors.New("this journey has no goal step; describe where customers convert, e.g. \"the goal is a purchase\", in a new design")
	}
	n, err := e.pick(s, stepsGoal, stepsGoal)
	if err != nil {
		return "", true, err
	}
	change, err := e.setField(n.ID, "goal_name", name)
	return change, true, err
}

var (
	edSwapRE     = regexp.MustCompile(`(?i)^(?:swap|replace|exchange|switch)\b`)
	edFieldForRE = regexp.MustCompile(`(?i)\b(template|subject(?: line)?)\b.*?\bfor\s+(.+)$`)
	edFieldRE    = regexp.MustCompile(`(?i)\b(template|subject(?: line)?)\b.*?(?:\b(?:to|as|into)\b|=|:)\s*(.+)$`)
	edUseTplRE   = regexp.MustCompile(`(?i)\buse\s+(?:the\s+)?template\s+["'“]?([A-Za-z0-9][A-Za-z0-9_.:-]*)`)
	edTplNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*`)
)

// ruleField: "change the first email's template to spring_sale", "set the
// subject of the second email to 'Last chance'".
func ruleField(e *editGraph, s, _ string) (string, bool, error) {
	field, value := "", ""
	if m := edUseTplRE.FindStringSubmatch(s); m != nil {
		field, value = "template_id", m[1]
	} else if m := edFieldRE.FindStringSubmatch(s); m != nil || edSwapRE.MatchString(s) && edFieldForRE.MatchString(s) {
		if m == nil { // "swap the first email's template for spring_sale"
			m = edFieldForRE.FindStringSubmatch(s)
		}
		field, value = "subject", strings.Trim(m[2], "\"'“”‘’ ")
		if strings.EqualFold(m[1], "template") {
			field, value = "template_id", edTplNameRE.FindString(value) // "spring_sale for the first email"
		}
	}
	if field == "" {
		return "", false, nil
	}
	if value == "" {
		return "", true, errors.New("say what to change it to, e.g. \"change the first email's template to spring_sale\"")
	}
	n, err := e.pick(s, stepsMessage, stepsEmail)
	if err != nil {
		return "", true, err
	}
	change, err := e.setField(n.ID, field, value)
	return change, true, err
}

var (
	edDurationChangeRE = regexp.MustCompile(`\b(?:wait|waits|waiting|delay|delays|pause|pauses|timeout|timeouts|window)\b|\binstead of\b|\brather than\b`)
	edTimeoutRE        = regexp.MustCompile(`\btimeouts?\b|\bwait(?:ing)? for\b`)
	edNearRE           = regexp.MustCompile(`\b(after|before|following|preceding)\s`)
	edInsteadOfRE      = regexp.MustCompile(`\b(?:instead of|rather than)(?:\s+(\d{1,4})\b)?`)
)

// ruleDuration: "make the wait 5 days instead of 3", "change the second wait
// to 2 days", "change the 3 day wait to 1 week".
func ruleDuration(e *editGraph, s, low string) (string, bool, error) {
	if !edDurationChangeRE.MatchString(low) {
		return "", false, nil
	}
	var durs []string
	var spans [][2]int
	for off := 0; off < len(low); {
		d, span, ok := findDuration(low[off:])
		if !ok {
			break
		}
		durs = append(durs, d)
		spans = append(spans, [2]int{off + span[0], off + span[1]})
		off += span[1]
	}
	if len(durs) == 0 {
		return "", false, nil
	}
	newD, oldD := durs[0], ""
	// "5 days instead of 3" names the new length first; "from 3 days to 5",
	// "the 3 day wait to 5 days" and "make the 3 day wait 5 days" the old.
	switch i := edInsteadOfRE.FindStringSubmatchIndex(low); {
	case i != nil && len(durs) > 1 && spans[1][0] > i[0]:
		oldD = durs[1]
	case i != nil && i[2] >= 0: // "5 days instead of 3": the same unit
		oldD = low[i[2]:i[3]] + strings.TrimLeft(newD, "0123456789")
	case i == nil && len(durs) > 1:
		oldD, newD = durs[0], durs[1]
	}
	waitTypes := []string{"wait", "wait_for_event"}
	if edTimeoutRE.MatchString(low) { // "the timeout", "the wait for the open"
		waitTypes = waitTypes[1:]
	}
	waits := e.ofKind(stepKind{"wait", "waits", waitTypes})
	if len(waits) == 0 {
		return "", true, errors.New("there is no wait in this journey; add one with e.g. \"add a wait of 2 days before the second email\"")
	}
	var target graph.Node
	near, err := e.waitNear(s, low, waitTypes)
	if err != nil {
		return "", true, err
	}
	switch ref := e.waitRef(s); {
	case ref != nil:
		n, err := e.resolve(*ref)
		if err != nil {
			return "", true, err
		}
		target = n
	case near != nil:
		target = *near
	case oldD != "":
		var have []string
		for _, w := range waits {
			if equalDurations(waitDuration(w), oldD) {
				target = w
				break
			}
			have = append(have, humanDuration(waitDuration(w)))
		}
		if target.ID == "" {
			return "", true, fmt.Errorf("there is no wait of %s in this journey (its waits last %s)", humanDuration(oldD), strings.Join(have, ", "))
		}
	case len(waits) == 1:
		target = waits[0]
	default:
		var have []string
		for _, w := range waits {
			have = append(have, humanDuration(waitDuration(w)))
		}
		return "", true, fmt.Errorf("this journey has %d waits (%s); say which one, e.g. \"make the second wait %s\" or \"make the wait %s instead of %s\"",
			len(waits), strings.Join(have, ", "), humanDuration(newD), humanDuration(newD), have[0])
	}
	change, err := e.setWait(target.ID, newD)
	return change, true, err
}

// waitRef is the wait named with an ordinal ("the second wait"), if any.
func (e *editGraph) waitRef(s string) *stepRef {
	for _, r := range findRefs(s) {
		if r.kind.singular == stepsWait.singular && r.ordinal != 0 {
			return &r
		}
	}
	return nil
}

// waitNear is the wait right after or before a step named in s ("the delay
// after the welcome email"); nil when s names no such step.
func (e *editGraph) waitNear(s, low string, types []string) (*graph.Node, error) {
	m := edNearRE.FindStringSubmatchIndex(low)
	if m == nil {
		return nil, nil
	}
	var step *stepRef
	for _, r := range findRefs(s[m[1]:]) {
		if r.definite && r.kind.singular != stepsWait.singular {
			step = &r
			break
		}
	}
	if step == nil {
		return nil, nil
	}
	n, err := e.resolve(*step)
	if err != nil {
		return nil, err
	}
	after := low[m[2]:m[3]] == "after" || low[m[2]:m[3]] == "following"
	var near []string
	if after {
		for _, ed := range e.outEdges(n.ID) {
			near = append(near, ed.Target)
		}
	} else {
		for _, ed := range e.inEdges(n.ID) {
			near = append(near, ed.Source)
		}
	}
	for _, id := range near {
		if w := e.node(id); slices.Contains(types, w.Type) {
			return w, nil
		}
	}
	side := "before"
	if after {
		side = "right after"
	}
	return nil, fmt.Errorf("there is no wait %s %s", side, e.name(n))
}

package document

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ruleKind is what a plan's header line ("Trigger: …", "Exit | …") says
// about the journey as a whole.
type ruleKind int

const (
	kindNone ruleKind = iota
	kindEntry
	kindAudience
	kindSchedule
	kindExit
	kindCap
	kindGoal
	kindSplit
	kindMeta // owner, version, status: about the document, not the journey
)

// ruleKeys maps a header line's key, lowercased with its spaces folded, to
// what it says. A key naming a channel and "cap" ("Push cap") is a cap.
var ruleKeys = map[string]ruleKind{
	"trigger": kindEntry, "entry": kindEntry, "entry trigger": kindEntry, "entry event": kindEntry,
	"trigger event": kindEntry, "starts when": kindEntry, "start when": kindEntry, "start": kindEntry,
	"entry / trigger": kindEntry, "entry/trigger": kindEntry, "trigger / entry": kindEntry, "enters when": kindEntry,
	"enter when": kindEntry, "entry criteria": kindEntry, "kick-off": kindEntry, "kickoff": kindEntry, "starts": kindEntry,
	"entry point": kindEntry, "entry condition": kindEntry, "enrolment": kindEntry, "enrollment": kindEntry,
	"audience": kindAudience, "segment": kindAudience, "who": kindAudience, "target audience": kindAudience,
	"audience / segment": kindAudience, "audience/segment": kindAudience, "target": kindAudience, "target segment": kindAudience,
	"targeting": kindAudience, "eligibility": kindAudience, "eligible": kindAudience, "recipients": kindAudience, "list": kindAudience,
	"schedule": kindSchedule, "send time": kindSchedule, "runs": kindSchedule, "cadence": kindSchedule,
	"exit": kindExit, "exit criteria": kindExit, "exit when": kindExit, "exit event": kindExit, "exit rule": kindExit,
	"exit rules": kindExit, "exits": kindExit, "stop": kindExit, "stops when": kindExit, "stop when": kindExit,
	"stop rules": kindExit, "stop rule": kindExit, "leave when": kindExit, "leaves when": kindExit, "exit if": kindExit,
	"stop if": kindExit, "exit events": kindExit, "stop sending when": kindExit, "suppress when": kindExit, "ends when": kindExit, "end when": kindExit, "exit on": kindExit, "stop on": kindExit,
	"cap": kindCap, "frequency cap": kindCap, "frequency": kindCap, "guardrail": kindCap, "guardrails": kindCap,
	"caps": kindCap, "frequency caps": kindCap, "limit": kindCap, "limits": kindCap,
	"throttle": kindCap, "throttling": kindCap, "frequency limit": kindCap, "contact limit": kindCap, "max frequency": kindCap, "contact cap": kindCap,
	"goal": kindGoal, "conversion goal": kindGoal, "success": kindGoal, "success metric": kindGoal, "goal event": kindGoal,
	"conversion": kindGoal, "kpi": kindGoal, "success event": kindGoal, "conversion event": kindGoal, "objective": kindGoal, "primary kpi": kindGoal,
	"split": kindSplit, "allocation": kindSplit, "weights": kindSplit, "a/b": kindSplit, "a/b test": kindSplit, "ab test": kindSplit, "test": kindSplit, "variants": kindSplit,
	"owner": kindMeta, "version": kindMeta, "status": kindMeta, "campaign": kindMeta, "journey": kindMeta,
	"prepared by": kindMeta, "prepared for": kindMeta, "approved": kindMeta, "approved by": kindMeta, "author": kindMeta, "updated": kindMeta,
	"last updated": kindMeta, "sheet": kindMeta, "date": kindMeta, "background": kindMeta, "brand": kindMeta,
	"design notes": kindMeta, "team": kindMeta, "project": kindMeta, "name": kindMeta,
}

// keyLine is a "key: value" line, also written "key | value", "key – value"
// or "key ........ value"; markdown emphasis is stripped before.
var keyLine = regexp.MustCompile(`^\s*(?:[-*•]\s*)?([A-Za-z][A-Za-z /&-]{0,30}?)\s*(?:\([^)]*\)\s*)?(?:\.{3,}|:\s*\|?|\s\|\s|\s[–—-]\s)\s*(.+?)\s*$`)

// markup is markdown emphasis and heading marks around a line's words.
var markup = regexp.MustCompile(`\*\*|__|^#+\s+|^_|_$`)

// ruleOf reads a line as a header rule: its kind and its value. A line
// that is a key alone ("Stop rules") returns the kind with an empty value:
// the lines under it say the rule.
func ruleOf(line string) (ruleKind, string) {
	line = strings.TrimSpace(markup.ReplaceAllString(strings.TrimSpace(line), ""))
	if k, ok := keyKind(strings.TrimRight(line, ":")); ok && !strings.Contains(line, " | ") {
		return k, ""
	}
	if m := keyLine.FindStringSubmatch(line); m != nil {
		if k, ok := keyKind(m[1]); ok && strings.Count(m[2], " | ") == 0 {
			return k, strings.TrimSpace(strings.TrimPrefix(m[2], "|"))
		}
	}
	if m := ruleSentence.FindStringSubmatch(line); m != nil {
		return kindExit, m[2]
	}
	return kindNone, ""
}

// keyKind names what a key says.
func keyKind(key string) (ruleKind, bool) {
	k := strings.ToLower(strings.Join(strings.Fields(key), " "))
	if kind, ok := ruleKeys[k]; ok {
		return kind, true
	}
	if strings.HasSuffix(k, " cap") && len(findChannels(k)) > 0 {
		return kindCap, true
	}
	if strings.HasSuffix(k, " owner") || strings.HasSuffix(k, " approver") {
		return kindMeta, true // "Copy owner: Dana"
	}
	return kindNone, false
}

// ruleSentence is a rule said as a sentence, without a colon: "Stop when
// they unsubscribe", "Exit if they buy".
var ruleSentence = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(stop|exit|end the journey)\s+(?:when|if|once|as soon as|on)\s+(.+?)\s*$`)

var (
	// identifier is a name written as code: backticked, or snake_case.
	identifier = regexp.MustCompile("`([A-Za-z][A-Za-z0-9_.]*)`|\\b((?:customer\\.)?[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\\b")
	// attrTest is a test of a profile attribute: "customer.balance >= 0".
	attrTest = regexp.MustCompile(`(?:customer\.)?([a-z][a-z0-9_]*)\s*(>=|<=|==|!=|=|>|<)\s*("[^"]*"|'[^']*'|[\w.-]+)`)
	// segmentWord names a segment or list in an audience.
	segmentWord = regexp.MustCompile(`(?i)\b(?:segment|list|cohort)\b`)
	webhookWord = regexp.MustCompile(`(?i)\bweb\s?hook\b|\bposts? to\b`)
	// withinRE is the time a goal is given: "within 14 days", "give them 7
	// days", "track for 7 days".
	withinRE = regexp.MustCompile(`(?i)\b(?:within|for|give them|in)\s+(\d+|a|an|one|two|three|seven|ten|fourteen|thirty)\s+(hours?|days?|weeks?)\b`)
)

// identifiers returns the names written as code in s, in order; ones that
// start "customer." are attributes and come back without that prefix when
// attrs is true, and are skipped otherwise.
func identifiers(s string, attrs bool) []string {
	var out []string
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		id := m[1] + m[2]
		if strings.HasPrefix(id, "customer.") {
			if !attrs {
				continue
			}
			id = strings.TrimPrefix(id, "customer.")
		}
		out = append(out, id)
	}
	return out
}

// rules are a plan's journey-wide rules, read from its header lines and
// rendered as sentences the designer reads well.
type rules struct {
	entry, schedule, segment, audience string
	exits, caps, goals                 []string
	split                              []int // weights said in a split line; a single n is n equal arms
	splitLine                          string
	unplaced                           []string
}

// add reads one rule line's value into the rules. line is the original,
// listed as not understood when nothing in it could be used.
func (r *rules) add(kind ruleKind, key, value, line string) {
	value = strings.TrimRight(strings.TrimSpace(value), ".")
	ok := true
	switch kind {
	case kindEntry:
		ok = r.addEntry(value)
	case kindAudience:
		r.addAudience(value)
	case kindSchedule:
		r.schedule = value
		if segmentWord.MatchString(value) {
			// "every Monday at 09:00, for the segment lapsed_donors"
			r.addAudience(value[segmentWord.FindStringIndex(value)[0]:])
		}
	case kindExit:
		ok = r.addExit(value, line)
	case kindCap:
		if c := capSentence(key + " " + value); c != "" {
			r.caps = append(r.caps, c)
		} else {
			ok = false
		}
	case kindGoal:
		r.goals = append(r.goals, goalSentence(value))
	case kindSplit:
		r.splitLine = line
		if r.split = splitWeights(value); r.split == nil {
			ok = false
		}
	}
	if !ok {
		r.unplaced = append(r.unplaced, line)
	}
}

// addEntry reads what starts the journey: a webhook, a schedule, a
// segment, or an event.
func (r *rules) addEntry(v string) bool {
	lower := strings.ToLower(v)
	switch {
	case webhookWord.MatchString(v):
		r.entry = "Entry: another system calls this journey's webhook."
		return true
	case strings.Contains(lower, "schedul") || strings.HasPrefix(lower, "every ") || strings.Contains(lower, "monthly") || strings.Contains(lower, "weekly") || strings.Contains(lower, "daily"):
		r.schedule = v
		if segmentWord.MatchString(v) {
			r.addAudience(v[segmentWord.FindStringIndex(v)[0]:])
		}
		return true
	case segmentRule.MatchString(v) || segmentWord.MatchString(v) && len(identifiers(v, false)) > 0:
		r.addAudience(v)
		return true
	}
	if ids := identifiers(v, false); len(ids) > 0 {
		r.entry = "Trigger: `" + ids[0] + "`."
		return true
	}
	if v == "" {
		return false
	}
	r.entry = "Start when " + subject(v, false) + "."
	return true
}

// stepTriggers reads a Trigger column: its first value starts the journey
// when no header line said what does; a later row naming another trigger is
// listed as not understood.
func (r *rules) stepTriggers(steps []Step) {
	first := ""
	for _, s := range steps {
		switch {
		case s.trigger == "" || s.trigger == first:
		case first == "":
			first = s.trigger
			if r.entry == "" && r.schedule == "" && !r.addEntry(s.trigger) {
				r.unplaced = append(r.unplaced, "trigger "+s.trigger)
			}
		default:
			r.unplaced = append(r.unplaced, "trigger "+s.trigger+" (step "+strconv.Itoa(s.Index)+")")
		}
	}
}

// addAudience reads who the journey is for: a segment written as code, or
// words.
func (r *rules) addAudience(v string) {
	if m := segmentRule.FindStringSubmatch(v); m != nil {
		r.segment = m[1] + m[2]
		return
	}
	if segmentWord.MatchString(v) {
		if ids := identifiers(v, false); len(ids) > 0 {
			r.segment = ids[0]
			return
		}
	}
	if r.audience == "" {
		r.audience = v
	}
}

// addExit reads when the journey ends: on an event, or when an attribute
// test holds. A rule with more than one way out keeps the first and is
// also listed as not understood, since a journey exits on one event.
func (r *rules) addExit(v, line string) bool {
	events := identifiers(v, false)
	tests := attrTest.FindAllStringSubmatch(v, -1)
	switch {
	case len(events) > 0 && strings.Contains(v, "customer.") || len(events) > 1:
		r.exits = append(r.exits, "Exit if `"+events[0]+"`.")
		r.unplaced = append(r.unplaced, line)
	case len(events) > 0 && len(tests) == 0:
		r.exits = append(r.exits, "Exit if `"+events[0]+"`.")
	case len(tests) > 0:
		t := tests[0]
		r.exits = append(r.exits, fmt.Sprintf("Exit when %s %s %s.", t[1], t[2], t[3]))
	case v != "":
		r.exits = append(r.exits, "Stop if "+subject(v, true)+".")
	default:
		return false
	}
	return true
}

// goalSentence renders a goal: its name, its event as code and the time it
// is given — `Goal: paid conversion (`subscription_started`) within 7 days.`
func goalSentence(v string) string {
	ids := identifiers(v, false)
	if len(ids) == 0 {
		return "Goal: " + v + "."
	}
	name := v[:strings.Index(v, ids[0])]
	name = strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Trim(name, "`(: =-–—")), "event")), "`(: =-–—")
	var b strings.Builder
	b.WriteString("Goal: ")
	if name != "" {
		b.WriteString(name + " (`" + ids[0] + "`)")
	} else {
		b.WriteString("`" + ids[0] + "`")
	}
	if m := withinRE.FindStringSubmatch(v); m != nil {
		b.WriteString(" within " + m[1] + " " + m[2])
	}
	return b.String() + "."
}

var (
	weightsRE = regexp.MustCompile(`\b(\d{1,2})\s*%?\s*(?:/\s*(\d{1,2})\s*%?)(?:\s*/\s*(\d{1,2})\s*%?)?(?:\s*/\s*(\d{1,2})\s*%?)?`)
	equalRE   = regexp.MustCompile(`(?i)\b(two|three|four|five|2|3|4|5)\b[\w\s-]*?\b(?:equal|even)|\b(?:equal(?:ly)?|even(?:ly)?)\b[\w\s-]*?\b(two|three|four|five|2|3|4|5)\b`)
)

// splitWeights reads a split line: "50/50", "A 60% / B 40%" are weights,
// "three equal groups" is {3}.
func splitWeights(v string) []int {
	if m := weightsRE.FindStringSubmatch(v); m != nil {
		var w []int
		for _, g := range m[1:] {
			if g != "" {
				n, _ := strconv.Atoi(g)
				w = append(w, n)
			}
		}
		return w
	}
	if m := equalRE.FindStringSubmatch(v); m != nil {
		return []int{parseCount(m[1] + m[2])}
	}
	return nil
}

// sentences renders the rules that open the prompt: the entry, the
// schedule with its segment, the audience.
func (r *rules) opening() []string {
	var out []string
	if r.entry != "" {
		out = append(out, r.entry)
	}
	if r.schedule != "" {
		if s := scheduleSentence(r.schedule, r.segment); s != "" {
			return append(out, s)
		}
		r.unplaced = append(r.unplaced, "Schedule: "+r.schedule)
	}
	if r.segment != "" {
		out = append(out, "Audience: segment `"+r.segment+"`.")
	} else if r.audience != "" {
		out = append(out, "Audience: "+r.audience+".")
	}
	return out
}

// closing renders the rules said after the steps: exits, caps, goals.
func (r *rules) closing() []string {
	return append(append(append([]string(nil), r.exits...), r.caps...), r.goals...)
}

var (
	weekdayRE  = regexp.MustCompile(`(?i)\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b`)
	monthDayRE = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)\s+(?:of\s+)?(?:every|each|the)\s+month\b|\bmonthly\s+on\s+(?:the\s+)?(\d{1,2})`)
	dailyRE    = regexp.MustCompile(`(?i)\b(?:every\s*day|daily)\b`)
	clockRE    = regexp.MustCompile(`(?i)\b(\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2})\b`)
	zoneRE     = regexp.MustCompile(`\b([A-Z][a-z]+/[A-Z][A-Za-z_]+)\b|\b([A-Z][a-zA-Z]+(?:\s[A-Z][a-z]+)?)\s+time\b|\b(UTC|GMT|CET|ET|PT|CT)\b`)
)

// scheduleSentence renders a schedule — "every Tuesday 10:00 (Madrid
// time)" — as `Every Tuesday at 10:00 Madrid time, for segment `x`:`; ""
// when it cannot be read.
func scheduleSentence(s, segment string) string {
	var b strings.Builder
	switch {
	case weekdayRE.MatchString(s):
		d := weekdayRE.FindStringSubmatch(s)[1]
		b.WriteString("Every " + strings.ToUpper(d[:1]) + strings.ToLower(d[1:]))
	case monthDayRE.MatchString(s):
		m := monthDayRE.FindStringSubmatch(s)
		n, _ := strconv.Atoi(m[1] + m[2])
		b.WriteString(fmt.Sprintf("On the %s of every month", ordinal(n)))
	case dailyRE.MatchString(s):
		b.WriteString("Every day")
	default:
		return ""
	}
	if m := clockRE.FindStringSubmatch(s); m != nil {
		b.WriteString(" at " + m[1])
	}
	if m := zoneRE.FindStringSubmatch(s); m != nil {
		switch {
		case m[1] != "":
			b.WriteString(" " + m[1])
		case m[2] != "":
			b.WriteString(" " + m[2] + " time")
		default:
			b.WriteString(" " + m[3])
		}
	}
	if segment != "" {
		b.WriteString(", for segment `" + segment + "`")
	}
	return b.String() + ":"
}

// ordinal writes 1 as "1st", 2 as "2nd".
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

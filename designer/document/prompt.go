package document

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ruleLine is a prose line stating a journey-wide rule: its entry, exit,
// audience, frequency cap or goal. Prose step detection skips such lines.
var ruleLine = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(entry trigger|entry|trigger|starts? when|start|target audience|audience\s*/\s*segment|audience|segment|exit criteria|exit when|exit|stop when|stop|frequency cap|frequency|cap|conversion goal|goal)\s*(?:[:|–—-]\s*)+(.+?)\s*$`)

// Prompt renders the plan for a designer as plain English: the plan's
// entry, schedule and audience first, then one sentence per step — `Wait 2
// days, then if they have not opened the welcome email, send an SMS
// "Reminder".` — with the arms of a Variant column as one split, then its
// exits, caps and goals, and last every line it could not place, quoted as
// not understood. A plan without steps is returned as its prose.
func (d *Document) Prompt() string {
	if len(d.Steps) == 0 {
		return d.Text
	}
	r, before, after := readAround(d.Text, d.Steps)
	r.stepTriggers(d.Steps)
	if r.split != nil && !slices.ContainsFunc(d.Steps, func(s Step) bool { return s.Variant != "" }) {
		r.unplaced = append(r.unplaced, r.splitLine) // weights with no arms to give them to
	}
	sentences := r.opening()
	sentences = append(sentences, before...)
	sentences = append(sentences, stepSentences(d.Steps, r.split, anchorOf(d.Text, d.Steps))...)
	sentences = append(sentences, after...)
	sentences = append(sentences, r.closing()...)
	for _, s := range d.Steps {
		if s.extra != "" {
			r.unplaced = append(r.unplaced, s.extra+" (a channel of step "+strconv.Itoa(s.Index)+")")
		}
		if s.note != "" {
			r.unplaced = append(r.unplaced, s.note+" (a note on step "+strconv.Itoa(s.Index)+")")
		}
	}
	for _, u := range r.unplaced {
		sentences = append(sentences, `Not understood: "`+strings.ReplaceAll(oneLine(markup.ReplaceAllString(u, "")), `"`, "'")+`".`)
	}
	// A rule said twice (on two sheets, say) is said once.
	var out []string
	for _, s := range sentences {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}

// timingNote is a line that says what the plan's timings count from ("All
// timing is relative to the customer's renewal_date attribute"): the steps
// say it.
var timingNote = regexp.MustCompile(`(?i)\b(?:relative to|counted from|all (?:times|timings?|days|dates) (?:are|is))\b`)

// splitWord marks a sentence about an A/B split.
var splitWord = regexp.MustCompile(`(?i)\b(?:split|variants?|a/b|ab test|allocation|ratio|traffic|weights?|arms?)\b`)

// splitSaid reads a split's weights said in a sentence of its own ("60/40
// split", "We split the audience 60/40 between A and B"): nil unless the
// sentence speaks of a split and its weights add up to 100.
func splitSaid(sentence string) []int {
	if !splitWord.MatchString(sentence) || !weightsRE.MatchString(sentence) {
		return nil
	}
	w, sum := splitWeights(sentence), 0
	for _, n := range w {
		sum += n
	}
	if sum != 100 {
		return nil
	}
	return w
}

// attributeNote says where a date or attribute the plan uses is kept:
// "renewal_date is on the customer profile", "trip_start_date is a
// customer attribute set by the booking engine".
var attributeNote = regexp.MustCompile(`(?i)\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\W*\s+(?:is|are)\s+(?:(?:on|in|kept on|stored on|held on|set on)\s+the\s+(?:customer(?:'s)?\s+)?profile|an?\s+(?:customer|profile|contact)\s+(?:attribute|field|property))\b`)

// heading reports whether a line is a section heading ("Contact plan",
// "Who and when"): a few words that say nothing of the journey.
func heading(line string) bool {
	line = strings.TrimSpace(bullet.ReplaceAllString(markup.ReplaceAllString(line, ""), ""))
	words := strings.Fields(strings.TrimRight(line, ":"))
	if len(words) == 0 || len(words) > 3 || strings.ContainsAny(line, ".!?,;\"`0123456789_") {
		return false
	}
	_, timed := findTiming(line)
	return !timed && len(findChannels(line)) == 0
}

// readAround reads the lines around the plan's steps: its rules, the steps
// said in prose before or after the table, and the lines it could not
// place. The first line, when it is not a rule, is the plan's title.
func readAround(text string, steps []Step) (r *rules, before, after []string) {
	r = &rules{}
	sources := map[string]bool{}
	for _, s := range steps {
		sources[oneLine(s.Source)] = true
	}
	inTable, title := false, true
	section := kindNone // the rule a heading line ("Stop rules") opened
	var wait *awaitLine // the last "wait for x, up to 5 days" line, whose bullets say what happens then
	place := func(sentence string) {
		if inTable {
			after = append(after, sentence)
		} else {
			before = append(before, sentence)
		}
	}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(leader.ReplaceAllString(raw, "$1: "))
		if line == "" {
			section = kindNone
			continue
		}
		if w := readAwait(line); w != nil {
			wait = w
			place(w.sentence())
			continue
		}
		if wait != nil && (listItem.MatchString(line) || timedOut.MatchString(line)) {
			if s := wait.branch(line); s != "" {
				if n := len(before) + len(after); n > 0 && wait.alone {
					// The branch says the wait: it replaces the bare one.
					if inTable {
						after = after[:len(after)-1]
					} else {
						before = before[:len(before)-1]
					}
				}
				wait.alone = false
				place(s)
			} else {
				r.unplaced = append(r.unplaced, line)
			}
			continue
		}
		wait = nil
		first := title
		if !metaLead.MatchString(line) {
			title = false
		}
		if strings.Trim(line, "=-_*#~ ") == "" || sources[oneLine(line)] {
			inTable = inTable || sources[oneLine(line)] || strings.Contains(line, " | ")
			continue
		}
		if strings.Contains(line, " | ") {
			kind, value := ruleOf(line)
			switch {
			case kind == kindMeta:
			case kind != kindNone && value != "":
				r.add(kind, keyOf(line), value, line)
			case !headerRow(line):
				r.unplaced = append(r.unplaced, line)
			}
			inTable = true
			continue
		}
		meta := metaLead.MatchString(line) // "Prepared by: Digital CX, rev. 4."
		if proseStep(line) || otherAction.MatchString(line) {
			// A step said in prose around the table ("Then, 3 days
			// later, everyone gets the same impact-report email") goes
			// before or after the table's steps, where it was written.
			place(line)
			continue
		}
		for i, sentence := range sentenceEnd.Split(line, -1) {
			if strings.TrimSpace(sentence) == "" {
				continue
			}
			kind, value := ruleOf(sentence)
			switch {
			case kind != kindNone && value == "":
				section = kind // a heading: the lines under it say the rule
			case kind == kindMeta:
			case kind != kindNone:
				r.add(kind, keyOf(sentence), value, sentence)
			case section != kindNone && section != kindMeta:
				r.add(section, "", strings.TrimSpace(bullet.ReplaceAllString(sentence, "")), sentence)
			case splitSaid(sentence) != nil && r.split == nil:
				r.split, r.splitLine = splitSaid(sentence), sentence // "We split the audience 60/40 between A and B."
			case first || meta && i == 0 || timingNote.MatchString(sentence) || metaLead.MatchString(sentence) ||
				attributeNote.MatchString(sentence) || heading(sentence):
			default:
				r.unplaced = append(r.unplaced, sentence)
			}
		}
	}
	return r, before, after
}

// awaitLine is a line that waits for an event with a limit: "then wait
// for install_booked, up to 5 days".
type awaitLine struct {
	event, limit string
	alone        bool // no branch said yet: the wait is its own sentence
}

var (
	// awaitRE is a wait for an event named as code, with its limit
	// after or before it.
	awaitRE = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:then\s*[,:]?\s*)?wait\s+(?:(?:for|until)\s+)?(?:up to\s+(\d+)\s*(minutes?|hours?|h|days?|d|weeks?|w)\s+(?:for\s+)?)?[\x60]?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)[\x60]?(?:\s*(?:event)?\s*[,(]?\s*(?:for\s+)?up to\s+(\d+)\s*(minutes?|hours?|h|days?|d|weeks?|w)\b\)?)?\s*\.?$`)
	// timedOut opens what happens when the awaited event did not come:
	// "not booked by then: …", "if not: …", "otherwise …".
	timedOut = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:(?:if\s+)?(?:not|no|still not|never)\b[^:]*|otherwise|else|if not|timed out|no response)\s*[:,–—-]\s*`)
)

// listItem is a bulleted or numbered line.
var listItem = regexp.MustCompile(`^\s*(?:[-*•▪◦·]|\d{1,2}[.)])\s+`)

// readAwait reads a wait-for line, nil when the line is none.
func readAwait(line string) *awaitLine {
	m := awaitRE.FindStringSubmatch(markup.ReplaceAllString(line, ""))
	if m == nil || m[1] == "" && m[4] == "" {
		return nil
	}
	n, unit := m[1], m[2]
	if n == "" {
		n, unit = m[4], m[5]
	}
	count, _ := strconv.Atoi(n)
	return &awaitLine{event: m[3], limit: duration(count, unit), alone: true}
}

// sentence renders the wait on its own.
func (w *awaitLine) sentence() string {
	return "Then wait up to " + w.limit + " for `" + w.event + "`."
}

// branch renders a bullet under the wait that says what is sent when the
// event did not come ("- not booked by then: SMS reminder …"); "" when the
// bullet is not that.
func (w *awaitLine) branch(line string) string {
	loc := timedOut.FindStringIndex(line)
	if loc == nil {
		return ""
	}
	rest := strings.TrimSpace(line[loc[1]:])
	if len(findChannels(rest)) == 0 {
		return ""
	}
	return "If no `" + w.event + "` within " + w.limit + ", " + otherwiseAction(rest) + "."
}

// leader is a dotted leader between a key and its value: "audience
// ........ segment x".
var leader = regexp.MustCompile(`^(\s*[A-Za-z][\w /&-]*?)\s*\.{3,}\s*`)

// metaLead opens a line about the document itself: "Version 1.3 - Owner:
// …", "Sheet: Plan".
var metaLead = regexp.MustCompile(`(?i)^\s*(?:version|v\d|owner|status|prepared (?:by|for)|approved|author|rev\b|sheet:|last updated|updated)`)

// keyOf returns a rule line's key, "" when it has none.
func keyOf(line string) string {
	if m := keyLine.FindStringSubmatch(markup.ReplaceAllString(line, "")); m != nil {
		return m[1]
	}
	return ""
}

// headerRow reports whether a table line is a steps table's header.
func headerRow(line string) bool {
	h, _ := findHeader(table{strings.Split(line, " | ")})
	return h == 0
}

// anchorOf finds the date on the profile that the plan's "N days before"
// timings count from: named in a step's timing or its column's header, or
// in a note ("relative to the customer's `renewal_date` attribute").
func anchorOf(text string, steps []Step) string {
	for _, s := range steps {
		if m := datedTiming.FindStringSubmatch(oneLine(s.Timing)); m != nil {
			return strings.TrimPrefix(m[3], "customer.")
		}
		if s.anchor != "" {
			return s.anchor
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if timingNote.MatchString(line) {
			if ids := identifiers(line, true); len(ids) > 0 {
				return ids[0]
			}
		}
	}
	return ""
}

var (
	// segmentRule is a trigger naming a segment: "segment lapsed_30d", "the
	// vip segment".
	segmentRule = regexp.MustCompile(`(?i)(?:^|\s)(?:the\s+|joins?\s+(?:the\s+)?)?segment\s+[\x60'"]?([a-z0-9][a-z0-9_-]*)[\x60'"]?\s*(?:[(.,]|$)|^(?:the\s+)?[\x60'"]?([a-z0-9][a-z0-9_-]*)[\x60'"]?\s+segment\s*(?:[(.,]|$)`)
	// otherAction is a labelled line asking for something done outside
	// the journey ("Ops: update the renewal opportunity in Salesforce"):
	// it goes to the designer, which can say it cannot build it.
	otherAction = regexp.MustCompile(`(?i)^\s*[a-z][a-z /&-]{0,30}:\s*(?:update|sync|create|assign|log|export|alert|escalate|call|open|raise|post|upload|share|notify|mail|print|ship|retarget|add|remove)\b`)
)

// thenLead opens a line that continues the journey: "Then, …", "After
// that …", "Finally …".
var thenLead = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:then|after that|afterwards|finally|next|later)\b`)

// proseStep reports whether a prose line beside a table is a step of its
// own: it names a channel and says when ("Then, 3 days later, everyone gets
// the same impact-report email").
func proseStep(line string) bool {
	if len(findChannels(line)) == 0 {
		return false
	}
	if thenLead.MatchString(line) {
		return true
	}
	m, ok := findTiming(line)
	return ok && m.start <= 2
}

var sentenceEnd = regexp.MustCompile(`[.!?]\s+`)

// stepSentences renders the steps in order; consecutive steps of a
// Variant column are one split.
func stepSentences(steps []Step, split []int, anchor string) []string {
	var out []string
	prev := unknownDay
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		if s.Variant == "" {
			out = append(out, s.sentence(i == 0, prev, anchor))
			prev = s.Day
			if s.dated(anchor) {
				prev = unknownDay // the days after it count from a date, not the start
			}
			continue
		}
		j := i
		for j < len(steps) && steps[j].Variant != "" {
			j++
		}
		out = append(out, splitSentences(steps[i:j], i == 0, prev, split, anchor)...)
		prev = steps[i].Day
		i = j - 1
	}
	return out
}

var countWords = []string{"", "one", "two", "three", "four", "five"}

// splitSentences renders steps from a Variant column as one A/B split, one
// line per arm lettered in order: `On day 7, split 70/30:` then `- A: send
// an SMS "…", then 4 days later send a push notification "…"`. An arm
// without a channel or with "control"/"no message" is a control arm. The
// weights are the arms' shares, else those of a split line, else equal.
func splitSentences(steps []Step, first bool, prevDay int, split []int, anchor string) []string {
	var names []string
	arms := map[string][]Step{}
	for _, s := range steps {
		if _, ok := arms[s.Variant]; !ok {
			names = append(names, s.Variant)
		}
		arms[s.Variant] = append(arms[s.Variant], s)
	}
	var shares []string
	for _, n := range names {
		for _, s := range arms[n] {
			if s.Share > 0 {
				shares = append(shares, strconv.Itoa(s.Share))
				break
			}
		}
	}
	head := ""
	switch {
	case len(shares) == len(names):
		head = "split " + strings.Join(shares, "/")
	case len(split) == len(names) && len(split) > 1:
		head = "split " + strings.Join(strings.Fields(strings.Trim(fmt.Sprint(split), "[]")), "/")
	case len(names) < len(countWords):
		head = "split equally " + countWords[len(names)] + " ways"
	default:
		head = "split equally"
	}
	lead := steps[0].lead(first, prevDay, anchor)
	switch {
	case lead != "":
		head = lead + ", " + head
	case first:
		head = strings.ToUpper(head[:1]) + head[1:]
	default:
		head = "Then, " + head
	}
	out := []string{head + ":"}
	// The split's lead already waited the first row's delay: an arm whose
	// first row says the same delay (the arms go out together) waits no
	// more, one that says longer waits the difference.
	var leadN int
	var leadUnit string
	if steps[0].delay && lead != "" {
		if m := delayRE.FindStringSubmatch(oneLine(steps[0].Timing)); m != nil {
			leadN, _ = strconv.Atoi(m[1])
			leadUnit = strings.ToLower(m[2][:1])
		}
	}
	for i, n := range names {
		var b strings.Builder
		fmt.Fprintf(&b, "- %c: ", 'A'+i)
		for k, s := range arms[n] {
			switch {
			case k == 0 && control(s):
				b.WriteString("control (no message)")
				continue
			case s.delay:
				// A Delay column counts from the arm's step before, not
				// from the rows of the other arms above it.
				if m := delayRE.FindStringSubmatch(oneLine(s.Timing)); m != nil && m[1] != "0" {
					n, _ := strconv.Atoi(m[1])
					if k == 0 && leadN > 0 && strings.ToLower(m[2][:1]) == leadUnit {
						if n -= leadN; n <= 0 {
							break
						}
					}
					if k > 0 {
						b.WriteString(", then ")
					}
					b.WriteString(duration(n, m[2]) + " later ")
				} else if k > 0 {
					b.WriteString(", then ")
				}
			case k > 0 && s.Day > arms[n][k-1].Day:
				fmt.Fprintf(&b, ", then %d days later ", s.Day-arms[n][k-1].Day)
			case k > 0:
				b.WriteString(", then ")
			}
			b.WriteString(s.action())
		}
		out = append(out, b.String())
	}
	return out
}

// controlWords mark an arm that gets no message.
var controlWords = regexp.MustCompile(`(?i)\b(?:control|holdout|hold-out|no message|nothing)\b`)

// control reports whether a variant's step is its split's control arm.
func control(s Step) bool {
	return s.Channel == "" && (s.Content == "" || controlWords.MatchString(s.Content)) ||
		controlWords.MatchString(s.Variant) && s.Channel == ""
}

var (
	// delayRE is a delay in a Delay/Wait column: "1h", "2 days", "+48h".
	delayRE = regexp.MustCompile(`(?i)^(?:up to\s+|\+\s*)?(\d+)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w)\b`)
	// noneSaid is a timing that names no delay: "-", "none", "0".
	noneSaid = regexp.MustCompile(`(?i)^(?:-|–|—|none|n/a|0|0\s*[a-z]*|immediately|right away|at once|on entry|at entry|now)?$`)
	// relativeDated is a timing before or after a date the column or a
	// note names: "30 days before", "2 hours after".
	relativeDated = regexp.MustCompile(`(?i)^(\d+\s*(?:minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|w))\s+(before|after|prior to)(?:\s+(?:the\s+)?[a-z]+)?$`)
	// negated marks a condition that an event has not happened.
	negated = regexp.MustCompile(`(?i)\b(?:not|no|never|hasn't|haven't|didn't)\b`)
)

// duration writes a delay's count and unit in words: "1 hour", "2 days".
func duration(n int, unit string) string {
	word := map[byte]string{'m': "minute", 'h': "hour", 'd': "day", 'w': "week"}[strings.ToLower(unit)[0]]
	if n != 1 {
		word += "s"
	}
	return strconv.Itoa(n) + " " + word
}

// lead renders when a step is sent, "" when it follows at once: "Wait 2
// days, then", "On day 3", "7 days before renewal_date", "After 2 hours".
func (s Step) lead(first bool, prevDay int, anchor string) string {
	t := oneLine(s.Timing)
	if s.delay {
		if anchorWords.MatchString(t) && prevDay != unknownDay && s.Day >= 0 {
			// "9 days after signup" in a Delay column counts from the start.
			if s.Day > prevDay {
				return "Wait " + duration(s.Day-prevDay, "d") + ", then"
			}
			return ""
		}
		if m := delayRE.FindStringSubmatch(t); m != nil && m[1] != "0" {
			n, _ := strconv.Atoi(m[1])
			return "Wait " + duration(n, m[2]) + ", then"
		}
		return ""
	}
	if m := relativeDated.FindStringSubmatch(t); m != nil && anchor != "" && !datedTiming.MatchString(t) {
		return m[1] + " " + strings.ToLower(m[2]) + " " + anchor
	}
	said, lead := timingAsWritten(t)
	if m, ok := findTiming(t); ok && !said && m.relative && m.day > 0 && !first && (prevDay == unknownDay || s.Day-prevDay != m.day) {
		// "10 days after the quote email" after a step dated from the
		// profile ("45 days before renewal_date"): a wait from it, which
		// no day count can say.
		return "Wait " + duration(m.day, "d") + ", then"
	}
	if said && lead == "" && s.Day == 0 {
		said = false // "Immediately" is day 0, unless dates before an event moved the days
	}
	switch {
	case said && lead != "":
		return lead
	case said && !first:
		return "Then"
	case said:
		return ""
	case s.Day >= 0:
		return fmt.Sprintf("On day %d", s.Day)
	case !first:
		return "Then"
	}
	return ""
}

// dated reports whether the step is timed from a date the profile holds
// ("45 days before renewal_date").
func (s Step) dated(anchor string) bool {
	t := oneLine(s.Timing)
	return datedTiming.MatchString(t) || anchor != "" && relativeDated.MatchString(t)
}

// action renders what a step does, with its condition and audience: `if
// plan = basic, send a push notification "Go Premium" to new users`.
func (s Step) action() string {
	var b strings.Builder
	audience := lowerFirst(strings.TrimPrefix(oneLine(s.Audience), "to "))
	conditions := []string{conditionPhrase(oneLine(s.Condition))}
	if c, ok := behaviour(audience); ok {
		// An audience such as "Did not redeem" is a condition in disguise.
		conditions, audience = append(conditions, c), ""
	}
	for _, c := range conditions {
		if c != "" {
			b.WriteString(c + ", ")
		}
	}
	b.WriteString(send(s.Channel, s.Content))
	if audience != "" {
		b.WriteString(" to " + audience)
	}
	if s.otherwise != "" {
		b.WriteString("; otherwise " + otherwiseAction(s.otherwise))
	}
	return b.String()
}

// send renders sending content on a channel.
func send(channel, content string) string {
	content = strings.ReplaceAll(oneLine(content), `"`, "'")
	out := "send " + channelNoun(channel)
	if channel == "webhook" {
		out = "call the webhook"
	}
	if content != "" {
		out += ` "` + content + `"`
	}
	return out
}

// otherwiseAction renders an Otherwise cell: "SMS with this week's class
// schedule" → `send an SMS "this week's class schedule"`.
func otherwiseAction(cell string) string {
	chs := findChannels(cell)
	if len(chs) == 0 {
		return "send a message " + `"` + strings.ReplaceAll(cell, `"`, "'") + `"`
	}
	rest := strings.TrimSpace(cell[:chs[0].start] + " " + cell[chs[0].end:])
	rest = strings.TrimSpace(otherwiseFiller.ReplaceAllString(rest, " "))
	return send(chs[0].channel, rest)
}

// otherwiseFiller is what an Otherwise cell says around its channel and
// content: "send a push instead", "an SMS with …".
var otherwiseFiller = regexp.MustCompile(`(?i)^\s*(?:send\s+)?(?:them\s+)?(?:an?\s+)?(?:with\s+)?|\s*\binstead\b\.?\s*$`)

// sinceWord ties a condition to the step before: "not donated since the
// week 2 email".
var sinceWord = regexp.MustCompile(`(?i)\bsince\b`)

// skipIf is a condition that skips its step: "skip if …", "unless …".
var skipIf = regexp.MustCompile(`(?i)^\s*(?:(?:skip|don't send|do not send|not)\s+(?:it\s+)?(?:if|when)|unless)\b`)

// awaited reads a step sent to those an event has not reached: its
// condition or audience says the event has not happened (named as code),
// and either its timing is "up to N" or the condition counts "since" the
// step before. It returns the event and how long to wait for it, or "".
func (s Step) awaited(prevDay int) (event, wait string) {
	said := s.Condition + " " + s.Audience
	ids := identifiers(said, false)
	skip := skipIf.MatchString(s.Condition)
	t := oneLine(s.Timing)
	if len(ids) == 0 || !negated.MatchString(said) && !skip || attrTest.MatchString(said) {
		return "", ""
	}
	if m := delayRE.FindStringSubmatch(t); skip && s.delay && m != nil && m[1] != "0" {
		// "Gap 2 days … skip if they already upgraded (room_upgraded)":
		// wait that long for the upgrade.
		n, _ := strconv.Atoi(m[1])
		return ids[0], duration(n, m[2])
	}
	if skip && prevDay != unknownDay && s.Day > prevDay && !s.delay {
		// "T+3 SMS, skip if they already deposited (first_deposit_made)"
		// after a T+1 push: wait 2 days for the deposit.
		return ids[0], duration(s.Day-prevDay, "d")
	}
	if m := delayRE.FindStringSubmatch(t); m != nil && strings.HasPrefix(strings.ToLower(t), "up to") {
		n, _ := strconv.Atoi(m[1])
		return ids[0], duration(n, m[2])
	}
	if sinceWord.MatchString(said) && prevDay != unknownDay && s.Day > prevDay {
		return ids[0], duration(s.Day-prevDay, "d")
	}
	return "", ""
}

// sentence renders one step outside a split.
func (s Step) sentence(first bool, prevDay int, anchor string) string {
	lead := s.lead(first, prevDay, anchor)
	action := s.action()
	if event, wait := s.awaited(prevDay); event != "" {
		// "up to 5 days" with "only if card_activated has not arrived",
		// or "people who have not donated (donation_received) since the
		// week 2 email": wait for the event that long, send if it did
		// not come.
		s.Condition, s.Audience = "", ""
		return "If no `" + event + "` within " + wait + ", " + s.action() + "."
	}
	var out string
	switch {
	case lead == "Then":
		out = "Then, " + action
	case strings.HasSuffix(lead, "then"):
		out = lead + " " + action
	case lead != "":
		out = lead + ", " + action
	default:
		out = strings.ToUpper(action[:1]) + action[1:]
	}
	return out + "."
}

var (
	// datedTiming is a timing counted from a date the profile holds: "2
	// days before appointment_at", "15 minutes before webinar_start_at".
	datedTiming = regexp.MustCompile(`(?i)^(\d+\s*(?:minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|w))\s+(before|after|prior to)\s+((?:customer\.)?[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$`)
	// relativeTiming is a delay from the step before (or the trigger): "1
	// hour after abandon", "2 hours later".
	relativeTiming = regexp.MustCompile(`(?i)^\+?\s*(\d+)\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b\s*(later|after\b.*)$`)
	// nowTiming is a step sent as soon as the one before.
	nowTiming = regexp.MustCompile(`(?i)^(?:immediately|instantly|right away|straight away|at once|now|same time|on entry|at entry|on enrol?ment)$`)
)

// timingAsWritten renders a timing that a day count would lose: a date
// the profile holds (with its offset), a delay of hours or minutes after
// the step before, or no delay at all. said is false when the timing is a plain day
// offset (or none), which "On day N" says.
func timingAsWritten(t string) (said bool, lead string) {
	switch {
	case datedTiming.MatchString(t):
		return true, t
	case nowTiming.MatchString(t):
		return true, ""
	}
	m := relativeTiming.FindStringSubmatch(t)
	if m == nil || anchorWords.MatchString(t) {
		return false, ""
	}
	n, _ := strconv.Atoi(m[1])
	unit := strings.ToLower(m[2])
	if unit[0] == 'h' && n%24 == 0 || unit[0] != 'h' && unit[0] != 'm' {
		return false, "" // whole days: "On day N" says them
	}
	full := map[byte]string{'m': "minute", 'h': "hour"}[unit[0]]
	if n != 1 {
		full += "s"
	}
	return true, "After " + m[1] + " " + full
}

// oneLine folds a cell's line breaks and runs of spaces into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// participles maps the forms of the verbs plans put in conditions to their
// past participle.
var participles = map[string]string{}

func init() {
	for _, forms := range [][]string{
		{"opened", "open", "opens"}, {"clicked", "click", "clicks"},
		{"purchased", "purchase", "purchases"}, {"bought", "buy", "buys"},
		{"converted", "convert", "converts"}, {"replied", "reply", "replies"},
		{"responded", "respond", "responds"}, {"activated", "activate", "activates"},
		{"upgraded", "upgrade", "upgrades"}, {"completed", "complete", "completes"},
		{"logged", "log", "logs"}, {"visited", "visit", "visits"},
		{"redeemed", "redeem", "redeems"}, {"attended", "attend", "attends"},
		{"booked", "book", "books"}, {"registered", "register", "registers"},
		{"installed", "install", "installs"}, {"reviewed", "review", "reviews"},
		{"opted", "opt", "opts"}, {"used", "use", "uses"}, {"watched", "watch", "watches"},
	} {
		for _, f := range forms {
			participles[f] = forms[0]
		}
	}
}

// subjectlessVerbs are auxiliaries a condition opens with when its subject
// — the customer — goes unsaid, and their plural forms.
var subjectlessVerbs = map[string]string{
	"has not": "have not", "hasn't": "have not", "has": "have", "have not": "have not", "haven't": "have not",
	"did not": "did not", "didn't": "did not", "does not": "do not", "doesn't": "do not",
	"is not": "are not", "isn't": "are not", "is": "are", "was not": "were not", "wasn't": "were not", "was": "were",
}

var (
	subjectless       = regexp.MustCompile(`(?i)^(has not|hasn't|have not|haven't|did not|didn't|does not|doesn't|is not|isn't|was not|wasn't|has|is|was)(\s.+)$`)
	negativeCondition = regexp.MustCompile(`(?i)^(?:has not|hasn't|have not|haven't|did not|didn't|does not|doesn't|not|never|no)\s+(\w+)(.*)$`)
	positiveCondition = regexp.MustCompile(`(?i)^(?:has\s+|have\s+|did\s+)?(\w+)(.*)$`)
)

// conditionPhrase renders a step's condition as an "if …" (or "unless …")
// clause. Terse conditions ("Not opened welcome email") read as a designer
// expects them ("they have not opened welcome email"); others stay as
// written.
func conditionPhrase(c string) string {
	c = strings.TrimRight(strings.TrimSpace(c), ".")
	if c == "" {
		return ""
	}
	if m := skipIf.FindString(c); m != "" {
		return "unless " + strings.TrimSpace(c[len(m):])
	}
	c = lowerFirst(strings.TrimSpace(ifPrefix.ReplaceAllString(c, "")))
	if b, ok := behaviour(c); ok {
		return b
	}
	return "if " + c
}

// behaviour reads a terse behavioural phrase — "Not opened welcome email",
// "Clicked report", "Did not redeem" — as an "if they …" clause.
func behaviour(c string) (string, bool) {
	if m := negativeCondition.FindStringSubmatch(c); m != nil {
		if p, ok := participles[strings.ToLower(m[1])]; ok {
			return "if they have not " + p + m[2], true
		}
	}
	if m := subjectless.FindStringSubmatch(c); m != nil {
		// "Has not created a project" → "they have not created a project".
		return "if they " + subjectlessVerbs[strings.ToLower(m[1])] + m[2], true
	}
	if m := positiveCondition.FindStringSubmatch(c); m != nil && !strings.HasPrefix(m[2], "-") {
		// "Logged-in shoppers" is a noun phrase, not a behaviour.
		if p := participles[strings.ToLower(m[1])]; p != "" && p == strings.ToLower(m[1]) {
			return "if they " + p + m[2], true
		}
	}
	return "", false
}

// subject turns a rule's text into a clause with a subject: "user signs
// up" → "a user signs up"; for exits (plural) "unsubscribes" → "they
// unsubscribe" and "user makes a purchase" → "they make a purchase".
func subject(rule string, plural bool) string {
	rule = lowerFirst(strings.TrimSpace(rule))
	rule = strings.TrimSpace(leadingWhen.ReplaceAllString(rule, ""))
	words := strings.Fields(rule)
	if len(words) == 0 {
		return rule
	}
	person := persons[strings.ToLower(words[0])]
	switch {
	case plural && person && len(words) > 1:
		return "they " + strings.Join(append([]string{baseVerb(words[1])}, words[2:]...), " ")
	case plural && looksLikeVerb(words[0]):
		return "they " + strings.Join(append([]string{baseVerb(words[0])}, words[1:]...), " ")
	case !plural && person:
		return "a " + rule
	case len(words) > 1 && !person && passive.MatchString(words[1]) && !looksLikeVerb(words[0]):
		// "order delivered" → "an order is delivered".
		return article(words[0]) + " " + words[0] + " is " + strings.Join(words[1:], " ")
	}
	return rule
}

// passive matches a past participle that follows a bare noun in a rule.
var passive = regexp.MustCompile(`(?i)^(?:\w+ed|paid|sent|made|bought|sold|won|lost|done|seen)$`)

// article picks "a" or "an" for a word.
func article(w string) string {
	if strings.ContainsRune("aeiouAEIOU", rune(w[0])) {
		return "an"
	}
	return "a"
}

var (
	leadingWhen = regexp.MustCompile(`(?i)^(?:when|if|once|after)\s+`)
	persons     = map[string]bool{"user": true, "customer": true, "contact": true, "lead": true, "visitor": true, "subscriber": true, "member": true, "shopper": true, "person": true}
)

// looksLikeVerb guesses that a rule's first word is a verb in the third
// person ("unsubscribes", "purchases", "has").
func looksLikeVerb(w string) bool {
	w = strings.ToLower(w)
	return w == "has" || w == "is" || (len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"))
}

// baseVerb turns a third-person verb into its plural form.
func baseVerb(w string) string {
	switch lw := strings.ToLower(w); {
	case lw == "has":
		return "have"
	case lw == "is":
		return "are"
	case lw == "does":
		return "do"
	case strings.HasSuffix(lw, "ies") && len(lw) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(lw, "sses"), strings.HasSuffix(lw, "shes"), strings.HasSuffix(lw, "ches"), strings.HasSuffix(lw, "xes"), strings.HasSuffix(lw, "oes"):
		return w[:len(w)-2]
	case strings.HasSuffix(lw, "s") && !strings.HasSuffix(lw, "ss"):
		return w[:len(w)-1]
	}
	return w
}

// capSentence renders a frequency cap said in any order — "max 2 SMS per
// customer per 7 days", "push - max 2 in any 7 days", "Push cap 2 per
// day" — as "No more than 2 SMS a week."; "" when the rule is not one.
func capSentence(rule string) string {
	w := capWindow.FindStringSubmatchIndex(rule)
	if w == nil {
		return ""
	}
	count := capCount.FindStringSubmatch(rule[:w[0]])
	if count == nil {
		return ""
	}
	n, _ := strconv.Atoi(count[1])
	size := 1
	if w[2] >= 0 {
		size, _ = strconv.Atoi(strings.TrimSpace(rule[w[2]:w[3]]))
	}
	unit := strings.ToLower(rule[w[4]:w[5]])
	var window string
	switch {
	case strings.HasPrefix(unit, "24") || unit[0] == 'd' && size == 1 || unit[0] == 'h' && size == 24:
		window = "a day"
	case unit[0] == 'w' && size == 1 || unit[0] == 'd' && size == 7:
		window = "a week"
	case unit[0] == 'm' && size == 1:
		window = "a month"
	case unit[0] == 'h' && size == 1:
		window = "an hour"
	default:
		window = "in any " + duration(size, unit[:1])
	}
	word := ""
	if chs := findChannels(rule); len(chs) > 0 {
		word = chs[0].channel
	}
	return fmt.Sprintf("No more than %d %s %s.", n, channelPlural(word, n), window)
}

var (
	// capWindow is a cap's window: "per 7 days", "a week", "in any 24
	// hours", "/ day".
	capWindow = regexp.MustCompile(`(?i)(?:\bper|\ba|\ban|/|\bevery|\beach|\bin\s+(?:a|any|one))\s*(\d+\s*)?\b(24\s*h(?:ours)?|hours?|days?|weeks?|months?)\b`)
	// capCount is the most messages a cap allows: the last count before
	// its window.
	capCount = regexp.MustCompile(`(\d+)\D*$`)
)

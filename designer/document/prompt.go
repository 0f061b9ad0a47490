package document

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ruleLine is a prose line stating a journey-wide rule: its entry, exit,
// audience, frequency cap or goal. Group 1 is the keyword, group 2 the rule.
var ruleLine = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(entry trigger|entry|trigger|starts? when|start|target audience|audience\s*/\s*segment|audience|segment|exit criteria|exit when|exit|stop when|stop|frequency cap|frequency|cap|conversion goal|goal)\s*(?:[:|–—-]\s*)+(.+?)\s*$`)

// ruleSentence is a rule said as a sentence, without a colon: "Stop when
// they unsubscribe", "Exit if they buy".
var ruleSentence = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(stop|exit|end the journey)\s+(?:when|if|once|as soon as|on)\s+(.+?)\s*$`)

// capRule reads "max 2 emails per day" and its kin.
var capRule = regexp.MustCompile(`(?i)(\d+)\s+((?:e-?mails?|sms(?:es)?|texts?|push(?:es)?(?:\s+notifications?)?|notifications?|whats\s*app(?:\s+messages?)?|messages?|sends|touches))\s*(?:per|a|an|/|every|each|in\s+a|in\s+any)\s*(day|24\s*h(?:ours)?|week|7\s*days|hour|month)`)

// Prompt renders the plan for a designer as plain English, one sentence per
// step — `On day 3, if they have not opened the welcome email, send an SMS
// "Reminder".` — with the plan's entry rule first and its exit, cap and
// goal rules last. A plan without steps is returned as its prose.
func (d *Document) Prompt() string {
	if len(d.Steps) == 0 {
		return d.Text
	}
	var first, audience, last, before, after []string
	inTable := false
	for _, line := range ruleCandidates(d.Text) {
		m := ruleLine.FindStringSubmatch(line)
		if m == nil {
			m = ruleSentence.FindStringSubmatch(line) // "Stop when they unsubscribe."
		}
		if m == nil {
			// A step said in prose around the table ("Then, 3 days later,
			// everyone gets the same impact-report email.") goes before or
			// after the table's steps, where it was written.
			if strings.Contains(line, " | ") {
				inTable = true
			} else if proseStep(line) || otherAction.MatchString(line) {
				if inTable {
					after = append(after, strings.TrimSpace(line))
				} else {
					before = append(before, strings.TrimSpace(line))
				}
			}
			continue
		}
		kind, rule := strings.ToLower(m[1]), strings.TrimRight(strings.TrimSpace(m[2]), ".")
		if rule == "" || strings.Contains(rule, " | ") {
			continue
		}
		switch {
		case strings.Contains(kind, "audience") || kind == "segment":
			audience = append(audience, "Audience: "+rule+".")
		case (strings.Contains(kind, "entry") || strings.Contains(kind, "trigger") || strings.HasPrefix(kind, "start")) && segmentRule.MatchString(rule):
			// "Trigger: segment lapsed_30d (players inactive for 30 days)"
			first = append(first, "Start when someone joins segment "+strings.Join(segmentRule.FindStringSubmatch(rule)[1:], "")+".")
		case strings.Contains(kind, "entry") || strings.Contains(kind, "trigger") || strings.HasPrefix(kind, "start"):
			first = append(first, "Start when "+subject(rule, false)+".")
		case strings.HasPrefix(kind, "exit") || strings.HasPrefix(kind, "stop"):
			last = append(last, "Stop if "+subject(rule, true)+".")
		case strings.Contains(kind, "cap") || kind == "frequency":
			if c := capSentence(rule); c != "" {
				last = append(last, c)
			}
		default:
			last = append(last, "Goal: "+rule+".")
		}
	}
	// A rule said twice (on two sheets, say) is said once.
	var sentences []string
	for _, r := range append(first, audience...) {
		if !slices.Contains(sentences, r) {
			sentences = append(sentences, r)
		}
	}
	sentences = append(sentences, before...)
	for i := 0; i < len(d.Steps); i++ {
		s := d.Steps[i]
		if s.Variant == "" {
			sentences = append(sentences, s.sentence(i == 0))
			continue
		}
		j := i
		for j < len(d.Steps) && d.Steps[j].Variant != "" {
			j++
		}
		sentences = append(sentences, splitSentence(d.Steps[i:j], i == 0))
		i = j - 1
	}
	sentences = append(sentences, after...)
	for _, r := range last {
		if !slices.Contains(sentences, r) {
			sentences = append(sentences, r)
		}
	}
	return strings.Join(sentences, "\n")
}

var (
	// segmentRule is a trigger naming a segment: "segment lapsed_30d", "the
	// vip segment".
	segmentRule = regexp.MustCompile(`(?i)^(?:the\s+|joins?\s+(?:the\s+)?)?segment\s+[\x60'"]?([a-z0-9][a-z0-9_-]*)[\x60'"]?\s*(?:\(|$)|^(?:the\s+)?[\x60'"]?([a-z0-9][a-z0-9_-]*)[\x60'"]?\s+segment\s*(?:\(|$)`)
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

// ruleCandidates splits the text into lines and, where a whole line is not
// a rule, its sentences: "Owner: content team. Trigger: lead downloads a
// whitepaper" holds a rule in its second sentence.
func ruleCandidates(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if ruleLine.MatchString(line) {
			out = append(out, line)
			continue
		}
		out = append(out, sentenceEnd.Split(line, -1)...)
	}
	return out
}

var sentenceEnd = regexp.MustCompile(`[.!?]\s+`)

// splitSentence renders steps from a Variant column as one A/B split, its
// arms lettered in order: `Split 50/25/25: A: send an email "…" / B: …`.
// A variant without a channel or content is a control arm.
func splitSentence(steps []Step, first bool) string {
	var b strings.Builder
	if said, lead := timingAsWritten(oneLine(steps[0].Timing)); said && lead != "" {
		b.WriteString(lead + ", split")
	} else if !said && steps[0].Day >= 0 {
		fmt.Fprintf(&b, "On day %d, split", steps[0].Day)
	} else if first {
		b.WriteString("Split")
	} else {
		b.WriteString("Then, split")
	}
	var shares []string
	for _, s := range steps {
		if s.Share > 0 {
			shares = append(shares, strconv.Itoa(s.Share))
		}
	}
	if len(shares) == len(steps) {
		b.WriteString(" " + strings.Join(shares, "/"))
	} else {
		b.WriteString(" equally")
	}
	b.WriteString(":")
	for i, s := range steps {
		if i > 0 {
			b.WriteString(" /")
		}
		fmt.Fprintf(&b, " %c: ", 'A'+i)
		if s.Channel == "" && s.Content == "" {
			b.WriteString("control (no message)")
			continue
		}
		s.Day, s.Timing = -1, ""
		b.WriteString(strings.TrimSuffix(s.sentence(false)[len("Then, "):], "."))
	}
	return b.String() + "."
}

// sentence renders one step.
func (s Step) sentence(first bool) string {
	var b strings.Builder
	said, lead := timingAsWritten(oneLine(s.Timing))
	if said && lead == "" && s.Day == 0 {
		said = false // "Immediately" is day 0, unless dates before an event moved the days
	}
	switch {
	case said:
		if lead != "" {
			b.WriteString(lead + ", ")
		} else if !first {
			b.WriteString("Then, ")
		}
	case s.Day >= 0:
		fmt.Fprintf(&b, "On day %d, ", s.Day)
	case !first:
		b.WriteString("Then, ")
	}
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
	content := strings.ReplaceAll(oneLine(s.Content), `"`, "'")
	if s.Channel == "webhook" {
		b.WriteString("call the webhook")
	} else {
		b.WriteString("send " + channelNoun(s.Channel))
	}
	if content != "" {
		b.WriteString(` "` + content + `"`)
	}
	if audience != "" {
		b.WriteString(" to " + audience)
	}
	out := b.String()
	if (s.Day < 0 || said) && first {
		out = strings.ToUpper(out[:1]) + out[1:]
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
	nowTiming = regexp.MustCompile(`(?i)^(?:immediately|instantly|right away|straight away|at once|now|same time)$`)
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
	if strings.HasPrefix(strings.ToLower(c), "unless ") {
		return "unless " + c[len("unless "):]
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

// capSentence renders a frequency cap rule: "max 2 emails per day" → "No
// more than 2 emails a day."; "" when the rule is not one.
func capSentence(rule string) string {
	m := capRule.FindStringSubmatch(rule)
	if m == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[1])
	period := strings.ToLower(m[3])
	switch {
	case strings.HasPrefix(period, "24"):
		period = "day"
	case strings.HasPrefix(period, "7"):
		period = "week"
	}
	article := "a"
	if period == "hour" {
		article = "an"
	}
	return fmt.Sprintf("No more than %d %s %s %s.", n, channelPlural(m[2], n), article, period)
}

package offline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// defaultTimeout is how long a wait_for_event waits when the description
// does not say ("if they don't open it, …").
const defaultTimeout = "3d"

// parsed is a description read into a journey.
type parsed struct {
	graph        *graph.Graph
	questions    []string
	unrecognized []string
	sources      []designer.Source
	// courtesy are the greeting and sign-off lines left out (parse_courtesy.go).
	courtesy []string
}

// parser reads one description clause by clause into a journey.
type parser struct {
	j    *journey
	text string // the whole description
	// the entry, typed at the end: until something says otherwise it is
	// the default event_entry.
	entryType   string
	entryConfig map[string]any
	entryLabel  string
	goal        string
	goalEvent   string // the event that reaches the goal
	goalWithin  string // how long to wait for it, "" when not said
	exit        *graph.ExitCriteria
	caps        []capSpec
	splits      []splitSpec
	channel     string // the channel last sent on, for "opened"
	// seriesChannel is the channel of a titled series ("Welcome series (3
	// emails):"), for messages named without one.
	seriesChannel string
	lastAttr      string // the attribute last tested, for "if it's 6 or lower"
	lastTest      *cond  // the test said before the audiences named by its value
	lastDate      string // the date attribute last waited for, for "7 days before: push"
	// afterWait is a branch to open on the next wait: its duration becomes
	// the timeout.
	afterWait  *cond
	emails     []string // email node ids in order, for "the first email"
	lastStep   string   // the message just added in this sentence, for "but only to …"
	lastSend   string   // the last message added, for "…, send an SMS instead"
	lastDay    int      // the last "On day N" offset, -1 before any
	elapsed    int      // whole days waited since the entry, for "day N"
	questions  []string
	understood int
	// partly holds the parts of understood clauses that were not: they are
	// not understood too.
	partly []string
	// spans: where each node was read from (source.go); cur is the clause
	// being read, the others the spans of what finish builds.
	spans                                       map[string]span
	cur, entrySpan, exitSpan, capSpan, goalSpan span
}

// capSpec is a frequency cap as said: channel "" means every channel used.
type capSpec struct {
	channel string
	cap     graph.Cap
}

// splitSpec is an A/B test on an email: which one, and the weights.
type splitSpec struct {
	which   string // "first", "second", "last", or words of its name
	weights []int
	span    span
}

// parseJourney reads a plain-English description into a valid graph. It
// fails when nothing in the text was understood.
func parseJourney(text string) (*parsed, error) {
	text, courtesy := dropCourtesy(text)
	p := &parser{j: newJourney(), lastDay: -1, text: text, spans: map[string]span{}}
	loc := newLocator(text)
	var unrecognized []string
	for _, sentence := range splitSentences(normalise(text)) {
		if arms, pre, ok := readArms(lowerASCII(sentence)); ok {
			p.cur = loc.find(sentence)
			unrecognized = append(unrecognized, p.armSplit(lowerASCII(sentence), sentence, arms, pre)...)
			p.understood++
			p.claim(p.cur)
			p.j.sentenceEnd()
			p.lastStep = ""
			continue
		}
		clauses := splitClauses(sentence)
		var missed []string
		whole := span{-1, -1} // the sentence in the original text
		read := 0
		for _, c := range clauses {
			p.cur = loc.find(c)
			if p.cur.valid() {
				if whole.start < 0 {
					whole.start = loc.from
				}
				whole.end = p.cur.end
			}
			if p.clause(c) {
				read++
			} else {
				missed = append(missed, loc.quote(text, p.cur, strings.TrimSpace(c)))
			}
			p.claim(p.cur)
			missed, p.partly = append(missed, p.partly...), nil
		}
		if read == 0 {
			missed = []string{sentence}
			if whole.start >= 0 && whole.end > whole.start {
				missed = []string{strings.Join(strings.Fields(strings.TrimLeft(text[whole.start:whole.end], " \t\r\n,.;:!?-→>•*|")), " ")}
			}
		}
		unrecognized = append(unrecognized, missed...)
		p.j.sentenceEnd()
		p.lastStep = ""
	}
	if p.understood == 0 {
		if strings.TrimSpace(text) == "" {
			return nil, errors.New("the description is empty: describe the journey, e.g. \"When a user signs up, send a welcome email, wait 3 days, then send a tips email\"")
		}
		return nil, fmt.Errorf("could not understand any of the description (%s); describe the steps, e.g. \"When a user signs up, send a welcome email, wait 3 days, then send a tips email\"", quoteList(unrecognized))
	}
	if !p.j.steps() {
		return nil, fmt.Errorf("found no steps to take in the description (sends, waits, branches)%s; describe what the journey does, e.g. \"send a welcome email, wait 3 days, then send a tips email\"", notUnderstood(unrecognized))
	}
	g := p.finish()
	if len(g.Nodes) > graph.MaxNodes {
		return nil, fmt.Errorf("the description makes %d steps; a journey has at most %d", len(g.Nodes), graph.MaxNodes)
	}
	if problems := graph.Validate(g); len(problems) > 0 { // a parser bug: say so rather than return a broken journey
		return nil, fmt.Errorf("the journey read from the description is not valid: %s", problems[0].Message)
	}
	return &parsed{graph: g, questions: p.questions, unrecognized: unrecognized, sources: p.sources(), courtesy: courtesy}, nil
}

// notUnderstood names the sentences that were not understood, if any.
func notUnderstood(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return "; not understood: " + quoteList(ss)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// ask adds a follow-up question once.
func (p *parser) ask(q string) {
	for _, have := range p.questions {
		if have == q {
			return
		}
	}
	p.questions = append(p.questions, q)
}

var (
	titleLeadRE = regexp.MustCompile(`^[a-z0-9 '/&()_-]{1,60}:\s+`)
	// keywordLeadRE are the labels that mean something: "Goal: …", "Day 3: …".
	keywordLeadRE = regexp.MustCompile(`^(?:(?:the|our|main|primary) )?(?:goal|objective|kpi|conversion|success|trigger|entry|exit|stop|limit|cap|frequency|max|day|week|step|if|when|otherwise|else|a/b|ab|split|journey starts|starts|start|audience|segment|schedule|e-?mail|sms|text|push|whatsapp|notification|webhook|wait|tag)\b`)
	// stepLabelRE is a list label standing alone: "Step 1".
	segmentDefRE = regexp.MustCompile(`,\s*(?:they|customers|users|people|members|contacts)\s+(?:enter|join|are added to|move into|fall into|land in)\s+(?:the |our |a )?["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+segment$`)
	onDateRE     = regexp.MustCompile(`^on\s+(?:their|the customer's|the user's|his|her)\s+([a-z][a-z ]*?)\s*,?\s+(send|email|text|push|whatsapp|notify|remind|message|call)\b`)
	// relDateRE is a time said from a date the profile holds: "2 days before
	// renewal_date", "3 days before their subscription renews at".
	dateNameRE  = regexp.MustCompile(`(?:date|_at|_on|day|birthday|anniversary|renewal|expiry|expires|deadline|due|_end|_start|_time|_until)$`)
	onlyForRE   = regexp.MustCompile(`^(?:but\s+|and\s+)?(?:(?:that|the|this)\s+(?:(?:last|final|latter|previous|second|third)\s+)?(?:one|message|email|sms|push|text|step|reminder)\s+)?only\s+(?:to|for|if|when)\s+(.+)$`)
	stepLabelRE = regexp.MustCompile(`^(?:step\s*\d+|\d+[.)]?|then|and then|and|next|finally|afterwards|after that|also|lastly)$`)
)

// saysTriggerRE says what starts the journey after a title, which then
// names the journey only ("Upgrade offer: when a passenger selects a seat").
// ticketKeyRE is a ticket's key opening a line: "KAL-412:", "UTIL-301".
var ticketKeyRE = regexp.MustCompile(`^[a-z]{2,6}-\d{1,5}\b[:\s-]*`)

var saysTriggerRE = regexp.MustCompile(`^(?:when|whenever|once|after|on|upon|as soon as|trigger|entry)\b`)

var titleOnlyRE = regexp.MustCompile(`^[a-z0-9 '/&()-]{1,40}:$`)

var connectorRE = regexp.MustCompile(`^(?:when that happens|when this happens|at that point|ok so|okay so|ok|okay|so basically|basically|and then|then|and|also|next|finally|first|firstly|lastly|afterwards|after that|so|please|we want to|we'd like to|we would like to|i want to|i'd like to|we should|let's|you should|we'll|we will|we|step \d+|\d+\)|everyone|everybody|all of them|all users|all customers|they)\s*[,:.)-]?\s+`)

// clause reads one clause and reports whether it understood it.
func (p *parser) clause(c string) bool {
	c = strings.TrimSpace(strings.Trim(strings.TrimSpace(c), ",;-"))
	l := lowerASCII(c)
	if p.audienceEntry(l, c) { // before connectors go: "everyone on the churned list …"
		p.understood++
		return true
	}
	for {
		m := connectorRE.FindStringIndex(l)
		if m == nil {
			break
		}
		if w := strings.TrimSpace(l[:m[1]]); (w == "next" || w == "first") && !actionLeadRE.MatchString(l[m[1]:]) {
			break // "next day …", "first email: …"
		}
		c, l = c[m[1]:], l[m[1]:]
	}
	if m := checkLabelRE.FindStringSubmatchIndex(l); m != nil {
		// "check whether they're on a family bundle: bundle_type is
		// "family"": the test the audiences after it are named by
		if cd, ok := parseCondition(l[m[2]:m[3]], c[m[2]:m[3]], p.channel); ok && cd.expr != "" {
			p.lastTest = &cd
			p.understood++
			return true
		}
	}
	if m := titleLeadRE.FindStringSubmatchIndex(l); m != nil && !keywordLeadRE.MatchString(l) && !headerRE.MatchString(l) {
		if ch := channelRE.FindString(l[:m[1]]); ch != "" {
			p.seriesChannel = ch
		}
		if ev, ok := eventOf(l[:m[1]], ""); ok && p.entryType == "" && !p.j.steps() && !strings.HasSuffix(ev, "_opened") && !strings.HasSuffix(ev, "_clicked") &&
			!saysTriggerRE.MatchString(l[m[1]:]) && identInPhraseRE.FindString(l[m[1]:]) == "" && !strings.Contains(l[:m[1]], "segment") {
			p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev}) // "Abandoned cart: …"
		}
		if at, ok := p.findDate(l[:m[1]]); ok { // "The day after (1 day after webinar_start): …"
			p.waitUntil(at.attr, at.dur, at.dir)
		}
		c, l = c[m[1]:], l[m[1]:] // "Cart recovery: …" names the journey
	}
	if m := ticketKeyRE.FindStringIndex(l); m != nil {
		// "FIN-77 First deposit nudge": a ticket's key and title name the
		// journey; what follows a title on its line is read
		if rest := l[m[1]:]; p.understood == 0 && !strings.ContainsAny(rest, ":,") && len(strings.Fields(rest)) <= 6 {
			return false
		}
		c, l = c[m[1]:], l[m[1]:]
	}
	if stepLabelRE.MatchString(strings.TrimSpace(l)) {
		return true
	}
	if titleOnlyRE.MatchString(l) { // "Onboarding:" heads what follows
		if ch := channelRE.FindString(l); ch != "" {
			p.seriesChannel = ch
		}
		return true
	}
	if strings.Trim(l, " .:!") == "" {
		return false
	}
	if m := audienceGetsRE.FindStringSubmatchIndex(l); m != nil && !strings.Contains(l[:m[4]], " if ") {
		p.gets(l[m[2]:m[3]], c[m[2]:m[3]], c[m[4]:m[5]])
		p.understood++
		return true
	}
	if m := onlyForRE.FindStringSubmatchIndex(l); m != nil && p.lastStep != "" {
		// "…, but only to customers who opted in": a condition on that step
		if cd, ok := parseCondition(l[m[2]:m[3]], c[m[2]:m[3]], p.channel); ok && cd.expr != "" {
			p.j.guard(p.lastStep, cd, false)
			p.understood++
			return true
		}
	}
	if m := segmentDefRE.FindStringSubmatch(l); m != nil && p.entryType == "" && !p.j.steps() {
		// "If a customer hasn't ordered in 90 days, they enter the win-back
		// segment": the segment is the entry, the rest describes it
		seg := slug(m[1])
		p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
		p.understood++
		return true
	}
	if p.relativeDate(l, c) {
		return true
	}
	if m := onDateRE.FindStringSubmatchIndex(l); m != nil {
		// "on their birthday, send …": wait until the date the profile holds
		attr := "customer." + attrName(l[m[2]:m[3]])
		p.j.add("wait_until", "Wait until "+attr, map[string]any{"until": attr})
		p.understood++
		return p.rest(l, c, m[4]) || true
	}
	if m := lookAtRE.FindStringSubmatch(strings.TrimRight(l, " .")); m != nil {
		p.lastAttr = strings.ReplaceAll(m[1], "_", " ")
		p.understood++
		return true
	}
	ok := p.journeySetting(l, c) || p.otherwise(l, c) || p.dayOffset(l, c) || p.schedule(l, c) ||
		p.entry(l, c) || p.conditional(l, c) || p.waitClause(l, c) || p.timePrefix(l, c) ||
		p.trailingCondition(l, c) || p.action(l, c)
	if ok {
		p.understood++
	}
	return ok
}

// gets reads "<audience> get(s) <things>": a gate on the audience, then a
// step for each thing — a message, or a tag ("and the 'vip' tag").
func (p *parser) gets(audL, audC, things string) {
	switch {
	case bareSignupRE.MatchString(audL): // "new users get …"
		p.clause(audC)
	case p.lastTest != nil && testValueRE.FindStringSubmatch(p.lastTest.expr) != nil && strings.Contains(audL, strings.ToLower(testValueRE.FindStringSubmatch(p.lastTest.expr)[1])):
		p.branch(*p.lastTest, true) // "Premium members get …" after the test on "premium"
	case !p.conditional("for "+audL, "for "+audC):
		p.ask(fmt.Sprintf("Who should get these messages? I could not turn %q into a condition, so everyone gets them.", audC))
	}
	for _, item := range splitOutsideQuotes(things, listSepRE) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if tagItemRE.MatchString(lowerASCII(item)) {
			p.clause("add " + item)
			continue
		}
		for _, c := range splitClauses("send " + item) {
			p.clause(c)
		}
	}
}

var (
	listSepRE = regexp.MustCompile(`,\s*(?:and\s+)?|\s+and\s+`)
	tagItemRE = regexp.MustCompile(`^(?:the |a |an )?["']?[a-z0-9_-]+["']?\s+tag$`)
)

// rest reads what follows a recognized prefix; nothing at all is fine.
func (p *parser) rest(l, c string, from int) bool {
	r := strings.TrimSpace(strings.Trim(strings.TrimSpace(c[from:]), ",:-"))
	if strings.Trim(r, " .!") == "" {
		return true
	}
	return p.clause(r)
}

var (
	otherwiseRE = regexp.MustCompile(`^(?:otherwise|else|if not|if (?:that|this|it) (?:doesn't|does not|didn't|did not|never) happens?|if (?:that|this|it) (?:does|did|happens)|if no|if they don't|if they didn't|if they haven't|if they do not|if they did not|if they have not|for everyone else|everyone else|for the rest|the rest|if so|if yes|if they did|if they do|if they have)\b[,:]?\s*`)
	// fillerLeadRE are words before an arm's step: "also send them …".
	fillerLeadRE = regexp.MustCompile(`^(?:(?:also|then|just|please|we)\s+)+`)
	positiveRE   = regexp.MustCompile(`^(?:if so|if yes|if (?:that|this|it) (?:does|did|happens)|if they did|if they do|if they have)\b`)
)

// otherwise continues the other arm of the open fork: "otherwise, …",
// "if not, …", "if they did, …".
func (p *parser) otherwise(l, c string) bool {
	if side, from := p.armWords(l); side != "" { // "attended ->", "didn't ->"
		p.j.switchTo(side)
		return p.rest(l, c, from)
	}
	m := otherwiseRE.FindStringIndex(l)
	if m == nil || p.j.fork == nil {
		return false
	}
	if rest := fillerLeadRE.ReplaceAllString(strings.TrimSpace(l[m[1]:]), ""); rest != "" && strings.HasPrefix(l, "if") && !actionLeadRE.MatchString(rest) {
		return false // "if they don't open it": a condition of its own
	}
	f := p.j.fork
	switch {
	case positiveRE.MatchString(l):
		p.j.switchTo(f.side[0])
	case strings.HasPrefix(l, "if"):
		p.j.switchTo(f.side[1])
	default:
		p.j.otherwise()
	}
	from := m[1]
	if a := armEventLeadRE.FindStringIndex(l[from:]); a != nil && actionLeadRE.MatchString(fillerLeadRE.ReplaceAllString(l[from+a[1]:], "")) {
		from += a[1] // "otherwise, as soon as they start, send …": the arm's event said again
	}
	return p.rest(l, c, from)
}

// armWordsRE is a few words heading an arm of an open wait on a line or
// before an arrow of their own: "attended", "didn't", "not booked", "timed
// out", "no show".
var armWordsRE = regexp.MustCompile(`^(?:if\s+|when\s+|once\s+)?([a-z' ]{2,25}?)\s*(?:[:.,]\s*|$)`)

// armTimeRE is the time an arm head says before its words: "7 days and no
// delivery".
var armTimeRE = regexp.MustCompile(`^(?:after\s+)?\d{1,4}\s*(?:minutes?|hours?|days?|weeks?)\s*(?:and|with|but|,)?\s+`)

// timedOutWordsRE say that the wait ran out.
var timedOutWordsRE = regexp.MustCompile(`^(?:(?:it |the wait |wait )?timed out|time ?out|times out|expired|no[ -]show|none|nothing|no|nope|still nothing|still none)$`)

// armWords is the side of the open wait for an event that a bare arm head
// names — its event in words (the stem of its last word: "attended" for
// orientation_attended) or its timing out (a negation, "timed out") — and
// where the arm's step begins; "" when l opens with no such head.
func (p *parser) armWords(l string) (string, int) {
	f := p.j.fork
	l = strings.TrimSpace(l)
	t := armTimeRE.FindStringIndex(l)
	from := 0
	if t != nil {
		from = t[1]
	}
	m := armWordsRE.FindStringSubmatchIndex(l[from:])
	if f == nil || m == nil || !snakeEventRE.MatchString(f.key) {
		return "", 0
	}
	words := strings.TrimSpace(l[from+m[2] : from+m[3]])
	rest := strings.TrimSpace(l[from+m[1]:])
	if len(strings.Fields(words)) > 3 || (rest != "" && !actionLeadRE.MatchString(fillerLeadRE.ReplaceAllString(rest, ""))) {
		return "", 0
	}
	said := false
	for _, w := range wordRE.FindAllString(words, -1) {
		said = said || stem(w) == stem(eventKind(f.key))
	}
	switch {
	case timedOutWordsRE.MatchString(words) || (negationRE.MatchString(words) && (said || len(strings.Fields(words)) == 1)):
		return f.side[1], from + m[1]
	case said && !negationRE.MatchString(words):
		return f.side[0], from + m[1]
	}
	return "", 0
}

// armEventLeadRE says again, in an arm, the event the arm is for: "as soon
// as they start,", "once they do,".
var armEventLeadRE = regexp.MustCompile(`^[\s,]*(?:as soon as|once|when|the moment|if) (?:they|it|that|he|she) [a-z' ]{1,30}?,\s*`)

var (
	skipRE         = regexp.MustCompile(`^(?:in which case|in that case|then)?\s*(?:skip|don'?t send|do not send|send nothing|nothing|no message|leave it out)\b`)
	condPrefixRE   = regexp.MustCompile(`^(?:but |and |again |also |and again )?(if|unless|only if|only for|for|when|whenever|once|as soon as|in case|should|those who|anyone who|people who|customers who|users who|members who|subscribers who|players who|leads who|contacts who)\s+`)
	audienceGetsRE = regexp.MustCompile(`^((?:[a-z-]+\s+){0,2}(?:customers|users|people|those|subscribers|members|contacts|accounts|players|leads|shoppers|signups)\b.*?)\s+(?:get|gets|receive|receives|should get|should receive|will get|will receive)\s+(.+)$`)
	passiveRE      = regexp.MustCompile(`^(?:a |an |the |their |its )?([a-z][a-z -]{1,30}?)\s+(?:is|was|gets|has been|are|get)\s+([a-z]+ed)$`)
	whoDidRE       = regexp.MustCompile(`\s+(?:who|that)\s+(?:have\s+|just\s+)?`)
	itIsRE         = regexp.MustCompile(`^(?:it's|it is|its|that's|that is)\s+`)
	attrOfExprRE   = regexp.MustCompile(`^customer\.([a-z0-9_]+) `)
	insteadRE      = regexp.MustCompile(`\s*,?\s*\binstead\b(?:\s+of\s+(?:the\s+|an?\s+)?[a-z -]+)?(?:\s*,?\s+(?:so|so that|because|as|since)\s.*)?\s*$`)
	// skipTheRE skips the last message for something else: "skip the
	// email and call our webhook", "don't send the SMS, push instead".
	skipTheRE    = regexp.MustCompile(`^(?:skip|don'?t send|do not send|drop|leave out|no)\s+(?:the |that |this |their )?[a-z0-9' -]{1,30}?\s*(?:,\s*|;\s*|\s+)(?:and\s+|but\s+)?(?:just\s+|instead\s+)?`)
	exitActionRE = regexp.MustCompile(`^(?:stop|exit|end|remove them|take them out|drop them|pull them out|leave|they leave|they exit|kick them out|stop the journey|stop messaging|stop sending)\b`)
)

// conditional reads "if C, A": a branch on C with A on its arm. Without A
// it is a gate: the steps that follow are for those who pass C.
func (p *parser) conditional(l, c string) bool {
	m := condPrefixRE.FindStringSubmatchIndex(l)
	if m == nil {
		return false
	}
	kw := l[m[2]:m[3]]
	body, bodyOrig := l[m[1]:], c[m[1]:]
	split := len(body)
	if i := strings.IndexAny(body, ",:"); i >= 0 {
		split = i
	} else if i := actionIndex(body); i > 0 {
		split = i
	}
	if strings.HasSuffix(kw, "who") {
		body, bodyOrig = kw+" "+body, kw+" "+bodyOrig
		split += len(kw) + 1
	}
	condL, condC := body[:split], bodyOrig[:split]
	if (kw == "for" || kw == "only for") && p.entryType == "" && (!p.j.steps() || p.onlySends()) {
		// "for premium customers who signed up": the entry and a condition;
		// after the messages too when the event is written as a name ("we
		// test 3 emails, for everyone who fires app_installed")
		if w := whoDidRE.FindStringIndex(condL); w != nil {
			if ev, ok := eventOf(condL[w[1]:], ""); ok && (!p.j.steps() || strings.Contains(condL, ev)) {
				p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
				condL, condC = condL[:w[0]], condC[:w[0]]
			}
		}
	}
	if cmp := bareCompareRE.FindStringSubmatchIndex(condL); cmp != nil && p.lastAttr != "" {
		// "customers above $1000" after "look at their lifetime_value"
		condL, condC = p.lastAttr+" "+condL[cmp[2]:], p.lastAttr+" "+condC[cmp[2]:]
	}
	if it := itIsRE.FindStringIndex(condL); it != nil && p.lastAttr != "" {
		condL, condC = p.lastAttr+" is "+condL[it[1]:], p.lastAttr+" is "+condC[it[1]:]
	}
	cd, ok := parseCondition(condL, condC, p.channel)
	if n := noneRE.FindStringSubmatchIndex(condL); !ok && n != nil && p.lastAwaited() != "" {
		// "whatsapp if still none in 3d": the event waited for last, again
		cd, ok = cond{event: p.lastAwaited(), negated: true, text: strings.TrimSpace(condC)}, true
		if n[2] >= 0 {
			cd.within, _, _ = findDuration(condL[n[2]:n[3]])
		}
	}
	if m := passiveRE.FindStringSubmatch(strings.TrimSpace(condL)); m != nil && (kw == "when" || kw == "once" || kw == "as soon as") && p.j.steps() {
		if _, known := eventOf(condL, p.channel); !known {
			// "when the ticket is resolved": wait for ticket_resolved
			cd, ok = cond{event: slug(nameWords(m[1])) + "_" + m[2], text: strings.TrimSpace(condC)}, true
		}
	}
	if !ok {
		return false
	}
	if m := attrOfExprRE.FindStringSubmatch(cd.expr); m != nil {
		p.lastAttr = strings.ReplaceAll(m[1], "_", " ")
	}
	action := strings.TrimSpace(strings.Trim(bodyOrig[split:], ",: "))
	if skipRE.MatchString(lowerASCII(action)) { // "…, in which case skip it"
		action = ""
	}
	al := lowerASCII(action)
	if kw == "unless" && cd.event != "" && p.lastAwaited() != "" && strings.HasPrefix(l, "again") {
		cd.event = p.lastAwaited() // "again unless purchased": the event waited for before
	}
	if kw == "unless" && action == "" && cd.expr != "" && !cd.negated && p.lastStep != "" {
		// "send an SMS again, unless they have booked (appointment_booked =
		// true)": those for whom it holds skip the message
		p.j.guard(p.lastStep, cd, true)
		return true
	}
	if kw == "unless" {
		cd.negated = !cd.negated
		if cd.expr != "" {
			cd.expr, cd.negated = "!("+cd.expr+")", false
		}
	}
	if exitActionRE.MatchString(al) && !cd.negated && cd.within == "" && (kw != "for" && kw != "only for") {
		return p.setExit(cd)
	}
	if kw == "unless" && action == "" && p.unlessBefore(cd) {
		return true
	}
	if cd.expr != "" && cd.negated { // "if plan is premium" on its false arm
		cd.expr, cd.negated = "!("+cd.expr+")", false
	}
	if sk := skipTheRE.FindStringIndex(al); sk != nil && cd.expr != "" && p.lastSend != "" && p.lastSend != p.lastStep {
		// "if plan = enterprise, skip the email and call our webhook":
		// what follows replaces the last message for them
		action = action[sk[1]:]
		al = lowerASCII(action)
		if insteadRE.FindStringIndex(al) == nil {
			action, al = action+" instead", al+" instead"
		}
	}
	if m := insteadRE.FindStringIndex(al); m != nil && cd.expr != "" && p.lastSend != "" && p.lastSend != p.lastStep {
		// "if they have no email address, send an SMS instead": the SMS
		// replaces the last message for them, never both
		ok := false
		p.j.instead(p.lastSend, cd, func() { ok = p.clause(action[:m[0]] + action[m[1]:]) })
		return ok
	}
	p.branch(cd, action == "")
	if action == "" {
		return true
	}
	return p.clause(action)
}

// bareCompareRE is a comparison that leaves out the attribute it is about:
// "customers above 1000", "those with more than 3", "over 500".
var bareCompareRE = regexp.MustCompile(`^(?:(?:all\s+)?(?:customers|users|those|people|anyone|members|accounts|players|donors|subscribers)\s+(?:with\s+|whose\s+is\s+|at\s+)?)?((?:above|over|below|under|more than|less than|fewer than|at least|at most|>=?|<=?)\s+[$€£]?\d[\d.]*)\s*$`)

// checkLabelRE is the test the journey makes, as normalise leaves it
// ("Check: membership_tier is "premium"").
var checkLabelRE = regexp.MustCompile(`^check:\s*(.+)$`)

// testValueRE is the value a test compares with: "premium" in
// customer.membership_tier == "premium".
var testValueRE = regexp.MustCompile(`== "([^"]+)"$`)

// lookAtRE names the attribute the tests after it are about: "look at
// their lifetime_value", "check the order_total".
var lookAtRE = regexp.MustCompile(`^(?:look at|check|inspect|use|go by|branch on|split on|depending on|based on)\s+(?:their|the customer's|the user's|the|its|his|her)?\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)$`)

// onlySends reports whether the journey so far is messages only: no wait,
// branch or split yet.
func (p *parser) onlySends() bool {
	for _, n := range p.j.b.g.Nodes {
		if n.ID != p.j.entry && !graph.IsChannel(n.Type) {
			return false
		}
	}
	return true
}

// noneRE is a condition that the event waited for still has not come:
// "if still none in 3 days", "if nothing yet".
var noneRE = regexp.MustCompile(`^\s*(?:still\s+)?(?:none|nothing|no)(?:\s+yet)?(?:\s+(?:in|within|after)\s+(.+))?\s*$`)

// lastAwaited is the event of the last wait_for_event, "" before any.
func (p *parser) lastAwaited() string {
	ev := ""
	for _, n := range p.j.b.g.Nodes {
		if n.Type == "wait_for_event" {
			ev = configString(n.Config, "event_type")
		}
	}
	return ev
}

// unlessBefore reads "unless X" said after a timed message ("on day 30 an
// email asking for a pledge — unless they've started one by then"): the
// plain wait before the message becomes the wait for X, the message goes
// on its timed_out branch and those X came for leave. It reports false
// when the last step is not a message right after a wait.
func (p *parser) unlessBefore(cd cond) bool {
	if cd.event == "" || p.lastSend == "" || p.j.fork != nil || len(p.j.tails) != 1 || p.j.tails[0] != (tail{p.lastSend, ""}) {
		return false
	}
	in := -1
	for i, e := range p.j.b.g.Edges {
		if e.Target == p.lastSend {
			if in >= 0 {
				return false
			}
			in = i
		}
	}
	if in < 0 || p.j.b.g.Edges[in].Branch != "" {
		return false
	}
	wait := p.j.b.g.Edges[in].Source
	n, _ := p.j.b.Node(wait)
	if n.Type != "wait" {
		return false
	}
	timeout := configString(n.Config, "duration")
	p.j.b.Set(wait, "wait_for_event", fmt.Sprintf("Wait up to %s for %s", humanDuration(timeout), cd.event), map[string]any{"event_type": cd.event, "timeout": timeout})
	p.j.b.g.Edges[in].Branch = graph.BranchTimedOut
	p.j.parked = append(p.j.parked, tail{wait, graph.BranchEventReceived})
	return true
}

// branch opens (or continues) a fork on cd, asking about invented timeouts.
func (p *parser) branch(cd cond, gate bool) {
	if cd.event != "" && identInTextRE.MatchString(p.text) && !strings.Contains(strings.ToLower(p.text), cd.event) {
		if ev := p.knownEvent(cd.text); ev != "" { // "if they still haven't completed": kyc_completed
			cd.event = ev
		}
	}
	if f := p.j.fork; f != nil && cd.event != "" && cd.event != f.key && eventKind(cd.event) == eventKind(f.key) && !channelRE.MatchString(lowerASCII(cd.text)) {
		cd.event = f.key // "if opened" after "if not opened … send an SMS" is still the email
	}
	if f := p.j.fork; f != nil && f.key == cd.event && f.defaulted && cd.within != "" {
		// the timeout is said now: the question about it is answered
		p.questions = slices.DeleteFunc(p.questions, func(q string) bool { return strings.HasPrefix(q, "How long should the journey wait for "+cd.event+" ") })
	}
	before := len(p.j.b.g.Nodes)
	lastWait := p.j.lastWait
	node := p.j.branchOn(cd, gate, defaultTimeout)
	if cd.event != "" && cd.within == "" && len(p.j.b.g.Nodes) > before && node != lastWait {
		p.ask(fmt.Sprintf("How long should the journey wait for %s before moving on? I used %s.", cd.event, humanDuration(defaultTimeout)))
	}
}

// setExit makes an event or expression the journey's exit criteria.
func (p *parser) setExit(cd cond) bool {
	if !p.exitSpan.valid() {
		p.exitSpan = p.cur
	}
	if p.exit == nil {
		p.exit = &graph.ExitCriteria{}
	}
	switch {
	case cd.event != "" && p.exit.EventType == "":
		p.exit.EventType = cd.event
	case cd.expr != "" && p.exit.Expression == "":
		p.exit.Expression = cd.expr
	case cd.expr != "":
		p.exit.Expression = "(" + p.exit.Expression + ") || (" + cd.expr + ")"
	default:
		p.ask(fmt.Sprintf("A journey exits on one event; I kept %s. Should %s end it too?", p.exit.EventType, cd.event))
	}
	return true
}

var trailingCondRE = regexp.MustCompile(`\s+(?:but )?(?:only )?(if|unless|for|when|once|as long as)\s+((?:they|the customer|customers|users|their|the user|it|plan|country|those|people|anyone|everyone|push|the push|the email|email|the sms|the message|the text|no|still no|none|still none|nothing|still nothing|not|still not)\b.*|[a-z]+(?:_[a-z0-9]+)+\b.*|[a-z_]+ (?:is|are|equals|>|<|=).*)$`)

// trailingCondition reads "A if C" as "if C, A".
func (p *parser) trailingCondition(l, c string) bool {
	m := trailingCondRE.FindStringSubmatchIndex(l)
	if m == nil || m[0] == 0 {
		return false
	}
	if head := l[:m[0]]; !actionStartRE.MatchString(head) && !sendLead.MatchString(head) && !(nounPhraseRE.MatchString(head) && channelRE.MatchString(head)) {
		return false
	}
	kw := l[m[2]:m[3]]
	if kw == "as long as" {
		kw = "if"
	}
	condL, condC, actL, actC := l[m[4]:m[5]], c[m[4]:m[5]], l[:m[0]], c[:m[0]]
	if (kw == "when" || kw == "once") && p.entryType == "" && !p.j.steps() && !actionStartRE.MatchString(condL) {
		return false // "send X when they sign up": the entry, read with the message
	}
	if (kw == "when" || kw == "once") && p.entryType == "" && p.channel == "" {
		if ev, ok := eventOf(condL, ""); ok && !strings.HasSuffix(ev, "_opened") && !strings.HasSuffix(ev, "_clicked") {
			p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
			return p.clause(actC)
		}
	}
	// "send an SMS after 2 days if they haven't opened it": the 2 days are
	// how long to wait for the open.
	if t := timeTail.FindStringIndex(actL); t != nil && !withinRE.MatchString(condL) {
		if _, isEvent := eventOf(condL, p.channel); isEvent {
			if dur, _, ok := findDuration(actL[t[0]:t[1]]); ok {
				within := " within " + humanDuration(dur)
				condL, condC = condL+within, condC+within
				actL, actC = cut(actL, t), cut(actC, t)
			}
		}
	}
	return p.conditional(kw+" "+condL+", "+actL, kw+" "+condC+", "+actC)
}

// humanDuration writes 3d as "3 days".
func humanDuration(d string) string {
	if d == "" {
		return ""
	}
	n := d[:len(d)-1]
	unit := map[byte]string{'s': "second", 'm': "minute", 'h': "hour", 'd': "day"}[d[len(d)-1]]
	if n == "7" && unit == "day" {
		return "1 week"
	}
	if n != "1" {
		unit += "s"
	}
	return n + " " + unit
}

// eventKind is what an event says happened: "opened" for email_opened.
func eventKind(event string) string {
	if i := strings.LastIndexByte(event, '_'); i >= 0 {
		return event[i+1:]
	}
	return event
}

package offline

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

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
}

// parser reads one description clause by clause into a journey.
type parser struct {
	j *journey
	// the entry, typed at the end: until something says otherwise it is
	// the default event_entry.
	entryType   string
	entryConfig map[string]any
	entryLabel  string
	goal        string
	exit        *graph.ExitCriteria
	caps        []capSpec
	splits      []splitSpec
	channel     string   // the channel last sent on, for "opened"
	emails      []string // email node ids in order, for "the first email"
	lastDay     int      // the last "On day N" offset, -1 before any
	questions   []string
	understood  int
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
}

// parseJourney reads a plain-English description into a valid graph. It
// fails when nothing in the text was understood.
func parseJourney(text string) (*parsed, error) {
	p := &parser{j: newJourney(), lastDay: -1}
	var unrecognized []string
	for _, sentence := range splitSentences(text) {
		clauses := splitClauses(sentence)
		var missed []string
		for _, c := range clauses {
			if !p.clause(c) {
				missed = append(missed, strings.TrimSpace(c))
			}
		}
		if len(missed) == len(clauses) {
			missed = []string{sentence}
		}
		unrecognized = append(unrecognized, missed...)
		p.j.sentenceEnd()
	}
	if p.understood == 0 {
		if len(unrecognized) == 0 {
			return nil, errors.New("the description is empty: describe the journey, e.g. \"When a user signs up, send a welcome email, wait 3 days, then send a tips email\"")
		}
		return nil, fmt.Errorf("could not understand any of the description (%s); describe the steps, e.g. \"When a user signs up, send a welcome email, wait 3 days, then send a tips email\"", quoteList(unrecognized))
	}
	if !p.j.steps() {
		return nil, fmt.Errorf("found no steps to take in the description (sends, waits, branches)%s; describe what the journey does, e.g. \"send a welcome email, wait 3 days, then send a tips email\"", notUnderstood(unrecognized))
	}
	g := p.finish()
	if problems := graph.Validate(g); len(problems) > 0 { // a parser bug: say so rather than return a broken journey
		return nil, fmt.Errorf("the journey read from the description is not valid: %s", problems[0].Message)
	}
	return &parsed{graph: g, questions: p.questions, unrecognized: unrecognized}, nil
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

var connectorRE = regexp.MustCompile(`^(?:and then|then|and|also|next|finally|first|firstly|lastly|afterwards|after that|so|please|we want to|we'd like to|we would like to|i want to|i'd like to|we should|let's|you should|we'll|we will|we|step \d+|\d+\))[,:]?\s+`)

// clause reads one clause and reports whether it understood it.
func (p *parser) clause(c string) bool {
	c = strings.TrimSpace(strings.Trim(strings.TrimSpace(c), ",;-"))
	l := lowerASCII(c)
	for {
		m := connectorRE.FindStringIndex(l)
		if m == nil {
			break
		}
		c, l = c[m[1]:], l[m[1]:]
	}
	if strings.Trim(l, " .:!") == "" {
		return false
	}
	ok := p.journeySetting(l, c) || p.otherwise(l, c) || p.dayOffset(l, c) || p.schedule(l, c) ||
		p.entry(l, c) || p.conditional(l, c) || p.waitClause(l, c) || p.timePrefix(l, c) ||
		p.trailingCondition(l, c) || p.action(l, c)
	if ok {
		p.understood++
	}
	return ok
}

// rest reads what follows a recognized prefix; nothing at all is fine.
func (p *parser) rest(l, c string, from int) bool {
	r := strings.TrimSpace(strings.Trim(strings.TrimSpace(c[from:]), ",:-"))
	if strings.Trim(r, " .!") == "" {
		return true
	}
	return p.clause(r)
}

var (
	otherwiseRE = regexp.MustCompile(`^(?:otherwise|else|if not|if no|if they don't|if they didn't|if they haven't|if they do not|if they did not|if they have not|for everyone else|everyone else|for the rest|the rest|if so|if yes|if they did|if they do|if they have)\b[,:]?\s*`)
	positiveRE  = regexp.MustCompile(`^(?:if so|if yes|if they did|if they do|if they have)\b`)
)

// otherwise continues the other arm of the open fork: "otherwise, …",
// "if not, …", "if they did, …".
func (p *parser) otherwise(l, c string) bool {
	m := otherwiseRE.FindStringIndex(l)
	if m == nil || p.j.fork == nil {
		return false
	}
	if rest := strings.TrimSpace(l[m[1]:]); rest != "" && !actionLeadRE.MatchString(rest) {
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
	return p.rest(l, c, m[1])
}

var dayRE = regexp.MustCompile(`^(?:on |by )?day\s*(\d{1,3})\b\s*[,:.)-]?\s*`)

// dayOffset reads "On day 3, …" as a wait since the previous day offset.
func (p *parser) dayOffset(l, c string) bool {
	m := dayRE.FindStringSubmatchIndex(l)
	if m == nil {
		return false
	}
	day, _ := strconv.Atoi(l[m[2]:m[3]])
	since := day
	if p.lastDay >= 0 {
		since = day - p.lastDay
	}
	if since > 0 {
		p.j.add("wait", fmt.Sprintf("Wait %d days", since), map[string]any{"duration": fmt.Sprintf("%dd", since)})
	}
	if day > p.lastDay {
		p.lastDay = day
	}
	return p.rest(l, c, m[1])
}

var (
	condPrefixRE = regexp.MustCompile(`^(?:but |and )?(if|unless|only if|only for|for|when|whenever|once|as soon as|in case|should|those who|anyone who|people who|customers who|users who)\s+`)
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
	cd, ok := parseCondition(body[:split], bodyOrig[:split], p.channel)
	if !ok {
		return false
	}
	if kw == "unless" {
		cd.negated = !cd.negated
		if cd.expr != "" {
			cd.expr, cd.negated = "!("+cd.expr+")", false
		}
	}
	action := strings.TrimSpace(strings.Trim(bodyOrig[split:], ",: "))
	al := lowerASCII(action)
	if exitActionRE.MatchString(al) && !cd.negated && cd.within == "" && (kw != "for" && kw != "only for") {
		return p.setExit(cd)
	}
	if cd.expr != "" && cd.negated { // "if plan is premium" on its false arm
		cd.expr, cd.negated = "!("+cd.expr+")", false
	}
	p.branch(cd, action == "")
	if action == "" {
		return true
	}
	return p.clause(action)
}

// branch opens (or continues) a fork on cd, asking about invented timeouts.
func (p *parser) branch(cd cond, gate bool) {
	if f := p.j.fork; f != nil && cd.event != "" && cd.event != f.key && eventKind(cd.event) == eventKind(f.key) && !channelRE.MatchString(lowerASCII(cd.text)) {
		cd.event = f.key // "if opened" after "if not opened … send an SMS" is still the email
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

var (
	waitForRE   = regexp.MustCompile(`^(?:wait|pause|hold|give them)\s+(?:for\s+)?(?:up to|at most|a maximum of|max|no more than)?\s*(.*?)\s+(?:for|until)\s+(?:them to|they|the customer to|the user to|a |an |the |their )?(.+)$`)
	waitUntilRE = regexp.MustCompile(`^(?:wait|pause|hold)\s+(?:until|till)\s+(?:they|the customer|the user|a|an)?\s*(.+?)(?:\s*\(?(?:or|with a|with|timeout|max|up to|at most)\s+(?:of\s+|after\s+|up to\s+|for\s+)?(.+?)\)?)?$`)
	untilAttrRE = regexp.MustCompile(`^(?:wait|pause|hold)\s+(?:until|till)\s+(?:their|the customer's|the user's|the)\s+([a-z][a-z _]*?)$`)
)

// waitClause reads the waits that watch for an event ("wait up to 2 days for
// a purchase", "wait until they click, at most a week") or a date ("wait
// until their trial end date").
func (p *parser) waitClause(l, c string) bool {
	if m := waitForRE.FindStringSubmatch(l); m != nil {
		dur, _, ok := findDuration(m[1])
		ev, evOK := eventOf(m[2], p.channel)
		if ok && evOK {
			p.branch(cond{event: ev, within: dur, explicitWait: true, text: m[2]}, false)
			return true
		}
	}
	if m := untilAttrRE.FindStringSubmatch(l); m != nil {
		if _, isEvent := eventOf(m[1], p.channel); !isEvent {
			attr := "customer." + attrName(m[1])
			p.j.add("wait_until", "Wait until "+attr, map[string]any{"until": attr})
			return true
		}
	}
	if m := waitUntilRE.FindStringSubmatch(l); m != nil {
		ev, ok := eventOf(m[1], p.channel)
		if !ok {
			return false
		}
		dur, _, hasDur := findDuration(m[2])
		if !hasDur {
			dur = ""
		}
		p.branch(cond{event: ev, within: dur, explicitWait: true, text: m[1]}, false)
		return true
	}
	return false
}

var (
	timeLeadRE  = regexp.MustCompile(`^(?:(?:wait|pause|delay|hold|sleep)(?: for| by)?\s+|(?:after|in|about|around|roughly|approximately|approx|like|maybe|say|some|another|a further|then|just)\s+)*$`)
	timeTrailRE = regexp.MustCompile(`^\s*(?:more\s+)?(?:later|after that|afterwards|after (?:signup|sign-up|signing up|they sign up|joining|the [a-z0-9 ]+?|their [a-z0-9 ]+?|that|this))?\s*(?:,|:|-)?\s*`)
)

// timePrefix reads a wait said before a step ("after 3 days, …", "2 hours
// later, …", "wait 3 days", "the next day …").
func (p *parser) timePrefix(l, c string) bool {
	dur, span, ok := findDuration(l)
	if !ok || !timeLeadRE.MatchString(l[:span[0]]) {
		return false
	}
	p.wait(dur)
	end := span[1] + len(timeTrailRE.FindString(l[span[1]:]))
	return p.rest(l, c, end)
}

// wait adds a wait step.
func (p *parser) wait(dur string) {
	p.j.add("wait", "Wait "+humanDuration(dur), map[string]any{"duration": dur})
}

var trailingCondRE = regexp.MustCompile(`\s+(?:but )?(?:only )?(if|unless|for|when|once|as long as)\s+((?:they|the customer|customers|users|their|the user|it|plan|country|those|people|anyone|everyone)\b.*|[a-z_]+ (?:is|are|equals|>|<|=).*)$`)

// trailingCondition reads "A if C" as "if C, A".
func (p *parser) trailingCondition(l, c string) bool {
	m := trailingCondRE.FindStringSubmatchIndex(l)
	if m == nil || m[0] == 0 || !actionStartRE.MatchString(l[:m[0]]) {
		return false
	}
	kw := l[m[2]:m[3]]
	if kw == "as long as" {
		kw = "if"
	}
	condL, condC, actL, actC := l[m[4]:m[5]], c[m[4]:m[5]], l[:m[0]], c[:m[0]]
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

// finish types the entry, puts the A/B tests in, closes every open arm and
// adds the journey-wide settings.
func (p *parser) finish() *graph.Graph {
	if p.entryType == "" {
		p.entryType, p.entryLabel, p.entryConfig = "event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"}
		p.ask("What should start this journey? I used the signed_up event (a customer signs up).")
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
		}
	}
	p.j.finish(p.goal)
	p.j.b.SetExitCriteria(p.exit)
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

// eventKind is what an event says happened: "opened" for email_opened.
func eventKind(event string) string {
	if i := strings.LastIndexByte(event, '_'); i >= 0 {
		return event[i+1:]
	}
	return event
}

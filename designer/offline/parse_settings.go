package offline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// The journey-wide settings: frequency caps, exit criteria, the goal and
// A/B tests.

var (
	capReverseRE = regexp.MustCompile(`(?:cap|limit)\s+(messages?|emails?|e-mails?|texts?|sms(?:es)?|text messages?|push(?:es)?(?: notifications?)?|notifications?|whatsapps?(?: messages?)?|sends?)\s+(?:at|to)\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:a|per|/|each|every|in any|in a)\s*(day|week|hour|month|24 hours|\d+ days|\d+ hours|two days|three days|fortnight)`)
	capChainRE   = regexp.MustCompile(`(?:\band|,)\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(messages?|emails?|e-mails?|texts?|sms(?:es)?|text messages?|push(?:es)?(?: notifications?)?|notifications?|whatsapps?(?: messages?)?)\s*(?:a|per|/|each|every|in any|in a)\s*(day|week|hour|month|24 hours|\d+ days|\d+ hours|two days|three days|fortnight)`)
	capPhraseRE  = regexp.MustCompile(`(?:no more than|not more than|at most|max(?:imum)?(?: of)?|cap(?: it| them| messages| sends| sending| everything| all messages)? (?:at|to)|limit(?: it| them| messages| sends| sending| everything| all messages| all sends)? to|never (?:send )?more than|don'?t send more than|do not send more than|only send|only|frequency cap(?: of)?:?|cap:?|limit:?)\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+(messages?|emails?|e-mails?|texts?|sms(?:es)?|text messages?|push(?:es)?(?: notifications?)?|notifications?|whatsapps?(?: messages?)?|sends?|webhooks?|touches|touchpoints)\s*(?:a|per|/|each|every|in any|in a|within a|within any|in one)\s*(day|week|hour|month|24 hours|\d+ days|\d+ hours|two days|three days|fortnight)`)
	capChannel   = map[byte]string{'e': "email", 's': "sms", 't': "sms", 'p': "push", 'n': "push", 'w': "whatsapp"}
)

// journeySetting reads the journey-wide settings.
func (p *parser) journeySetting(l, c string) bool {
	return p.frequencyCap(l) || p.exitStatement(l, c) || p.goalStatement(l, c) || p.abTest(l, c) || p.splitShares(l)
}

// splitShares reads the weights of the A/B test said just before, when
// they come in a clause of their own: "…two versions of the email, 80% on
// version A and 20% on version B".
func (p *parser) splitShares(l string) bool {
	ws := shares(l)
	if len(p.splits) == 0 || len(ws) < 2 || channelRE.MatchString(l) {
		return false
	}
	p.splits[len(p.splits)-1].weights = ws
	return true
}

// frequencyCap reads "no more than 2 emails a day".
func (p *parser) frequencyCap(l string) bool {
	found := false
	for _, m := range capPhraseRE.FindAllStringSubmatch(l, -1) {
		found = p.addCap(m[1], m[2], m[3]) || found
	}
	for _, m := range capReverseRE.FindAllStringSubmatch(l, -1) {
		found = p.addCap(m[2], m[1], m[3]) || found
	}
	if !found {
		found = p.looseCap(l)
	}
	if found { // "max 1 push per day and 3 emails per week"
		for _, m := range capChainRE.FindAllStringSubmatch(l, -1) {
			p.addCap(m[1], m[2], m[3])
		}
	}
	return found
}

var (
	// capCueRE says a clause limits how often: "cap", "max", "at most",
	// "don't send anyone more than", "guardrail".
	capCueRE = regexp.MustCompile(`\b(?:cap|capped|caps|limit|limited|max|maximum|at most|frequency|guardrail|throttle)\b|\b(?:no|not|never|don'?t|do not)\b[^.]{0,40}\bmore than\b`)
	// capCountRE is the number a cap allows, with what it counts when said
	// ("3 pushes", "2 sms", "1").
	capCountRE = regexp.MustCompile(`\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b(?:\s+(messages?|emails?|e-mails?|texts?|sms(?:es)?|text messages?|push(?:es)?(?: notifications?)?|notifications?|whatsapps?(?: messages?)?|sends?|touches|touchpoints))?`)
	// capWindowRE is the period a cap counts over: "a week", "per day",
	// "in 48 hours", "per customer per day", "/ week".
	capWindowRE = regexp.MustCompile(`\b(?:a|an|per|each|every|in|within|over)\s+(?:any\s+|a\s+|one\s+|rolling\s+)?((?:\d+\s+)?(?:hours?|days?|weeks?|months?)|fortnight)\b`)
)

// looseCap reads a cap said in any order: "cap WhatsApp at 2/week", "email
// frequency cap: 2 per week across all journeys", "max 1 WhatsApp per
// customer per day", "cap push 1/day", "no more than 2 SMS in 48 hours".
// The channel is the one named next to the number, else the one named
// anywhere in the clause, else every channel.
func (p *parser) looseCap(l string) bool {
	cue := capCueRE.FindStringIndex(l)
	if cue == nil {
		return false
	}
	n := capCountRE.FindStringSubmatchIndex(l[cue[0]:])
	if n == nil {
		return false
	}
	after := cue[0] + n[1]
	w := capWindowRE.FindStringSubmatch(l[after:])
	if w == nil {
		return false
	}
	period := w[1]
	if !strings.ContainsAny(period[:1], "0123456789") {
		period = strings.TrimSuffix(period, "s")
	}
	kind := "messages"
	if n[4] >= 0 {
		kind = l[cue[0]+n[4] : cue[0]+n[5]]
	} else if ch := channelRE.FindString(l); ch != "" {
		kind = ch
	}
	return p.addCap(l[cue[0]+n[2]:cue[0]+n[3]], kind, period)
}

// addCap records a cap of amount messages of kind per window.
func (p *parser) addCap(amount, kind, per string) bool {
	m := []string{"", amount, kind, per}
	n, ok := parseAmount(m[1])
	if !ok || n < 1 {
		return false
	}
	window := map[string]string{"day": "1d", "week": "7d", "hour": "1h", "month": "30d", "24 hours": "24h", "two days": "2d", "three days": "3d", "fortnight": "14d"}[m[3]]
	if window == "" {
		window, _, _ = findDuration(m[3])
	}
	ch := ""
	switch {
	case strings.HasPrefix(m[2], "sms") || strings.HasPrefix(m[2], "text"):
		ch = "sms"
	case strings.HasPrefix(m[2], "webhook"):
		ch = "webhook"
	case !strings.HasPrefix(m[2], "message") && !strings.HasPrefix(m[2], "send") && !strings.HasPrefix(m[2], "touch"):
		ch = capChannel[m[2][0]]
	}
	p.caps = append(p.caps, capSpec{channel: ch, cap: graph.Cap{Max: int(n), Window: window}})
	if !p.capSpan.valid() {
		p.capSpan = p.cur
	}
	return true
}

var (
	exitHeadRE   = regexp.MustCompile(`^(?:exit criteria|exit criterion|exit condition|exit rule|exit when|exit if|exit on|stop condition|stop when|stop if|exit)\s*[:=-]\s*(.+)$|^(?:exit|stop) (?:when|if|on|once)\s+(.+)$`)
	exitTailRE   = regexp.MustCompile(`^(?:stop|exit|end|remove them|remove customers|remove people|take them out|pull them out|drop them|stop messaging(?: them)?|stop the journey|stop sending(?: messages)?|end the journey|they exit|exit the journey|remove them from the journey|take them out of the journey|stop everything|everything stops|the journey stops|the journey ends|get them out)(?: (?:immediately|right away|at any point|at any time|automatically))?\s+(?:if|when|once|as soon as|the moment|whenever|on|after)\s+(.+)$`)
	exitAnyoneRE = regexp.MustCompile(`^(?:remove|exit|drop|skip|exclude|take out|kick out|pull out)\s+(?:anyone|everyone|customers|users|people|those|contacts|whoever)\s+(?:who|that)?\s*(.+)$`)
	exitWhoRE    = regexp.MustCompile(`^(?:anyone|everyone|customers|users|people|those|whoever|any customer|any user|contacts)\s+(?:who|that)\s+(.+?)\s+(?:at any (?:point|time)\s+)?(?:should |will |must |is |are |gets |get |automatically )*(?:exit|leave|be removed|removed|drop out|exits|leaves|stop receiving|should stop|stop getting|be taken out|is taken out|are taken out)\b`)
	// goalLooseRE are other ways of saying the goal: "Measure the goal as
	// x within 14 days", "count a conversion only if they …", "success is
	// when …", "conversion = …".
	goalLooseRE = regexp.MustCompile(`^(?:we\s+)?(?:measure|track|count|record|use|set|define|treat)\s+(?:the |our |a |it as a |it as the |them as a )?(?:goal|conversion|success|converted)\s+(?:only\s+)?(?:as|to be|=|:|when|if|once)\s+(.+)$|^(?:we\s+)?count (?:it|them)\s+(?:only\s+)?(?:when|if|once)\s+(.+)$`)
	// ourGoalRE says that what was just said is the goal: "…, that's our
	// goal ("policy purchase")".
	ourGoalRE    = regexp.MustCompile(`^(?:and\s+)?(?:that's|that is|this is|which is|it's|that'?s) (?:our|the) (?:main |primary )?(?:goal|conversion(?: event)?|success metric|kpi)\b\s*(.*)$`)
	goalPhraseRE = regexp.MustCompile(`^(?:the |our |main |primary |journey |conversion |campaign )*(?:goal|objective|kpi|conversion event|conversion)(?:\s+is|\s*:|\s*=|\s*-)\s*(.+)$|^(?:success|converted|conversion)\s+(?:is|=|:|means|when)\s+(.+)$|^(?:mark|count|track) (?:it as |them as )?(?:the |a )?(?:goal|conversion)(?: when| as| if)?\s+(.+)$`)
	goalLeadRE   = regexp.MustCompile(`^(?:(?:to get (?:them|customers|users|people) to|for (?:them|customers|users|the customer) to|to|that they|is to|when they|they|get them to|drive|driving)\s+)+`)
	goalVerbRE   = regexp.MustCompile(`^(?:make|makes|do|complete|completes|place|places|reach|achieve|get|hit)\s+`)
	goalAsideRE  = regexp.MustCompile(`\s*\([^)]*\)`)
	goalWithinRE = regexp.MustCompile(`\s+(?:within|in|inside)\s+(\S+\s*(?:minutes?|hours?|days?|weeks?|months?))\b.*$`)
	abLeadRE     = regexp.MustCompile(`[\s(,;:-]*(?:\b(?:and|with|plus|run|do|set up|add|use|then|also|we want to|please|we|equal|even|random|an? (?:equal|even|random))\b[\s,]*)*(?:\ban?\b\s*)?$`)
	abTestRE     = regexp.MustCompile(`\b(?:a/b(?:/c)?|ab|split)[ -]?test(?:ing)?\b|\b(?:test|try|trial|run) (?:two|2|three|3|four|4) (?:[a-z-]+ ){0,2}(?:versions?|variants?|subject lines?|subjects|e-?mails?|messages|push(?:es| notifications)|copies|creatives|headlines|offers)\b|\ba/b split\b|\bsplit a/b(?:/c)?(?:/d)?\b|\ba/b/c\b`)
	// abThingRE is what a test of versions names: "test two email subjects",
	// "test 3 onboarding emails".
	abThingRE   = regexp.MustCompile(`^test (?:two|2|three|3|four|4) ((?:[a-z-]+ ){0,2}?)(e-?mails?|email subjects?|email subject lines?|subject lines?|subjects|push(?:es| notifications)?)\b`)
	pctRE       = regexp.MustCompile(`\b(\d{1,3})\s*%`)
	abWeightsRE = regexp.MustCompile(`\b(\d{1,2})\s*%?\s*(?:/|-|vs\.?|to)\s*(\d{1,2})\s*%?(?:\s*(?:/|-)\s*(\d{1,2})\s*%?)?`)
	abTargetRE  = regexp.MustCompile(`\b(first|second|third|last|final)\s+(?:email|e-mail|message)\b|\b(?:the\s+)?([a-z0-9 ]+?)\s+(?:email|e-mail)\b|\b(it|that)\b`)
)

// exitStatement reads exit criteria: "stop if they unsubscribe", "anyone who
// buys leaves the journey", "Exit criteria: unsubscribed".
func (p *parser) exitStatement(l, c string) bool {
	var phrase, orig string
	for _, re := range []*regexp.Regexp{exitHeadRE, exitTailRE, exitWhoRE, exitAnyoneRE} {
		if m := re.FindStringSubmatchIndex(l); m != nil {
			for g := 2; g+1 < len(m); g += 2 {
				if m[g] >= 0 {
					phrase, orig = l[m[g]:m[g+1]], c[m[g]:m[g+1]]
				}
			}
			break
		}
	}
	if phrase == "" {
		return p.leaveStatement(l, c)
	}
	cd, ok := parseCondition(phrase, orig, p.channel)
	if !ok {
		ev, evOK := eventOf(phrase, p.channel)
		if !evOK {
			return false
		}
		cd = cond{event: ev}
	}
	if cd.negated || cd.within != "" {
		return false // "stop if they don't buy within a week": a branch, not exit criteria
	}
	return p.setExit(cd)
}

// goalStatement reads the journey's conversion goal: "Goal: first purchase".
func (p *parser) goalStatement(l, c string) bool {
	if m := ourGoalRE.FindStringSubmatch(l); m != nil && p.lastAwaited() != "" {
		// the event just waited for is the goal, named by what follows
		ev := p.lastAwaited()
		said := strings.Trim(m[1], ` ()"':`)
		name := slug(nameWords(said))
		if snakeEventRE.MatchString(said) { // "kept_customer" is its name as written
			name = said
		}
		if name == "" {
			name = ev
		}
		p.goal, p.goalSpan, p.goalEvent = name, p.cur, ev
		return true
	}
	m := goalPhraseRE.FindStringSubmatch(l)
	if m == nil {
		if m = goalLooseRE.FindStringSubmatch(l); m == nil {
			return false
		}
		m = append(m, "")
	}
	named := "" // "upgrade (subscription_upgraded)" names the event
	said := m[1] + m[2] + m[3]
	if id := leadIdentRE.FindStringSubmatchIndex(said); id != nil {
		// "dashboard_shared: count a conversion only if they share a
		// dashboard within 7 days": the event is the goal
		named, said = said[id[2]:id[3]], said[id[2]:id[3]]+" "+said[id[1]:]
	}
	bracketed := ""
	phrase := goalAsideRE.ReplaceAllStringFunc(said, func(a string) string {
		if inner := identInPhraseRE.FindStringSubmatch(strings.Trim(a, " ()")); inner != nil && bracketed == "" && !strings.HasPrefix(inner[1], "customer") {
			bracketed = inner[1] // "(event deposit_made)"
		}
		return "" // "(any arm)"
	})
	if bracketed != "" { // "exam_booked (exam_slot_booked)": the name, then its event
		named = bracketed
	}
	within := ""
	if w := goalWithinRE.FindStringSubmatchIndex(phrase); w != nil {
		// "device_upgraded within 14 days (any arm)": how long to wait for it
		if d, _, ok := findDuration(phrase[w[2]:w[3]]); ok {
			within, phrase = d, phrase[:w[0]]
		}
	}
	phrase = goalLeadRE.ReplaceAllString(strings.TrimSpace(phrase), "")
	phrase = goalVerbRE.ReplaceAllString(phrase, "")
	name := slug(nameWords(phrase))
	if name == "" {
		name = named
	}
	if name == "" {
		return false
	}
	if p.goal != "" && p.goal != name {
		p.ask(fmt.Sprintf("The journey has one goal; I kept %s. Should %s be the goal instead?", p.goal, name))
		return true
	}
	if named != "" && strings.HasPrefix(phrase, named) {
		name = named
	}
	p.goal, p.goalSpan, p.goalEvent, p.goalWithin = name, p.cur, name, within
	if ev, ok := eventOf(phrase, ""); named != "" || ok {
		p.goalEvent = ev
		if named != "" {
			p.goalEvent = named
		}
	}
	if within != "" && p.j.steps() && named != "" {
		// said after the steps with its time, the goal is waited for
		// here: "if that doesn't happen, …" and "if they do, …" that
		// follow are its two arms
		p.branch(cond{event: p.goalEvent, within: within, explicitWait: true, text: c}, false)
	}
	return true
}

// leadIdentRE is an event name opening a goal: "dashboard_shared: …".
var leadIdentRE = regexp.MustCompile(`^\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b\s*[:,-]?\s*`)

// shares are the percentages said in l when they add up to 100.
func shares(l string) []int {
	var ws []int
	sum := 0
	for _, m := range pctRE.FindAllStringSubmatch(l, -1) {
		n, _ := strconv.Atoi(m[1])
		ws, sum = append(ws, n), sum+n
	}
	if sum != 100 {
		return nil
	}
	return ws
}

// abTest reads "A/B test the first email 70/30". The split is put in front
// of the email when the whole description has been read.
func (p *parser) abTest(l, c string) bool {
	loc := abTestRE.FindStringIndex(l)
	if loc == nil {
		return false
	}
	weightsAt := loc[1]
	if w := abWeightsRE.FindStringIndex(l[:loc[0]]); w != nil { // "a 50/50 A/B test"
		weightsAt = w[0]
	}
	before := abLeadRE.ReplaceAllString(armWantRE.ReplaceAllString(abWeightsRE.ReplaceAllString(l[:loc[0]], ""), ""), "")
	which := ""
	if before = strings.TrimRight(before, " ,:;-"); before != "" {
		sends := len(p.emails)
		read := 0
		for _, cl := range splitClauses(c[:len(before)]) {
			if p.clause(cl) {
				read++
			} else {
				p.partly = append(p.partly, strings.TrimSpace(cl))
			}
		}
		if read == 0 && !abThingRE.MatchString(l[loc[0]:]) {
			p.partly = nil
			return false
		}
		if len(p.emails) > sends {
			which = "last" // "send a welcome email and A/B test it"
		}
	}
	weights := []int{50, 50}
	if strings.Contains(l, "a/b/c") || strings.Contains(l, "three") || strings.Contains(l, " 3 ") {
		weights = []int{34, 33, 33}
	}
	if strings.Contains(l, "a/b/c/d") || strings.Contains(l, "four") || strings.Contains(l, " 4 ") {
		weights = []int{25, 25, 25, 25}
	}
	if ws := shares(l); len(ws) >= 2 { // "variant A gets 70% and B gets 30%"
		weights = ws
	}
	if m := abThingRE.FindStringSubmatch(l[loc[0]:]); m != nil && which == "" && len(p.emails) == 0 && (strings.HasPrefix(m[2], "e") || strings.Contains(m[2], "subject")) {
		// "test 3 onboarding emails": the email tested is said here
		p.message("send_email", "email", "email", nameWords(m[1]), nameWords(m[1])+" email", false)
		which = "last"
	}
	if m := abWeightsRE.FindStringSubmatch(l[weightsAt:]); m != nil {
		weights = nil
		for _, s := range m[1:] {
			if n, err := strconv.Atoi(s); err == nil && n > 0 {
				weights = append(weights, n)
			}
		}
		if len(weights) < 2 {
			return false
		}
	}
	if which == "" {
		if m := abTargetRE.FindStringSubmatch(l[loc[1]:]); m != nil {
			switch {
			case m[1] != "":
				which = m[1]
			case m[3] != "":
				which = "last"
			default:
				which = m[2]
				for _, sep := range []string{" for ", " of ", " on "} {
					if i := strings.LastIndex(which, sep); i >= 0 {
						which = which[i+len(sep):]
					}
				}
				which = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(which, "on "), "the "))
			}
		}
	}
	if signupAudienceRE.MatchString(l) && p.entryType == "" {
		p.setEntry("event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"})
	}
	if m := entryTailRE.FindStringSubmatch(l[loc[1]:]); m != nil && p.entryType == "" && !p.j.steps() {
		if ev, ok := entryEventOf(m[1]); ok {
			p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
		}
	}
	if which != "" && !ordinals[which] && !p.hasEmailNamed(which) {
		// "A/B test the welcome email" before any welcome email: it is one
		p.message("send_email", "email", "email", nameWords(which), which+" email", false)
		which = "last"
	}
	p.splits = append(p.splits, splitSpec{which: which, weights: weights, span: p.cur})
	return true
}

var ordinals = map[string]bool{"first": true, "second": true, "third": true, "last": true, "final": true}

// hasEmailNamed reports whether an email step's label or template holds the
// words of name.
func (p *parser) hasEmailNamed(name string) bool {
	want := slug(nameWords(name))
	for _, id := range p.emails {
		n, _ := p.j.b.Node(id)
		if want != "" && strings.Contains(slug(n.Label)+" "+configString(n.Config, "template_id"), want) {
			return true
		}
	}
	return false
}

var (
	// leaveRE says that someone leaves the journey, however it is said:
	// "must drop out of the journey", "should leave the journey straight
	// away", "must be removed from the journey at any point", "the journey
	// stops for a customer as soon as …", "stop the whole thing for anyone
	// who …", "pull them out of the flow".
	leaveRE = regexp.MustCompile(`\b(?:leave|leaves|exit|exits|drop(?:s|ped)? out|(?:be |get |gets |are |is )?(?:removed|taken out|pulled out|kicked out)|stops?|ends?|pull (?:them|him|her) out|take (?:them|him|her) out|remove (?:them|him|her))\s+(?:of |from )?(?:the |this |our )?(?:journey|flow|campaign|sequence|whole thing|everything)\b|\b(?:the |this )?(?:journey|flow|whole thing|everything) (?:stops|ends)\b|\bstop (?:the whole thing|everything)\b`)
	// leaveAttrRE is the profile test that makes them leave, written as
	// code: "customer.do_not_contact = true", "whose customer.meter_installed
	// becomes true".
	leaveAttrRE = regexp.MustCompile(`\b(customer\.[a-z][a-z0-9_.]*)\s*(?:=|==|!=|is|becomes|turns|changes to|is set to|gets set to)\s*("[^"]*"|true|false|[a-z0-9_.-]+)`)
	// leaveWhoRE is what those who leave do, when no name is written as
	// code: "anyone who unsubscribes must leave the journey".
	leaveWhoRE = regexp.MustCompile(`\b(?:who|whoever|if (?:they|the customer|the user)|when (?:they|the customer|the user)|once (?:they|the customer)|as soon as (?:they|the customer)|the moment (?:they|the customer))\s+(.+)$`)
)

// leaveStatement reads exit criteria said in any order around "leave the
// journey": the event named as code in the clause, a profile test written
// as code, or what "anyone who …" does. A clause that says a negation
// ("if they don't buy, they leave") is a branch, not exit criteria.
func (p *parser) leaveStatement(l, c string) bool {
	m := leaveRE.FindStringIndex(l)
	if m == nil {
		return false
	}
	if a := leaveAttrRE.FindStringSubmatch(l); a != nil {
		value := a[2]
		if value != "true" && value != "false" && !strings.HasPrefix(value, `"`) {
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				value = strconv.Quote(value)
			}
		}
		op := " == "
		if strings.Contains(a[0], "!=") {
			op = " != "
		}
		expr := a[1] + op + value
		if graph.CheckExpression(expr) != nil {
			return false
		}
		return p.setExit(cond{expr: expr})
	}
	if negationRE.MatchString(l[:m[0]]) {
		return false
	}
	for _, id := range identInPhraseRE.FindAllStringSubmatch(l, -1) {
		if !attributeNameRE.MatchString(id[1]) {
			return p.setExit(cond{event: id[1]})
		}
	}
	w := leaveWhoRE.FindStringSubmatch(l[:m[0]])
	if w == nil {
		w = leaveWhoRE.FindStringSubmatch(l[m[1]:])
	}
	if w == nil {
		return false
	}
	phrase := strings.TrimSpace(leaveTailRE.ReplaceAllString(w[1], ""))
	ev, ok := eventOf(phrase, p.channel)
	if !ok {
		return false
	}
	return p.setExit(cond{event: ev})
}

// leaveTailRE is what follows the doing in "anyone who cancels must …".
var leaveTailRE = regexp.MustCompile(`\s+(?:must|should|will|shall|has to|have to|need to|needs to|is|are|gets|get)\b.*$`)

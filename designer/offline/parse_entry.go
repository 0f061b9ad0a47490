package offline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/adhocore/gronx"
)

// Entries: "when a user signs up", "when someone joins the VIP segment",
// "every Monday for the premium segment", "when our CRM calls the webhook".

const subjects = `(?:a |an |the |any |each |every |our )?(?:new |brand new |first-time )?(?:user|customer|someone|somebody|person|people|visitor|lead|contact|member|subscriber|shopper|anyone|buyer|client|account|prospect|signup|trialist|trial user)s?`

var (
	webhookEntryRE  = regexp.MustCompile(`^(?:(?:this |the )?journey (?:starts|begins) )?(?:when(?:ever)?|once|if|after)\s+(.+?)\s+(?:calls|hits|posts to|pings|triggers|sends a request to|sends to)\s+(?:the |our |a |this )?(?:journey'?s? )?webhook\b|^(?:(?:this |the )?journey (?:is |gets )?)?(?:triggered|started|starts|kicked off)\s+(?:by|via|through|from)\s+(?:a |an |the |our )?(?:incoming )?webhook(?:\s+(?:from|by)\s+(.+?))?(?:$|,)`)
	segmentEntryRE  = regexp.MustCompile(`^(?:(?:this |the )?journey (?:starts|begins) )?(?:when(?:ever)?|once|as soon as|after)\s+` + subjects + `\s+(?:joins|enters|is added to|gets added to|are added to|becomes part of|become part of|falls into|fall into|lands in|moves into|qualifies for|becomes a member of|join|enter)\s+(?:the |our |a )?(?:segment\s+["']?([a-z0-9_-]+)["']?|["']?([a-z0-9 _-]+?)["']?\s+segment)\b`)
	eventEntryRE    = regexp.MustCompile(`^(?:(?:this |the )?(?:journey|flow|campaign) (?:starts|begins|is triggered|triggers|kicks off|runs) |it (?:starts|begins) |starts |begins |triggered |trigger )?(?:when(?:ever)?|once|as soon as|after)\s+(?:` + subjects + `(?:'s)?\s+)?(.+)$`)
	explicitEntryRE = regexp.MustCompile(`^(?:entry point|entry event|entry|start event|start when|start|trigger event|triggered by|triggered when|trigger|starts on|start on|starts with|journey starts when|this journey starts when|starts when|begins when|enrol when|enroll when)\s*[:=-]?\s*(.+)$`)
	namedSegmentRE  = regexp.MustCompile(`^(?:(?:joins|joining|enters|entering|entry into|added to)\s+)?(?:the |a |our )?(?:segment\s+(?:["']([a-z0-9_ -]+)["']|([a-z0-9_-]+))(?:\s+(?:is\s+)?(?:entered|joined))?|["']?([a-z0-9_ -]+?)["']?\s+segment)$`)
	namedWebhookRE  = regexp.MustCompile(`^(?:a |an |the |our )?(?:incoming )?webhook(?:\s+(?:call|request))?(?:\s+(?:from|by)\s+(.+))?$`)
	segmentAnyRE    = regexp.MustCompile(`\b(?:enters?|joins?|(?:is|are|gets?) added to|falls? into|lands? in|moves? into)\s+(?:the |our |a )?["']?([a-z0-9_-]+)["']?\s+segment\b`)
	passiveEntryRE  = regexp.MustCompile(`^(?:when(?:ever)?|once|as soon as|after)\s+(?:a |an |the |their |someone's |a customer's |a user's )?(?:new )?([a-z][a-z -]{1,30}?)\s+(?:is|was|gets|has been|are|get)\s+([a-z]+ed)\b`)
	forDurationRE   = regexp.MustCompile(`\bfor (?:an? |one |\d+ )(?:minutes?|hours?|days?|weeks?)\b`)
	bareSignupRE    = regexp.MustCompile(`^(?:(?:new |every new |each new )?(?:signups?|sign-ups?|sign up|registration)|(?:new |every new |each new )(users?|subscribers?|leads?|trial users?|trialists?))$`)
	whenRE          = regexp.MustCompile(`^(?:[a-z ]*?\s)?(?:when(?:ever)?|once|as soon as)\s+`)
	butNotRE        = regexp.MustCompile(`\s+but\s+(?:then\s+)?(?:doesn't|does not|don't|do not|didn't|did not|hasn't|has not|haven't|never|doesnt|dont|didnt)\s`)
	waitNextRE      = regexp.MustCompile(`^[\s,]*(?:and\s+)?(?:then\s+)?(?:wait|pause|after|in\s+\d)`)
	subjectEventRE  = regexp.MustCompile(`^` + subjects + `\s+(.+)$`)
	onEventRE       = regexp.MustCompile(`^(?:on|upon|after|new|every new|each new)\s+(signups?|sign-ups?|sign up|registration|first purchase|purchase|checkout|cart abandonment|trial start)\b`)
	// titleRE is a journey's name said first: "Welcome journey for new
	// signups:", "Our onboarding flow:".
	titleRE = regexp.MustCompile(`^[a-z0-9 '/&-]{0,40}?\b(?:journey|flow|campaign|sequence|series|program|drip)(?:\s+(?:for|to)\s+([a-z0-9 '-]+?))?\s*(\([^)]*\))?\s*:\s*`)
)

// setEntry types the entry node; the first entry said wins. An entry whose
// segment or event has no name left after slugging is not one.
func (p *parser) setEntry(typ, label string, config map[string]any) {
	for _, k := range []string{"segment_id", "event_type"} {
		if v, ok := config[k]; ok && v == "" {
			return
		}
	}
	if p.entryType != "" {
		if p.entryType != typ || fmt.Sprint(p.entryConfig) != fmt.Sprint(config) {
			p.ask(fmt.Sprintf("The description names more than one way in; I kept \"%s\". Should \"%s\" start the journey instead?", p.entryLabel, label))
		}
		return
	}
	p.entryType, p.entryLabel, p.entryConfig, p.entrySpan = typ, label, config, p.cur
}

// entry reads how customers enter, said before the steps ("When a user signs
// up, …") or anywhere as "Trigger: …".
func (p *parser) entry(l, c string) bool {
	if p.calledWebhook(l, c) {
		return true
	}
	if m := explicitEntryRE.FindStringSubmatchIndex(l); m != nil {
		phrase := l[m[2]:m[3]]
		if p.schedule(phrase, c[m[2]:m[3]]) {
			return true
		}
		if s := namedSegmentRE.FindStringSubmatch(phrase); s != nil {
			seg := slug(s[1] + s[2] + s[3])
			p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
			return true
		}
		if w := namedWebhookRE.FindStringSubmatchIndex(phrase); w != nil {
			desc := "Called by an external system"
			if w[2] >= 0 {
				desc = "Called by " + strings.TrimSpace(c[m[2]+w[2]:m[2]+w[3]])
			}
			p.setEntry("webhook_entry", "Webhook", map[string]any{"description": desc})
			return true
		}
		if strings.HasPrefix(phrase, "when") || strings.HasPrefix(phrase, "once") {
			return p.entryPhrase(phrase, c[m[2]:m[3]], true)
		}
		if !p.entryPhrase("when "+phrase, "when "+c[m[2]:m[3]], true) &&
			!p.entryPhrase("when someone "+phrase, "when someone "+c[m[2]:m[3]], true) {
			ev, ok := entryEventOf(phrase)
			if !ok {
				return false
			}
			p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
		}
		return true
	}
	if m := titleRE.FindStringSubmatchIndex(l); m != nil {
		if m[2] >= 0 {
			aud := " to " + l[m[2]:m[3]]
			if signupAudienceRE.MatchString(aud) {
				p.setEntry("event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"})
			} else if s := segmentAudRE.FindStringSubmatch(aud); s != nil {
				p.setEntry("segment_entry", "Joins segment "+slug(s[1]), map[string]any{"segment_id": slug(s[1])})
			}
		}
		if ch := channelRE.FindString(l[:m[1]]); ch != "" {
			p.seriesChannel = ch
		}
		return p.rest(l, c, m[1])
	}
	return p.entryPhrase(l, c, false)
}

// calledWebhookRE is another system calling the journey's webhook, said
// any way: "OpsControl calls our webhook for every delay", "the claims
// platform POSTs to a webhook when …", "will hit a webhook on our journey".
var calledWebhookRE = regexp.MustCompile(`\b(?:calls?|calling|hits?|hitting|posts?|posting|pings?|sends? (?:a request |an? event )?to|fires?|triggers?)\s+(?:(?:to|into|on)\s+)?(?:a|an|the|our|this|this journey's|the journey's|that)?\s*(?:journey'?s?\s+|kalcifer\s+|[a-z]+'s\s+)?(?:inbound\s+|incoming\s+)?webhook\b`)

// calledWebhook reads a clause, said before any step, in which another
// system calls the journey's webhook: the whole clause describes the
// entry. A webhook with a URL is one the journey calls (call_webhook).
func (p *parser) calledWebhook(l, c string) bool {
	m := calledWebhookRE.FindStringIndex(l)
	if p.entryType != "" || p.j.steps() || strings.Contains(l, "http") || m == nil || webhookEntryRE.MatchString(l) {
		return false
	}
	if i := strings.IndexAny(l[m[1]:], ",:"); i >= 0 && actionIndex(l[m[1]+i+1:]) >= 0 {
		// "When our billing system calls the webhook …, text the customer"
		p.setEntry("webhook_entry", "Webhook", map[string]any{"description": strings.TrimSpace(c[:m[1]+i])})
		return p.rest(l, c, m[1]+i+1)
	}
	p.setEntry("webhook_entry", "Webhook", map[string]any{"description": strings.TrimSpace(c)})
	return true
}

// entryPhrase reads "when <someone> <does something>[, rest]". Unless
// explicit, it only starts a journey that has no steps yet: later, "when
// they open it" is a branch.
func (p *parser) entryPhrase(l, c string, explicit bool) bool {
	if !explicit && (p.entryType != "" || p.j.steps()) {
		return false
	}
	// Each reader reports whether the clause was its kind of entry and, if
	// so, whether the rest of the clause was understood too.
	for _, read := range []func(l, c string) (matched, ok bool){
		p.webhookEntry, p.segmentEntry, p.shortEntry, p.passiveEntry, p.profileEntry,
	} {
		if matched, ok := read(l, c); matched {
			return ok
		}
	}
	return p.eventEntry(l, c)
}

// webhookEntry reads "when our CRM calls the webhook", "triggered by a
// webhook", "when a lead is created in HubSpot (webhook)".
func (p *parser) webhookEntry(l, c string) (bool, bool) {
	if m := webhookEntryRE.FindStringSubmatchIndex(l); m != nil {
		desc := "Called by an external system"
		for _, g := range [][2]int{{m[2], m[3]}, {m[4], m[5]}} {
			if g[0] >= 0 {
				desc = "Called by " + strings.TrimSpace(c[g[0]:g[1]])
			}
		}
		p.setEntry("webhook_entry", "Webhook", map[string]any{"description": desc})
		return true, p.rest(l, c, m[1])
	}
	if head := whenHead(l); head != "" && strings.Contains(head, "webhook") && !strings.Contains(head, "http") {
		p.setEntry("webhook_entry", "Webhook", map[string]any{"description": strings.TrimSpace(c[:len(head)])})
		return true, p.rest(l, c, len(head))
	}
	return false, false
}

// segmentEntry reads "when someone joins the VIP segment" and "when … (they
// enter the lapsed segment), …".
func (p *parser) segmentEntry(l, c string) (bool, bool) {
	if m := segmentEntryRE.FindStringSubmatchIndex(l); m != nil {
		seg := ""
		for _, g := range [][2]int{{m[2], m[3]}, {m[4], m[5]}} {
			if g[0] >= 0 {
				seg = slug(l[g[0]:g[1]])
			}
		}
		p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
		return true, p.rest(l, c, m[1])
	}
	if !whenRE.MatchString(l) {
		return false, false
	}
	head := l
	if i := strings.Index(l, "),"); i >= 0 {
		head = l[:i+2]
	} else if i := strings.IndexByte(l, ','); i >= 0 {
		head = l[:i+1]
	}
	if s := segmentAnyRE.FindStringSubmatch(head); s != nil {
		p.setEntry("segment_entry", "Joins segment "+slug(s[1]), map[string]any{"segment_id": slug(s[1])})
		return true, p.rest(l, c, len(head))
	}
	return false, false
}

// shortEntry reads the entries said in a word or two: "on signup", "after
// purchase", "new subscriber".
func (p *parser) shortEntry(l, c string) (bool, bool) {
	if m := onEventRE.FindStringSubmatchIndex(l); m != nil {
		ev, _ := eventOf(l[m[2]:m[3]], "")
		if strings.Contains(l[m[2]:m[3]], "cart") {
			ev = "cart_abandoned"
		}
		p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
		return true, p.rest(l, c, m[1])
	}
	m := bareSignupRE.FindStringSubmatch(l)
	if m == nil {
		return false, false
	}
	ev := "signed_up"
	switch w := m[1]; {
	case strings.HasPrefix(w, "subscriber"):
		ev = "subscribed"
	case strings.HasPrefix(w, "lead"):
		ev = "lead_created"
	case strings.HasPrefix(w, "trial"):
		ev = "trial_started"
	}
	p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
	return true, true
}

// passiveEntry reads "when a new account is opened": account_opened.
func (p *parser) passiveEntry(l, c string) (bool, bool) {
	m := passiveEntryRE.FindStringSubmatchIndex(l)
	if m == nil {
		return false, false
	}
	if _, known := eventOf(l[m[2]:m[5]], ""); known && !strings.HasSuffix(l[m[4]:m[5]], "opened") {
		return false, false // "when a cart is abandoned": a known event
	}
	ev := slug(nameWords(l[m[2]:m[3]])) + "_" + l[m[4]:m[5]]
	p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
	return true, p.rest(l, c, m[1])
}

// profileEntry reads "once a lead score goes above 50": customers enter on
// a profile change, through a condition.
func (p *parser) profileEntry(l, c string) (bool, bool) {
	w := whenRE.FindStringIndex(l)
	if w == nil {
		return false, false
	}
	head := l[w[1]:]
	if i := strings.IndexAny(head, ",:"); i >= 0 {
		head = head[:i]
	} else if i := actionIndex(head); i > 0 {
		head = head[:i]
	}
	if _, isEvent := eventOf(head, ""); isEvent {
		return false, false
	}
	text := strings.TrimSpace(c[w[1] : w[1]+len(head)])
	expr, ok := attributeExpr(strings.TrimSpace(head), text)
	if !ok {
		return false, false
	}
	p.setEntry("event_entry", "When profile_updated happens", map[string]any{"event_type": "profile_updated"})
	p.branch(cond{expr: expr, text: text}, true)
	return true, p.rest(l, c, w[1]+len(head))
}

// eventEntry reads "when a user signs up[, rest]", with what the customer
// has not done ("views a product but doesn't add it to cart") and for how
// long ("leaves items in their cart for an hour").
func (p *parser) eventEntry(l, c string) bool {
	m := eventEntryRE.FindStringSubmatchIndex(l)
	if m == nil {
		return p.subjectEntry(l, c)
	}
	phrase := l[m[2]:m[3]]
	end := len(phrase)
	if i := strings.IndexAny(phrase, ",:"); i >= 0 {
		end = i
	} else if i := actionIndex(phrase); i > 0 {
		end = i
	}
	if strings.HasPrefix(phrase, "they ") || strings.HasPrefix(phrase, "it ") {
		return false // "when they open it" is a branch
	}
	head, butNot := phrase[:end], ""
	if b := butNotRE.FindStringIndex(head); b != nil {
		head, butNot = head[:b[0]], head[b[0]:]
	}
	ev, ok := entryEventOf(head)
	if m := identLeadRE.FindStringSubmatch(head); m != nil && !attributeNameRE.MatchString(m[1]) {
		ev, ok = m[1], true // "when tier_upgraded fires": the event named exactly
	}
	if !ok || strings.HasSuffix(ev, "_opened") || strings.HasSuffix(ev, "_clicked") {
		return false
	}
	p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
	if d := forDurationRE.FindString(head); d != "" {
		dur, _, _ := findDuration(d)
		p.wait(dur)
	}
	if butNot != "" {
		// The wait that follows is how long to wait for the missing event.
		cd, ok := parseCondition("they "+strings.TrimPrefix(strings.TrimSpace(butNot), "but "), butNot, p.channel)
		if ok && cd.event != "" {
			cd.negated = true
			if waitNextRE.MatchString(phrase[end:]) {
				p.afterWait = &cd
			} else {
				p.branch(cd, false)
			}
		}
	}
	return p.rest(l, c, m[2]+end)
}

// identLeadRE is an event named as an identifier at the head of an entry
// phrase: "tier_upgraded fires", "order_completed comes in".
var identLeadRE = regexp.MustCompile(`^(?:the\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`)

// whenHead returns the "when …" part of a clause up to its first comma
// outside parentheses, or "" when the clause does not start with one.
func whenHead(l string) string {
	if !whenRE.MatchString(l) {
		return ""
	}
	depth := 0
	for i, ch := range l {
		switch {
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case ch == ',' && depth <= 0:
			return l[:i]
		}
	}
	return l
}

// subjectEntry reads an entry said without "when" at the very start:
// "Customer completes checkout → send …".
func (p *parser) subjectEntry(l, c string) bool {
	m := subjectEventRE.FindStringSubmatchIndex(l)
	if m == nil || actionIndex(l) >= 0 {
		return false
	}
	ev, ok := eventOf(l[m[2]:m[3]], "")
	if !ok || strings.HasSuffix(ev, "_opened") || strings.HasSuffix(ev, "_clicked") {
		return false
	}
	p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
	return true
}

var (
	scheduleRE = regexp.MustCompile(`\b(?:(?:every|each)\s+(day|weekday|morning|monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|month|first of the month|1st of the month|first day of the month|first of every month)s?\b|(?:on )?the (first|1st|\d{1,2}(?:st|nd|rd|th)) (?:day )?of (?:the|every|each) month\b|on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)s\b|(?:on )?the first (monday|tuesday|wednesday|thursday|friday|saturday|sunday) of (?:the|every|each) month\b|(daily|weekly|monthly|mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)(?:$|,|\s+(?:at|on|for|to)\b))`)
	// atTimeRE is a time of day: "at 10am", "at noon", "9am", "08:00".
	atTimeRE     = regexp.MustCompile(`\bat\s+(\d{1,2}|noon|midday|midnight)(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?|\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)|\b(\d{1,2}):(\d{2})\b( h)?`)
	segmentRE    = regexp.MustCompile(`(?:\b(?:for|to|of|in)\s+)?(?:everyone in |all |members of |customers in |users in |people in |the members of )?(?:the |our )?(?:\bsegment\s+["']?([a-z0-9_-]+)["']?|["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+segment\b)`)
	dayOfMonthRE = regexp.MustCompile(`^(\d{1,2})(?:st|nd|rd|th)$`)
	weekdays     = map[string]string{"sunday": "0", "monday": "1", "tuesday": "2", "wednesday": "3", "thursday": "4", "friday": "5", "saturday": "6"}
)

// schedule reads a recurring start ("every Monday at 10am for the premium
// segment") into a scheduled_entry, then reads what else the clause says.
func (p *parser) schedule(l, c string) bool {
	if p.cronSchedule(l, c) {
		return true
	}
	m := scheduleRE.FindStringSubmatchIndex(l)
	if m == nil || p.entryType != "" {
		return false
	}
	unit := ""
	firstWeekday := m[8] >= 0
	for _, g := range [][2]int{{m[2], m[3]}, {m[4], m[5]}, {m[6], m[7]}, {m[8], m[9]}, {m[10], m[11]}} {
		if g[0] >= 0 {
			unit = strings.TrimSuffix(strings.TrimRight(l[g[0]:g[1]], ", "), "s")
		}
	}
	hour, minute := 9, 0
	spans := [][2]int{{m[0], m[1]}}
	if t := atTimeRE.FindStringSubmatchIndex(l); t != nil {
		for t[2] < 0 { // the same three groups, from the form that matched
			t = append(t[:2], t[8:]...)
		}
		hour, _ = strconv.Atoi(l[t[2]:t[3]])
		switch l[t[2]:t[3]] {
		case "noon", "midday":
			hour = 12
		case "midnight":
			hour = 0
		}
		if t[4] >= 0 {
			minute, _ = strconv.Atoi(l[t[4]:t[5]])
		}
		if t[6] >= 0 && strings.HasPrefix(l[t[6]:t[7]], "p") && hour < 12 {
			hour += 12
		} else if t[6] >= 0 && hour == 12 {
			hour = 0
		}
		if hour > 23 || minute > 59 {
			return false
		}
		spans = append(spans, [2]int{t[0], t[1]})
	}
	days := "* * *"
	switch {
	case firstWeekday:
		days = "* * " + weekdays[unit] + "#1"
	case weekdays[unit] != "":
		days = "* * " + weekdays[unit]
	case unit == "weekday":
		days = "* * 1-5"
	case unit == "week" || unit == "weekly":
		days = "* * 1"
	case unit == "month" || unit == "monthly" || strings.Contains(unit, "first") || strings.Contains(unit, "1st"):
		days = "1 * *"
	case dayOfMonthRE.MatchString(unit):
		day, _ := strconv.Atoi(dayOfMonthRE.FindStringSubmatch(unit)[1])
		if day < 1 || day > 31 {
			return false
		}
		days = fmt.Sprintf("%d * *", day)
	}
	cfg := map[string]any{"cron": fmt.Sprintf("%d %d %s", minute, hour, days)}
	if zone, at := timezoneOf(l, c); zone != "" {
		cfg["timezone"] = zone
		spans = append(spans, [2]int{at[0], at[1]})
	}
	label := "Every " + strings.ToUpper(unit[:1]) + unit[1:]
	if s := segmentRE.FindStringSubmatchIndex(l); s != nil {
		for _, g := range [][2]int{{s[2], s[3]}, {s[4], s[5]}} {
			if g[0] >= 0 {
				cfg["segment_id"] = slug(l[g[0]:g[1]])
				label += " for segment " + slug(l[g[0]:g[1]])
			}
		}
		spans = append(spans, [2]int{s[0], s[1]})
	}
	p.setEntry("scheduled_entry", label, cfg)
	rest := []byte(c)
	for _, s := range spans {
		for i := s[0]; i < s[1]; i++ {
			rest[i] = ' '
		}
	}
	r := strings.Join(strings.Fields(string(rest)), " ")
	r = strings.TrimSpace(strings.Trim(r, ",:;- "))
	rl := lowerASCII(r)
	for _, filler := range []string{"run this journey", "run the journey", "run it", "run this", "this journey runs", "it runs", "runs", "run", "starting", "start", "go out", "goes out"} {
		if rl == filler || rl == "" {
			return true
		}
	}
	if !p.clause(r) {
		p.partly = append(p.partly, r)
	}
	return true
}

// cronRE is a schedule written as a cron expression, quoted or not:
// "Schedule: `0 8 * * 1-5` in Asia/Tokyo", "cron 30 9 * * 1".
var cronRE = regexp.MustCompile(`(?:^|[\s:="'(])((?:[0-9*/,-]+\s+){4}[0-9a-z*/,#-]+)(?:$|[\s"').,;])`)

// cronScheduleLeadRE says that a cron expression is the journey's schedule.
var cronScheduleLeadRE = regexp.MustCompile(`\b(?:schedule[ds]?|cron|runs?|every|scheduled)\b`)

// cronSchedule reads a schedule written as a cron expression, with the
// time zone said anywhere in the clause.
func (p *parser) cronSchedule(l, c string) bool {
	m := cronRE.FindStringSubmatchIndex(l)
	if m == nil || p.entryType != "" || !cronScheduleLeadRE.MatchString(l) {
		return false
	}
	expr := strings.Join(strings.Fields(l[m[2]:m[3]]), " ")
	if !gronx.New().IsValid(expr) {
		return false // listed as not understood
	}
	cfg := map[string]any{"cron": expr}
	label := "On the schedule " + expr
	if zone, _ := timezoneOf(l, c); zone != "" {
		cfg["timezone"] = zone
		label += " (" + zone + ")"
	}
	p.setEntry("scheduled_entry", label, cfg)
	return true
}

package offline

import (
	"regexp"
	"strings"
)

// Times said from a date the profile holds: "2 days before renewal_date",
// "send a push 48 hours before their departure_time", "Email at 3 days
// before trial_end", "7 days before: push" (the date said last), "on the
// trial_end date itself". Each is a wait_until the date, shifted; the rest
// of the clause is read as the step it times.

var (
	// relDateRE is "<amount> before|after <date attribute>" anywhere in a
	// clause, with the "at" or "from" that may lead it.
	relDateRE = regexp.MustCompile(`(?:\b(?:at|from|then)\s+)?\b((?:` + amountRE[1:len(amountRE)-1] + `)\s*(?:minutes?|hours?|days?|weeks?))\s+(before|after|prior to)\s+(?:the\s+|their\s+|his\s+|her\s+|the customer's\s+|each\s+)?((?:customer\.)?[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+|[a-z]+ date)\b\s*,?`)
	// relBareRE is "<amount> before" with the date left out: the one said
	// last ("- 7 days before: push").
	relBareRE = regexp.MustCompile(`^(?:then\s+)?((?:` + amountRE[1:len(amountRE)-1] + `)\s*(?:minutes?|hours?|days?|weeks?))\s+(before|prior to)(?:\s+(?:that|it|then|the date|that date))?\s*(?:[:,-]\s*|$)`)
	// relItRE is "<amount> before|after it" anywhere in a clause: the date
	// said last ("and a second SMS 2 hours before it").
	relItRE = regexp.MustCompile(`\b((?:` + amountRE[1:len(amountRE)-1] + `)\s*(?:minutes?|hours?|days?|weeks?))\s+(before|after|prior to)\s+(?:it|that|that date|the date|the same date|the same time)\b\s*,?`)
	// relNamedRE is a date said in words with its attribute in brackets:
	// "2 days before the trial ends (customer.trial_ends_at)".
	relNamedRE = regexp.MustCompile(`\b((?:` + amountRE[1:len(amountRE)-1] + `)\s*(?:minutes?|hours?|days?|weeks?))\s+(before|after|prior to)\s+[^()\n]{1,40}?\(\s*((?:customer\.)?[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)\s*\)\s*,?`)
	// onDateRE is the date itself: "on the trial_end date itself:", "on
	// their renewal_date, send …".
	onDateAttrRE = regexp.MustCompile(`^(?:then\s+)?on\s+(?:the\s+|their\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s+date)?(?:\s+itself)?\s*(?:[:,-]\s*|$)`)
	// sameDayRE says nothing beyond the time that follows: "on the day
	// itself, 3 hours before event_date".
	sameDayRE = regexp.MustCompile(`^(?:then\s+)?on the (?:day|date) itself\s*[,:-]?\s*`)
)

// relativeDate reads a clause timed from a date the profile holds.
func (p *parser) relativeDate(l, c string) bool {
	if m := sameDayRE.FindStringIndex(l); m != nil && len(l) > m[1] {
		l, c = l[m[1]:], c[m[1]:]
	}
	at, ok := p.findDate(l)
	if !ok {
		return false
	}
	p.waitUntil(at.attr, at.dur, at.dir)
	return p.around(l, c, at.start, at.end)
}

// dateTime is a time said from a date attribute, where l says it.
type dateTime struct {
	start, end     int
	attr, dur, dir string
}

// findDate finds a time said from a date attribute in lowered clause l.
func (p *parser) findDate(l string) (dateTime, bool) {
	if m := relDateRE.FindStringSubmatchIndex(l); m != nil {
		dir, name := l[m[4]:m[5]], l[m[6]:m[7]]
		dated := dir != "after" || dateNameRE.MatchString(name) // "1 hour after cart_abandoned" is an event
		same := name == "same date" || name == "that date"      // the date said last: relItRE
		if dur, _, ok := findDuration(l[m[2]:m[3]]); ok && dated && !same {
			return dateTime{m[0], m[1], attrName(strings.TrimPrefix(strings.TrimPrefix(name, "customer."), "attributes.")), dur, dir}, true
		}
	}
	if m := relNamedRE.FindStringSubmatchIndex(l); m != nil {
		if dur, _, ok := findDuration(l[m[2]:m[3]]); ok {
			return dateTime{m[0], m[1], attrName(strings.TrimPrefix(strings.TrimPrefix(l[m[6]:m[7]], "customer."), "attributes.")), dur, l[m[4]:m[5]]}, true
		}
	}
	if m := relItRE.FindStringSubmatchIndex(l); m != nil && p.lastDate != "" {
		if dur, _, ok := findDuration(l[m[2]:m[3]]); ok {
			return dateTime{m[0], m[1], p.lastDate, dur, l[m[4]:m[5]]}, true
		}
	}
	if m := relBareRE.FindStringSubmatchIndex(l); m != nil && p.lastDate != "" {
		if dur, _, ok := findDuration(l[m[2]:m[3]]); ok {
			return dateTime{m[0], m[1], p.lastDate, dur, l[m[4]:m[5]]}, true
		}
	}
	if m := onDateAttrRE.FindStringSubmatchIndex(l); m != nil && dateNameRE.MatchString(l[m[2]:m[3]]) {
		return dateTime{m[0], m[1], attrName(l[m[2]:m[3]]), "", ""}, true
	}
	return dateTime{}, false
}

// waitUntil adds a wait until the customer's attribute, dur before or
// after it ("" for the date itself).
func (p *parser) waitUntil(attr, dur, dir string) {
	p.lastDate = attr
	until := "customer." + attr
	cfg := map[string]any{"until": until}
	label := "Wait until " + until
	if dur != "" {
		offset := dur
		if dir != "after" {
			offset, dir = "-"+dur, "before"
		}
		cfg["offset"] = offset
		label = "Wait until " + humanDuration(dur) + " " + dir + " " + until
	}
	p.j.add("wait_until", label, cfg)
	p.understood++
}

// around reads what is left of a clause once its time (from start to end)
// is taken out: "send a push" in "send a push 48 hours before
// departure_time"; nothing left is fine.
func (p *parser) around(l, c string, start, end int) bool {
	rest := strings.TrimSpace(strings.Trim(strings.TrimSpace(c[:start])+" "+strings.TrimSpace(c[end:]), " ,:-"))
	if strings.Trim(rest, " .!") == "" {
		return true
	}
	if !p.clause(rest) {
		p.partly = append(p.partly, rest)
	}
	return true
}

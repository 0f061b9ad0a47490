package offline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// Time: day offsets ("On day 3, …"), waits said before a step ("after 3
// days, …"), and waits that watch for an event or a date.

var dayRE = regexp.MustCompile(`^(?:on |by )?day\s*(\d{1,3})\b\s*[,:.)-]?\s*`)

// dayTrailRE is a message with its day said after it: "sms @T+1" (read as
// "sms day 1"), "push on day 4 'all set?'".
var dayTrailRE = regexp.MustCompile(`^((?:send\s+)?(?:an?\s+|the\s+)?(?:e-?mail|sms|text|push|whatsapp)\b[^,;]{0,40}?)\s+(?:on\s+|at\s+|@\s*)?day\s*(\d{1,3})\b\s*(.*)$`)

// dayOffset reads "On day 3, …" as a wait since the previous day offset.
func (p *parser) dayOffset(l, c string) bool {
	m := dayRE.FindStringSubmatchIndex(l)
	if t := dayTrailRE.FindStringSubmatchIndex(l); m == nil && t != nil {
		// "sms @T+1", "email on day 3": the day said after the message
		day, _ := strconv.Atoi(l[t[4]:t[5]])
		p.dayWait(day)
		return p.clause(strings.TrimSpace(c[t[2]:t[3]] + " " + c[t[6]:t[7]]))
	}
	if m == nil {
		return false
	}
	day, _ := strconv.Atoi(l[m[2]:m[3]])
	p.dayWait(day)
	if p.rest(l, c, m[1]) {
		return true
	}
	// In a series of one channel, "day 2 product tour" names a message.
	rest := strings.TrimSpace(strings.Trim(l[m[1]:], ",:- "))
	if p.seriesChannel == "" || len(strings.Fields(rest)) > 5 || actionIndex(rest) >= 0 {
		return false
	}
	typ, channel, noun := channelOf(p.seriesChannel)
	p.message(typ, channel, noun, nameWords(rest), c[m[1]:], false)
	return true
}

// dayWait waits from the last "day N" said to day.
func (p *parser) dayWait(day int) {
	since := day - p.elapsed // "2 days later: push … day 5: email" waits 3 more days
	if since > 0 {
		p.wait(fmt.Sprintf("%dd", since))
	}
	if day > p.lastDay {
		p.lastDay = day
	}
}

var (
	waitForRE   = regexp.MustCompile(`^(?:wait|pause|hold|give them)\s+(?:for\s+)?(?:up to|at most|a maximum of|max|no more than)?\s*(.*?)\s+(?:for|until)\s+(?:them to|they|the customer to|the user to|a |an |the |their )?(.+)$`)
	waitUntilRE = regexp.MustCompile(`^(?:wait|pause|hold)\s+(?:until|till)\s+(?:they|the customer|the user|a|an)?\s*(.+?)(?:\s*\(?(?:or|with a|with|timeout|max|up to|at most)\s+(?:of\s+|after\s+|up to\s+|for\s+)?(.+?)\)?)?$`)
	// untilInstantRE is a wait until a moment written in RFC 3339.
	untilInstantRE = regexp.MustCompile(`^(?:wait|pause|hold|delay)(?:\s+(?:everyone|everybody|them|all|people|customers|users|the audience|it))?\s+(?:until|till|to)\s+(` + instantPattern + `)[\s,]*`)
	untilAttrRE    = regexp.MustCompile(`^(?:wait|pause|hold)\s+(?:until|till)\s+(?:their|the customer's|the user's|the)\s+([a-z][a-z _]*?)$`)
)

// waitClause reads the waits that watch for an event ("wait up to 2 days for
// a purchase", "wait until they click, at most a week") or a date ("wait
// until their trial end date").
func (p *parser) waitClause(l, c string) bool {
	if m := untilInstantRE.FindStringSubmatchIndex(l); m != nil {
		// "hold everyone until 2027-01-24T09:00:00Z": a moment, as written
		at := strings.ToUpper(l[m[2]:m[3]])
		p.j.add("wait_until", "Wait until "+at, map[string]any{"until": at})
		return p.rest(l, c, m[1])
	}
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
	timeLeadRE  = regexp.MustCompile(`^(?:(?:wait|pause|delay|hold|sleep|give them|give it|allow|leave it|leave them)(?: for| by)?\s+|(?:after|in|about|around|roughly|approximately|approx|like|maybe|say|some|another|a further|then|just)\s+)*$`)
	timeTrailRE = regexp.MustCompile(`^\s*(?:more\s+)?(?:(?:after|following) (?:that|this|the|the previous|the last|the first) (?:e-?mail|sms|text|push notification|push|message|whatsapp|step)\b|later|after that|afterwards|after (?:signup|sign-up|signing up|they sign up|joining|the [a-z0-9 ]+?|their [a-z0-9 ]+?|that|this|[a-z]+))?\s*(?:,|:|-)?\s*`)
)

// timePrefix reads a wait said before a step ("after 3 days, …", "2 hours
// later, …", "wait 3 days", "the next day …").
func (p *parser) timePrefix(l, c string) bool {
	dur, span, ok := findDuration(l)
	if !ok || !timeLeadRE.MatchString(l[:span[0]]) {
		return false
	}
	if strings.Contains(l[:span[0]], "give ") && strings.Trim(l[span[1]:], " .,") != "" {
		return false // "give them 7 days after the email" is how long a goal has
	}
	after := strings.TrimLeft(l[span[1]:], " ")
	if strings.HasPrefix(after, "after ") && !p.j.steps() {
		// "30 minutes after cart abandonment, send …": the entry said with the wait
		if i := actionIndex(after); i > 6 {
			ref := strings.Trim(after[6:i], " ,")
			if ev, ok := eventOf(ref, ""); ok && p.entryType == "" {
				p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
			}
			p.wait(dur)
			return p.rest(l, c, len(l)-len(after)+i)
		}
	}
	p.wait(dur)
	end := span[1] + len(timeTrailRE.FindString(l[span[1]:]))
	return p.rest(l, c, end)
}

// wait adds a wait step.
func (p *parser) wait(dur string) {
	p.j.add("wait", "Wait "+humanDuration(dur), map[string]any{"duration": dur})
	if d, err := graph.ParseDuration(dur); err == nil {
		p.elapsed += int(d.Hours()) / 24
	}
	if cd := p.afterWait; cd != nil {
		p.afterWait = nil
		p.branch(*cd, false)
	}
}

package document

import (
	"regexp"
	"strings"
)

var (
	// bullet is a list marker or step label before a line's text.
	bullet = regexp.MustCompile(`(?i)^\s*(?:[-*•▪◦·>]+|\d{1,2}[.)]|\(\d{1,2}\)|[a-z][.)])?\s*(?:step\s*\d+\s*[:.)\-–—]?\s*)?`)
	// leadIn is what may stand before a timing that opens a step line.
	leadIn = regexp.MustCompile(`(?i)^(?:then,?\s*|and\s+)?(?:on|at|after|from|by|in|within|wait)?\s*$`)
	// quoted finds quoted content: "…", “…”, ‘…’, «…».
	quoted = regexp.MustCompile(`"([^"]{2,})"|“([^”]{2,})”|‘([^’]{2,})’|«([^»]{2,})»`)
	// audienceClause is "to <who>" before a condition, colon or comma.
	audienceClause = regexp.MustCompile(`(?i)\bto\s+((?:all\s+|the\s+|our\s+)?[^,:;()"“]+?)(?:\s+(?:if|unless|only if|when)\b|[,:;(]|$)`)
	// conditionClause is "if …"/"unless …", possibly in parentheses.
	conditionClause = regexp.MustCompile(`(?i)\b(only if|if|unless|provided)\s+([^,:;()"“]+)`)
	// sendVerb opens a step description: "send an", "a", "the".
	sendVerb = regexp.MustCompile(`(?i)^(?:send(?:s|ing)?\s+)?(?:out\s+)?(?:an?|the)?\s*`)
	// connector continues a timing: "2 days later", "3 days after signup".
	connector = regexp.MustCompile(`(?i)^\s*(?:later|afterwards|after\s+(?:sign[- ]?up|signup|registration|entry|the\s+(?:previous|last|first)\s+(?:step|email|message|send)|that))\b`)
	// sendLead opens a sentence that tells a step before its timing.
	sendLead = regexp.MustCompile(`(?i)^\s*(?:then,?\s+|and\s+)?send\b`)
	// trailingPrep is the preposition between a step and its timing.
	trailingPrep = regexp.MustCompile(`(?i)[\s,]*\b(?:on|at|after|from|by|in|within)?\s*$`)
	// eventTail names the event a timing counts from, up to a separator:
	// "(after) the demo", "(after) their first order".
	eventTail = regexp.MustCompile(`(?i)^\s*(?:the|their|a|an)?\s*[\w'-]+(?:\s+[\w'-]+){0,3}?\s*(?:[,:;–—(]|\s-\s|\.?\s*$)`)
	afterWord = regexp.MustCompile(`(?i)^\s*after\s+`)
	// separators sit between a step's parts.
	separators = " \t,:;.-–—)|"
)

// proseSteps finds step lines in prose: a line that opens (after any
// bullet or "Step N" label) with a timing and names a channel, such as
// "Day 3 – SMS reminder to non-openers: “Your trial ends soon”"; a list
// item or "Send …" sentence with a timing further on ("Send a welcome
// email on day 0"); or, under a timing heading ("Day 3 – Reminders"), a
// line that opens with its channel ("SMS: Your trial ends soon").
func proseSteps(lines []string) []Step {
	var steps []Step
	prevDay := unknownDay
	heading, headingDay := "", unknownDay // the last timing heading
	for _, line := range lines {
		if len(steps) >= MaxSteps {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" || len(line) > 400 || ruleLine.MatchString(line) {
			continue
		}
		mark := bullet.FindString(line)
		body := line[len(mark):]
		s, ok := timedStep(mark, body, prevDay)
		switch {
		case ok:
			heading, headingDay = s.Timing, s.Day
		case s.Timing != "":
			heading, headingDay = s.Timing, s.Day
			continue
		case heading != "":
			if s, ok = channelStep(body); !ok {
				continue
			}
			s.Day, s.Timing = headingDay, heading
		default:
			continue
		}
		s.Source = line
		steps = append(steps, s)
		prevDay = s.Day
	}
	return steps
}

// timedStep reads a line that states a timing and a channel. A line that
// opens with a timing but names no channel is a heading: it comes back
// with its Day and Timing and ok false.
func timedStep(mark, body string, prevDay int) (s Step, ok bool) {
	m, found := findTiming(body)
	if !found {
		return Step{}, false
	}
	m.end += timingTail(body[m.start:m.end], body[m.end:])
	day := m.day
	if m.relative && prevDay != unknownDay {
		day += prevDay
	}
	timing := strings.TrimSpace(body[m.start:m.end])
	rest := strings.TrimLeft(body[m.end:], separators)
	prefix := body[:m.start]
	leads := leadIn.MatchString(prefix)
	if !leads {
		// The timing comes after the step: "Send a welcome email on
		// day 0", "- Welcome email immediately after signup". Only a
		// list item or a sentence that starts with "send" counts.
		if strings.TrimSpace(mark) == "" && !sendLead.MatchString(prefix) {
			return Step{}, false
		}
		rest = trailingPrep.ReplaceAllString(prefix, "") + " " + rest
	}
	if head, after, ok := strings.Cut(rest, ":"); ok && len(findChannels(head)) == 0 {
		// "Day 3 (if not opened): SMS …": the channel's part leads, the
		// rest stays for its condition.
		rest = strings.TrimLeft(after, separators) + " (" + strings.Trim(head, "() ") + ")"
	}
	chs := findChannels(rest)
	if len(chs) == 0 {
		if leads && len(strings.Fields(rest)) <= 6 {
			return Step{Day: day, Timing: timing}, false // a heading
		}
		return Step{}, false
	}
	s = Step{Day: day, Timing: timing, Channel: chs[0].channel}
	s.Content, s.Audience, s.Condition = describe(rest, chs[0])
	return s, true
}

// channelLead is a line that opens with its channel and has a colon or dash
// within a dozen words: "SMS: …", "Push notification – …", "Email to
// non-openers: …".
var channelLead = regexp.MustCompile(`(?i)^(?:send\s+(?:an?\s+|the\s+)?)?(\S+(?:\s+\S+){0,11}?)\s*(?::|\s[–—-]\s)`)

// channelStep reads an untimed line that opens with its channel.
func channelStep(body string) (Step, bool) {
	m := channelLead.FindStringSubmatchIndex(body)
	if m == nil {
		return Step{}, false
	}
	chs := findChannels(body[m[2]:m[3]])
	if len(chs) == 0 || strings.TrimSpace(body[m[2]:m[2]+chs[0].start]) != "" {
		return Step{}, false
	}
	ch := chs[0]
	ch.start, ch.end = ch.start+m[2], ch.end+m[2]
	s := Step{Channel: ch.channel}
	s.Content, s.Audience, s.Condition = describe(body, ch)
	return s, true
}

// describe splits a step line's text after its timing into content,
// audience and condition. Quoted text is the content; otherwise what
// follows a colon; otherwise the words after the channel, up to the
// audience or condition.
func describe(rest string, ch channelMention) (content, audience, condition string) {
	head, body, hasColon := strings.Cut(rest, ":")
	if q := quoted.FindStringSubmatch(rest); q != nil {
		for _, g := range q[1:] {
			if g != "" {
				content = strings.TrimSpace(g)
				break
			}
		}
		// Clauses are looked for outside the quotes.
		rest = strings.Replace(rest, q[0], " ", 1)
		head, _, _ = strings.Cut(rest, ":")
	} else if hasColon && strings.TrimSpace(body) != "" {
		content = strings.TrimRight(strings.TrimSpace(body), ".")
	}
	if m := conditionClause.FindStringSubmatch(rest); m != nil {
		condition = strings.TrimRight(strings.TrimSpace(m[2]), ".")
		if strings.EqualFold(m[1], "unless") {
			condition = "unless " + condition
		}
	}
	webhook := ch.channel == "webhook" // "to Salesforce" is where it goes, not who
	if m := audienceClause.FindStringSubmatch(head); m != nil && !webhook {
		audience = strings.TrimRight(strings.TrimSpace(m[1]), ".")
	}
	if content == "" {
		// "SMS reminder to non-openers" → "reminder".
		desc := head
		if ch.end <= len(desc) && ch.start >= 0 {
			desc = desc[:ch.start] + " " + desc[ch.end:]
		}
		if i := audienceClause.FindStringIndex(desc); i != nil && !webhook {
			desc = desc[:i[0]]
		}
		if i := conditionClause.FindStringIndex(desc); i != nil {
			desc = desc[:i[0]]
		}
		desc = strings.Trim(desc, separators+"( ")
		desc = strings.TrimSpace(sendVerb.ReplaceAllString(desc, ""))
		desc = strings.Join(strings.Fields(strings.TrimPrefix(desc, "to ")), " ")
		desc = strings.TrimPrefix(strings.TrimPrefix(desc, "notification "), "message ")
		if desc != "notification" && desc != "message" {
			content = strings.Trim(desc, separators)
		}
	}
	return content, audience, condition
}

// timingTail returns how many bytes of rest continue the timing phrase:
// "later", "after signup", "after the demo" up to the next separator.
func timingTail(timing, rest string) int {
	if c := connector.FindStringIndex(rest); c != nil {
		return c[1]
	}
	skip := 0
	if !strings.HasSuffix(strings.ToLower(timing), "after") {
		a := afterWord.FindStringIndex(rest)
		if a == nil {
			return 0
		}
		skip = a[1]
	}
	e := eventTail.FindStringIndex(rest[skip:])
	if e == nil {
		return 0
	}
	// Stop before the separator itself.
	end := skip + e[1]
	return len(strings.TrimRight(rest[:end], ",:;–—(-. "))
}

package offline

import (
	"regexp"
	"strings"
)

// Splitting a description into sentences, and sentences into clauses.

var (
	listMarkerRE   = regexp.MustCompile(`(?m)^\s*(?:[-*•]|\d{1,2}[.)])\s+`)
	quoteFixer     = strings.NewReplacer("“", `"`, "”", `"`, "‘", "'", "’", "'", "–", "-", "—", " - ", "\t", " ")
	singleQuotedRE = regexp.MustCompile(`(^|[\s(:])'([^"\n]+?)'([\s.,;:!?)]|$)`)
	thenRE         = regexp.MustCompile(`(?i)\s+-\s+|(?:,\s*|\s+)(?:and\s+)?then\b,?\s*|,\s*after that,?\s*|,\s*afterwards,?\s*|\s+->\s+|\s+→\s+|\s+/\s+`)
	// andActionRE finds " and " before an action: "wait 2 days and send …".
	andActionRE = regexp.MustCompile(`(?i)\s+and\s+(?:also\s+)?(` + actionVerbs + `|` + otherVerbs + `|(?:an?|the)\s+(?:[a-z'-]+\s+){0,3}(?:e-?mail|sms|text|push|notification|whatsapp)\b)`)
	// inlineListRE splits "1) … 2) …" written on one line.
	inlineListRE = regexp.MustCompile(`(\S*)\s+\d{1,2}[.)]\s+([A-Za-z])`)
	// headerRE starts a fragment that says when or for whom, not what:
	// "if they don't open it", "after 3 days", "on day 7".
	headerRE = regexp.MustCompile(`(?i)^(?:if|unless|only if|only for|when|whenever|once|as soon as|in case|should|for|otherwise|else|but if|and if|on day|day|after|in|every|each|on|at|starting|the next day|the following day|next day|tomorrow|` + amountRE[1:len(amountRE)-1] + `)\b`)
)

// otherVerbs begin something a journey cannot do with its node types
// ("and sync them to Salesforce"): split off, it is listed as not
// understood instead of vanishing into the step before it.
const otherVerbs = `sync|syncs|create|creates|assign|assigns|log|export|alert|escalate|enroll|enrol|route|hand off|hand them|pass them|share|upload|invite|book|phone|ring|print|mail them a|ship|refund|credit|open a ticket|raise a ticket|call them|slack|post it|post to`

// actionVerbs begin a step.
const actionVerbs = `resend|re-send|gets|get|receives|receive|send|sends|text|sms|email them|email the|email everyone|email all|push them|whatsapp them|message them|call|wait|pause|delay|hold|tag|add|remove|untag|set|update|end|exit|stop|notify|ping|post|mark|remind|follow up|trigger|fire|deliver|give|a/b test|ab test|split test|run an a/b`

var (
	actionStartRE = regexp.MustCompile(`(?i)\b(?:` + actionVerbs + `)\b`)
	actionLeadRE  = regexp.MustCompile(`(?i)^(?:` + actionVerbs + `)\b`)
)

// splitSentences splits on newlines, semicolons and sentence-ending
// punctuation, leaving URLs, decimals and quoted text whole.
func splitSentences(text string) []string {
	text = listMarkerRE.ReplaceAllString(quoteFixer.Replace(text), "")
	text = singleToDouble(text)
	text = inlineListRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := inlineListRE.FindStringSubmatch(m)
		if w := strings.ToLower(sub[1]); w == "day" || w == "(day" || w == "wait" || w == "step" {
			return m // "day 2. Send …" is a day, not a list number
		}
		return sub[1] + "\n" + sub[2]
	})
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	inQuote, inURL := false, false
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '"':
			inQuote = !inQuote
		case ch == '\n':
			inQuote, inURL = false, false
			flush()
			continue
		case ch == ' ':
			inURL = false
		case strings.HasPrefix(text[i:], "http://") || strings.HasPrefix(text[i:], "https://"):
			inURL = true
		}
		end := i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n'
		if inURL && ch == '.' && end { // a URL's last period ends the sentence
			inURL = false
		}
		if !inQuote && !inURL {
			if ch == ';' || ((ch == '.' || ch == '!' || ch == '?') && end && !abbreviation(text[:i])) {
				if ch != ';' {
					cur.WriteByte(ch)
				}
				flush()
				continue
			}
		}
		cur.WriteByte(ch)
	}
	flush()
	for i, s := range out {
		out[i] = strings.TrimRight(s, ".!? ")
	}
	return out
}

// singleToDouble turns 'quoted names' into "quoted names", except inside
// double quotes ("The 'last' call" stays as it is).
func singleToDouble(text string) string {
	var b strings.Builder
	last := 0
	for _, m := range singleQuotedRE.FindAllStringSubmatchIndex(text, -1) {
		if strings.Count(text[:m[0]], `"`)%2 == 1 {
			continue
		}
		b.WriteString(text[last:m[0]])
		b.WriteString(text[m[2]:m[3]] + `"` + text[m[4]:m[5]] + `"` + text[m[6]:m[7]])
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// abbreviation reports whether the text before a period ends in one ("e.g",
// "U.S"), which does not end a sentence.
func abbreviation(before string) bool {
	l := strings.ToLower(before)
	for _, a := range []string{"e.g", "i.e", "u.s", "etc", "approx", "vs", "mr", "mrs", "dr"} {
		if strings.HasSuffix(l, a) && (len(l) == len(a) || !isLetter(l[len(l)-len(a)-1])) {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitClauses splits a sentence at "then", at commas (a fragment that only
// says when or for whom stays with what follows it) and at "and" before an
// action.
func splitClauses(sentence string) []string {
	var out, parts []string
	for _, part := range splitOutsideQuotes(sentence, thenRE) {
		if n := len(parts); n > 0 && isHeader(parts[n-1]) { // "if not opened then send …"
			parts[n-1] += ", " + part
			continue
		}
		parts = append(parts, part)
	}
	for _, part := range parts {
		var frags []string
		open := false // the last fragment only says when or for whom so far
		for _, f := range splitCommas(part) {
			if n := len(frags); n > 0 && open {
				frags[n-1] += ", " + f
				open = isHeader(f)
				continue
			}
			frags = append(frags, f)
			open = isHeader(f)
		}
		for _, f := range frags {
			out = append(out, splitOutsideQuotes(f, andActionRE)...)
		}
	}
	var clean []string
	for _, c := range out {
		if c = strings.TrimSpace(c); c != "" {
			clean = append(clean, c)
		}
	}
	return clean
}

// isHeader reports whether fragment f says only when or for whom.
func isHeader(f string) bool {
	if t := titleLeadRE.FindStringIndex(lowerASCII(f)); t != nil && !keywordLeadRE.MatchString(lowerASCII(f)) {
		f = f[t[1]:] // "Abandoned browse: when …"
	}
	if !headerRE.MatchString(f) || actionIndex(f) >= 0 || namedDayRE.MatchString(f) {
		return false
	}
	// "a day later an SMS" is a step; "if they open the email" is not.
	return condHeaderRE.MatchString(f) || !channelRE.MatchString(lowerASCII(f))
}

// namedDayRE is a day offset with what happens that day: "day 2 product tour".
var namedDayRE = regexp.MustCompile(`(?i)^(?:on |by )?day\s*\d+\s*[,:.)-]?\s*[a-z]`)

var condHeaderRE = regexp.MustCompile(`(?i)^(?:if|unless|only if|only for|when|whenever|once|as soon as|in case|should|for|otherwise|else|but if|and if)\b`)

// nounBefore are the words after which an action verb is a noun: "the tag
// beta", "a text".
var nounBefore = map[string]bool{"the": true, "a": true, "an": true, "their": true, "this": true, "that": true,
	"no": true, "any": true, "our": true, "your": true, "his": true, "her": true, "its": true, "to": true, "of": true,
	// and after which it is the condition's own verb: "they don't add it"
	"they": true, "don't": true, "dont": true, "not": true, "didn't": true, "doesn't": true, "haven't": true,
	"hasn't": true, "never": true, "still": true, "who": true, "will": true, "can": true, "someone": true,
	"user": true, "customer": true, "users": true, "customers": true}

// actionIndex returns where the first action verb of s starts, -1 if none.
func actionIndex(s string) int {
	for _, m := range actionStartRE.FindAllStringIndex(s, -1) {
		before := strings.Fields(lowerASCII(s[:m[0]]))
		if len(before) == 0 || !nounBefore[before[len(before)-1]] {
			return m[0]
		}
	}
	return -1
}

// splitCommas splits at commas outside quotes and URLs, but not inside
// numbers (1,000).
func splitCommas(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == ',' && !inQuote && !(i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1])):
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// splitOutsideQuotes splits s where re matches outside double quotes. A
// match's first group, when there is one, starts the next piece.
func splitOutsideQuotes(s string, re *regexp.Regexp) []string {
	var out []string
	start := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if strings.Count(s[:m[0]], `"`)%2 == 1 {
			continue
		}
		next := m[1]
		if len(m) > 2 && m[2] >= 0 {
			next = m[2]
		}
		out = append(out, s[start:m[0]])
		start = next
	}
	return append(out, s[start:])
}

// lowerASCII lower-cases ASCII letters only, so that byte offsets into the
// result are offsets into s.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

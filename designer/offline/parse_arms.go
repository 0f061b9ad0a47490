package offline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// An A/B split whose arms are different steps, said as one sentence:
// "split 70/30 → A: push … / B: email …", "Split: 50% control (no message),
// 25% email, 25% SMS", "half get a push, half get an email", "80% get an
// email and 20% get an SMS", "A = push, B = SMS, C = email". Each arm is a
// message on a channel or a control arm that gets nothing; what follows the
// sentence comes after every arm. (Variants of one message, "test 3 versions
// of the first email", are abTest's.)

var (
	armHeadRE = regexp.MustCompile(`\b(?:split(?:[ -]test)?|a/b(?:/c)?(?:[ -]test)?|ab[ -]test|test|variants?|holdout|\d-way|(?:two|three|four|2|3|4)[ -]ways?)\b`)
	// armLetterRE is an arm's letter: "a: ", "b = ", "c → ", "group a gets",
	// "variant b: ".
	armLetterRE = regexp.MustCompile(`(?:^|[\s(→>:;,/—-])(?:(?:variant|group|arm|version|cell|bucket|cohort)\s+([a-e])\b\s*(?::|=|\)|→|->)?|([a-e])\s*(?::|=|\)|→|->))\s*|(?:^|[,;:/]\s*)([a-e])\s+(?:gets?\s+|receives?\s+|sees?\s+)?`)
	// armWantRE is a request that introduces the split: "I'd like an".
	armWantRE = regexp.MustCompile(`[\s,]*\b(?:i'?d like|we'?d like|i would like|we would like|i want|we want|we need|let'?s|please)(?:\s+to)?(?:\s+(?:do|run|have|try|test))?(?:\s+(?:an?|the))?\s*$`)
	// armVerbRE is what an arm's audience is said to get: "gets a push".
	armVerbRE    = regexp.MustCompile(`^(?:gets?|receives?|sees?|goes to)\s+`)
	armPieceSep  = regexp.MustCompile(`\s*(?:,|;|:|—|→|->|\s-\s|\band\b)\s*`)
	armPctRE     = regexp.MustCompile(`^(?:and\s+)?(?:(?:the\s+)?(?:other|remaining|last|another)\s+)?(\d{1,3})\s*%\s*(?:of (?:them|people|users|customers|the audience)\s+)?(?:(?:get|gets|receive|receives|see|sees|go to|goes to|are|is|become|form)\b)?\s*[:=-]?\s*(.*)$`)
	armHalfRE    = regexp.MustCompile(`^(?:and\s+)?(?:the other |other |another )?half\s+(?:of (?:them|people|users|customers)\s+)?(?:get|gets|receive|receives|see|sees)?\s*(.*)$`)
	armRestRE    = regexp.MustCompile(`^(?:and\s+)?(?:the rest|everyone else|everybody else|the others|others)\s+(?:get|gets|receive|see)?\s*(.*)$`)
	armControlRE = regexp.MustCompile(`\b(?:control|holdout|hold-out|no message|nothing|no send|no messages)\b`)
)

// arm is one arm of a split: where its words are in the sentence, its
// channel ("" for a control arm) and its weight (0 when not said).
type arm struct {
	start, end int
	channel    string
	weight     int
}

// readArms finds a split of channel arms in a lowered sentence. It returns
// the arms and where the words before the split end.
func readArms(l string) ([]arm, int, bool) {
	head := armHeadRE.FindStringIndex(l)
	from := 0
	if head != nil {
		from = head[1]
	}
	arms, pct := letteredArms(l, from), false
	if arms == nil {
		arms, pct = sharedArms(l, from), true
	}
	if arms == nil && head != nil {
		arms = listedArms(l, from)
	}
	if len(arms) < 2 || len(arms) > 5 || (head == nil && !pct) {
		return nil, 0, false
	}
	sends := 0
	for i, a := range arms {
		text := l[a.start:a.end]
		if ch := channelRE.FindString(text); ch != "" {
			arms[i].channel = ch
			sends++
		} else if !armControlRE.MatchString(text) {
			return nil, 0, false
		}
	}
	if sends == 0 {
		return nil, 0, false
	}
	pre := arms[0].start
	if head != nil && head[0] < pre {
		pre = head[0]
	}
	if !pct {
		if m := abWeightsRE.FindStringSubmatch(l); m != nil {
			var ws []int
			for _, s := range m[1:] {
				if n, err := strconv.Atoi(s); err == nil && n > 0 {
					ws = append(ws, n)
				}
			}
			if len(ws) == len(arms) {
				for i := range arms {
					arms[i].weight = ws[i]
				}
			}
		}
	}
	return arms, pre, true
}

// letteredArms reads "A: push … / B: email …" from from on; nil when the
// letters do not run a, b, … .
func letteredArms(l string, from int) []arm {
	var arms []arm
	for _, m := range armLetterRE.FindAllStringSubmatchIndex(l[from:], -1) {
		letter := m[2]
		if letter < 0 {
			letter = m[4]
		}
		if letter < 0 {
			letter = m[6] // ", b sms only"
		}
		if l[from+letter] != byte('a'+len(arms)) {
			continue
		}
		if n := len(arms); n > 0 {
			arms[n-1].end = from + m[0]
		}
		arms = append(arms, arm{start: from + m[1], end: len(l)})
	}
	if len(arms) < 2 {
		return nil
	}
	for i := range arms {
		arms[i].end = arms[i].start + len(strings.TrimRight(l[arms[i].start:arms[i].end], " /,;.|"))
	}
	return arms
}

// sharedArms reads arms said as shares: "50% control, 25% email, 25% SMS",
// "half get a push, half get an email", "80% get an email and the rest an
// SMS". Weights not said are what is left, shared equally.
func sharedArms(l string, from int) []arm {
	var arms []arm
	at := from
	seps := armPieceSep.FindAllStringIndex(l[from:], -1)
	seps = append(seps, []int{len(l) - from, len(l) - from})
	rest := -1
	for _, s := range seps {
		piece := l[at : from+s[0]]
		lead := len(piece) - len(strings.TrimLeft(piece, " :"))
		piece = strings.TrimSpace(piece[lead:])
		start := at + lead
		if piece == "" { // ", and "
			at = from + s[1]
			continue
		}
		var a arm
		ok := true
		switch {
		case armPctRE.MatchString(piece):
			m := armPctRE.FindStringSubmatch(piece)
			a.weight, _ = strconv.Atoi(m[1])
		case armHalfRE.MatchString(piece):
			a.weight = 50
		case armRestRE.MatchString(piece) && len(arms) > 0:
			rest = len(arms)
		default:
			ok = false
		}
		if ok {
			a.start, a.end = start, start+len(strings.TrimRight(piece, " ."))
			arms = append(arms, a)
		} else if len(arms) > 0 {
			break
		}
		at = from + s[1]
	}
	if rest >= 0 {
		left := 100
		for _, a := range arms {
			left -= a.weight
		}
		if left <= 0 {
			return nil
		}
		arms[rest].weight = left
	}
	return arms
}

// armSplit builds a split of channel arms read by readArms from sentence c
// (l lowered). The words before the split ("3 days later", "After 2 days")
// are read as a clause; it returns them when they were not understood.
func (p *parser) armSplit(l, c string, arms []arm, pre int) []string {
	var missed []string
	head := armWantRE.ReplaceAllString(abLeadRE.ReplaceAllString(abWeightsRE.ReplaceAllString(l[:pre], ""), ""), "")
	if before := strings.TrimSpace(strings.Trim(head, " ,;:-—→")); before != "" {
		at := strings.Index(l[:pre], before)
		for _, cl := range splitClauses(c[at : at+len(before)]) {
			if !p.clause(cl) {
				missed = append(missed, strings.TrimSpace(cl))
			}
		}
	}
	weights := make([]int, len(arms))
	said, unsaid := 0, 0
	for i, a := range arms {
		weights[i] = a.weight
		said += a.weight
		if a.weight == 0 {
			unsaid++
		}
	}
	if unsaid > 0 {
		left := 100 - said
		if left < unsaid {
			left = 100
			said = 0
			for i := range weights {
				weights[i] = 0
			}
			unsaid = len(weights)
		}
		share, extra := left/unsaid, left%unsaid
		for i := range weights {
			if weights[i] == 0 {
				weights[i] = share
				if extra > 0 {
					weights[i]++
					extra--
				}
			}
		}
	}
	var variants []map[string]any
	var names []string
	for i, a := range arms {
		key := string(rune('A' + i))
		variants = append(variants, map[string]any{"key": key, "weight": weights[i]})
		what := "no message"
		if a.channel != "" {
			what = a.channel
		}
		names = append(names, fmt.Sprintf("%s %d%% %s", key, weights[i], what))
	}
	p.j.merge()
	s := p.j.add("ab_split", "A/B split: "+strings.Join(names, ", "), map[string]any{"variants": variants})
	var tails []tail
	for i, a := range arms {
		p.j.tails, p.j.lastWait = []tail{{s, string(rune('A' + i))}}, ""
		if a.channel != "" {
			before := len(p.j.b.g.Nodes)
			text := strings.TrimSpace(c[a.start:a.end])
			if v := armVerbRE.FindStringIndex(lowerASCII(text)); v != nil {
				text = text[v[1]:]
			}
			if !actionLeadRE.MatchString(text) {
				text = "send " + text
			}
			read := true
			for _, cl := range splitClauses(text) { // "email, then push the next day"
				read = p.clause(cl) && read
			}
			if !read || len(p.j.b.g.Nodes) == before {
				p.partly = nil
				p.clause("send " + a.channel)
			}
			p.j.merge()
		}
		tails = append(tails, p.j.tails...)
	}
	p.j.tails, p.j.lastWait = tails, ""
	return missed
}

// armListRE opens a list of equal arms after a split's head: "three ways
// evenly between", "equally across", "into".
var armListRE = regexp.MustCompile(`^[\s,]*(?:(?:it|them|people|users|customers|the audience|traffic|everyone)\s+)?(?:(?:two|three|four|five|2|3|4|5)[ -]ways?\s+)?(?:(?:evenly|equally|randomly|at random)\s+)?(?:between|across|into|over|among)\s+`)

// listedArms reads arms listed without letters or shares after the head:
// "split three ways evenly between a video email, a case-study email and a
// call-booking email". They are equal.
func listedArms(l string, from int) []arm {
	m := armListRE.FindStringIndex(l[from:])
	if m == nil {
		return nil
	}
	var arms []arm
	base := from + m[1]
	at := base
	for _, sep := range append(armItemSepRE.FindAllStringIndex(l[base:], -1), []int{len(l) - base, len(l) - base}) {
		piece := l[at : base+sep[0]]
		start := at + len(piece) - len(strings.TrimLeft(piece, " "))
		arms = append(arms, arm{start: start, end: start + len(strings.TrimSpace(piece))})
		at = base + sep[1]
	}
	return arms
}

// armItemSepRE separates listed arms.
var armItemSepRE = regexp.MustCompile(`\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s*/\s*)`)

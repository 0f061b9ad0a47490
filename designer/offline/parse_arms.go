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
	armHeadRE    = regexp.MustCompile(`\b(?:split(?:[ -]test)?|a/b(?:/c)?(?:[ -]test)?|ab[ -]test|test)\b`)
	armLetterRE  = regexp.MustCompile(`(?:^|[\s(→>:;,/—-])([a-e])\s*(?::|=|\))\s+`)
	armPieceSep  = regexp.MustCompile(`\s*(?:,|;|—|→|->|\s-\s|\band\b)\s*`)
	armPctRE     = regexp.MustCompile(`^(?:and\s+)?(\d{1,3})\s*%\s*(?:of (?:them|people|users|customers|the audience)\s+)?(?:(?:get|gets|receive|receives|see|sees|go to|goes to)\b)?\s*[:=-]?\s*(.*)$`)
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
		if l[from+m[2]] != byte('a'+len(arms)) {
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
	if before := strings.TrimSpace(strings.Trim(abLeadRE.ReplaceAllString(l[:pre], ""), " ,;:-—→")); before != "" {
		if !p.clause(c[:len(before)+strings.Index(l[:pre], before)]) {
			missed = append(missed, strings.TrimSpace(c[:pre]))
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
			if !actionLeadRE.MatchString(text) {
				text = "send " + text
			}
			if !p.clause(text) || len(p.j.b.g.Nodes) == before {
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

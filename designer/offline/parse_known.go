package offline

import (
	"regexp"
	"strings"
)

// A text that writes its events as code names them once and then speaks
// of them in words: "wait for `kyc_completed` … if they still haven't
// completed after another 3 days", "`orientation_attended` … attended ->".
// An event made up from such words is the writer's event whose last word
// the words say (the one waited for last first), never a new name.

// wordRE is one word of a phrase.
var wordRE = regexp.MustCompile(`[a-z]+`)

// knownEvent is the event written as code in the text that phrase speaks of
// in words, "" when none is: an event whose last word ("completed" in
// kyc_completed) has the same stem as a word of the phrase. The event
// waited for last is preferred; attributes (compared, or after customer.)
// are not events.
func (p *parser) knownEvent(phrase string) string {
	stems := map[string]bool{}
	for _, w := range wordRE.FindAllString(lowerASCII(phrase), -1) {
		stems[stem(w)] = true
	}
	if ev := p.lastAwaited(); ev != "" && stems[stem(eventKind(ev))] {
		return ev
	}
	lower := strings.ToLower(p.text)
	found := ""
	for _, loc := range identInTextRE.FindAllStringIndex(lower, -1) {
		ev := strings.Trim(lower[loc[0]:loc[1]], "`")
		after := strings.TrimLeft(lower[loc[1]:], "` ")
		if strings.HasSuffix(lower[:loc[0]], "customer.") || attrAfterRE.MatchString(after) || !stems[stem(eventKind(ev))] {
			continue
		}
		if found != "" && found != ev {
			return "" // two events say it: ask instead
		}
		found = ev
	}
	return found
}

// attrAfterRE is what follows an attribute's name: a comparison.
var attrAfterRE = regexp.MustCompile(`^(?:=|==|!=|>|<|is (?:true|false|not|above|below|over|under|at least|more|less|"|\d))`)

// stem is a word without the endings a verb takes, at least four letters
// long: completed, completes and complete are "complet"; booked and book
// are "book"; delivered and delivery are "deliver".
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "e", "s", "y"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

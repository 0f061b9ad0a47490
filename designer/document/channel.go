package document

import (
	"regexp"
	"sort"
	"strings"
)

// Channels are the values Step.Channel takes besides "".
var Channels = []string{"email", "sms", "push", "whatsapp", "webhook"}

// channelPatterns recognise how plans name each channel.
var channelPatterns = []struct {
	channel string
	re      *regexp.Regexp
}{
	{"whatsapp", regexp.MustCompile(`(?i)whats\s*app|\bwa\b`)},
	{"sms", regexp.MustCompile(`(?i)\bsms(?:es)?\b|\btext(?:\s+message)?s?\b|\btxt\b|\bmms\b`)},
	{"push", regexp.MustCompile(`(?i)\bpush(?:es)?\b|\b(?:app|mobile)\s+notifications?\b`)},
	{"email", regexp.MustCompile(`(?i)\be-?\s?mails?\b|\bnewsletter\b|\bedm\b`)},
	{"webhook", regexp.MustCompile(`(?i)\bweb\s?hooks?\b|\bapi\s+call\b|\bhttp\s+(?:call|post|request)\b`)},
}

// channelMention is one channel named in a text.
type channelMention struct {
	channel    string
	start, end int
}

// findChannels returns the channels s names, in the order it names them,
// each once.
func findChannels(s string) []channelMention {
	var found []channelMention
	for _, p := range channelPatterns {
		if loc := p.re.FindStringIndex(s); loc != nil {
			found = append(found, channelMention{p.channel, loc[0], loc[1]})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].start < found[j].start })
	return found
}

// parseChannels reads a channel cell: "E-mail", "SMS/Text", "Email + Push".
// Text in parentheses is an aside, not a channel.
func parseChannels(cell string) []string {
	cell = parenthetical.ReplaceAllString(cell, " ")
	var out []string
	for _, m := range findChannels(cell) {
		out = append(out, m.channel)
	}
	return out
}

var parenthetical = regexp.MustCompile(`\([^)]*\)`)

// channelNoun is how Prompt names a channel's message.
func channelNoun(channel string) string {
	switch channel {
	case "email":
		return "an email"
	case "sms":
		return "an SMS"
	case "push":
		return "a push notification"
	case "whatsapp":
		return "a WhatsApp message"
	}
	return "a message"
}

// channelPlural names a channel's messages in a frequency cap.
func channelPlural(word string, n int) string {
	ch := ""
	if cs := parseChannels(word); len(cs) > 0 {
		ch = cs[0]
	}
	plural := n != 1
	switch {
	case ch == "email" && plural:
		return "emails"
	case ch == "email":
		return "email"
	case ch == "sms":
		return "SMS"
	case ch == "push" && plural:
		return "push notifications"
	case ch == "push":
		return "push notification"
	case ch == "whatsapp" && plural:
		return "WhatsApp messages"
	case ch == "whatsapp":
		return "WhatsApp message"
	case plural:
		return "messages"
	}
	return "message"
}

// lowerFirst lowercases a phrase's first letter unless its first word is an
// acronym or a name in capitals ("VIP customers", "SMS").
func lowerFirst(s string) string {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	if s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

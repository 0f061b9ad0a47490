package offline

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Steps: messages on every channel, webhook calls, tags, profile updates and
// the end of the journey.

var (
	callVerbRE     = regexp.MustCompile(`\b(?:call|post|put|hit|ping|notify|send|webhook|trigger|fire|forward|push)\b`)
	putRE          = regexp.MustCompile(`\bput\b`)
	trailingPrepRE = regexp.MustCompile(`\s+(?:by|via|over|through|as|on)\s*$`)
	leadingPrepRE  = regexp.MustCompile(`^\s*(?:about|for|on|regarding|announcing|with|reminding them (?:about|of)|called|named|titled)\s+`)
	urlRE          = regexp.MustCompile(`https?://[^\s"'<>]+`)
	quotedTextRE   = regexp.MustCompile(`"([^"]+)"`)
	taggingRE      = regexp.MustCompile(`\b(?:by\s+)?tagging\s+(?:them|the customer|the user|the contact)\s+(?:as\s+|with\s+)?["']?([a-z0-9_-]+)["']?`)
	addTagRE       = regexp.MustCompile(`^(?:give|assign)\s+(?:them|the customer|the user)\s+(?:the\s+|a\s+)?["']?([a-z0-9_-]+)["']?\s+tag$|^(?:tag|label|mark|flag)\s+(?:them|the customer|the user|customers|users|the contact|him|her|it)?\s*(?:as|with)?\s*(?:an? |the\s+)?(?:tag\s+)?["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?(?:\s+tag)?$|^add\s+(?:an? |the )?(?:tag\s+["']?([a-z0-9_-]+)["']?|["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+tag)(?:\s+to\s+(?:them|the customer|the user|their profile))?$|^add\s+(?:them|the customer|the user)\s+to\s+(?:the\s+)?["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+(?:tag|list)$`)
	remTagRE       = regexp.MustCompile(`^(?:remove|untag|drop|delete)\s+(?:the\s+)?(?:tag\s+["']?([a-z0-9_-]+)["']?|["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+tag)(?:\s+from\s+(?:them|the customer|the user|their profile))?$|^remove\s+(?:them|the customer|the user)\s+from\s+(?:the\s+)?["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+(?:tag|list)$`)
	setRE          = regexp.MustCompile(`^(?:set|update|change)\s+(?:their |the customer's |the user's |the |customer |user )?(?:profile\s+)?(?:attribute\s+|field\s+)?([a-z][a-z0-9_ ]*?)\s+(?:to|=|as)\s+(.+)$|^update\s+(?:their|the customer's|the user's|the)\s+profile(?:\s+with|\s+to set|\s+so that)?\s*:?\s*([a-z][a-z0-9_ ]*?)\s*(?:=|to|:|is)\s*(.+)$`)
	endRE          = regexp.MustCompile(`^(?:(?:end|exit|finish|stop|close)(?:\s+(?:the journey|the flow|the campaign|here|journey|it|there))?|(?:they |customers |then they |everyone )?(?:exit|leave|drop out of)(?: the journey)?|end of (?:the )?journey|that's it|done)$`)
	channelRE      = regexp.MustCompile(`\b(e-?mails?|mail|newsletters?|sms(?:es)?|text(?:\s+message)?s?|push(?:\s+notifications?)?|(?:in-app\s+|app\s+|mobile\s+)?notifications?|whatsapp(?:\s+messages?)?)\b`)
	sendLead       = regexp.MustCompile(`^(?:re-?send|gets?|receives?|ask(?:\s+them)?(?:\s+for)?|send(?:\s+(?:out|them|over|off))?|text|sms|email|e-mail|push|whatsapp|message|notify|remind|follow up(?:\s+with)?|deliver|fire off|shoot|drop|ping|reach out(?:\s+with)?|trigger|hit them with)\b`)
	// softLead verbs send only when a channel is named: "congratulate them by push".
	softLead           = regexp.MustCompile(`^(?:re-?engage|nudge|reach|contact|target|welcome|congratulate|thank|invite|alert|follow up)\b`)
	timeTail           = regexp.MustCompile(`\s+(?:(?:after|in|about)\s+(?:another\s+)?` + amountRE + `[\s-]*(?:minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|months?)|` + amountRE + `[\s-]*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\s+(?:later|after(?:\s+that|\s+signup|\s+the [a-z ]+)?)|the next day|the following day|next day|the day after|the next morning|tomorrow|a week later|next week)\b`)
	objectSegmentRE    = regexp.MustCompile(`^(?:send|email|text|message|push)\s+((?:all\s+|the\s+)?(?:members|customers|users|people|everyone|subscribers|contacts)\s+(?:of|in|on)\s+(?:the\s+|our\s+)?"?([a-z0-9][a-z0-9 _-]*?)"?\s+(?:segment|list)\s+)`)
	relDateTailRE      = regexp.MustCompile(`\s+((?:\d+|an?|one|two|three|four|five|six|seven)\s*(?:minutes?|hours?|days?|weeks?))\s+(before|prior to|after)\s+(?:their\s+|the\s+)?((?:customer\.)?[a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:date|at|on)|[a-z]+_date|birthday|anniversary)\b`)
	signupAudienceRE   = regexp.MustCompile(`\s+(?:to|for)\s+(?:all\s+)?(?:new\s+|newly registered\s+|fresh\s+)?(?:signups|sign-ups|users who (?:just )?signed up|everyone who signs up|registrants)\b|\s+to\s+new\s+(?:users|customers|subscribers|members|accounts)\b`)
	objectAudienceRE   = regexp.MustCompile(`^(?:send|email|text|message)\s+((?:all\s+)?(?:new\s+)?(?:trial users|trialists|trial signups|signups|sign-ups|new users|new customers|new subscribers|new members)\s+)`)
	objectCondRE       = regexp.MustCompile(`^(?:send|email|text|message)\s+((?:all\s+|only\s+)?(?:customers|users|people|subscribers|members|contacts|accounts)\s+.+\s+)(?:an?|the)\s+(?:[a-z0-9'-]+\s+){0,4}(?:e-?mail|sms|text|push|notification|whatsapp|newsletter)`)
	namedWebhookCallRE = regexp.MustCompile(`(?i)^(?:call|trigger|fire|hit|ping)\s+(?:the\s+|a\s+|our\s+)?webhook\s+"([^"]+)"`)
	contentRE          = regexp.MustCompile(`\s(?:that|saying|telling them|reminding them|which says|to say)\s`)
	channelColonRE     = regexp.MustCompile(`^(e-?mail|sms|text|push(?: notification)?|whatsapp(?: message)?|notification)\s*[:=-]\s*(.+)$`)
	parenthesisRE      = regexp.MustCompile(`\s*\([^)]*\)`)
	dontSendRE         = regexp.MustCompile(`^(?:don't|do not|dont|never|no need to)\s+(?:send|text|email|push|message)\b`)
	nounPhraseRE       = regexp.MustCompile(`^(?:an?|the|one|another|then an?)\s`)
	dayTailRE          = regexp.MustCompile(`\s+(?:(?:on|by)\s+day\s*(\d{1,3})\b|\(\s*day\s*(\d{1,3})\s*\))`)
	entryTailRE        = regexp.MustCompile(`\s+(?:when(?:ever)?|once|as soon as|after)\s+((?:they|someone|somebody|a user|a customer|a new user|a new customer|users|customers|people|anyone|a visitor|a lead|their|an?|the)\s+.+)$`)
	audienceRE         = regexp.MustCompile(`\s+(?:to|for)\s+((?:all |only )?(?:customers|users|people|those|everyone|anyone|members|subscribers|contacts|accounts|premium|vip|free|pro|trial|paying)\b.*)$`)
	segmentAudRE       = regexp.MustCompile(`\s+to\s+(?:(?:everyone|customers|users|people|members|subscribers|contacts)\s+in\s+|all\s+|members of\s+)?(?:the |our )?["']?([a-z0-9_-]+(?: [a-z0-9_-]+)?)["']?\s+segment\b`)
	fromPlaceRE        = regexp.MustCompile(`^\s+(?:from|in|based in|located in|living in)\s+(?:the\s+)?([a-z][a-z.]+(?:\s[a-z]+)?)\b`)
	elseAudienceRE     = regexp.MustCompile(`\s+(?:to|for)\s+(?:everyone else|all others|everybody else|the rest|all the others|other customers|other users)\b`)
	enterItRE          = regexp.MustCompile(`^(?:enter|enters|join|joins|are added to|is added to)\s+(?:it|the segment)$`)
	nameStopRE         = regexp.MustCompile(`(?:^|\s)(?:to|about|for|with|if|when|via|by|over|through|on|in|saying|that|and|offering|reminding|asking|telling|containing|called|named|titled|using)(?:\s|$)`)
	verbNameRE         = regexp.MustCompile(`^(?:re-?send|gets?|receives?|re-?engage(?:\s+them)?|nudge(?:\s+them)?|congratulate(?:\s+them)?|thank(?:\s+them)?|invite(?:\s+them)?|alert(?:\s+them)?|ask(?:\s+them)?(?:\s+for)?|send(?:\s+(?:out|them|over|off))?|follow up(?:\s+with)?|remind(?:\s+them)?(?:\s+(?:of|about))?|deliver|fire off|shoot|drop|reach out(?:\s+with)?|trigger|hit them with|notify(?:\s+them)?|ping(?:\s+them)?|nudge(?:\s+them)?|message(?:\s+them)?|email(?:\s+them)?|text(?:\s+them)?|push(?:\s+them)?|whatsapp(?:\s+them)?)\s+`)
)

// channelOf maps a channel word to its node type, channel and noun.
func channelOf(word string) (typ, channel, noun string) {
	switch w := strings.ToLower(word); {
	case strings.HasPrefix(w, "e") || strings.HasPrefix(w, "newsletter") || w == "mail":
		return "send_email", "email", "email"
	case strings.HasPrefix(w, "sms") || strings.HasPrefix(w, "text"):
		return "send_sms", "sms", "SMS"
	case strings.HasPrefix(w, "whatsapp"):
		return "send_whatsapp", "whatsapp", "WhatsApp message"
	default:
		return "send_push", "push", "push notification"
	}
}

// action reads a step: a message, a webhook call, a tag, a profile update
// or the end of the journey.
// physicalRE is post or print, which no channel node sends.
var physicalRE = regexp.MustCompile(`\b(?:postcards?|by post|physical (?:mail|letter|card|postcard|gift)|printed|paper (?:letter|mail)|snail mail|direct mail|parcels?)\b`)

func (p *parser) action(l, c string) bool {
	if physicalRE.MatchString(quotedTextRE.ReplaceAllString(l, `""`)) {
		return false // "mail a physical postcard": no node sends post (a message's quoted text may say "parcel")
	}
	if u := strings.TrimRight(urlRE.FindString(c), ".,;:!?)"); validURL(u) && (callVerbRE.MatchString(l) || !channelRE.MatchString(urlRE.ReplaceAllString(l, ""))) {
		cfg := map[string]any{"url": u}
		if putRE.MatchString(l) {
			cfg["method"] = "PUT"
		}
		p.j.add("call_webhook", "Call webhook", cfg)
		return true
	}
	if m := namedWebhookCallRE.FindStringSubmatch(c); m != nil && !strings.Contains(m[1], "://") {
		// "call the webhook "crm_sync_loyalty"": a name, not yet a URL
		url := "https://example.com/webhooks/" + strings.ReplaceAll(slug(m[1]), "_", "-")
		p.j.add("call_webhook", "Call webhook "+m[1], map[string]any{"url": url})
		p.ask(fmt.Sprintf("Which URL should the webhook %q call? I used %s.", m[1], url))
		return true
	}
	if p.dataStep(l, c) {
		return true
	}
	if endRE.MatchString(strings.TrimRight(l, ". !")) {
		p.j.add("journey_exit", "End", map[string]any{})
		return true
	}
	return p.send(l, c)
}

// dataStep reads tags and profile updates.
func (p *parser) dataStep(l, c string) bool {
	if m := addTagRE.FindStringSubmatch(l); m != nil {
		tag := slug(strings.Join(m[1:], ""))
		if tag == "" {
			return false
		}
		p.j.add("add_tag", "Tag "+tag, map[string]any{"tag": tag})
		return true
	}
	if m := taggingRE.FindStringSubmatch(l); m != nil && !channelRE.MatchString(l) {
		// "assign them to the enterprise flow by tagging them enterprise-onboarding"
		tag := slug(m[1])
		if tag == "" {
			return false
		}
		p.j.add("add_tag", "Tag "+tag, map[string]any{"tag": tag})
		return true
	}
	if m := remTagRE.FindStringSubmatch(l); m != nil {
		tag := slug(m[1] + m[2] + m[3])
		if tag == "" {
			return false
		}
		p.j.add("remove_tag", "Remove tag "+tag, map[string]any{"tag": tag})
		return true
	}
	if m := setRE.FindStringSubmatchIndex(l); m != nil {
		for g := 2; g < 8; g += 4 {
			if m[g] < 0 {
				continue
			}
			attr := attrName(l[m[g]:m[g+1]])
			if attr == "" {
				return false
			}
			raw := strings.Trim(strings.TrimSpace(c[m[g+2]:m[g+3]]), `"'.`)
			var value any = raw
			if f, err := strconv.ParseFloat(raw, 64); err == nil {
				value = f
			} else if b, err := strconv.ParseBool(strings.ToLower(raw)); err == nil {
				value = b
			}
			p.j.add("update_profile", fmt.Sprintf("Set %s to %v", attr, value), map[string]any{"set": map[string]any{attr: value}})
			return true
		}
	}
	return false
}

// send reads a message: its channels, template, timing and audience.
func (p *parser) send(l, c string) bool {
	if m := channelColonRE.FindStringSubmatchIndex(l); m != nil {
		// "email: welcome (immediately)" names a message after its channel
		typ, channel, noun := channelOf(l[m[2]:m[3]])
		name := parenthesisRE.ReplaceAllString(c[m[4]:m[5]], "")
		p.message(typ, channel, noun, nameWords(removeQuoted(lowerASCII(name))), name, false)
		return true
	}
	// Quoted text is a name or a message, never a channel word.
	t := &clauseText{l: l, c: c, masked: quotedTextRE.ReplaceAllStringFunc(l, func(q string) string {
		return `"` + strings.Repeat("x", len(q)-2) + `"`
	})}
	chans := channelRE.FindAllStringIndex(t.masked, -1)
	lead := sendLead.FindStringIndex(t.masked)
	soft := lead == nil && len(chans) > 0 && softLead.MatchString(t.masked)
	// A message named without a verb: "a feature tips email on day 3".
	noun := lead == nil && len(chans) > 0 && (nounPhraseRE.MatchString(t.masked) && chans[0][0] < 40 || len(strings.Fields(t.masked[:chans[0][0]])) <= 3)
	if dontSendRE.MatchString(t.masked) {
		return false // "don't send SMS": not a step this reader can build
	}
	if lead == nil && !soft && !noun && (len(chans) == 0 || len(strings.Fields(t.masked)) > 6) {
		return false
	}
	p.messageEntry(t)
	p.messageTiming(t)
	p.messageAudience(t)
	chans = channelRE.FindAllStringIndex(t.masked, -1)
	if slices.ContainsFunc(chans, func(m []int) bool { return t.masked[m[0]] == 'e' }) {
		// "the weekly newsletter email": newsletter is part of the name
		chans = slices.DeleteFunc(chans, func(m []int) bool { return strings.HasPrefix(t.masked[m[0]:], "newsletter") })
	}
	if len(chans) == 0 {
		if lead == nil {
			return false
		}
		// "send the upsell": email unless said otherwise.
		p.message("send_email", "email", "email", p.name(t.masked, t.c, nil), t.c, false)
		return true
	}
	seen := map[string]bool{}
	for _, ch := range chans {
		word := t.masked[ch[0]:ch[1]]
		typ, channel, noun := channelOf(word)
		if seen[typ] {
			continue
		}
		seen[typ] = true
		name, named := p.name(t.masked, t.c, chans), false
		if strings.HasPrefix(word, "newsletter") { // "send our newsletter": the channel word is the name
			name, named = strings.TrimSpace(name+" newsletter"), true
		}
		p.message(typ, channel, noun, name, t.c, named)
	}
	return true
}

// clauseText is a clause three ways, kept aligned byte for byte: as written
// (c), lower-cased (l), and lower-cased with quoted text masked (masked).
type clauseText struct{ masked, l, c string }

// cut removes span m from all three.
func (t *clauseText) cut(m []int) { t.masked, t.l, t.c = cut(t.masked, m), cut(t.l, m), cut(t.c, m) }

// messageEntry reads "send new trial users an onboarding email": the
// audience is the entry.
func (p *parser) messageEntry(t *clauseText) {
	m := objectAudienceRE.FindStringSubmatchIndex(t.masked)
	if m == nil || p.entryType != "" || p.j.steps() {
		return
	}
	ev := "signed_up"
	if strings.Contains(t.masked[m[2]:m[3]], "trial") {
		ev = "trial_started"
	}
	p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
	t.cut(m[2:4])
}

// messageTiming reads when a message goes, said after it: "… on day 3",
// "send the upsell after 1 week" — but not inside what it says ("an SMS that
// the trial ends in 2 days").
func (p *parser) messageTiming(t *clauseText) {
	if m := relDateTailRE.FindStringSubmatchIndex(t.masked); m != nil {
		// "an email reminder 1 day before appointment_date"
		if dur, _, ok := findDuration(t.masked[m[2]:m[3]]); ok {
			attr := "customer." + attrName(strings.TrimPrefix(t.masked[m[6]:m[7]], "customer."))
			offset := dur
			if w := t.masked[m[4]:m[5]]; w == "before" || w == "prior to" {
				offset = "-" + dur
			}
			p.j.add("wait_until", "Wait until "+humanDuration(dur)+" "+t.masked[m[4]:m[5]]+" "+attr, map[string]any{"until": attr, "offset": offset})
			t.cut(m[:2])
		}
	}
	if m := dayTailRE.FindStringSubmatchIndex(t.masked); m != nil {
		g := 2
		if m[2] < 0 {
			g = 4
		}
		day, _ := strconv.Atoi(t.masked[m[g]:m[g+1]])
		p.dayWait(day)
		t.cut(m[:2])
	}
	said := len(t.masked)
	if i := contentRE.FindStringIndex(t.masked); i != nil {
		said = i[0]
	}
	if m := timeTail.FindStringIndex(t.masked[:said]); m != nil {
		if dur, _, _ := findDuration(t.masked[m[0]:m[1]]); dur != "" {
			p.wait(dur)
			t.cut(m)
		}
	}
}

// messageAudience reads who a message is for: a segment or "new signups"
// (the entry, when none is set), "customers on the premium plan" (a
// condition around the message), "everyone else" (the other arm), and an
// entry said last ("… when someone registers").
func (p *parser) messageAudience(t *clauseText) {
	if m := objectSegmentRE.FindStringSubmatchIndex(t.masked); m != nil && p.entryType == "" {
		// "send members of the loyalty segment a birthday email"
		seg := segmentOf(t.l[m[4]:m[5]])
		p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
		t.cut(m[2:4])
	}
	if m := segmentAudRE.FindStringSubmatchIndex(t.masked); m != nil {
		seg := slug(t.l[m[2]:m[3]])
		switch {
		case p.entryType == "":
			p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
		case p.entryType == "scheduled_entry" && p.entryConfig["segment_id"] == nil:
			p.entryConfig["segment_id"] = seg
			p.entryLabel += " for segment " + seg
		}
		t.cut(m[:2])
	}
	// "send all customers on the pro plan a product update email"
	if m := objectCondRE.FindStringSubmatchIndex(t.masked); m != nil {
		if cd, ok := parseCondition(t.l[m[2]:m[3]], t.c[m[2]:m[3]], p.channel); ok && cd.expr != "" {
			p.branch(cd, false)
			t.cut(m[2:4])
		}
	}
	if m := entryTailRE.FindStringSubmatchIndex(t.masked); m != nil && !p.j.steps() {
		said := t.l[m[2]:m[3]]
		if ev, ok := entryEventOf(strings.TrimPrefix(said, "they ")); ok && p.entryType == "" && !strings.HasSuffix(ev, "_opened") && !strings.HasSuffix(ev, "_clicked") {
			p.setEntry("event_entry", "When "+ev+" happens", map[string]any{"event_type": ev})
			t.cut(m[:2])
		} else if p.entryType == "segment_entry" && enterItRE.MatchString(said) {
			t.cut(m[:2]) // "… to the churn-risk segment when they enter it"
		}
	}
	if m := signupAudienceRE.FindStringIndex(t.masked); m != nil {
		if p.entryType == "" {
			p.setEntry("event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"})
		}
		t.cut(m)
		// "… to new signups from France": a condition on where they are
		if f := fromPlaceRE.FindStringSubmatchIndex(t.masked[m[0]:]); f != nil {
			place, orig := t.l[m[0]+f[2]:m[0]+f[3]], t.c[m[0]+f[2]:m[0]+f[3]]
			if cd, ok := parseCondition("customers in "+place, "customers in "+orig, p.channel); ok {
				p.branch(cd, false)
				t.cut([]int{m[0] + f[0], m[0] + f[1]})
			}
		}
	}
	if m := elseAudienceRE.FindStringIndex(t.masked); m != nil && p.j.fork != nil {
		p.j.otherwise() // "… and an email to everyone else"
		t.cut(m)
	}
	if m := audienceRE.FindStringSubmatchIndex(t.masked); m != nil {
		aud := t.l[m[2]:m[3]]
		if cd, ok := parseCondition(aud, t.c[m[2]:m[3]], p.channel); ok && cd.expr != "" {
			p.branch(cd, false)
			t.cut(m[:2])
		} else if strings.HasPrefix(aud, "everyone") || strings.HasPrefix(aud, "all ") {
			t.cut(m[:2])
		}
	}
}

// cut removes span m from s.
func cut(s string, m []int) string { return s[:m[0]] + s[m[1]:] }

// name finds the words that name a message: those between the verb and the
// channel ("a welcome email"), else those after it ("an SMS reminder",
// "an email about the spring sale").
func (p *parser) name(masked, orig string, chans [][]int) string {
	text := masked
	if lead := verbNameRE.FindStringIndex(text); lead != nil {
		text = strings.Repeat(" ", lead[1]) + text[lead[1]:]
	}
	if len(chans) == 0 {
		if i := nameStopRE.FindStringIndex(text); i != nil {
			text = text[:i[0]]
		}
		return nameWords(removeQuoted(text))
	}
	first, last := chans[0], chans[len(chans)-1]
	before := text[:first[0]]
	if i := nameStopRE.FindAllStringIndex(before, -1); len(i) > 0 && strings.TrimSpace(before[i[len(i)-1][1]:]) != "" {
		before = before[i[len(i)-1][1]:]
	}
	before = trailingPrepRE.ReplaceAllString(before, "")
	if w := nameWords(removeQuoted(before)); w != "" && !nameStopRE.MatchString(before) {
		return w
	}
	after := text[last[1]:]
	after = leadingPrepRE.ReplaceAllString(after, " ")
	if i := nameStopRE.FindStringIndex(after); i != nil {
		after = after[:i[0]]
	}
	return nameWords(removeQuoted(after))
}

// removeQuoted drops quoted (masked) text from name words.
func removeQuoted(s string) string { return quotedTextRE.ReplaceAllString(s, " ") }

// message adds a send step. A quoted name becomes the template id (or, for
// SMS and push, a quoted sentence the text); otherwise a template id is
// invented from the words, and a follow-up question asks which to use.
// named says the words are a whole template name, without the channel.
func (p *parser) message(typ, channel, noun, words, orig string, named bool) {
	quoted := ""
	if m := quotedTextRE.FindStringSubmatch(orig); m != nil {
		quoted = strings.TrimSpace(m[1])
	}
	suffix := "_" + channel
	name := words
	if quoted != "" {
		name = quoted
	}
	label := noun
	if name != "" {
		label = name + " " + noun
		if strings.HasSuffix(strings.ToLower(name), strings.ToLower(noun)) || strings.HasSuffix(strings.ToLower(name), channel) {
			label = name
		}
	}
	label = upperFirst(label)
	cfg := map[string]any{}
	isText := quoted != "" && (len(strings.Fields(quoted)) >= 6 || strings.Contains(quoted, "{{") || strings.ContainsAny(quoted[len(quoted)-1:], ".!?"))
	switch {
	case isText && typ == "send_sms":
		cfg["body"] = quoted
		label = "SMS"
	case isText && typ == "send_push":
		cfg["title"], cfg["body"] = "Notification", quoted
		label = "Push notification"
	case slug(quoted) != "":
		cfg["template_id"] = slug(quoted)
	default:
		id := slug(words)
		if quoted != "" { // a name in letters slug cannot keep: «Salut»
			id = ""
		}
		if id == "" {
			n := 1
			for _, node := range p.j.b.g.Nodes {
				if node.Type == typ {
					n++
				}
			}
			id = fmt.Sprintf("%s_message_%d", channel, n)
		} else if !strings.HasSuffix(id, channel) && !named {
			id += suffix
		}
		cfg["template_id"] = id
		p.ask(fmt.Sprintf("Which %s template should the %s use? I used %q.", strings.TrimSuffix(noun, " message"), lowerFirst(label), id))
	}
	id := p.j.add(typ, label, cfg)
	p.channel, p.lastStep, p.lastSend = channel, id, id
	if typ == "send_email" {
		p.emails = append(p.emails, id)
	}
}

// upperFirst capitalizes the first letter of s.
func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// lowerFirst lower-cases the first letter of a label unless it starts an
// acronym or a name (SMS, WhatsApp).
func lowerFirst(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if len(first) > 1 && strings.ToLower(first[1:]) == first[1:] {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

// validURL reports whether u is an absolute http or https URL, as
// call_webhook needs.
func validURL(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && (parsed.Scheme == "http" || parsed.Scheme == "https") && parsed.Host != ""
}

package offline

import (
	"regexp"
	"strings"
)

// Audiences that start a journey: a journey for "VIP customers", "everyone
// on the churned list" or "users with plan = pro" that names no event is
// entered by the members of that segment, not by an invented signed_up
// event. Said after the entry, the same words are a condition instead.

var (
	// audienceLabelRE is an audience said as a label: "Audience: VIP
	// customers", "Segment - churned users".
	audienceLabelRE = regexp.MustCompile(`^(?:target\s+)?(?:audience|segment|target|recipients|cohort|list|who)\s*[:=-]\s*(.+)$`)
	// listAudienceRE is the members of a named list or segment, with what
	// they get after it: "everyone on the churned list gets …", "for
	// customers in the renewals segment, …".
	listAudienceRE = regexp.MustCompile(`^(?:for\s+|to\s+)?(?:(?:every|each|all|any)\s+)?[a-z]+(?:\s+(?:customers|users|contacts|members|subscribers|holders))?\s+(?:on|in|from|of)\s+(?:the\s+|our\s+)?(?:(?:segment|list|audience|cohort)(?:\s+id)?\s+"?([a-z0-9]+(?:[_-][a-z0-9]+)*)"?|"?([a-z0-9][a-z0-9 _-]{0,40}?)"?\s+(?:list|segment|audience|cohort))\b[\s,:]*(.*)$`)
	// audienceFillerRE are the words around an audience's name.
	audienceFillerRE = regexp.MustCompile(`^(?:all|every|each|our|the|only|everyone in|members of|customers in|users in)\s+|\s+(?:segment|list|audience|cohort)$`)
	everyoneRE       = regexp.MustCompile(`^(?:all|everyone|everybody|all (?:users|customers|contacts|subscribers|members)|anyone)\.?$`)
	getsLeadRE       = regexp.MustCompile(`^(?:gets?|receives?|should get|should receive|will get|will receive)\s+(.+)$`)
)

// segmentOf names the segment an audience is: its words, without the
// fillers around them, as a snake_case id ("VIP customers" → vip_customers,
// "plan = pro" → plan_pro).
func segmentOf(audience string) string {
	a := strings.TrimSpace(strings.Trim(audience, `"' .`))
	for {
		b := audienceFillerRE.ReplaceAllString(a, "")
		if b == a {
			break
		}
		a = b
	}
	return slug(a)
}

// audienceEntry reads an audience that opens the journey (see above). It
// only applies before any entry or step: later, an audience is a
// condition.
func (p *parser) audienceEntry(l, c string) bool {
	if m := audienceLabelRE.FindStringSubmatchIndex(l); m != nil && p.entryType != "" && !p.j.steps() {
		// "Trigger: signed_up. Audience: premium users": a gate after the entry
		if everyoneRE.MatchString(l[m[2]:m[3]]) {
			return true
		}
		if seg := segmentOf(l[m[2]:m[3]]); seg != "" && p.entryType == "scheduled_entry" && p.entryConfig["segment_id"] == nil && strings.Contains(l, "segment") {
			p.entryConfig["segment_id"] = seg // "sched: Fri 07:00 … seg: weekly_digest_optin": whom the schedule runs for
			return true
		}
		return p.conditional("for "+l[m[2]:m[3]], "for "+c[m[2]:m[3]])
	}
	if p.entryType != "" || p.j.steps() {
		return false
	}
	if m := audienceLabelRE.FindStringSubmatchIndex(l); m != nil {
		aud := l[m[2]:m[3]]
		if signupAudienceRE.MatchString(" to "+aud) || bareSignupRE.MatchString(aud) {
			p.setEntry("event_entry", "When signed_up happens", map[string]any{"event_type": "signed_up"})
			return true
		}
		if seg := segmentOf(aud); seg != "" {
			p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
			return true
		}
	}
	m := listAudienceRE.FindStringSubmatchIndex(l)
	if m == nil || actionLeadRE.MatchString(l) {
		return false // "email customers in the vip segment" is a step
	}
	name := "" // "in the segment `x`", or "on the churned list"
	if m[2] >= 0 {
		name = l[m[2]:m[3]]
	} else {
		name = l[m[4]:m[5]]
	}
	seg := segmentOf(name)
	if seg == "" {
		return false
	}
	p.setEntry("segment_entry", "Joins segment "+seg, map[string]any{"segment_id": seg})
	rest, restC := l[m[6]:m[7]], c[m[6]:m[7]]
	if g := getsLeadRE.FindStringSubmatchIndex(rest); g != nil {
		return p.things(rest[g[2]:g[3]], restC[g[2]:g[3]])
	}
	if strings.Trim(rest, " .,") == "" {
		return true
	}
	return p.clause(restC)
}

// things reads what an audience gets: each item a message or a tag.
func (p *parser) things(l, c string) bool {
	ok := false
	for _, item := range splitOutsideQuotes(c, listSepRE) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if tagItemRE.MatchString(lowerASCII(item)) {
			ok = p.clause("add "+item) || ok
			continue
		}
		for _, cl := range splitClauses("send " + item) {
			ok = p.clause(cl) || ok
		}
	}
	return ok
}

// zoneNames maps the ways briefs name a time zone to its IANA name.
var zoneNames = map[string]string{
	"berlin": "Europe/Berlin", "cet": "Europe/Berlin", "cest": "Europe/Berlin", "central european": "Europe/Berlin",
	"paris": "Europe/Paris", "amsterdam": "Europe/Amsterdam", "madrid": "Europe/Madrid", "rome": "Europe/Rome",
	"london": "Europe/London", "uk": "Europe/London", "gmt": "Europe/London", "bst": "Europe/London",
	"new york": "America/New_York", "eastern": "America/New_York", "et": "America/New_York", "est": "America/New_York",
	"edt": "America/New_York", "chicago": "America/Chicago", "central": "America/Chicago", "ct": "America/Chicago",
	"cst": "America/Chicago", "denver": "America/Denver", "mountain": "America/Denver", "mt": "America/Denver",
	"los angeles": "America/Los_Angeles", "san francisco": "America/Los_Angeles", "pacific": "America/Los_Angeles",
	"pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "tokyo": "Asia/Tokyo",
	"jst": "Asia/Tokyo", "sydney": "Australia/Sydney", "aest": "Australia/Sydney", "utc": "UTC", "india": "Asia/Kolkata",
	"ist": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "singapore": "Asia/Singapore", "sao paulo": "America/Sao_Paulo",
}

var (
	// zoneRE is a time zone said with a time: "9am Berlin time", "10:00
	// CET", "(ET)", "in the London time zone", or an IANA name.
	zoneRE = regexp.MustCompile(`\(?\b(?:in\s+)?(?:the\s+)?(berlin|paris|amsterdam|madrid|rome|london|uk|new york|eastern|chicago|central european|central|denver|mountain|los angeles|san francisco|pacific|tokyo|sydney|india|mumbai|singapore|sao paulo)\s+(?:time(?:\s+zone)?|timezone|tz)\b\)?|\(?\b(cet|cest|gmt|bst|est|edt|cst|pst|pdt|jst|aest|utc|ist|et|pt|ct|mt)\b\)?|\b((?:europe|america|asia|australia|africa)/[a-z_]+)\b`)
)

// ianaZones are the zones whose city a brief may name ("Dubai time").
const ianaZones = `Europe/Lisbon Europe/Dublin Europe/Brussels Europe/Vienna Europe/Zurich Europe/Stockholm Europe/Oslo
Europe/Copenhagen Europe/Helsinki Europe/Warsaw Europe/Prague Europe/Budapest Europe/Athens Europe/Istanbul
Europe/Moscow Europe/Kiev Europe/Bucharest Europe/Berlin Europe/Paris Europe/Madrid Europe/Rome Europe/London
Europe/Amsterdam Africa/Cairo Africa/Lagos Africa/Nairobi Africa/Johannesburg Africa/Casablanca Asia/Dubai
Asia/Riyadh Asia/Qatar Asia/Tehran Asia/Karachi Asia/Kolkata Asia/Dhaka Asia/Bangkok Asia/Jakarta Asia/Manila
Asia/Singapore Asia/Kuala_Lumpur Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Shanghai Asia/Taipei Asia/Seoul
Asia/Tokyo Australia/Sydney Australia/Melbourne Australia/Brisbane Australia/Perth Pacific/Auckland
America/New_York America/Chicago America/Denver America/Los_Angeles America/Phoenix America/Anchorage
America/Toronto America/Vancouver America/Mexico_City America/Bogota America/Lima America/Santiago
America/Buenos_Aires America/Sao_Paulo Pacific/Honolulu`

// cityZones maps a zone's city, lowered with spaces ("sao paulo"), to it.
var cityZones = func() map[string]string {
	m := map[string]string{}
	for _, z := range strings.Fields(ianaZones) {
		m[strings.ReplaceAll(strings.ToLower(z[strings.LastIndexByte(z, '/')+1:]), "_", " ")] = z
	}
	return m
}()

var (
	// cityTimeRE is a city's time: "Dubai time", "São Paulo time".
	cityTimeRE = regexp.MustCompile(`([a-z\x{80}-\x{10FFFF}]+(?:[ -][a-z\x{80}-\x{10FFFF}]+)?)\s+(?:local\s+)?(?:time(?:\s+zone)?|timezone|tz)\b`)
	accentFold = strings.NewReplacer("ã", "a", "á", "a", "â", "a", "à", "a", "é", "e", "ê", "e", "í", "i", "ó", "o", "ô", "o", "ú", "u", "ç", "c", "ñ", "n", "-", " ")
)

// timezoneOf finds the time zone l names and where; "" when none.
func timezoneOf(l, c string) (zone string, at []int) {
	m := zoneRE.FindStringSubmatchIndex(l)
	if m == nil {
		for _, t := range cityTimeRE.FindAllStringSubmatchIndex(l, -1) {
			words := strings.Fields(accentFold.Replace(strings.ToLower(l[t[2]:t[3]])))
			for i := range words { // "in Dubai time": the longest name that is a city
				if z := cityZones[strings.Join(words[i:], " ")]; z != "" {
					return z, t[:2]
				}
			}
		}
		return "", nil
	}
	switch {
	case m[2] >= 0:
		return zoneNames[l[m[2]:m[3]]], m[:2]
	case m[4] >= 0:
		return zoneNames[l[m[4]:m[5]]], m[:2]
	}
	return c[m[6]:m[7]], m[:2] // an IANA name, as written
}

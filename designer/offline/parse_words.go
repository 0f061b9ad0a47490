package offline

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The vocabulary shared by the parser's pieces: numbers, durations, slugs
// and event names.

// numberWords are the spelled-out amounts marketers use.
var numberWords = map[string]float64{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
	"twenty": 20, "thirty": 30, "forty-eight": 48, "couple": 2, "a couple of": 2, "couple of": 2,
	"a few": 3, "few": 3, "several": 3, "half a": 0.5, "half an": 0.5,
}

const amountRE = `(\d+(?:\.\d+)?|a couple of|couple of|a few|half an?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|forty-eight|several|few)`

var (
	durationRE = regexp.MustCompile(`\b` + amountRE + `[\s-]*(?:(?:more|extra|additional|further)\s+)?(minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|seconds?|secs?)\b`)
	// idiomRE are durations said without a number.
	idiomRE = regexp.MustCompile(`\b(the next day|next day|the following day|the day after|tomorrow|next morning|the next morning|overnight|next week|the following week|the week after|a day and a half)\b`)
	idioms  = map[string]string{
		"the next day": "1d", "next day": "1d", "the following day": "1d", "the day after": "1d", "tomorrow": "1d",
		"next morning": "1d", "the next morning": "1d", "overnight": "1d", "next week": "7d",
		"the following week": "7d", "the week after": "7d", "a day and a half": "36h",
	}
)

// parseAmount reads a number written in digits or words.
func parseAmount(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	f, ok := numberWords[s]
	return f, ok
}

// findDuration finds the first duration in s ("3 days", "a week", "the next
// day", "48 hours") and returns it in journey form ("3d", "7d", "1d", "48h")
// with the byte span it covers.
func findDuration(s string) (dur string, span [2]int, ok bool) {
	best := [2]int{-1, -1}
	if m := durationRE.FindStringSubmatchIndex(s); m != nil {
		amount, _ := parseAmount(s[m[2]:m[3]])
		if d := formatDuration(amount, s[m[4]:m[5]]); d != "" {
			dur, best = d, [2]int{m[0], m[1]}
		}
	}
	if m := idiomRE.FindStringIndex(s); m != nil && (best[0] < 0 || m[0] < best[0]) {
		dur, best = idioms[s[m[0]:m[1]]], [2]int{m[0], m[1]}
	}
	return dur, best, best[0] >= 0
}

// formatDuration writes amount units as a journey duration, keeping the
// writer's unit when the amount is whole (48 hours stays 48h) and stepping
// down a unit otherwise (1.5 days is 36h).
func formatDuration(amount float64, unit string) string {
	minutes := map[byte]float64{'s': 1.0 / 60, 'm': 1, 'h': 60, 'd': 1440, 'w': 7 * 1440}[unit[0]]
	if strings.HasPrefix(unit, "mo") {
		minutes = 30 * 1440
	}
	if strings.HasPrefix(unit, "min") {
		minutes = 1
	}
	total := amount * minutes
	if total <= 0 {
		return ""
	}
	for _, u := range []struct {
		suffix string
		size   float64
	}{{"d", 1440}, {"h", 60}, {"m", 1}, {"s", 1.0 / 60}} {
		if u.size > minutes && !(unit[0] == 'w' || strings.HasPrefix(unit, "mo")) {
			continue // never go up a unit: 48 hours stays 48h
		}
		n := total / u.size
		if n == math.Trunc(n) && n < 1e9 {
			return strconv.FormatInt(int64(n), 10) + u.suffix
		}
	}
	return ""
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns words into an identifier: "Welcome to Acme!" → welcome_to_acme.
func slug(s string) string {
	s = strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "_"), "_")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "_")
	}
	return s
}

// fillers are words that carry no name: dropped from invented template ids.
var fillers = map[string]bool{
	"a": true, "an": true, "the": true, "our": true, "their": true, "your": true, "my": true, "this": true,
	"that": true, "them": true, "to": true, "its": true, "his": true, "her": true, "some": true,
	"another": true, "one": true, "short": true, "little": true, "quick": true, "him": true, "customer": true,
	"customers": true, "user": true, "users": true, "s": true, "only": true, "just": true,
}

// nameWords keeps the meaningful words of s, in order.
func nameWords(s string) string {
	var keep []string
	for _, w := range strings.Fields(nonWord.ReplaceAllString(strings.ToLower(s), " ")) {
		if !fillers[w] {
			keep = append(keep, w)
		}
	}
	return strings.Join(keep, " ")
}

// eventPatterns map what customers do to event types, most specific first.
// The event of "opened" and "clicked" depends on the channel, hence the %s.
var eventPatterns = []struct {
	re    *regexp.Regexp
	event string
}{
	{regexp.MustCompile(`\bunsubscrib`), "unsubscribed"},
	{regexp.MustCompile(`\bre-?subscribe[sd]?\b`), "resubscribed"},
	{regexp.MustCompile(`\border (?:is |was |gets |has been )?(?:delivered|arrives|arrived)\b`), "order_delivered"},
	{regexp.MustCompile(`\border (?:is |was |gets |has been )?(?:shipped|ships)\b`), "order_shipped"},
	{regexp.MustCompile(`\b(?:open(?:s|ed)?|use[sd]?|launch(?:es|ed)?) (?:the |our )?app\b`), "app_opened"},
	{regexp.MustCompile(`\bupdate[sd]? (?:their |the |a )?(?:card|credit card|payment method|payment details|billing details)\b`), "payment_method_updated"},
	{regexp.MustCompile(`\bverif(?:y|ies|ied)\b`), "email_verified"},
	{regexp.MustCompile(`\bcheck(?:s|ed)? in\b|\bcheck-in\b`), "checked_in"},
	{regexp.MustCompile(`\brequest(?:s|ed)? a (?:demo|call)\b`), "demo_requested"},
	{regexp.MustCompile(`\b(?:demo|call) (?:is |was |isn't |is not |wasn't |gets |has been |hasn't been |got )?(?:booked|scheduled)\b`), "demo_booked"},
	{regexp.MustCompile(`\b(?:view(?:s|ed)?|browse[sd]?|look(?:s|ed)? at) (?:a |the |an )?products?\b`), "product_viewed"},
	{regexp.MustCompile(`\bcart\b.*\b(?:is |was |gets |got )?abandon(?:ed|ment)\b`), "cart_abandoned"},
	{regexp.MustCompile(`\b(sign(s|ed|ing)? ?up|signup|register(s|ed)?|create[sd]? an account|registration)\b`), "signed_up"},
	{regexp.MustCompile(`\b(abandon(s|ed)?|left|leaves?) (their |a |the |items in (their|the) )?(shopping )?(cart|basket)|cart abandon|abandoned cart\b`), "cart_abandoned"},
	{regexp.MustCompile(`\badd(s|ed)? .*to (their |the )?(cart|basket)\b`), "added_to_cart"},
	{regexp.MustCompile(`\b(start(s|ed)?|begin(s)?|began) (a |their |the )?(free )?trial\b`), "trial_started"},
	{regexp.MustCompile(`\btrial (ends|ended|expires|expired)\b`), "trial_ended"},
	{regexp.MustCompile(`\b(payment (fails|failed)|failed payment)\b`), "payment_failed"},
	{regexp.MustCompile(`\bcancel(?:s|led|ed)? (?:their |the |a )?(?:free )?trial\b`), "trial_cancelled"},
	{regexp.MustCompile(`\bcancel(s|led|ed)?\b`), "subscription_cancelled"},
	{regexp.MustCompile(`\bupgrade[sd]?\b`), "upgraded"},
	{regexp.MustCompile(`\bdowngrade[sd]?\b`), "downgraded"},
	{regexp.MustCompile(`\brenew(s|ed)?\b`), "renewed"},
	{regexp.MustCompile(`\bsubscribe[sd]?\b`), "subscribed"},
	{regexp.MustCompile(`\b(log(s|ged)? ?in|sign(s|ed)? in|come back|comes back|came back|return(s|ed)? to the (app|site))\b`), "logged_in"},
	{regexp.MustCompile(`\b(repl(y|ies|ied)|respond(s|ed)?)\b`), "replied"},
	{regexp.MustCompile(`\b(complete[sd]? (their |the )?onboarding|onboarding (is )?complete)\b`), "onboarding_completed"},
	{regexp.MustCompile(`\bbook(s|ed)? a (demo|call)\b`), "demo_booked"},
	{regexp.MustCompile(`\b(download(s|ed)?|install(s|ed)?) (the |our |a )?(?:mobile |ios |android |iphone )?app\b`), "app_installed"},
	{regexp.MustCompile(`\b(leave[sd]?|left|write[sd]?|wrote|submit(s|ted)?) a review\b`), "review_submitted"},
	{regexp.MustCompile(`\bactivate[sd]?\b`), "activated"},
	{regexp.MustCompile(`\b(pay|pays|paid)\b|\bpayment (?:succeeds|succeeded|is successful|goes through|went through|is received|clears)\b`), "payment_succeeded"},
	{regexp.MustCompile(`\b(purchas(e|es|ed|ing)|buy(s|ing)?|bought|order(s|ed)?|check(s|ed)? out|checkout|convert(s|ed)?|conversion)\b`), "purchased"},
	{regexp.MustCompile(`\b(open(s|ed|ing)?|read(s)?)\b`), "%s_opened"},
	{regexp.MustCompile(`\bclick(s|ed)?\b`), "%s_clicked"},
}

// knownEvents are the event types eventOf names; others were made up from
// the description's words.
var knownEvents = func() map[string]bool {
	known := map[string]bool{}
	for _, p := range eventPatterns {
		for _, ch := range []string{"email", "sms", "push", "whatsapp"} {
			known[strings.Replace(p.event, "%s", ch, 1)] = true
		}
	}
	return known
}()

// explicitEventRE names an event outright: "the cart_abandoned event",
// "event `trial_started`".
var explicitEventRE = regexp.MustCompile("(?:\\bevent[: ]+[`'\"]?([a-z][a-z0-9_.]*)[`'\"]?|[`'\"]?([a-z][a-z0-9_.]*_[a-z0-9_.]+)[`'\"]? event\\b)")

// identInPhraseRE is an identifier written inside a phrase; compareAfterRE
// makes it an attribute compared ("order_total > 100"), as do the names
// attributeNameRE knows for dates, ids and amounts.
var (
	parenIdentRE    = regexp.MustCompile(`\(\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*\)`)
	identInPhraseRE = regexp.MustCompile(`(?:^|[\s"'(])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:$|[\s"'),.:;])`)
	compareAfterRE  = regexp.MustCompile(`^["')]?\s*(?:is|are|was|=|==|!=|>|<|>=|<=|equals|over|under|above|below|more|less|at least|at most|of)\b|^["')]?\s*[=<>!]`)
	attributeNameRE = regexp.MustCompile(`_(?:date|at|id|total|count|amount|value|score|time|day|status|plan|tier|type|name|email|phone)$`)
)

// snakeEventRE is an event type written as one: email_opened.
var snakeEventRE = regexp.MustCompile(`^[a-z]+(?:_[a-z0-9]+)+$`)

// eventOf finds the customer event a phrase talks about. channel (email,
// push, sms, whatsapp) picks the event of "opened" and "clicked".
func eventOf(phrase, channel string) (string, bool) {
	if m := explicitEventRE.FindStringSubmatch(phrase); m != nil {
		return m[1] + m[2], true
	}
	if name := strings.TrimSpace(phrase); snakeEventRE.MatchString(name) { // "if email_opened"
		return name, true
	}
	if m := parenIdentRE.FindStringSubmatch(phrase); m != nil && !attributeNameRE.MatchString(m[1]) {
		return m[1], true // "check in (class_checked_in)": the name in brackets is the event's
	}
	if m := identInPhraseRE.FindStringSubmatchIndex(phrase); m != nil && !compareAfterRE.MatchString(phrase[m[3]:]) &&
		!attributeNameRE.MatchString(phrase[m[2]:m[3]]) {
		return phrase[m[2]:m[3]], true // "they cancel_subscription", "(demo_requested)": named exactly
	}
	for _, p := range eventPatterns {
		if p.re.MatchString(phrase) {
			if strings.Contains(p.event, "%s") {
				ch := channel
				switch {
				case strings.Contains(phrase, "push") || strings.Contains(phrase, "notification"):
					ch = "push"
				case strings.Contains(phrase, "whatsapp"):
					ch = "whatsapp"
				case strings.Contains(phrase, "sms") || strings.Contains(phrase, "text"):
					ch = "sms"
				case strings.Contains(phrase, "email"):
					ch = "email"
				}
				if ch == "" {
					ch = "email"
				}
				return strings.Replace(p.event, "%s", ch, 1), true
			}
			return p.event, true
		}
	}
	return "", false
}

// entryEventOf is eventOf for what starts a journey, which may be any
// action: "downloads the whitepaper" becomes whitepaper_downloaded.
func entryEventOf(phrase string) (string, bool) {
	if ev, ok := eventOf(phrase, ""); ok {
		return ev, true
	}
	if i := conjunctionRE.FindStringIndex(phrase); i != nil {
		phrase = phrase[:i[0]]
	}
	words := strings.Fields(nameWords(phrase))
	if len(words) > 8 {
		return "", false
	}
	// The first verb names what happened, the words after it to what:
	// "a product on someone's wishlist drops in price" → price_dropped.
	for i, w := range words {
		verb := pastTense(w)
		if verb == "" || len(w) < 4 {
			continue
		}
		var object []string
		for _, o := range words[i+1:] {
			if prepositions[o] {
				object = object[:0]
				continue
			}
			object = append(object, o)
		}
		if len(object) == 0 && i > 0 {
			object = words[i-1 : i]
		}
		if len(object) > 2 {
			object = object[:2]
		}
		return slug(strings.Join(append(object, verb), "_")), true
	}
	return "", false
}

// prepositions separate a verb from what it acts on.
var prepositions = map[string]bool{"in": true, "on": true, "at": true, "to": true, "from": true, "with": true, "via": true, "for": true, "of": true, "into": true, "by": true}

// irregular holds the past participles of the irregular verbs customers do.
var irregular = map[string]string{
	"make": "made", "makes": "made", "buy": "bought", "buys": "bought", "do": "done", "does": "done", "get": "got",
	"gets": "got", "give": "given", "gives": "given", "send": "sent", "sends": "sent", "leave": "left", "leaves": "left",
	"write": "written", "writes": "written", "take": "taken", "takes": "taken", "pay": "paid", "pays": "paid",
	"spend": "spent", "spends": "spent", "win": "won", "wins": "won", "set": "set", "sets": "set", "read": "read",
}

var conjunctionRE = regexp.MustCompile(`\s(?:but|and|or|then|so)\s|[,(]`)

// pastTense turns a verb as used after "when someone" into its past
// participle: downloads → downloaded, visits → visited.
func pastTense(verb string) string {
	if p, ok := irregular[verb]; ok {
		return p
	}
	switch {
	case strings.HasSuffix(verb, "ed"):
		return verb
	case strings.HasSuffix(verb, "ies"):
		return verb[:len(verb)-3] + "ied"
	case strings.HasSuffix(verb, "ches") || strings.HasSuffix(verb, "shes") || strings.HasSuffix(verb, "sses") || strings.HasSuffix(verb, "xes"):
		return verb[:len(verb)-2] + "ed"
	case strings.HasSuffix(verb, "es"):
		return verb[:len(verb)-1] + "d"
	case strings.HasSuffix(verb, "s") && len(verb) > 3:
		return verb[:len(verb)-1] + "ed"
	}
	return ""
}

package offline

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// cond is what a conditional phrase tests: a customer event (becoming a
// wait_for_event) or a CEL expression over the customer (a condition node).
type cond struct {
	event  string // e.g. email_opened
	within string // the timeout said with the event ("within 3 days")
	expr   string // e.g. customer.plan == "premium"
	// negated: the action follows when the event does not come, or when the
	// expression is false ("unless …").
	negated bool
	// explicitWait: "wait up to 2 days for a purchase": both arms continue.
	explicitWait bool
	text         string // the phrase, for labels
}

var (
	// hasAttrRE is having (or missing) a profile field: "they have no email
	// address", "without a phone number", "they have a push token".
	hasAttrRE  = regexp.MustCompile(`^(?:they |the customer |the user |customers |users |people |those |anyone )?((?:who |that )?(?:have no|has no|don't have an?|dont have an?|do not have an?|doesn't have an?|does not have an?|haven't got an?|without an?|without|lack an?|lack|are missing an?|is missing an?|have an?|has an?|with an?))\s+(?:valid\s+|verified\s+)?(email address|email|e-mail address|phone number|phone|mobile number|mobile|push token|device token|app installed|whatsapp number)(?:\s+on file|\s+saved|\s+set|\s+on their profile)?$`)
	negationRE = regexp.MustCompile(`\b(not|never|no|without|fail(s|ed)? to|yet to|dont|didnt|doesnt|havent|hasnt|isnt|wasnt|wont)\b|n't\b`)
	withinRE   = regexp.MustCompile(`\b(within|in the (next|first)|in|after|for|by)\s+(?:another\s+|a further\s+|an additional\s+)?(` + amountRE[1:len(amountRE)-1] + `)[\s-]*(minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\b`)

	planWords = map[string]bool{
		"free": true, "premium": true, "pro": true, "basic": true, "trial": true, "enterprise": true, "paid": true,
		"gold": true, "silver": true, "platinum": true, "starter": true, "business": true, "plus": true, "team": true,
	}
	countries = map[string]string{
		"us": "US", "usa": "US", "u.s.": "US", "united states": "US", "america": "US", "uk": "UK", "united kingdom": "UK",
		"britain": "UK", "great britain": "UK",
	}

	onPlanRE  = regexp.MustCompile(`^(?:(?:customers|users|people|those|members|subscribers|anyone|everyone)(?: who are)? |they(?: are|'re)? |(?:are|is) )?on (?:the |a |an |our )?([a-z0-9_-]+) (?:plan|tier)$`)
	planWhoRE = regexp.MustCompile(`^(?:(?:they|who) (?:are|is) |they're )?(?:a |an |our )?([a-z0-9_-]+) (?:plan )?(?:customers?|users?|members?|subscribers?|accounts?)$`)
	countRE   = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|members|subscribers|they|contacts|accounts|the customer|the user|customer|user|he|she)\s+)?(?:who have|who've|with|having|that have|have|has)\s+(more than|over|at least|fewer than|less than|under|exactly|no more than|at most|above|greater than)?\s*(\d+(?:\.\d+)?)\s+(or more\s+|or fewer\s+)?([a-z][a-z _]*?)$`)
	withValRE = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|members|subscribers|they|contacts|accounts)\s+)?(?:who have|with|having|that have|have|has)\s+(?:a |an )?([a-z][a-z _]*?)\s+(of more than|more than|over|above|greater than|of at least|at least|under|below|less than|of less than|of)\s+\$?(\d+(?:\.\d+)?)$`)
	countryRE = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|members|subscribers|contacts|they|who|the user|the customer|user|customer)\s+)?(?:(?:are|is|who are|who live|live|living|based|located)\s+)?(?:based |located )?in (?:the )?([a-z][a-z. ]{1,30})$`)
	tagRE     = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|they)\s+)?(?:(?:who )?(?:have|has|are|is)\s+)?(?:with\s+)?(?:the\s+)?(?:tag(?:ged)?(?:\s+(?:as|with))?)\s+['"]?([a-z0-9_-]+)['"]?(?:\s+tag)?$`)
	compareRE = regexp.MustCompile(`^(?:if\s+)?(?:the |their |a |an |his |her )?(?:customer'?s? |user'?s? |account |[a-z]+'s )?"?([a-z][a-z0-9_ ]*?)"?\s+(is not equal to|is equal to|passes|goes past|crosses|hits|goes above|goes over|rises above|gets above|reaches|drops below|falls below|goes below|gets below|is not|isn't|is over|is above|is more than|is greater than|is higher than|is under|is below|is less than|is lower than|is at least|is at most|exceeds|equals|is|are|>=|<=|==|!=|=|>|<)\s+(.+)$`)

	ops = map[string]string{
		"is not equal to": "!=", "is equal to": "==", "is not": "!=", "isn't": "!=", "is over": ">", "is above": ">",
		"is more than": ">", "is greater than": ">", "is higher than": ">", "is under": "<", "is below": "<",
		"is less than": "<", "is lower than": "<", "is at least": ">=", "is at most": "<=", "exceeds": ">",
		"passes": ">", "goes past": ">", "crosses": ">", "hits": ">=", "goes above": ">", "goes over": ">", "rises above": ">", "gets above": ">", "reaches": ">=", "drops below": "<",
		"falls below": "<", "goes below": "<", "gets below": "<",
		"equals": "==", "is": "==", "are": "==", ">=": ">=", "<=": "<=", "==": "==", "!=": "!=", "=": "==", ">": ">", "<": "<",
		"more than": ">", "over": ">", "at least": ">=", "fewer than": "<", "less than": "<", "under": "<", "exactly": "==",
		"no more than": "<=", "at most": "<=", "above": ">", "greater than": ">", "of more than": ">", "of at least": ">=",
		"below": "<", "of less than": "<", "of": "==", "": ">=",
	}
	quantifierRE = regexp.MustCompile(`^(?:all|only|any|every|each)\s+`)
	optInRE      = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|they|members|subscribers|contacts)\s+)?(?:who\s+|that\s+)?(?:have\s+|has\s+)?opted[ -](in|out)(?:\s+(?:to|of|for|from)\s+(?:receive\s+|receiving\s+)?([a-z][a-z ]*?))?$`)
	groupRE      = regexp.MustCompile(`^(?:the |our )?(vips?|premium|pro|free|trial|paying|paid|enterprise|basic|gold|silver|platinum)(?:\s+(?:customers|users|members|subscribers|accounts|plan users))?$`)
	spentRE      = regexp.MustCompile(`^(?:(?:customers|users|people|those|anyone|they|members)\s+)?(?:who\s+)?(?:have\s+|has\s+)?(?:spent|spend|spends)\s+(more than|over|at least|less than|under|above)\s+\$?(\d+(?:\.\d+)?)\b`)
	participleRE = regexp.MustCompile(`^[a-z]+ed$`)
	orMoreRE     = regexp.MustCompile(`^\$?(\d+(?:\.\d+)?)\s*(?:or\s+(higher|more|above|greater|lower|less|below|fewer)|\+)$`)
	// notAttributes are subjects of "is" that name a message, not a
	// customer attribute: "if the email is opened" is an event.
	notAttributes = map[string]bool{"email": true, "it": true, "message": true, "they": true, "sms": true, "push": true,
		"notification": true, "text": true, "mail": true, "he": true, "she": true, "there": true, "this": true, "that": true}
)

// parseCondition reads what follows "if", "unless", "for" or "when": an
// attribute test ("plan is premium", "customers with more than 3 orders",
// "they are in the US") or an event ("they don't open it within 3 days").
// orig is the same text with its original case, for values. channel is the
// last channel sent on, for "opened". Every expression compiles in CEL.
// attrAliases are the profile fields the words for them name.
var attrAliases = map[string]string{"email_address": "email", "e_mail_address": "email", "phone_number": "phone",
	"mobile_number": "phone", "mobile": "phone", "device_token": "push_token", "app_installed": "push_token",
	"whatsapp_number": "phone"}

// parenTestRE is an attribute test in brackets: "(cabin = "business")".
var parenTestRE = regexp.MustCompile(`\(\s*([a-z][a-z0-9_.]*\s*(?:==|=|!=|>=|<=|>|<|\bis\b)\s*[^()]+?)\s*\)`)

func parseCondition(text, orig, channel string) (cond, bool) {
	text = strings.TrimSpace(strings.TrimRight(text, " .:!"))
	orig = strings.TrimSpace(strings.TrimRight(orig, " .:!"))
	if m := quantifierRE.FindStringIndex(text); m != nil { // "all customers on the pro plan"
		text, orig = text[m[1]:], orig[m[1]:]
	}
	if m := whoWithRE.FindStringIndex(text); m != nil && attrTestRE.MatchString(text[m[1]:]) { // "those with tier = gold"
		text, orig = text[m[1]:], orig[m[1]:]
	}
	if m := alsoRE.FindStringIndex(text); m != nil { // "tier = gold also (get …)"
		text, orig = text[:m[0]], orig[:m[0]]
	}
	if m := parenTestRE.FindStringSubmatchIndex(text); m != nil {
		// "they have an appointment already (appointment_booked = true)":
		// the test in brackets says it exactly
		if expr, ok := attributeExpr(text[m[2]:m[3]], orig[m[2]:m[3]]); ok {
			return cond{expr: expr, text: orig}, true
		}
	}
	if expr, ok := attributeExpr(text, orig); ok {
		return cond{expr: expr, text: orig}, true
	}
	if m := flagAttrRE.FindStringSubmatch(text); m != nil && !firesRE.MatchString(text) && !strings.HasPrefix(text[strings.Index(text, m[1])+len(m[1]):], ".") {
		// "they have opted in to WhatsApp (whatsapp_opt_in)": a yes/no
		// attribute, by its name, never an event
		expr := "customer." + m[1] + " == true"
		if negationRE.MatchString(text) {
			expr = "customer." + m[1] + " != true"
		}
		return cond{expr: expr, text: orig}, true
	}
	if m := hasAttrRE.FindStringSubmatch(text); m != nil {
		attr := attrName(m[2])
		if alias, ok := attrAliases[attr]; ok {
			attr = alias
		}
		expr := "has(customer." + attr + ")"
		if negationRE.MatchString(m[1]) || strings.HasPrefix(m[1], "without") || strings.Contains(m[1], "missing") || strings.HasPrefix(m[1], "lack") {
			expr = "!" + expr
		}
		return cond{expr: expr, text: orig}, true
	}
	c := cond{text: orig}
	rest := text
	if m := withinRE.FindStringSubmatchIndex(text); m != nil {
		c.within, _, _ = findDuration(text[m[0]:m[1]])
		rest = text[:m[0]] + text[m[1]:]
	} else if m := laterRE.FindStringSubmatchIndex(text); m != nil {
		// "if still not paid 2 days after that sms": the time since the
		// step before is how long to wait
		c.within, _, _ = findDuration(text[m[2]:m[3]])
		rest = text[:m[0]]
	}
	ev, ok := eventOf(rest, channel)
	if !ok {
		ev, ok = doneEventOf(rest)
	}
	if n := noEventRE.FindStringSubmatch(strings.TrimSpace(rest)); !ok && n != nil {
		// "if no deposit after 3 days": the event of making one
		ev, ok = slug(n[1])+"_made", true
	}
	if !ok {
		return cond{}, false
	}
	c.event = ev
	c.negated = negationRE.MatchString(rest)
	return c, true
}

// flagAttrRE is a yes/no attribute written as code, named as one: is_vip,
// has_app, whatsapp_opt_in, autopay_enabled, email_verified, sms_consent.
var flagAttrRE = regexp.MustCompile(`(?:^|[\s"'(])((?:is|has)_[a-z0-9_]+|[a-z][a-z0-9_]*_(?:opt_in|opted_in|optin|enabled|disabled|verified|consent|consented|flag))(?:$|[\s"'),.:;])`)

// laterRE is a time counted from the step before, said after a condition:
// "2 days after that sms", "3 days later".
var laterRE = regexp.MustCompile(`\s+(\d{1,4}\s*(?:minutes?|hours?|days?|weeks?))\s+(?:later|after (?:that|the|this|their|it)\b.*|since (?:that|the|this)\b.*)$`)

// firesRE says that a name is an event or a segment, not an attribute.
var firesRE = regexp.MustCompile(`\b(?:fires?|fired|event|emits?|triggers?|sends?|sent|arrives?|received|segment|list|audience)\b`)

var (
	// whoWithRE is the people a condition is about, before the attribute
	// it tests: "those with", "customers whose", "learners with".
	whoWithRE = regexp.MustCompile(`^(?:those|people|users|customers|anyone|everyone|members|learners|students|players|patients|subscribers|accounts|guests|donors)\s+(?:with|whose|where|having)\s+`)
	// attrTestRE is an attribute compared as written: "tier = gold".
	attrTestRE = regexp.MustCompile(`^[a-z][a-z0-9_.]*\s*(?:=|==|!=|>=|<=|>|<)\s*\S`)
	// alsoRE is an adverb after the condition: "tier = gold also".
	alsoRE = regexp.MustCompile(`\s+(?:also|too|as well|additionally)$`)
)

// objectEndRE ends the object of a plain action: "setup by day 5".
var objectEndRE = regexp.MustCompile(`\s(?:by|within|before|after|in|on|at|yet|anymore)\b`)

// noEventRE is an event said as a missing thing: "no deposit".
var noEventRE = regexp.MustCompile(`^(?:there is |there's |there has been )?no ([a-z]+)(?: yet| so far| by then)?$`)

// doneRE is something a customer does, said the plain way: "they don't
// start the next lesson".
var doneRE = regexp.MustCompile(`^(?:(?:they've|they|the customer|the user|he|she)\s+|(?:not|never)\s+)(?:still\s+)?(?:don't|do not|didn't|did not|haven't|have not|hasn't|has not|never|dont|didnt|havent|do|did|have|has)?\s*(?:yet\s+)?([a-z]{3,})\s+(.{1,40})$`)

// doneAloneRE is a plain action without an object: "they attended".
var doneAloneRE = regexp.MustCompile(`^(?:they|the customer|the user)\s+(?:have\s+|has\s+|did\s+)?([a-z]+)$`)

// doneEventOf names the event of a plain action: "they don't start the next
// lesson" waits for next_lesson_started.
func doneEventOf(text string) (string, bool) {
	text = strings.TrimSpace(text)
	m := doneRE.FindStringSubmatch(text)
	if m == nil {
		if a := doneAloneRE.FindStringSubmatch(text); a != nil && strings.HasSuffix(a[1], "ed") && len(a[1]) > 4 {
			return a[1], true // "if they attended"
		}
		return "", false
	}
	if m[1] == "been" || m[1] == "are" || m[1] == "got" {
		return "", false
	}
	verb := pastTense(m[1])
	if verb == "" {
		verb = strings.TrimSuffix(m[1], "e") + "ed"
	}
	if len(m[1]) > 4 && m[1] == verb { // "they make a deposit" said as "deposit made"
		verb = m[1]
	}
	words := m[2]
	if i := objectEndRE.FindStringIndex(words); i != nil {
		words = words[:i[0]]
	}
	object := strings.Fields(nameWords(words))
	if len(object) == 0 || len(object) > 3 {
		return "", false
	}
	return slug(strings.Join(append(object, verb), "_")), true
}

// attributeExpr turns an attribute test into CEL, joining "and"/"or" parts.
func attributeExpr(text, orig string) (string, bool) {
	for _, join := range []struct{ word, op string }{{" and ", " && "}, {" or ", " || "}} {
		if i := strings.Index(text, join.word); i > 0 {
			left, lok := attributeExpr(text[:i], orig[:i])
			right, rok := attributeExpr(text[i+len(join.word):], orig[i+len(join.word):])
			if lok && rok {
				return left + join.op + right, true
			}
		}
	}
	if m := numCompareRE.FindStringSubmatchIndex(text); m != nil && !isAreRE.MatchString(text[:m[2]]) {
		// "lifetime value above $1000": "is" left out before a number
		text = text[:m[2]] + " is " + text[m[2]:]
		orig = orig[:m[2]] + " is " + orig[m[2]:]
	}
	expr, ok := simpleAttributeExpr(text, orig)
	if !ok || graph.CheckExpression(expr) != nil {
		return "", false
	}
	return expr, true
}

// numCompareRE is an attribute compared with a number without "is":
// "lifetime_value above $1000", "points balance over 500".
var numCompareRE = regexp.MustCompile(`^(?:the |their )?[a-z][a-z0-9_]*(?: [a-z][a-z0-9_]*){0,2}\s+(above|over|below|under|more than|less than|greater than|fewer than|at least|at most)\s+[$€£]?\d[\d.]*$`)

var isAreRE = regexp.MustCompile(`\b(?:is|are|was|were|be|has|have|with|whose|who|that|where|having)\b`)

// dottedAttrRE is an attribute written as a path, which names it exactly:
// "customer.preferred_channel", "event.data.total", "profile.tier".
var dottedAttrRE = regexp.MustCompile(`^(?:if\s+)?(?:the\s+)?(?:customer|user|profile|contact|event|order)\.(?:attributes\.|data\.|properties\.)?`)

func simpleAttributeExpr(text, orig string) (string, bool) {
	if m := dottedAttrRE.FindStringIndex(text); m != nil && m[1] < len(text) {
		text, orig = text[m[1]:], orig[m[1]:]
	}
	if m := onPlanRE.FindStringSubmatch(text); m != nil {
		return `customer.plan == ` + strconv.Quote(m[1]), true
	}
	if m := groupRE.FindStringSubmatch(text); m != nil {
		if m[1] == "vip" || m[1] == "vips" {
			return `customer.vip == true`, true
		}
		return `customer.plan == ` + strconv.Quote(m[1]), true
	}
	if m := planWhoRE.FindStringSubmatch(text); m != nil {
		if planWords[m[1]] || strings.Contains(text, " plan ") { // "annual plan customers" names its plan
			return `customer.plan == ` + strconv.Quote(m[1]), true
		}
		if m[1] == "vip" {
			return `customer.vip == true`, true
		}
	}
	if m := countRE.FindStringSubmatch(text); m != nil {
		op := ops[m[1]]
		if strings.HasPrefix(m[3], "or more") {
			op = ">="
		} else if strings.HasPrefix(m[3], "or fewer") {
			op = "<="
		}
		attr := attrName(m[4])
		if !strings.HasSuffix(attr, "s") { // "more than 1 order" counts orders
			attr += "s"
		}
		return "customer." + attr + " " + op + " " + m[2], true
	}
	if m := optInRE.FindStringSubmatch(text); m != nil {
		topic := "marketing"
		if m[2] != "" {
			topic = attrName(nameWords(m[2]))
		}
		return "customer." + topic + "_opt_in == " + strconv.FormatBool(m[1] == "in"), true
	}
	if m := spentRE.FindStringSubmatch(text); m != nil {
		return "customer.total_spent " + ops[m[1]] + " " + m[2], true
	}
	if m := withValRE.FindStringSubmatch(text); m != nil {
		return "customer." + attrName(m[1]) + " " + ops[m[2]] + " " + m[3], true
	}
	if m := tagRE.FindStringSubmatch(text); m != nil {
		return strconv.Quote(m[1]) + " in customer.tags", true
	}
	if m := countryRE.FindStringSubmatchIndex(text); m != nil {
		place := text[m[2]:m[3]]
		code, ok := countries[place]
		if !ok {
			code = strings.TrimSpace(orig[m[2]:m[3]])
			if code == place { // a lower-case word is rarely a place
				return "", false
			}
		}
		return `customer.country == ` + strconv.Quote(code), true
	}
	if m := compareRE.FindStringSubmatchIndex(text); m != nil {
		attr := text[m[2]:m[3]]
		op := ops[text[m[4]:m[5]]]
		value := strings.Trim(strings.TrimSpace(orig[m[6]:m[7]]), `"'`)
		if notAttributes[attr] || notAttributes[strings.Fields(attr)[0]] {
			return "", false
		}
		written := strings.Contains(attr, "_") || strings.ContainsAny(text[m[4]:m[5]], "=<>") // "kyc_status != verified" tests the attribute as written
		if _, isEvent := eventOf(strings.ToLower(value), ""); isEvent && !strings.ContainsAny(value, "0123456789") && !written {
			return "", false
		}
		if withinRE.MatchString(strings.ToLower(value)) { // "the demo isn't booked within 2 days"
			return "", false
		}
		if _, isEvent := eventOf(text, ""); isEvent && participleRE.MatchString(strings.ToLower(value)) && !written {
			return "", false // "an order is placed"
		}
		if m := orMoreRE.FindStringSubmatch(strings.ToLower(value)); m != nil && (op == "==") {
			op, value = ">=", m[1]
			if m[2] == "lower" || m[2] == "less" || m[2] == "below" || m[2] == "fewer" {
				op = "<="
			}
		}
		return "customer." + attrName(attr) + " " + op + " " + celValue(value), true
	}
	return "", false
}

// attrName makes a customer attribute name of words: "lifetime value" →
// lifetime_value, "number of orders" → orders.
func attrName(words string) string {
	words = strings.TrimPrefix(strings.TrimSpace(words), "number of ")
	words = strings.TrimPrefix(words, "total ")
	return slug(words)
}

// celValue writes a value as a CEL literal: numbers and booleans as they
// are, anything else as a string.
func celValue(v string) string {
	v = strings.TrimSpace(strings.TrimPrefix(v, "$"))
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	switch strings.ToLower(v) {
	case "true", "yes":
		return "true"
	case "false", "no":
		return "false"
	}
	if c, ok := countries[strings.ToLower(v)]; ok {
		v = c
	}
	return strconv.Quote(v)
}

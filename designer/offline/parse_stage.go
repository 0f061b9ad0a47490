package offline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The first stage of reading: the description is brought to one plain
// form before it is split into clauses. Chat lead-ins go ("hey can we set
// up …"), shorthand is spelt out (d3, T+1 and D+1 as "day 3"; 24h, 5d, 2w as
// "24 hours", "5 days", "2 weeks"), money loses its symbols and thousands
// separators ($1,000 → $1000, $2k → $2000), identifiers lose their backticks (they are
// then used exactly: `order_completed` is the event order_completed) and a
// trigger written as a title ("Webinar flow: on webinar_registered →") is
// a sentence of its own. Everything here is a rewrite of the text; what it
// means is read by the stages after it.

var (
	chatLeadRE = regexp.MustCompile(`(?im)^\s*(?:(?:hey|hi|hello|yo|ok|okay|so)(?:\s+(?:team|all|folks|there|everyone|guys|y'all))?\s*[,!:-]*\s+)?` +
		`(?:(?:can|could|would|shall)\s+(?:we|you|someone)\s+(?:please\s+)?|please\s+|let'?s\s+|we\s+(?:need|want|would like|'d like)\s+(?:to\s+)?|i\s+(?:need|want|would like|'d like)\s+(?:to\s+)?(?:you\s+to\s+)?)` +
		`(?:set\s*up|set\s+(?:something|sth|this|that|one)\s+up|build|create|make|do|get|have|add|launch|run|put together|spin up)\s+(?:a|an|the|our|this)?\s*`)
	backtickRE = regexp.MustCompile("`([^`\n]{1,80})`")
	dayCodeRE  = regexp.MustCompile(`(?i)(^|[\s(>,;:→|@-])(?:d|t|day)\s?\+\s?(\d{1,3})(?:\s?d(?:ays?)?)?\b|(^|[\s(>,;:→|-])[dD](\d{1,3})\b`)
	shortDurRE = regexp.MustCompile(`(?i)\b(\d{1,4})\s?(h|hr|hrs|d|w|wk|wks|min|mins)\b`)
	moneyRE    = regexp.MustCompile(`[$€£]\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([kK])?\b`)
	// insteadOfRE names what is not sent: "an email instead of another
	// push" sends the email only.
	insteadOfRE = regexp.MustCompile(`(?i)\binstead of (?:an?|another|the|a second|a 2nd|a further|one more)?\s*[^,.;:!?\n]*`)
	// askLeadRE is a request before a step: "Could we send …", "can you
	// email …" — the step is what stays.
	askLeadRE = regexp.MustCompile(`(?im)(^|[.!?]\s+)(?:could|can|would|shall)\s+(?:we|you|someone)\s+(?:please\s+)?(?:also\s+)?(send|email|text|sms|push|whatsapp|notify|remind|message|ping)\b`)
	byThenRE  = regexp.MustCompile(`(?i)\b(by|until|till|before|since) then\b`)
	// perSlashRE is a rate written with a slash: "3 emails / week".
	perSlashRE = regexp.MustCompile(`(?i)\s*/\s*(\d{1,3}\s?(?:d|h|w|days?|hours?|weeks?)|week|wk|day|month|hour|hr)\b`)
	// bangRE is a negation written as code: "if !opened".
	bangRE      = regexp.MustCompile(`(^|[\s(])!([a-z][a-z_]*)\b`)
	thousandsRE = regexp.MustCompile(`\b(\d{1,3}(?:,\d{3})+)\b`)
	// titleTriggerRE is a journey's name followed by its trigger and a colon
	// or arrow: "Thank-you flow on order_completed:", "Webinar flow: on
	// webinar_registered →".
	titleTriggerRE = regexp.MustCompile(`(?im)^([^\n:]{0,60}?\b(?:flow|journey|campaign|sequence|series|drip|program|automation|workflow)\s*:?\s*)(on|upon|after|when|triggered by|trigger)\s+([a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)\s*(?::|→|->|=>|,)\s*`)
	// identTriggerRE is a trigger named as an identifier that opens a line:
	// "On order_completed: …", "on webinar_registered → …".
	// topicLeadRE names what a message is about without saying anything
	// about the journey: "for the data-usage alerts:" (after a greeting,
	// which stays to be listed as not understood).
	topicLeadRE = regexp.MustCompile(`(?im)^(\s*(?:(?:hey|hi|hello)[^,!:\n]{0,20}[,!]\s*)?)(?:for|re|about|regarding)\s+(?:the\s+|our\s+|this\s+)?[a-z0-9 '/&()-]{1,50}:\s+`)
	// bareTriggerRE is an identifier opening the text and followed by an
	// arrow: "trial_started → d1 email …".
	bareTriggerRE = regexp.MustCompile(`(?im)^(\s*)([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*(?:→|->|=>)\s*`)
	// pushVerbRE is "push" used as a verb: "push the pro tips".
	pushVerbRE     = regexp.MustCompile(`(?i)\bpush (the|a|an) ([a-z0-9' -]+?)(\s*(?:$|[,.;]|\s(?:and|then|otherwise|if|unless|to|after|on)\b))`)
	identTriggerRE = regexp.MustCompile(`(?im)^(\s*(?:[a-z][a-z0-9 '/&-]{0,40}:\s*)?(?:on|upon|after|when|trigger(?:ed)?(?: by| on)?)\s+)([a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)\s*(?::|→|->|=>|,)\s*`)
)

var (
	// splitHeadRE is a line that announces a split whose arms follow on
	// lines of their own: "Split 50/50:", "3-way equal split:", "A/B 50/50".
	splitHeadRE = regexp.MustCompile(`(?i)\b(?:split|a/b(?:/c)?|ab test|variants?|holdout|\d-way|(?:two|three|four|2|3|4)[ -]ways?)\b`)
	// armLineRE is one arm on a line of its own: "– Variant A gets a push",
	// "A → email only", "- B: WhatsApp one hour later", "Group C: SMS".
	armLineRE = regexp.MustCompile(`^\s*(?:[-*•–—]\s*)?(?:(?i:variant|group|arm|version|cell|bucket|cohort)\s+([A-Ea-e])\b\s*(?::|=|\)|→|->|-)?|([A-E])\s*(?::|=|\)|→|->|\s-\s))\s*(.*?)[\s.]*$`)
	// pctLineRE is a share on a line of its own: "• 25% email".
	pctLineRE = regexp.MustCompile(`^\s*(?:[-*•–—]\s*)?(\d{1,3})\s*%\s*(.*?)[\s.]*$`)
	// profileNoteRE says where an attribute is kept, which the reading does
	// not need: "(profile attr)", "(it's on the profile)", "on their profile".
	profileNoteRE = regexp.MustCompile(`(?i)\s*\([^()=<>\n]*\b(?:profile|attribute|attr|field|property)\b[^()=<>\n]*\)|\s+(?:on|in|from) (?:their|the|his|her|the customer's|the user's|the resident's|the member's)? ?(?:profile|record)\b`)
	// mentionRE is a chat mention opening a line: "@lifecycle".
	mentionRE = regexp.MustCompile(`(?m)^(\s*)(?:@[\w.-]+[,:]?\s+)+`)
	// tMinusRE is a countdown: "T-24h before departure_time", "T-3d".
	tMinusRE = regexp.MustCompile(`(?i)\b[TD]\s?-\s?(\d{1,3})\s?(h|d|w|hours?|days?|weeks?)\b(?:\s+before)?`)
	// signedDateRE is a time from a date written as a signed offset:
	// "-21d renewal_date: email", "+2h webinar_start".
	signedDateRE = regexp.MustCompile(`(?im)(^[ \t]*(?:[-*•][ \t]+)?|[\s(,;:])([-+])(\d{1,3})[ \t]?(h|d|w|hours?|days?|weeks?)[ \t]+(?:(?:from|vs\.?|relative to)[ \t]+)?((?:customer\.)?[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)\b`)
	// attrSignedRE is a time from a date written as the date then a signed
	// offset: "wait till class_start_time -2h", "webinar_start +1d".
	attrSignedRE = regexp.MustCompile(`(?i)(?:\bwait[ _](?:till|until)[ \t]+)?\b((?:customer\.)?[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)[ \t]*([-+])[ \t]?(\d{1,3})[ \t]?(h|d|w|hours?|days?|weeks?)\b`)
	// dayAroundRE is "the day before|after <date attribute>".
	dayAroundRE = regexp.MustCompile(`(?i)\bthe (day|week) (before|after) ((?:customer\.)?[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+)\b`)
	// splitListRE is a split's shares then its arms unlettered, one per
	// share: "50/50 split: sms | whatsapp", "split 70/30: email vs push".
	splitListRE = regexp.MustCompile(`(?i)\b(?:(?:a/b\s+)?split\s+(?:it\s+)?)?(\d{1,2}(?:\s*/\s*\d{1,2}){1,3})(?:\s+(?:a/b\s+)?split)?\s*:\s*([^\n.;]+)`)
	// armSepRE separates unlettered arms.
	armSepRE = regexp.MustCompile(`(?i)\s*(?:\||\s/\s|\bvs\.?(?:\s|$)|\bversus\b)\s*`)
	// letteredRE opens an arm that is lettered already.
	letteredRE = regexp.MustCompile(`(?i)^(?:(?:variant|group|arm)\s+)?[a-e]\s*(?::|=|\)|->|→|\s-\s|\s+gets?\b)`)
	// goalMarkRE records a named goal as a step: "mark the 'activated'
	// goal", "record goal 'starter_pack'", "record that as the 'won' goal".
	goalMarkRE = regexp.MustCompile(`(?i)\b(?:mark|record|count|log|register|hit|fire)(?:\s+(?:that|it|this|them))?(?:\s+as)?\s+(?:the\s+|our\s+|a\s+)?(?:goal\s+['"‘’“”]([a-z0-9_ -]{1,40})['"‘’“”]|['"‘’“”]([a-z0-9_ -]{1,40})['"‘’“”]\s+goal)`)
	// whenIdentRE is an event written as code and said to happen: "when
	// salary_credited is received", "once order_shipped fires".
	whenIdentRE = regexp.MustCompile(`(?i)\b(when(?:ever)?|once|as soon as|after)\s+(?:the\s+|an?\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s+event)?\s+(?:is received|is fired|fires|arrives|comes in|happens|is emitted|is sent|is tracked|lands|is triggered|triggers|is logged)\b`)
	// nothingElseRE is an arm that gets nothing: "otherwise send nothing".
	nothingElseRE = regexp.MustCompile(`(?i)[,;]?\s*\b(?:(?:otherwise|else|if not)\s*,?\s*(?:just\s+)?(?:send nothing|do nothing|nothing|no message|don't send anything|they get nothing)|(?:the rest|everyone else|everybody else|all others|others|the others)\s+(?:get|gets|receive|receives)\s+(?:nothing|no message|no messages)(?:\s+(?:for now|at all|yet))?)\b`)
	// skipAndRE skips a message for another step: "skip the email and call
	// our webhook instead" is the webhook instead of the email.
	skipAndRE = regexp.MustCompile(`(?i)\b(?:skip|don't send|do not send|leave out) (?:the |that |this |their )?[a-z0-9' -]{1,30}?\s+(?:and|but)\s+(?:instead\s+)?`)
	// eventIsRE names an event after saying it is one: "when an event is
	// account_opened", "the event named order_completed".
	eventIsRE = regexp.MustCompile(`(?i)\b(?:an?|the)\s+event\s+(?:is|named|called|=)\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`)
	// eventLabelRE names an event after a label: "(event: first_donation)",
	// "(event user_registered)", "evt: roaming_started" opening a line (the
	// trigger).
	eventLabelRE = regexp.MustCompile(`(?im)(\([ \t]*|^[ \t]*(?:[-*•][ \t]*)?)(?:event|evt)(?:[ \t]+(?:name|type))?[ \t]*[:=]?[ \t]*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`)
	// whenParenRE is what starts the journey said in words with its event
	// in brackets, opening the text: "When a student enrols in a course
	// (`course_enrolled`), …", "when a new debit card is shipped (we send
	// `card_shipped`), …".
	whenParenRE = regexp.MustCompile(`(?im)^((?:[^\n.]{0,40}?:\s*)?)(?:when(?:ever)?|once|as soon as|after|each time|every time|any time|anytime)\s+[^.,;:()\n]{3,80}?\s*\(\s*(?:(?:we|they|it|the app|our app|the system|our system)\s+(?:send|sends|emit|emits|fire|fires|track|tracks|get|log|logs)\s+)?(?:the\s+)?(?:event[:\s]+|via\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s+event)?\s*\)\s*(?:,\s*|\s+)`)
	// orWithinRE is a wait for an event or a time, whichever is first:
	// "wait for order_delivered or 7 days, whichever comes first".
	// waitUpToRE is a wait for an event with its longest time said after
	// it: "wait for power_restored, up to 12h", "wait for x for at most 10
	// days", "wait for x (max 2 days)".
	waitUpToRE = regexp.MustCompile(`(?i)\bwait (?:for|until)\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s+event)?\s*[,(]?\s*(?:for\s+)?(?:up to|at most|max(?:imum)?|no (?:more|longer) than|a maximum of|tops)\s+(\d{1,4}\s*(?:minutes?|hours?|days?|weeks?))\)?`)
	// moreRE is "N more days": the same length of time.
	moreRE = regexp.MustCompile(`(?i)\b(\d{1,4}|one|two|three|four|five|six|seven|ten|a few)\s+(?:more|further|extra|additional)\s+(minutes?|hours?|days?|weeks?)\b`)
	// namedGoalRE is a goal named in quotes with its event after it: "goal
	// 'challenge_joined' = when they fire challenge_joined", "Goal
	// "exam_booked" is reached when they fire exam_slot_booked".
	namedGoalRE = regexp.MustCompile(`(?i)\b(?:the |our |a )?goal\s+(?:(?:named|called|name)\s+)?["']([^"'\n]{1,40})["']\s*(?:=|:|-|is reached|is hit|is met|is achieved|counts|means|happens)?\s*(?:when|once|if|as soon as|on)?\s*(?:they|someone|the customer|the user|a user|a customer|people)?\s*(?:fire|fires|send|sends|trigger|triggers|emit|emits|do|does|hit|hits)?\s*(?:the\s+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:\s+event)?\b`)
	// goalCalledRE names in quotes the goal of what was just said:
	// "call the goal 'winback'", "… counts towards our goal "kyc_done"",
	// "name the goal 'activated'". What it is about comes before it.
	goalCalledRE = regexp.MustCompile(`(?im)(?:^|[.;,]\s*|\s-+\s*)(?:[^.;,\n]*?\b(?:counts?|is counted|are counted|goes|go) (?:towards?|toward|as|for|into) (?:our|the|a) goal|(?:and\s+)?(?:call|name|label) (?:the|this|our|that|it a|it the|it our)? ?goal|(?:and\s+)?(?:the |our )?goal (?:is )?(?:called|named))\s*["']([^"'\n]{1,40})["']`)
	// arrivedRE and ranOutRE head the arms of a wait for an event said of
	// the event or the time: "when it arrives", "if it times out", "if the
	// 3 days pass".
	arrivedRE = regexp.MustCompile(`(?i)\b(?:when|once|if|as soon as) (?:it|the event|the signal) (?:arrives|comes in|comes through|lands|fires|is received|shows up)\b`)
	ranOutRE  = regexp.MustCompile(`(?i)\b(?:(?:if|when|once) (?:it|that|this|the wait) (?:times out|expires|runs out)|if (?:the )?(?:\d{1,4}|one|two|three|four|five|six|seven|ten) (?:minutes?|hours?|days?|weeks?) (?:pass|passes|go by|goes by|run out|elapse|are up|is up|go past)|if (?:time runs out|nothing arrives|nothing comes|it doesn't arrive|it never arrives|it does not arrive|it doesn't come))\b`)
	// attrValueRE is a test said as the attribute and the value: "the
	// attribute is membership_tier and the value is "premium"", "field
	// plan_type, value gold".
	attrValueRE = regexp.MustCompile(`(?i)\b(?:the\s+)?(?:profile\s+)?(?:attribute|attr|field|property)(?:\s+name)?\s*(?:is|=|:)?\s+([a-z][a-z0-9]*(?:[_.][a-z0-9]+)*)\s*(?:,|and|with|;)?\s*(?:the\s+)?(?:value|val)\s*(?:is|=|:|of)?\s+("[^"\n]{1,40}"|'[^'\n]{1,40}'|[a-z0-9_.-]+)`)
	// theAttrRE is an attribute named after saying it is one: "the profile
	// attribute next_departure_at", "their field plan_type".
	theAttrRE = regexp.MustCompile(`(?i)\b(?:the|their|its|a)\s+(?:profile\s+|customer\s+|user\s+)?(?:attribute|attr|field|property)\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`)
	// atInstantRE is a step said at a moment written in RFC 3339, with a
	// gloss of the same moment in brackets after it: "a push at
	// 2027-06-01T07:00:00Z (8am London time) wishing them luck".
	atInstantRE = regexp.MustCompile(`(?i)(^|,\s*(?:and\s+)?(?:then\s+)?|\s(?:and|then)\s+)([^,.;\n]*?)\s+(?:at|on)\s+(` + instantPattern + `)(?:\s*\([^()\n]{1,40}\))?`)
	// schedLabelRE is a schedule under a label, its day written short:
	// "sched: Fri 07:00", "Schedule: every Tue 9am".
	schedLabelRE = regexp.MustCompile(`(?im)^([ \t]*)(?:sched|schedule|cadence|runs?|recurrence)[ \t]*[:=][ \t]*(?:every[ \t]+|on[ \t]+)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?(?:[ \t]*,)?`)
	// checkWhetherRE says which test the journey makes, in words and then
	// as written: "we'd like to check whether they're on the premium tier -
	// membership_tier is "premium"".
	checkWhetherRE = regexp.MustCompile(`(?i)\b(?:(?:we'?d like to|we would like to|we want to|we need to|please|first|then)\s+)?(?:check|see|find out|test)\s+(?:whether|if)\s+[^:.\n]{1,60}?(?::|\s-\s|\s–\s|\s—\s)\s*`)
	// nextWeeksRE is "next week's schedule": what a message holds, no time.
	nextWeeksRE = regexp.MustCompile(`(?i)\bnext (week|month|year)'s\b`)
	orWithinRE  = regexp.MustCompile(`(?i)\bwait (?:for|until)\s+([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s+(?:or|or up to|or at most|or max)\s+(\d{1,4}\s*(?:minutes?|hours?|days?|weeks?))(?:\s*,?\s*whichever (?:comes|happens|is) (?:first|sooner|earlier))?`)
	// theyGetRE is a message said as what they should get: "we'd like them
	// to get a welcome email", "they should receive an SMS".
	theyGetRE = regexp.MustCompile(`(?i)\b(?:(?:we'?d like|we would like|we want|i'?d like|i want)\s+(?:them|customers|users|people|everyone|each of them)\s+to|(?:they|he|she)\s+(?:should|will|must|would|shall))\s+(?:get|receive)\b`)
	// waAliasRE is WhatsApp written short.
	waAliasRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])(?:WA|WApp|Whatsapp|whats app|WhatsApp)\b`)
	// speakerRE is who said a line of a pasted chat: "> priya: …",
	// "Anna: …", "[10:02] Luis: …".
	speakerRE = regexp.MustCompile(`(?m)^([ \t]*)(?:>[ \t]*)?(?:\[[^\]\n]{1,20}\][ \t]*)?([A-Za-z][a-z]{1,14}):[ \t]+`)
	// startsItRE is an event said to start the journey after its name:
	// "`player_inactive_7d` event starts it", "- `quote_created` starts it".
	startsItRE = regexp.MustCompile(`(?im)(^[ \t]*(?:[-*•][ \t]*)?|[.!?;,:][ \t]+)(?:an?[ \t]+|the[ \t]+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:[ \t]+event)?[ \t]+(?:starts|triggers|kicks off|begins|opens)[ \t]+(?:it|this|the (?:journey|flow|campaign|sequence))\b[ \t]*[.,;]?`)
	// triggerIsRE names the trigger after a label or "is": "entry is the
	// fare_dropped event", "The trigger is monthly_renewal_charged",
	// "trigger = claim_submitted", "trig: account_opened", "entry
	// back_in_stock".
	triggerIsRE = regexp.MustCompile(`(?i)\b(?:the[ \t]+)?(?:trigger|trig|entry|entry event|trigger event|start event)[ \t]*(?:is|=|:|-)?[ \t]*(?:the[ \t]+)?([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?:[ \t]+event)?\b[ \t]*(?:\((?:entry|trigger)[^)\n]*\))?[ \t]*[.,;]?`)
	// shortLabelRE are labels written short: "aud:", "seg=".
	audLabelRE = regexp.MustCompile(`(?im)\baud[ \t]*[:=][ \t]*(?:seg(?:ment)?\b[ \t]*[:=]?[ \t]*)?|^[ \t]*seg[ \t]*[:=][ \t]*`)
	segShortRE = regexp.MustCompile(`(?i)\bseg[ \t]*[:=]?[ \t]*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`)
	// armAfterSemiRE is an arm of a split after a semicolon: "A = push …;
	// B = push …" (a semicolon would end the sentence, and the split).
	armAfterSemiRE = regexp.MustCompile(`(?i);[ \t]*((?:variant[ \t]+|group[ \t]+|arm[ \t]+)?[B-E][ \t]*(?::|=|\)|→|->))`)
	// shareAfterSemiRE is a share after a semicolon: "80% get an email;
	// 20% are a control group".
	shareAfterSemiRE = regexp.MustCompile(`;[ \t]*((?:and[ \t]+)?(?:the other[ \t]+|the remaining[ \t]+)?\d{1,3}[ \t]*%)`)
)

// labelWords are the words that open a labelled line, never a chat
// speaker's name.
var labelWords = regexp.MustCompile(`^(?:goal|objective|kpi|conversion|success|trigger|trig|entry|exit|stop|limit|cap|caps|frequency|max|day|week|step|steps|if|when|otherwise|else|split|start|starts|audience|aud|segment|seg|schedule|email|sms|text|push|whatsapp|notification|webhook|wait|tag|subject|note|notes|action|channel|content|timing|variant|group|arm|then|also|ps|fyi|re|hi|hey|hello|dear|promo|journey|flow|campaign|extra|ops|owner|status|priority|summary|description|acceptance|send|control|holdout|test|a|b|c|d|e)$`)

// dropSpeakers takes the speakers' names off the lines of a pasted chat:
// a name that opens at least two lines, and is no label.
func dropSpeakers(text string) string {
	count := map[string]int{}
	for _, m := range speakerRE.FindAllStringSubmatch(text, -1) {
		if !labelWords.MatchString(strings.ToLower(m[2])) {
			count[strings.ToLower(m[2])]++
		}
	}
	return speakerRE.ReplaceAllStringFunc(text, func(m string) string {
		s := speakerRE.FindStringSubmatch(m)
		if count[strings.ToLower(s[2])] < 2 {
			return m
		}
		return s[1]
	})
}

// joinArmsAfterSemicolons keeps a split's arms in one sentence when they
// are separated by semicolons, on lines that say a split or a share.
func joinArmsAfterSemicolons(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if splitHeadRE.MatchString(line) || strings.Contains(line, "%") {
			line = armAfterSemiRE.ReplaceAllString(line, " / $1")
			lines[i] = shareAfterSemiRE.ReplaceAllString(line, ", $1")
		}
	}
	return strings.Join(lines, "\n")
}

// joinSplitBlocks puts a split written over several lines (a head line,
// then one line per arm, or one line per share adding up to 100 %) on one
// line, so that it is read as one split: "Split 50/50: A: push … / B:
// email …". Lines that are not arms end the block.
func joinSplitBlocks(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		var arms []string
		j := i + 1
		if splitHeadRE.MatchString(line) && armLineRE.FindStringSubmatch(line) == nil {
			for ; j < len(lines); j++ {
				m := armLineRE.FindStringSubmatch(lines[j])
				if m == nil || strings.ToUpper(m[1]+m[2]) != string(rune('A'+len(arms))) {
					break
				}
				arms = append(arms, strings.ToUpper(m[1]+m[2])+": "+m[3])
			}
		}
		if len(arms) < 2 {
			arms, j = nil, i
			for sum := 0; j < len(lines) && sum < 100; j++ {
				m := pctLineRE.FindStringSubmatch(lines[j])
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(m[1])
				sum += n
				arms = append(arms, m[1]+"% "+m[2])
			}
			if total := sumShares(arms); len(arms) < 2 || total != 100 {
				out = append(out, line)
				continue
			}
			out = append(out, strings.Join(arms, ", "))
			i = j - 1
			continue
		}
		out = append(out, strings.TrimRight(line, " .:")+": "+strings.Join(arms, " / "))
		i = j - 1
	}
	return strings.Join(out, "\n")
}

// sumShares adds up the leading percentages of arms.
func sumShares(arms []string) int {
	sum := 0
	for _, a := range arms {
		n, _ := strconv.Atoi(a[:strings.IndexByte(a, '%')])
		sum += n
	}
	return sum
}

var shortUnits = map[string]string{"h": "hours", "hr": "hours", "hrs": "hours", "d": "days", "w": "weeks", "wk": "weeks", "wks": "weeks",
	"min": "minutes", "mins": "minutes"}

// pipeLines puts each cell of a line written with pipes as separators
// ("sched: Fri 07:00 … | seg: weekly_digest_optin | email digest | cap
// email 3/wk") on a line of its own. Lines of a table (a pipe line next to
// another pipe line) are left as they are.
func pipeLines(text string) string {
	lines := strings.Split(text, "\n")
	piped := func(i int) bool { return i >= 0 && i < len(lines) && strings.Count(lines[i], "|") >= 1 }
	for i, line := range lines {
		if strings.Count(line, " | ") >= 2 && !piped(i-1) && !piped(i+1) {
			lines[i] = strings.ReplaceAll(line, " | ", "\n")
		}
	}
	return strings.Join(lines, "\n")
}

// normalise is the first stage: the description in one plain form.
func normalise(text string) string {
	text = pipeLines(text)
	text = dropSpeakers(text)
	text = joinSplitBlocks(text)
	text = joinArmsAfterSemicolons(text)
	text = waAliasRE.ReplaceAllString(text, "${1}WhatsApp")
	text = mentionRE.ReplaceAllString(text, "${1}")
	text = profileNoteRE.ReplaceAllString(text, "")
	text = tMinusRE.ReplaceAllString(text, "${1} ${2} before")
	text = signedDateRE.ReplaceAllStringFunc(text, func(m string) string {
		s := signedDateRE.FindStringSubmatch(m)
		return s[1] + fromDate(s[2], s[3], s[4], s[5])
	})
	text = attrSignedRE.ReplaceAllStringFunc(text, func(m string) string {
		s := attrSignedRE.FindStringSubmatch(m)
		if !dateNameRE.MatchString(strings.ToLower(s[1])) {
			return m
		}
		return fromDate(s[2], s[3], s[4], s[1])
	})
	text = dayAroundRE.ReplaceAllStringFunc(text, func(m string) string {
		s := dayAroundRE.FindStringSubmatch(m)
		if !dateNameRE.MatchString(strings.ToLower(s[3])) {
			return m
		}
		return "1 " + strings.ToLower(s[1]) + " " + strings.ToLower(s[2]) + " " + s[3]
	})
	text = letterSplitArms(text)
	text = goalMarkRE.ReplaceAllString(text, `that's our goal "${1}${2}"`)
	text = topicLeadRE.ReplaceAllString(text, "${1}")
	text = chatLeadRE.ReplaceAllString(text, "")
	text = backtickRE.ReplaceAllStringFunc(text, func(m string) string {
		inner := backtickRE.FindStringSubmatch(m)[1]
		if snakeEventRE.MatchString(inner) || strings.Contains(inner, ".") {
			return inner
		}
		return `"` + inner + `"`
	})
	text = eventIsRE.ReplaceAllString(text, "${1}")
	text = attrValueRE.ReplaceAllString(text, "${1} is ${2}")
	text = theAttrRE.ReplaceAllString(text, "${1}")
	text = checkWhetherRE.ReplaceAllString(text, "Check: ")
	text = nextWeeksRE.ReplaceAllString(text, "the coming ${1}'s")
	text = eventLabelRE.ReplaceAllStringFunc(text, func(m string) string {
		s := eventLabelRE.FindStringSubmatch(m)
		if strings.HasPrefix(strings.TrimSpace(s[1]), "(") {
			return s[1] + s[2]
		}
		return s[1] + "Trigger: " + s[2] + ".\n"
	})
	text = namedGoalRE.ReplaceAllString(text, "Goal: ${1} (${2})")
	text = goalCalledRE.ReplaceAllStringFunc(text, func(m string) string {
		s := goalCalledRE.FindStringSubmatchIndex(m)
		lead := strings.TrimRight(m[:s[0]+len(m[s[0]:])-len(strings.TrimLeft(m[s[0]:], ".;, -"))], " ")
		if id := identInPhraseRE.FindStringSubmatch(lowerASCII(m[:s[2]-1])); id != nil {
			return lead + " Goal: " + m[s[2]:s[3]] + " (" + id[1] + ")"
		}
		return lead + " that's our goal (" + m[s[2]:s[3]] + ")"
	})
	text = theyGetRE.ReplaceAllString(text, "send them")
	if m := whenParenRE.FindStringSubmatchIndex(text); m != nil && !stepWordRE.MatchString(text[:m[0]]) {
		text = text[:m[0]] + text[m[2]:m[3]] + "Trigger: " + text[m[4]:m[5]] + ".\n" + text[m[1]:]
	}
	text = whenIdentRE.ReplaceAllString(text, "${1} the ${2} event arrives")
	text = nothingElseRE.ReplaceAllString(text, "")
	text = skipAnd(text)
	text = schedLabelRE.ReplaceAllStringFunc(text, func(m string) string {
		s := schedLabelRE.FindStringSubmatch(m)
		return s[1] + "Every " + dayNames[strings.ToLower(s[2])]
	})
	text = audLabelRE.ReplaceAllString(text, "Audience: segment ")
	text = segShortRE.ReplaceAllString(text, "segment ${1}")
	text = startsItRE.ReplaceAllString(text, "${1}Trigger: ${2}.\n")
	text = triggerIsRE.ReplaceAllString(text, "Trigger: ${1}.\n")
	text = bareTriggerRE.ReplaceAllString(text, "${1}Trigger: ${2}.\n")
	text = pushVerbRE.ReplaceAllString(text, "send $1 $2 push$3")
	text = titleTriggerRE.ReplaceAllString(text, "${1}\nTrigger: ${3}.\n")
	text = identTriggerRE.ReplaceAllString(text, "Trigger: ${2}.\n")
	text = askLeadRE.ReplaceAllString(text, "${1}${2}")
	text = byThenRE.ReplaceAllString(text, "${1} that time") // "then" here is no next step
	text = perSlashRE.ReplaceAllStringFunc(text, func(m string) string {
		unit := strings.TrimSpace(perSlashRE.FindStringSubmatch(m)[1])
		if u, ok := shortUnits[strings.ToLower(unit)]; ok {
			unit = strings.TrimSuffix(u, "s") // "3/wk": per week
		}
		return " per " + unit
	})
	text = insteadOfRE.ReplaceAllString(text, "instead")
	text = bangRE.ReplaceAllString(text, "${1}not ${2}")
	text = dayCodeRE.ReplaceAllString(text, "${1}${3}day ${2}${4}")
	text = shortDurRE.ReplaceAllStringFunc(text, func(m string) string {
		s := shortDurRE.FindStringSubmatch(m)
		return s[1] + " " + shortUnits[strings.ToLower(s[2])]
	})
	text = moneyRE.ReplaceAllStringFunc(text, func(m string) string {
		s := moneyRE.FindStringSubmatch(m)
		n := m[:len(m)-len(strings.TrimLeft(m, "$€£ "))] + strings.ReplaceAll(s[1], ",", "") + s[2]
		if s[3] != "" && s[2] == "" {
			n += "000"
		}
		return n
	})
	text = atInstantRE.ReplaceAllString(text, "${1}wait until ${3}, then ${2}")
	text = orWithinRE.ReplaceAllString(text, "wait up to ${2} for ${1}")
	text = waitUpToRE.ReplaceAllString(text, "wait up to ${2} for ${1}")
	text = moreRE.ReplaceAllString(text, "${1} ${2}")
	text = arrivedRE.ReplaceAllString(text, "if they do")
	text = ranOutRE.ReplaceAllString(text, "if not")
	return thousandsRE.ReplaceAllStringFunc(text, func(m string) string { return strings.ReplaceAll(m, ",", "") })
}

// instantPattern is a moment in RFC 3339: 2027-01-24T09:00:00Z.
const instantPattern = `\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2})?(?:[Zz]|[+-]\d{2}:\d{2})`

// dayNames are the days' names by their first three letters.
var dayNames = map[string]string{"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}

var insteadWordRE = regexp.MustCompile(`(?i)\binstead\b`)

// skipAnd rewrites "skip the email and call our webhook" as "call our
// webhook instead": the step replaces the message for those it is said of.
func skipAnd(text string) string {
	for {
		m := skipAndRE.FindStringIndex(text)
		if m == nil {
			return text
		}
		end := len(text)
		for i := m[1]; i < len(text); i++ {
			if c := text[i]; c == '\n' || c == ';' || (c == '.' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n')) {
				end = i
				break
			}
		}
		rest := text[m[1]:end]
		if !insteadWordRE.MatchString(rest) {
			rest += " instead"
		}
		text = text[:m[0]] + rest + text[end:]
	}
}

// fromDate says a signed offset from a date attribute in words: "-", "2",
// "h", "webinar_start" is "2 hours before webinar_start".
func fromDate(sign, n, unit, attr string) string {
	dir := " after "
	if sign == "-" {
		dir = " before "
	}
	return n + " " + shortUnits[strings.ToLower(unit[:1])] + dir + attr
}

// letterSplitArms letters the arms of a split said as its shares then its
// arms, one per share, with no letters: "50/50 split: sms | whatsapp" is
// "split 50/50: A: sms, B: whatsapp". A split word must be there, and the
// arms as many as the shares; otherwise the text is left as it is.
func letterSplitArms(text string) string {
	return splitListRE.ReplaceAllStringFunc(text, func(m string) string {
		sm := splitListRE.FindStringSubmatch(m)
		if !strings.Contains(strings.ToLower(m[:len(m)-len(sm[2])]), "split") {
			return m
		}
		shares := strings.Split(strings.ReplaceAll(sm[1], " ", ""), "/")
		arms := armSepRE.Split(strings.TrimSpace(sm[2]), -1)
		if len(arms) != len(shares) {
			return m
		}
		var b strings.Builder
		b.WriteString("split " + strings.Join(shares, "/") + ":")
		for i, a := range arms {
			if a == "" || letteredRE.MatchString(a) {
				return m
			}
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %c: %s", 'A'+i, a)
		}
		return b.String()
	})
}

package offline

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// The words explain uses for entries, steps, events, conditions and
// schedules.

// entryText says how customers enter through an entry step.
func entryText(n graph.Node) string {
	switch n.Type {
	case "event_entry":
		ev := stepField(n, "event_type")
		s := fmt.Sprintf("Customers enter this journey when they %s (event %q)", eventPhrase(ev), ev)
		if f := filterText(n); f != "" {
			s += ", only when " + f
		}
		return s
	case "segment_entry":
		s := fmt.Sprintf("Customers enter this journey when they join the segment %q", stepField(n, "segment_id"))
		if c := stepField(n, "schedule"); c != "" {
			s += fmt.Sprintf(" (membership is checked %s)", cronText(c))
		}
		return s
	case "webhook_entry":
		s := "Customers enter this journey when another system calls its webhook"
		if d := stepField(n, "description"); d != "" {
			s += fmt.Sprintf(" (%s)", strings.TrimRight(d, "."))
		}
		return s
	case "scheduled_entry":
		who := "every customer"
		if seg := stepField(n, "segment_id"); seg != "" {
			who = fmt.Sprintf("the customers in the segment %q", seg)
		}
		s := fmt.Sprintf("The journey starts %s for %s", cronText(stepField(n, "cron")), who)
		if tz := stepField(n, "timezone"); tz != "" {
			s += fmt.Sprintf(" (times in %s)", tz)
		}
		return s
	}
	return fmt.Sprintf("Customers enter through the %s step %q", n.Type, n.ID)
}

// filterText renders an event filter: `its plan is "premium"`.
func filterText(n graph.Node) string {
	f, _ := stepConfigMap(n)["filter"].(map[string]any)
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, _ := json.Marshal(f[k])
		parts[i] = fmt.Sprintf("its %s is %s", strings.ReplaceAll(k, "_", " "), v)
	}
	return listAnd(parts)
}

// stepText says what one step does, as a sentence.
func (n *narrator) stepText(node graph.Node) string {
	c := stepConfigMap(node)
	str := func(k string) string { s, _ := c[k].(string); return s }
	named := ""
	if node.Label != "" && !labelSaysTemplate(node.Label, str("template_id")) {
		named = fmt.Sprintf(" (%q)", node.Label)
	}
	switch node.Type {
	case "send_email", "send_sms", "send_push", "send_whatsapp":
		return messageText(node.Type, c) + named + "."
	case "call_webhook":
		method := str("method")
		if method == "" {
			method = "POST"
		}
		return fmt.Sprintf("Calls the webhook %s %s%s.", method, str("url"), named)
	case "wait":
		return fmt.Sprintf("Waits %s.", humanDuration(str("duration")))
	case "wait_until":
		until := str("until")
		if strings.HasPrefix(until, "customer.") {
			return fmt.Sprintf("Waits until the time in the customer's %s.", attrWords(strings.TrimPrefix(until, "customer.")))
		}
		return fmt.Sprintf("Waits until %s.", until)
	case "wait_for_event":
		ev := str("event_type")
		s := fmt.Sprintf("Waits up to %s for them to %s (event %q)", humanDuration(str("timeout")), eventPhrase(ev), ev)
		if f := filterText(node); f != "" {
			s += ", counting only events where " + f
		}
		return s + "."
	case "condition":
		return fmt.Sprintf("Checks whether %s.", celText(str("expression")))
	case "ab_split":
		keys, weights := splitVariants(node)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%d%% to variant %s", splitPercent(weights, i), k)
		}
		return fmt.Sprintf("Splits customers at random into an A/B test: %s.", listAnd(parts))
	case "frequency_cap":
		m, _ := c["max"].(float64)
		return fmt.Sprintf("Checks the frequency cap: at most %s per %s.", messageCount(int(m), str("channel")), windowWords(str("window")))
	case "update_profile":
		set, _ := c["set"].(map[string]any)
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			v, _ := json.Marshal(set[k])
			parts[i] = fmt.Sprintf("%s to %s", attrWords(k), v)
		}
		return "Updates the customer's profile: sets " + listAnd(parts) + "."
	case "add_tag":
		return fmt.Sprintf("Tags the customer %q.", str("tag"))
	case "remove_tag":
		return fmt.Sprintf("Removes the tag %q from the customer.", str("tag"))
	case "custom_code":
		if str("language") == "lua" {
			return "Runs a custom Lua snippet" + named + "."
		}
		return "Runs custom code" + named + "."
	case "goal_reached":
		s := fmt.Sprintf("Records that they reached the goal %q", str("goal_name"))
		if b, _ := c["exit_after_goal"].(bool); b {
			return s + " and ends the journey for them."
		}
		if len(n.targets(node.ID, graph.DefaultBranch)) > 0 {
			return s + "; they go on."
		}
		return s + "."
	case "journey_exit":
		if r := str("reason"); r != "" {
			return fmt.Sprintf("Ends the journey for them (%s).", r)
		}
		return "Ends the journey for them."
	}
	return fmt.Sprintf("Runs the %s step %q.", node.Type, node.ID)
}

// labelSaysTemplate reports whether a label only repeats its step's
// template in words ("Welcome email" for welcome_email), so that it need
// not be told.
func labelSaysTemplate(label, template string) bool {
	l := slug(label)
	return template != "" && (strings.HasPrefix(l, template) || strings.HasPrefix(template, l))
}

// messageText says what a message step sends.
func messageText(typ string, c map[string]any) string {
	str := func(k string) string { s, _ := c[k].(string); return s }
	var s string
	switch typ {
	case "send_email":
		s = fmt.Sprintf("Sends the email %q", str("template_id"))
		if subj := str("subject"); subj != "" {
			s += fmt.Sprintf(" with the subject %q", subj)
		}
	case "send_sms":
		s = "Sends an SMS"
		if body := str("body"); body != "" && str("template_id") == "" {
			s += fmt.Sprintf(": %q", clip(body, 80))
		}
	case "send_push":
		s = "Sends a push notification"
		if title := str("title"); title != "" && str("template_id") == "" {
			s += fmt.Sprintf(": %q", clip(title, 80))
		}
	case "send_whatsapp":
		s = "Sends a WhatsApp message"
	}
	if tpl := str("template_id"); tpl != "" && typ != "send_email" {
		s += fmt.Sprintf(" from the template %q", tpl)
	}
	if p := str("provider"); p != "" {
		s += " via " + p
	}
	if from := str("from"); from != "" {
		s += " from " + from
	}
	return s
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// splitVariants reads an ab_split's variant keys and weights.
func splitVariants(n graph.Node) (keys []string, weights []int) {
	var c struct {
		Variants []struct {
			Key    string `json:"key"`
			Weight int    `json:"weight"`
		} `json:"variants"`
	}
	_ = json.Unmarshal(n.Config, &c) // a valid graph's split decodes; a bad one has no variants
	for _, v := range c.Variants {
		if v.Weight > 0 {
			keys, weights = append(keys, v.Key), append(weights, v.Weight)
		}
	}
	return keys, weights
}

// eventDoings are what customers do, for the events journeys often use.
var eventDoings = map[string]string{
	"email_opened": "open the email", "email_clicked": "click a link in the email",
	"sms_clicked": "click the link in the SMS", "push_opened": "open the push notification",
	"push_clicked": "tap the push notification", "whatsapp_opened": "read the WhatsApp message",
	"whatsapp_clicked": "click a link in the WhatsApp message",
	"purchased":        "make a purchase", "purchase": "make a purchase", "order_completed": "complete an order",
	"unsubscribed": "unsubscribe", "signed_up": "sign up", "cart_abandoned": "abandon their cart",
	"added_to_cart": "add something to their cart", "trial_started": "start a trial", "trial_ended": "reach the end of their trial",
	"payment_failed": "have a payment fail", "subscription_cancelled": "cancel their subscription",
	"upgraded": "upgrade", "downgraded": "downgrade", "renewed": "renew", "subscribed": "subscribe",
	"logged_in": "log in", "replied": "reply", "onboarding_completed": "complete onboarding",
	"demo_booked": "book a demo", "app_installed": "install the app", "review_submitted": "leave a review",
	"activated": "activate their account",
}

// eventPhrase says what a customer does to send event ev.
func eventPhrase(ev string) string {
	if w, ok := eventDoings[ev]; ok {
		return w
	}
	return fmt.Sprintf("trigger the %q event", ev)
}

// messageCount writes "2 emails", "1 SMS message".
func messageCount(m int, channel string) string {
	singular := map[string]string{"email": "email", "sms": "SMS message", "push": "push notification",
		"whatsapp": "WhatsApp message", "webhook": "webhook call", "any": "message"}[channel]
	if singular == "" {
		singular = channel + " message"
	}
	if m == 1 {
		return "1 " + singular
	}
	plural := capChannelNames[channel]
	if plural == "" {
		plural = singular + "s"
	}
	return fmt.Sprintf("%d %s", m, plural)
}

// listAnd joins "a", "b" and "c" as "a, b and c".
func listAnd(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// stepBool reads a boolean field of a step's config; false when absent.
func stepBool(n graph.Node, field string) bool {
	b, _ := stepConfigMap(n)[field].(bool)
	return b
}

// attrWords writes an attribute name as words: lifetime_value → "lifetime value".
func attrWords(a string) string { return strings.ReplaceAll(a, "_", " ") }

var (
	celCompareRE = regexp.MustCompile(`^(customer|event|journey)\.([A-Za-z_][\w.]*)\s*(==|!=|>=|<=|>|<)\s*(.+)$`)
	celInListRE  = regexp.MustCompile(`^(customer|event|journey)\.([A-Za-z_][\w.]*)\s+in\s+\[(.*)\]$`)
	celHasRE     = regexp.MustCompile(`^("[^"]*"|'[^']*')\s+in\s+(customer|event|journey)\.([A-Za-z_][\w.]*)$`)
	celSetRE     = regexp.MustCompile(`^has\((customer|event|journey)\.([A-Za-z_][\w.]*)\)$`)
	celBoolRE    = regexp.MustCompile(`^(!?)(customer|event|journey)\.([A-Za-z_][\w.]*)$`)
	celMethodRE  = regexp.MustCompile(`^(customer|event|journey)\.([A-Za-z_][\w.]*)\.(startsWith|endsWith|contains)\(("[^"]*"|'[^']*')\)$`)
	celHasCallRE = regexp.MustCompile(`has\([\w.]+\)`)
	celValueRE   = regexp.MustCompile(`^(?:"[^"\\]*"|'[^'\\]*'|-?\d+(?:\.\d+)?|true|false|null)$`)
)

var celOps = map[string]string{"==": "is", "!=": "is not", ">": "is more than", ">=": "is at least", "<": "is less than", "<=": "is at most"}

// celText renders a CEL expression in words where it is simple (comparisons
// of attributes with values, joined by && or ||, no parentheses); otherwise
// it quotes the expression.
func celText(expr string) string {
	expr = strings.TrimSpace(expr)
	if !strings.ContainsAny(stripHas(expr), "()") || celMethodRE.MatchString(expr) {
		for _, join := range []struct{ op, word string }{{"||", " or "}, {"&&", " and "}} {
			if parts := strings.Split(expr, join.op); len(parts) > 1 {
				words := make([]string, len(parts))
				for i, p := range parts {
					w, ok := celAtom(strings.TrimSpace(p))
					if !ok {
						return fmt.Sprintf("the condition `%s` holds", expr)
					}
					words[i] = w
				}
				return strings.Join(words, join.word)
			}
		}
		if w, ok := celAtom(expr); ok {
			return w
		}
	}
	return fmt.Sprintf("the condition `%s` holds", expr)
}

// stripHas removes has(...) calls so that their parentheses do not count.
func stripHas(expr string) string { return celHasCallRE.ReplaceAllString(expr, "has") }

// celAtom renders one comparison, or reports that it is not a simple one.
func celAtom(a string) (string, bool) {
	subject := func(root, attr string) string {
		return fmt.Sprintf("the %s's %s", root, attrWords(attr))
	}
	if m := celCompareRE.FindStringSubmatch(a); m != nil && celValueRE.MatchString(strings.TrimSpace(m[4])) {
		return fmt.Sprintf("%s %s %s", subject(m[1], m[2]), celOps[m[3]], celLiteral(m[4])), true
	}
	if m := celInListRE.FindStringSubmatch(a); m != nil {
		var vals []string
		for _, v := range strings.Split(m[3], ",") {
			if v = strings.TrimSpace(v); !celValueRE.MatchString(v) {
				return "", false
			}
			vals = append(vals, celLiteral(v))
		}
		return fmt.Sprintf("%s is one of %s", subject(m[1], m[2]), strings.Join(vals, ", ")), true
	}
	if m := celHasRE.FindStringSubmatch(a); m != nil {
		return fmt.Sprintf("%s include %s", subject(m[2], m[3]), celLiteral(m[1])), true
	}
	if m := celSetRE.FindStringSubmatch(a); m != nil {
		return fmt.Sprintf("%s is set", subject(m[1], m[2])), true
	}
	if m := celMethodRE.FindStringSubmatch(a); m != nil {
		verb := map[string]string{"startsWith": "starts with", "endsWith": "ends with", "contains": "contains"}[m[3]]
		return fmt.Sprintf("%s %s %s", subject(m[1], m[2]), verb, celLiteral(m[4])), true
	}
	if m := celBoolRE.FindStringSubmatch(a); m != nil {
		if m[1] == "!" {
			return subject(m[2], m[3]) + " is false", true
		}
		return subject(m[2], m[3]) + " is true", true
	}
	return "", false
}

// celLiteral writes a CEL literal for a reader: strings in double quotes.
func celLiteral(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "'") {
		return strconv.Quote(strings.Trim(v, "'"))
	}
	return v
}

var cronWeekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// cronText says when a 5-field cron schedule runs, for the common shapes;
// others are quoted.
func cronText(expr string) string {
	f := strings.Fields(expr)
	quoted := fmt.Sprintf("on the schedule %q", expr)
	if len(f) != 5 {
		return quoted
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	if month != "*" {
		return quoted
	}
	if strings.HasPrefix(minute, "*/") && hour == "*" && dom == "*" && dow == "*" {
		return "every " + strings.TrimPrefix(minute, "*/") + " minutes"
	}
	mi, errM := strconv.Atoi(minute)
	if hour == "*" && dom == "*" && dow == "*" && errM == nil {
		return fmt.Sprintf("every hour at minute %d", mi)
	}
	h, errH := strconv.Atoi(hour)
	if errM != nil || errH != nil {
		return quoted
	}
	at := fmt.Sprintf("at %02d:%02d", h, mi)
	switch {
	case dom == "*" && dow == "*":
		return "every day " + at
	case dom == "*" && (dow == "1-5" || dow == "MON-FRI"):
		return "every weekday " + at
	case dom == "*":
		var days []string
		for _, d := range strings.Split(dow, ",") {
			i, err := strconv.Atoi(d)
			if err != nil || i < 0 || i > 7 {
				return quoted
			}
			days = append(days, cronWeekdays[i%7])
		}
		return "every " + listAnd(days) + " " + at
	case dow == "*":
		if d, err := strconv.Atoi(dom); err == nil {
			return fmt.Sprintf("on day %d of every month %s", d, at)
		}
	}
	return quoted
}

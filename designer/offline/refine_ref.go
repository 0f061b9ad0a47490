package offline

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// stepKind is a kind of step a refinement can name: "email", "wait", …
type stepKind struct {
	singular, plural string
	types            []string
}

var (
	stepsEmail     = stepKind{"email", "emails", []string{"send_email"}}
	stepsSMS       = stepKind{"SMS", "SMS messages", []string{"send_sms"}}
	stepsPush      = stepKind{"push notification", "push notifications", []string{"send_push"}}
	stepsWhatsApp  = stepKind{"WhatsApp message", "WhatsApp messages", []string{"send_whatsapp"}}
	stepsWebhook   = stepKind{"webhook call", "webhook calls", []string{"call_webhook"}}
	stepsMessage   = stepKind{"message", "messages", []string{"send_email", "send_sms", "send_push", "send_whatsapp"}}
	stepsWait      = stepKind{"wait", "waits", graph.TypesHolding(graph.HoldsWait)}
	stepsABTest    = stepKind{"A/B test", "A/B tests", []string{"ab_split"}}
	stepsCondition = stepKind{"condition", "conditions", []string{"condition"}}
	stepsGoal      = stepKind{"goal", "goals", []string{"goal_reached"}}
	stepsExit      = stepKind{"exit step", "exit steps", []string{"journey_exit"}}
	stepsTag       = stepKind{"tag step", "tag steps", []string{"add_tag", "remove_tag"}}
	stepsEntry     = stepKind{"entry", "entries", typesWhere(func(k graph.Kind) bool { return k.Group == graph.GroupEntry })}
	// stepsAny is every step after the entry: "remove the last step".
	stepsAny = stepKind{"step", "steps", typesWhere(func(k graph.Kind) bool { return k.Group != graph.GroupEntry })}
)

// typesWhere lists the catalog's node types whose kind passes keep.
func typesWhere(keep func(graph.Kind) bool) []string {
	var out []string
	for _, k := range graph.Kinds() {
		if keep(k) {
			out = append(out, k.Type)
		}
	}
	return out
}

// stepKindWords maps the words for a step to its kind, longest phrases first.
var stepKindWords = []struct {
	pattern string
	kind    stepKind
}{
	{`e-?mails?|mails?`, stepsEmail},
	{`text messages?|sms(?:es)?(?: messages?)?|texts?`, stepsSMS},
	{`push(?:es)?(?: notifications?)?|notifications?`, stepsPush},
	{`whats-?app(?: messages?)?`, stepsWhatsApp},
	{`webhooks?(?: calls?)?`, stepsWebhook},
	{`messages?`, stepsMessage},
	{`waits?|delays?|pauses?|timeouts?`, stepsWait},
	{`a/?b[ -]?(?:tests?|splits?)|split[ -]?tests?|splits?|experiments?`, stepsABTest},
	{`conditions?`, stepsCondition},
	{`goals?`, stepsGoal},
	{`exit (?:steps?|nodes?)`, stepsExit},
	{`tags?(?: steps?)?`, stepsTag},
	{`entry|entries|entry points?|triggers?`, stepsEntry},
	{`steps?|nodes?`, stepsAny},
}

const stepOrdinalPattern = `first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|final|\d+(?:st|nd|rd|th)`

var (
	stepRefPattern    = regexp.MustCompile(`(?i)\b(?:(` + stepOrdinalPattern + `)\s+)?(?:([a-z0-9_]+)\s+)?(` + stepKindPattern() + `)\b`)
	numberedOrdinalRE = regexp.MustCompile(`^\d{1,4}(st|nd|rd|th)$`)
	ordinalValues     = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
		"sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "final": -1}
	stepKindMatchers = func() []*regexp.Regexp {
		out := make([]*regexp.Regexp, len(stepKindWords))
		for i, kw := range stepKindWords {
			out[i] = regexp.MustCompile(`(?i)^(?:` + kw.pattern + `)$`)
		}
		return out
	}()
)

func stepKindPattern() string {
	parts := make([]string, len(stepKindWords))
	for i, kw := range stepKindWords {
		parts[i] = kw.pattern
	}
	return strings.Join(parts, "|")
}

// stepRef is a phrase naming a step: "the second email", "the SMS", "the
// welcome email".
type stepRef struct {
	kind    stepKind
	ordinal int    // 1-based position; -1 for the last; 0 when not given
	hint    string // a word before the kind ("welcome"), matched against template ids and labels
	// definite is true for "the email", "the second email", "the welcome
	// email": a step that exists, not a new one ("an SMS").
	definite bool
	text     string // the phrase as written
	start    int    // where the phrase starts in the sentence
}

// refHintStopWords are words before a kind that say nothing about which step.
var refHintStopWords = map[string]bool{"the": true, "a": true, "an": true, "this": true, "that": true, "my": true,
	"our": true, "add": true, "remove": true, "delete": true, "drop": true, "send": true, "to": true, "of": true,
	"on": true, "in": true, "for": true, "after": true, "before": true, "each": true, "every": true, "other": true,
	"another": true, "new": true, "change": true, "set": true, "make": true, "rename": true, "use": true, "test": true}

var (
	refDefiniteWords    = map[string]bool{"the": true, "this": true, "that": true, "its": true, "their": true}
	refIndefiniteBefore = regexp.MustCompile(`(?i)\b(?:a|an|another|one more|new)\s+$`)
	refDefiniteBefore   = regexp.MustCompile(`(?i)\b(?:the|this|that|its|their)\s+$`)
)

// findRefs returns the steps named in s, in order of appearance.
func findRefs(s string) []stepRef {
	var refs []stepRef
	for _, m := range stepRefPattern.FindAllStringSubmatchIndex(s, -1) {
		r := stepRef{text: s[m[0]:m[1]], start: m[0]}
		word := s[m[6]:m[7]]
		for i, re := range stepKindMatchers {
			if re.MatchString(word) {
				r.kind = stepKindWords[i].kind
				break
			}
		}
		if m[2] >= 0 {
			r.ordinal = ordinalOf(s[m[2]:m[3]])
		}
		if m[4] >= 0 {
			hint := strings.ToLower(s[m[4]:m[5]])
			if !refHintStopWords[hint] && len(hint) >= 3 {
				r.hint = hint
			}
			r.definite = r.hint != "" || refDefiniteWords[hint]
		}
		r.definite = r.definite || r.ordinal != 0 || refDefiniteBefore.MatchString(s[:m[0]])
		if r.ordinal == 0 && refIndefiniteBefore.MatchString(s[:m[0]]) { // "a reminder email" is a new one
			r.definite = false
		}
		refs = append(refs, r)
	}
	return refs
}

// ordinalOf reads "second", "last" or "2nd"; 0 when s is none of these.
func ordinalOf(s string) int {
	s = strings.ToLower(s)
	if n, ok := ordinalValues[s]; ok {
		return n
	}
	if numberedOrdinalRE.MatchString(s) {
		if n, err := strconv.Atoi(s[:len(s)-2]); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// ofKind returns the steps of kind k in path order.
func (e *editGraph) ofKind(k stepKind) []graph.Node {
	var out []graph.Node
	for _, id := range pathOrder(e.g) {
		if n := e.node(id); n != nil && slices.Contains(k.types, n.Type) {
			out = append(out, *n)
		}
	}
	return out
}

// resolve finds the one step r names. Without an ordinal it needs the kind
// to be unique in the journey, or the hint to pick one step.
func (e *editGraph) resolve(r stepRef) (graph.Node, error) {
	all := e.ofKind(r.kind)
	if len(all) == 0 {
		return graph.Node{}, fmt.Errorf("there is no %s in this journey", r.kind.singular)
	}
	switch {
	case r.ordinal == -1:
		return all[len(all)-1], nil
	case r.ordinal > len(all):
		return graph.Node{}, fmt.Errorf("there is no %s %s in this journey (it has %s)", stepOrdinal(r.ordinal), r.kind.singular, countSteps(len(all), r.kind))
	case r.ordinal > 0:
		return all[r.ordinal-1], nil
	case len(all) == 1:
		return all[0], nil
	}
	if r.hint != "" {
		var hits []graph.Node
		for _, n := range all {
			if strings.Contains(strings.ToLower(n.ID+" "+n.Label+" "+stepField(n, "template_id")+" "+stepField(n, "goal_name")), r.hint) {
				hits = append(hits, n)
			}
		}
		if len(hits) == 1 {
			return hits[0], nil
		}
	}
	return graph.Node{}, fmt.Errorf("this journey has %s; say which one, e.g. \"the second %s\"", countSteps(len(all), r.kind), r.kind.singular)
}

// countSteps says "1 email" or "3 emails".
func countSteps(n int, k stepKind) string {
	if n == 1 {
		return "1 " + k.singular
	}
	return fmt.Sprintf("%d %s", n, k.plural)
}

// stepOrdinal writes 2 as "second" and 12 as "12th".
func stepOrdinal(n int) string {
	for w, v := range ordinalValues {
		if v == n && w != "final" {
			return w
		}
	}
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// describeStep names a step for explanations: `the email "welcome_email"`.
func describeStep(n graph.Node) string {
	name := n.Label
	for _, f := range []string{"template_id", "goal_name", "tag"} {
		if name == "" {
			name = stepField(n, f)
		}
	}
	if name == "" {
		name = n.ID
	}
	what := strings.ReplaceAll(n.Type, "_", " ")
	for _, kw := range stepKindWords {
		if kw.kind.singular != "message" && slices.Contains(kw.kind.types, n.Type) {
			what = kw.kind.singular
			break
		}
	}
	return fmt.Sprintf("the %s %q", what, name)
}

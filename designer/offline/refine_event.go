package offline

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/kalcifer/kalcifer/graph"
)

// Rules that change which customer events a journey reacts to: the event
// that starts it and the events its waits wait for.

var (
	edWaitForRE = regexp.MustCompile(`\bwaits? for\s+(.+?)(?:\s+instead\b(?:\s+of\s+(.+))?|\s+rather than\s+(.+))?$`)
	edStartRE   = regexp.MustCompile(`^(?:start|starts|trigger|begin|enter)\b.*?\b(?:when|once|after|if|on)\s+(.+)$|^(?:change|set|make)\s+the\s+(?:trigger|entry|start)\b.*?\b(?:to|when|on)\s+(.+)$`)
)

// ruleWaitEvent: "wait for a click instead of an open" changes the event a
// wait_for_event waits for.
func ruleWaitEvent(e *editGraph, s, low string) (string, bool, error) {
	m := edWaitForRE.FindStringSubmatch(low)
	if m == nil || !edReplaceRE.MatchString(low) && m[2] == "" && m[3] == "" {
		return "", false, nil
	}
	if _, _, ok := findDuration(low); ok { // "change the wait for the open to 5 days" is about its length
		return "", false, nil
	}
	event, ok := eventOf(m[1], "email")
	if !ok {
		return "", false, nil
	}
	waits := e.ofKind(stepKind{"wait for an event", "waits for an event", []string{"wait_for_event"}})
	if len(waits) == 0 {
		return "", true, errors.New("this journey has no wait for an event; describe one, e.g. \"add a push reminder for people who don't open the first email\"")
	}
	var target graph.Node
	old, hasOld := eventOf(m[2]+m[3], "email")
	switch ref := e.waitRef(s); {
	case ref != nil:
		n, err := e.resolve(*ref)
		if err != nil {
			return "", true, err
		}
		target = n
	case hasOld:
		for _, w := range waits {
			if stepField(w, "event_type") == old {
				target = w
				break
			}
		}
		if target.ID == "" {
			return "", true, fmt.Errorf("no wait in this journey waits for the %q event", old)
		}
	case len(waits) == 1:
		target = waits[0]
	default:
		return "", true, fmt.Errorf("this journey has %d waits for events; say which one, e.g. \"make the second wait wait for a click instead\"", len(waits))
	}
	if target.Type != "wait_for_event" {
		return "", true, fmt.Errorf("%s waits for a time, not an event", e.name(target))
	}
	what := e.name(target)
	before := stepField(target, "event_type")
	if before == event {
		return "", true, fmt.Errorf("%s already waits for the %q event", what, event)
	}
	n := e.node(target.ID)
	c := stepConfigMap(*n)
	c["event_type"] = event
	setStepConfig(n, c)
	n.Label = regexp.MustCompile(`\b`+regexp.QuoteMeta(before)+`\b`).ReplaceAllLiteralString(n.Label, event)
	return fmt.Sprintf("%s now waits for them to %s (event %q) instead of %s.", sentenceCase(what), eventPhrase(event), event, eventPhrase(before)), true, nil
}

// ruleEntry: "start the journey when they make a purchase" makes the entry
// an event entry on that event.
func ruleEntry(e *editGraph, _, low string) (string, bool, error) {
	m := edStartRE.FindStringSubmatch(low)
	if m == nil {
		return "", false, nil
	}
	event, ok := eventOf(m[1]+m[2], "email")
	if !ok {
		return "", true, errors.New("say which customer event starts the journey, e.g. \"start the journey when they sign up\"")
	}
	entries := e.ofKind(stepsEntry)
	if len(entries) != 1 {
		return "", true, fmt.Errorf("this journey has %d entries; change the one you mean in the editor", len(entries))
	}
	n := e.node(entries[0].ID)
	before := entryText(*n)
	if n.Type == "event_entry" && stepField(*n, "event_type") == event {
		return "", true, fmt.Errorf("the journey already starts on the %q event", event)
	}
	n.Type, n.Label = "event_entry", ""
	setStepConfig(n, map[string]any{"event_type": event})
	return fmt.Sprintf("Changed how customers enter: %s (before: %s).", lowerFirst(entryText(*n)), lowerFirst(before)), true, nil
}

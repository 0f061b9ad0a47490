package offline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// The rules that read one clause of a refinement. Each works on s (as
// written, for names and template ids) and low (lower-cased, for words).

var (
	edRenameRE      = regexp.MustCompile(`(?i)^(?:rename|relabel|call|name|label)\s+(.+?)\s+(?:(?:to|as)\s+["'“]?(.+?)["'”]?|["'“](.+?)["'”])$`)
	edJourneyWordRE = regexp.MustCompile(`^(?:the |this )?(?:journey|campaign|flow|workflow)$`)
)

// ruleRename: "rename the first email to Welcome" sets a step's label.
func ruleRename(e *editGraph, s, _ string) (string, bool, error) {
	m := edRenameRE.FindStringSubmatch(s)
	if m == nil {
		return "", false, nil
	}
	m[2] += m[3] // "rename X to Y" or "call X 'Y'"
	if edJourneyWordRE.MatchString(strings.ToLower(m[1])) {
		return "", true, errors.New("a journey's name is not part of its graph; rename it in the journey's settings")
	}
	refs := findRefs(m[1])
	if len(refs) == 0 {
		return "", true, fmt.Errorf("say which step to rename, e.g. \"rename the first email to Welcome\"")
	}
	n, err := e.resolve(refs[0])
	if err != nil {
		return "", true, err
	}
	if n.Type == "goal_reached" { // a goal is known by its name, not its label
		change, err := e.setField(n.ID, "goal_name", slug(m[2]))
		return change, true, err
	}
	what := e.name(n)
	e.node(n.ID).Label = m[2]
	return fmt.Sprintf("Renamed %s to %q.", what, m[2]), true, nil
}

var (
	edRemoveRE       = regexp.MustCompile(`^(?:remove|delete|drop|get rid of|take out|cut out|skip)\b`)
	edRemoveWhoRE    = regexp.MustCompile(`^(?:remove|take out|drop) (?:them|customers|people|users|everyone)\b`)
	edExitCriteriaRE = regexp.MustCompile(`\bexit (?:criteria|criterion|conditions?|editRules?|events?)\b|\bexit when\b|\bexiting\b`)
	edCapWordRE      = regexp.MustCompile(`\b(?:frequency )?caps?\b|\blimits?\b`)
)

// ruleRemove: "remove the second email" splices a step out; "remove the exit
// criteria" and "remove the email cap" clear journey settings.
func ruleRemove(e *editGraph, s, low string) (string, bool, error) {
	if !edRemoveRE.MatchString(low) || edRemoveWhoRE.MatchString(low) { // "remove them when they unsubscribe" is an exit
		return "", false, nil
	}
	switch {
	case edExitCriteriaRE.MatchString(low):
		if e.g.ExitCriteria == nil {
			return "", true, errors.New("this journey has no exit criteria to remove")
		}
		e.g.ExitCriteria = nil
		return "Removed the exit criteria: customers now stay until their path ends.", true, nil
	case edCapWordRE.MatchString(low):
		return ruleRemoveCaps(e, low)
	}
	refs := findRefs(s)
	if len(refs) == 0 {
		return "", true, errors.New("say which step to remove, e.g. \"remove the second email\"")
	}
	n, err := e.resolve(refs[0])
	if err != nil {
		return "", true, err
	}
	change, err := e.removeStep(n)
	return change, true, err
}

// ruleRemoveCaps drops the frequency caps of the channels named in low, or all.
func ruleRemoveCaps(e *editGraph, low string) (string, bool, error) {
	if len(e.g.FrequencyCap) == 0 {
		return "", true, errors.New("this journey has no frequency cap to remove")
	}
	chans := capChannelsIn(low)
	if len(chans) == 0 {
		for ch := range e.g.FrequencyCap {
			chans = append(chans, ch)
		}
		sort.Strings(chans)
	}
	var gone []string
	for _, ch := range chans {
		if _, ok := e.g.FrequencyCap[ch]; ok {
			delete(e.g.FrequencyCap, ch)
			gone = append(gone, capChannelNames[ch])
		}
	}
	if len(gone) == 0 {
		return "", true, fmt.Errorf("this journey has no frequency cap on %s", capChannelNames[chans[0]])
	}
	if len(e.g.FrequencyCap) == 0 {
		e.g.FrequencyCap = nil
	}
	return "Removed the frequency cap on " + strings.Join(gone, " and ") + ".", true, nil
}

var (
	edAbRE       = regexp.MustCompile(`\ba/?b[ -]?(?:test|split)|\bsplit[ -]?test|\bexperiment\b|\bab test\b|\bsplit\b.*\b\d{1,3}\s*[/:-]\s*\d{1,3}\b`)
	edWeightsRE  = regexp.MustCompile(`\b\d{1,3}%?(?:\s*(?:/|:|-|vs\.?|versus|to)\s*\d{1,3}%?){1,4}\b`)
	edVariantsRE = regexp.MustCompile(`\b(two|three|four|five|2|3|4|5)[ -](?:variants|versions|ways?|arms)\b`)
	edNumberRE   = regexp.MustCompile(`\d+`)
)

// ruleABTest: "add an A/B test on the first email with 70/30 split".
func ruleABTest(e *editGraph, s, low string) (string, bool, error) {
	if !edAbRE.MatchString(low) {
		return "", false, nil
	}
	weights := []int{50, 50}
	if m := edWeightsRE.FindString(low); m != "" {
		weights = nil
		for _, w := range edNumberRE.FindAllString(m, -1) {
			n, _ := strconv.Atoi(w)
			weights = append(weights, n)
		}
	} else if m := edVariantsRE.FindStringSubmatch(low); m != nil {
		n := map[string]int{"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}[m[1]]
		weights = make([]int, n)
		for i := range weights {
			weights[i] = 100 / n
		}
		weights[0] += 100 % n
	}
	if len(weights) < 2 || len(weights) > 5 || slices.Min(weights) < 1 || slices.Max(weights) > 100 {
		return "", true, errors.New("an A/B test has 2 to 5 variants, each with a weight from 1 to 100, e.g. \"with a 70/30 split\"")
	}
	target, err := e.pick(s, stepsMessage, stepsEmail)
	if err != nil {
		return "", true, err
	}
	change, err := e.addABTest(target, weights)
	return change, true, err
}

// pick resolves the first definite step of kind k named in s ("the first
// email"), else the first definite step of another kind (for the edit to
// say why it does not apply to it); without one, the only step of kind
// fallback.
func (e *editGraph) pick(s string, k, fallback stepKind) (graph.Node, error) {
	refs := findRefs(s)
	for _, r := range refs {
		if r.definite && kindsOverlap(r.kind, k) {
			return e.resolve(r)
		}
	}
	for _, r := range refs {
		if r.definite {
			return e.resolve(r)
		}
	}
	return e.resolve(stepRef{kind: fallback})
}

// kindsOverlap reports whether two kinds share a node type.
func kindsOverlap(a, b stepKind) bool {
	for _, t := range a.types {
		if slices.Contains(b.types, t) {
			return true
		}
	}
	return false
}

var (
	edFallbackRE = regexp.MustCompile(`\b(?:fallback|fall back|back ?up|reminder|remind|nudge|follow[- ]?up|retry)\b`)
	edNonOpenRE  = regexp.MustCompile(`\bnon[- ]?open|\bunopened\b|\b(?:don'?t|doesn'?t|do not|does not|didn'?t|did not|never|haven'?t|have not|hasn'?t|has not|isn'?t|aren'?t|wasn'?t|weren'?t|not|nobody|no one)\b.{0,30}\b(?:open|read)`)
	edFailRE     = regexp.MustCompile(`\b(?:fail|fails|failed|failure|failing|bounce[sd]?|undeliver|can'?t be (?:sent|delivered)|cannot be (?:sent|delivered)|not delivered)`)
)

// ruleFallback: "add SMS fallback for non-openers" (a message for who does
// not open an email) and "add an SMS fallback when the email fails".
func ruleFallback(e *editGraph, s, low string) (string, bool, error) {
	failing := edFailRE.MatchString(low)
	if !edFallbackRE.MatchString(low) && !edNonOpenRE.MatchString(low) && !failing {
		return "", false, nil
	}
	var channel string
	var target *stepRef
	for _, r := range findRefs(s) {
		switch {
		case !kindsOverlap(r.kind, stepsMessage):
		case !r.definite && channel == "" && len(r.kind.types) == 1:
			channel = strings.TrimPrefix(r.kind.types[0], "send_")
		case r.definite && target == nil:
			target = &r
		}
	}
	nonOpen := edNonOpenRE.MatchString(low)
	switch {
	case channel == "" && !failing && !nonOpen:
		return "", false, nil // "remind them to …" without a channel is not a fallback
	case !failing && !nonOpen && edPositionRE.MatchString(low):
		return "", false, nil // "send an SMS reminder after the first email" adds a step
	}
	if failing && !nonOpen {
		return ruleFailureFallback(e, target, channel)
	}
	if channel == "" {
		channel = "sms"
	}
	timeout, _, _ := findDuration(low)
	if target != nil && (target.ordinal != 0 || target.hint != "" || len(e.ofKind(target.kind)) == 1) {
		n, err := e.resolve(*target)
		if err != nil {
			return "", true, err
		}
		if n.Type != "send_email" {
			return "", true, fmt.Errorf("%s is not an email, so it is not opened; a fallback for non-openers follows an email", e.name(n))
		}
		change, err := e.addNonOpenerFallback(n, channel, timeout)
		return change, true, err
	}
	emails := e.ofKind(stepsEmail)
	if len(emails) == 0 {
		return "", true, errors.New("there is no email in this journey, so nobody can fail to open one")
	}
	var firstErr error
	for _, n := range emails { // the first email without such a fallback yet
		trial := newEditGraph(e.g)
		change, err := trial.addNonOpenerFallback(n, channel, timeout)
		if err == nil {
			*e = *trial
			return change, true, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", true, firstErr
}

// ruleFailureFallback adds a message on a step's failed branch.
func ruleFailureFallback(e *editGraph, target *stepRef, channel string) (string, bool, error) {
	var n graph.Node
	if target != nil {
		var err error
		if n, err = e.resolve(*target); err != nil {
			return "", true, err
		}
	} else {
		for _, m := range e.ofKind(stepsMessage) {
			if len(e.targets(m.ID, graph.BranchFailed)) == 0 {
				n = m
				break
			}
		}
		if n.ID == "" {
			return "", true, errors.New("every message of this journey already has a fallback when it fails")
		}
	}
	if channel == "" || channelNodeTypes[channel] == n.Type {
		channel = "sms"
		if n.Type == "send_sms" {
			channel = "email"
		}
	}
	change, err := e.addFailureFallback(n, channel)
	return change, true, err
}

var (
	edInsertRE   = regexp.MustCompile(`^(?:add|insert|put|include|send|wait|delay|pause|tag)\b`)
	edTagRE      = regexp.MustCompile(`^(?:add (?:a |the )?tag|tag(?: them| the customer| customers| people)?(?: as| with)?(?: the tag)?)\s+["'“]?([a-z0-9][a-z0-9_-]*)`)
	edPositionRE = regexp.MustCompile(`\b(before|after|between)\b`)
	edWaitWordRE = regexp.MustCompile(`\b(?:wait|waits|delay|delays|pause|pauses)\b`)
	edQuotedRE   = regexp.MustCompile(`["“']([^"”']+)["”']`)
	edTemplateRE = regexp.MustCompile(`(?i)\btemplate\s+["'“]?([A-Za-z0-9][A-Za-z0-9_.:-]*)`)
)

// ruleInsert: "add a wait of 2 days before the SMS", "send a push after the
// second email".
func ruleInsert(e *editGraph, s, low string) (string, bool, error) {
	pos := edPositionRE.FindStringSubmatchIndex(low)
	if !edInsertRE.MatchString(low) || pos == nil {
		return "", false, nil
	}
	where := low[pos[2]:pos[3]]
	var anchors []stepRef
	for _, r := range findRefs(s[pos[1]:]) {
		if r.definite {
			anchors = append(anchors, r)
		}
	}
	if len(anchors) == 0 {
		return "", false, nil
	}
	anchor := anchors[0]
	if where == "between" { // "between the first email and the second email"
		where = "before"
		if len(anchors) > 1 {
			where, anchor = "after", anchors[0]
		}
	}
	head := low[:pos[0]]
	typ, label, c, what := "", "", map[string]any(nil), ""
	if m := edTagRE.FindStringSubmatch(head); m != nil {
		typ, label, c, what = "add_tag", "Tag "+m[1], map[string]any{"tag": m[1]}, fmt.Sprintf("the tag %q", m[1])
	} else if d, _, ok := findDuration(head); ok && edWaitWordRE.MatchString(head) {
		typ, label, c, what = "wait", "Wait "+humanDuration(d), map[string]any{"duration": d}, "a wait of "+humanDuration(d)
	} else {
		for _, r := range findRefs(s[:pos[0]]) {
			if len(r.kind.types) == 1 && kindsOverlap(r.kind, stepsMessage) && !r.definite {
				channel := strings.TrimPrefix(r.kind.types[0], "send_")
				typ, c, what = r.kind.types[0], addedMessageConfig(channel, s), channelPhrases[channel]
				break
			}
		}
	}
	if typ == "" {
		return "", false, nil
	}
	n, err := e.resolve(anchor)
	if err != nil {
		return "", true, err
	}
	anchorName := e.name(n)
	if where == "before" && graph.IsEntry(n.Type) {
		return "", true, fmt.Errorf("nothing can come before %s: customers start there", anchorName)
	}
	if where == "before" {
		e.insertBefore(n, typ, label, c)
	} else if err := e.insertAfter(n, typ, label, c); err != nil {
		return "", true, err
	}
	return fmt.Sprintf("Added %s %s %s.", what, where, anchorName), true, nil
}

// addedMessageConfig is the config of a message the user asked to add: the
// quoted text or template they gave, or a placeholder to edit.
func addedMessageConfig(channel, s string) map[string]any {
	if m := edTemplateRE.FindStringSubmatch(s); m != nil {
		return map[string]any{"template_id": m[1]}
	}
	text := "Hi {{ customer.first_name }}, we have something for you."
	if m := edQuotedRE.FindStringSubmatch(s); m != nil {
		text = m[1]
	}
	switch channel {
	case "sms":
		return map[string]any{"body": text}
	case "push":
		return map[string]any{"title": "A message for you", "body": text}
	}
	return map[string]any{"template_id": channel + "_followup"}
}

package offline

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// The edits below work on any valid graph, designed here or drawn by hand.
// Each returns a sentence saying what changed, or an error saying why the
// edit cannot be made on this journey.

// name describes a step for the user: `the second email "reminder"`.
func (e *editGraph) name(n graph.Node) string {
	k, ok := stepKindOf(n.Type)
	if !ok {
		return fmt.Sprintf("the %s step %q", strings.ReplaceAll(n.Type, "_", " "), n.ID)
	}
	all := e.ofKind(k)
	pos := slices.IndexFunc(all, func(m graph.Node) bool { return m.ID == n.ID })
	s := "the " + k.singular
	if len(all) > 1 && pos >= 0 {
		s = "the " + stepOrdinal(pos+1) + " " + k.singular
	}
	return s + " " + stepDetail(n)
}

// stepKindOf returns the kind a step of type typ belongs to.
func stepKindOf(typ string) (stepKind, bool) {
	for _, kw := range stepKindWords {
		if kw.kind.singular != stepsMessage.singular && slices.Contains(kw.kind.types, typ) {
			return kw.kind, true
		}
	}
	return stepKind{}, false
}

// stepDetail is what tells a step from others of its kind: its label, template,
// goal, tag or duration.
func stepDetail(n graph.Node) string {
	if n.Label != "" {
		return strconv.Quote(n.Label)
	}
	for _, f := range []string{"template_id", "goal_name", "tag", "reason"} {
		if v := stepField(n, f); v != "" {
			return strconv.Quote(v)
		}
	}
	if d := waitDuration(n); d != "" {
		return "(" + humanDuration(d) + ")"
	}
	return strconv.Quote(n.ID)
}

// waitDuration is a wait's duration or a wait_for_event's timeout, "" for
// other steps.
func waitDuration(n graph.Node) string {
	switch n.Type {
	case "wait":
		return stepField(n, "duration")
	case "wait_for_event":
		return stepField(n, "timeout")
	}
	return ""
}

// setWait changes a wait's duration or a wait_for_event's timeout.
func (e *editGraph) setWait(id, d string) (string, error) {
	n := e.node(id)
	old := waitDuration(*n)
	if old == "" {
		return "", fmt.Errorf("%s has no duration to change", e.name(*n))
	}
	if equalDurations(old, d) {
		return "", fmt.Errorf("%s already lasts %s", e.name(*n), humanDuration(d))
	}
	what := e.name(*n)
	c := stepConfigMap(*n)
	field := "duration"
	if n.Type == "wait_for_event" {
		field = "timeout"
	}
	c[field] = d
	setStepConfig(n, c)
	n.Label = relabelDuration(n.Label, old, d)
	return fmt.Sprintf("Changed %s from %s to %s.", what, humanDuration(old), humanDuration(d)), nil
}

// relabelDuration updates a label that states a wait's length ("Wait 3
// days", "Wait up to 3d for email_opened") so that it stays true.
func relabelDuration(label, old, d string) string {
	for _, pair := range [][2]string{{humanDuration(old), humanDuration(d)}, {old, d}} {
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(pair[0]) + `\b`)
		label = re.ReplaceAllLiteralString(label, pair[1])
	}
	return label
}

// setField sets a string field of a step's config (template_id, subject).
func (e *editGraph) setField(id, field, value string) (string, error) {
	n := e.node(id)
	nt, _ := graph.Lookup(n.Type)
	if !strings.Contains(string(nt.ConfigSchema), `"`+field+`"`) {
		return "", fmt.Errorf("%s has no %s", e.name(*n), strings.ReplaceAll(field, "_", " "))
	}
	what := e.name(*n)
	c := stepConfigMap(*n)
	old, _ := c[field].(string)
	if old == value {
		return "", fmt.Errorf("%s already has %s %q", what, fieldText(field), value)
	}
	c[field] = value
	setStepConfig(n, c)
	if old == "" {
		return fmt.Sprintf("Set the %s of %s to %q.", fieldText(field), what, value), nil
	}
	return fmt.Sprintf("Changed the %s of %s from %q to %q.", fieldText(field), what, old, value), nil
}

func fieldText(field string) string {
	if field == "template_id" {
		return "template"
	}
	return strings.ReplaceAll(field, "_", " ")
}

// channelNodeTypes maps a channel's name to the node type that sends on it.
var channelNodeTypes = map[string]string{"email": "send_email", "sms": "send_sms", "push": "send_push", "whatsapp": "send_whatsapp"}

// channelPhrases names a channel for the user.
var channelPhrases = map[string]string{"email": "an email", "sms": "an SMS", "push": "a push notification", "whatsapp": "a WhatsApp message"}

// addMessage adds a message on channel for the reason given ("reminder"
// for non-openers, "fallback" for failed sends), drawn near the step near.
// Text is the message for channels that carry one; channels that need a
// template get one named after base, the template of the original message.
func (e *editGraph) addMessage(channel, reason, base, text, near string) string {
	var c map[string]any
	switch channel {
	case "sms":
		c = map[string]any{"body": text}
	case "push":
		c = map[string]any{"title": "A message for you", "body": text}
	default:
		if !strings.HasSuffix(base, "_"+channel) { // welcome_email_reminder, not welcome_email_email_reminder
			base += "_" + channel
		}
		c = map[string]any{"template_id": base + "_" + reason}
	}
	label := strings.ToUpper(channel[:1]) + channel[1:] + " " + reason
	if channel == "sms" {
		label = "SMS " + reason
	}
	return e.addNode(channelNodeTypes[channel], label, c, near, 1, 1)
}

// Texts of the messages added for non-openers and failed sends.
const (
	reminderText = "Hi {{ customer.first_name }}, we sent you an email you may have missed. Take a look when you have a moment."
	fallbackText = "Hi {{ customer.first_name }}, we could not reach you by {{ channel }} and have news for you. Please check your account."
)

// addNonOpenerFallback makes customers who do not open email within timeout
// ("" for 3 days) get a message on channel. An email already followed by a
// wait for email_opened gets the message on that wait's timeout branch;
// otherwise such a wait is inserted after the email.
func (e *editGraph) addNonOpenerFallback(email graph.Node, channel, timeout string) (string, error) {
	what := e.name(email)
	for _, t := range e.targets(email.ID, graph.DefaultBranch) {
		w := e.node(t)
		if w.Type != "wait_for_event" || !strings.HasPrefix(stepField(*w, "event_type"), "email_") {
			continue
		}
		_, tb := waitBranches(*w)
		for _, x := range e.targets(w.ID, tb) {
			if n := e.node(x); n.Type == channelNodeTypes[channel] {
				return "", fmt.Errorf("customers who do not open %s already get %s", what, e.name(*n))
			}
		}
		msg := e.addMessage(channel, "reminder", templateBase(email), reminderText, w.ID)
		for i, ed := range e.g.Edges {
			if ed.Source == w.ID && ed.BranchOf() == tb {
				e.g.Edges[i].Source, e.g.Edges[i].Branch = msg, ""
			}
		}
		e.connect(w.ID, msg, tb)
		out := fmt.Sprintf("Customers who do not open %s within %s now get %s, then go on as before.", what, humanDuration(stepField(*w, "timeout")), channelPhrases[channel])
		if timeout != "" && !equalDurations(timeout, stepField(*w, "timeout")) {
			change, err := e.setWait(w.ID, timeout)
			if err != nil {
				return "", err
			}
			out += " " + change
		}
		return out, nil
	}
	if timeout == "" {
		timeout = "3d"
	}
	next := e.targets(email.ID, graph.DefaultBranch)
	w := e.addNode("wait_for_event", "Wait up to "+humanDuration(timeout)+" for email_opened",
		map[string]any{"event_type": "email_opened", "timeout": timeout}, email.ID, 1, 0)
	msg := e.addMessage(channel, "reminder", templateBase(email), reminderText, w)
	e.removeEdges(func(ed graph.Edge) bool { return ed.Source == email.ID && ed.BranchOf() == graph.DefaultBranch })
	e.connect(email.ID, w, "")
	e.connect(w, msg, graph.BranchTimedOut)
	if len(next) == 0 {
		exit := e.addNode("journey_exit", "", map[string]any{"reason": "opened the email"}, w, 1, 0)
		e.connect(w, exit, graph.BranchEventReceived)
	}
	for _, t := range next {
		e.connect(w, t, graph.BranchEventReceived)
		e.connect(msg, t, "")
	}
	return fmt.Sprintf("After %s the journey now waits up to %s for the email to be opened; customers who do not open it get %s, then go on as before.",
		what, humanDuration(timeout), channelPhrases[channel]), nil
}

// templateBase is what a message added for step is named after: its
// template, else its id.
func templateBase(step graph.Node) string {
	if t := stepField(step, "template_id"); t != "" {
		return t
	}
	return step.ID
}

// waitBranches returns a wait_for_event's event and timeout branch names.
func waitBranches(n graph.Node) (event, timeout string) {
	c, _ := graph.DecodeConfig[graph.WaitForEventConfig](n) // a bad config has the default names
	return c.EventBranchName(), c.TimeoutBranchName()
}

// addFailureFallback sends a message on channel when step fails to send,
// then continues where step would have.
func (e *editGraph) addFailureFallback(step graph.Node, channel string) (string, error) {
	what := e.name(step)
	if !graph.IsChannel(step.Type) {
		return "", fmt.Errorf("%s sends nothing, so it cannot fail to send", what)
	}
	if t := e.targets(step.ID, graph.BranchFailed); len(t) > 0 {
		return "", fmt.Errorf("%s already has a fallback when it fails: %s", what, e.name(*e.node(t[0])))
	}
	text := strings.ReplaceAll(fallbackText, "{{ channel }}", map[string]string{"send_email": "email", "send_sms": "text message",
		"send_push": "push notification", "send_whatsapp": "WhatsApp", "call_webhook": "our usual channel"}[step.Type])
	msg := e.addMessage(channel, "fallback", templateBase(step), text, step.ID)
	e.connect(step.ID, msg, graph.BranchFailed)
	for _, t := range e.targets(step.ID, graph.DefaultBranch) {
		e.connect(msg, t, "")
	}
	return fmt.Sprintf("When %s cannot be sent, the customer now gets %s instead.", what, channelPhrases[channel]), nil
}

// addABTest puts step in an A/B test: an ab_split takes its place, its first
// variant leads to step, every other variant to a copy of step with its own
// template, and every copy goes on where step went.
func (e *editGraph) addABTest(step graph.Node, weights []int) (string, error) {
	what := e.name(step)
	if !slices.Contains(stepsMessage.types, step.Type) {
		return "", fmt.Errorf("only messages can be A/B tested, and %s is not one", what)
	}
	for _, ed := range e.inEdges(step.ID) {
		if e.node(ed.Source).Type == "ab_split" {
			return "", fmt.Errorf("%s is already a variant of an A/B test", what)
		}
	}
	keys := "abcde"
	variants := make([]any, len(weights))
	for i, w := range weights {
		variants[i] = map[string]any{"key": keys[i : i+1], "weight": w}
	}
	ab := e.addNode("ab_split", "A/B test", map[string]any{"variants": variants}, step.ID, -0.5, 0)
	e.retarget(step.ID, ab)
	e.connect(ab, step.ID, "a")
	var copies []string
	for i := 1; i < len(weights); i++ {
		key := keys[i : i+1]
		c := stepConfigMap(step)
		if tpl, ok := c["template_id"].(string); ok {
			c["template_id"] = tpl + "_" + key
		}
		label := ""
		if step.Label != "" {
			label = step.Label + " (variant " + strings.ToUpper(key) + ")"
		}
		id := e.addNode(step.Type, label, c, step.ID, 0, float64(i))
		e.connect(ab, id, key)
		for _, ed := range e.outEdges(step.ID) {
			e.connect(id, ed.Target, ed.Branch)
		}
		copies = append(copies, fmt.Sprintf("variant %s (%d%%) gets a copy%s", strings.ToUpper(key), splitPercent(weights, i), variantTemplateNote(c)))
	}
	return fmt.Sprintf("Added an A/B test on %s: variant A (%d%%) gets it as before, %s; all variants then go on as before.",
		what, splitPercent(weights, 0), strings.Join(copies, ", ")), nil
}

func variantTemplateNote(c map[string]any) string {
	if tpl, ok := c["template_id"].(string); ok {
		return fmt.Sprintf(" with the template %q", tpl)
	}
	return " to edit"
}

// splitPercent is weights[i]'s share of all the weights, rounded.
func splitPercent(weights []int, i int) int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	return (weights[i]*100 + sum/2) / sum
}

// removeStep splices a step out: whatever led to it now leads to what came
// after it, on the same branches. Steps only it led to go too. Entries and
// steps with several meaningful branches cannot be removed this way.
func (e *editGraph) removeStep(step graph.Node) (string, error) {
	what := e.name(step)
	var next []string
	switch {
	case graph.IsEntry(step.Type):
		return "", fmt.Errorf("%s is how customers enter the journey and cannot be removed", what)
	case step.Type == "ab_split":
		keys, _ := graph.BranchesOf(step)
		next = e.targets(step.ID, keys[0])
	case step.Type == "wait_for_event" || step.Type == "condition" || step.Type == "frequency_cap":
		branches, _ := graph.BranchesOf(step)
		return "", fmt.Errorf("%s splits the journey into %s; remove the steps on one of its branches instead", what, strings.Join(branches, " and "))
	default:
		next = e.targets(step.ID, graph.DefaultBranch)
	}
	in := e.inEdges(step.ID)
	e.removeNode(step.ID)
	for _, ed := range in {
		for _, t := range next {
			e.connect(ed.Source, t, ed.Branch)
		}
		if len(next) == 0 {
			e.endBranch(ed.Source, ed.BranchOf())
		}
	}
	gone := e.pruneUnreachable()
	var idle []graph.Node
	for _, ed := range in { // a wait that now leads nowhere does nothing
		p := e.node(ed.Source)
		if p == nil || (p.Type != "wait" && p.Type != "wait_until") || len(e.outEdges(p.ID)) > 0 || !e.optionalIn(p.ID) {
			continue
		}
		idle = append(idle, *p)
		before := e.inEdges(p.ID)
		e.removeNode(p.ID)
		for _, b := range before {
			e.endBranch(b.Source, b.BranchOf()) // after a branching step, its other arms remain
		}
	}
	out := "Removed " + what + "."
	if len(next) > 0 && len(in) > 0 {
		out += " The steps before it now lead straight to " + e.name(*e.node(next[0])) + "."
	}
	if len(gone) > 0 {
		names := make([]string, len(gone))
		for i, n := range gone {
			names[i] = describeStep(n)
		}
		out += " Also removed what only it led to: " + strings.Join(names, ", ") + "."
	}
	for _, n := range idle {
		out += fmt.Sprintf(" Also removed %s before it, which led nowhere any more.", describeStep(n))
	}
	return out, nil
}

// optionalIn reports whether every edge into id could go without a
// replacement: none is the only edge of a branch its source must have.
func (e *editGraph) optionalIn(id string) bool {
	for _, ed := range e.inEdges(id) {
		required, _ := graph.BranchesOf(*e.node(ed.Source))
		if slices.Contains(required, ed.BranchOf()) && len(e.targets(ed.Source, ed.BranchOf())) == 1 {
			return false
		}
	}
	return true
}

// endBranch ends a required branch left without an edge with an exit step.
func (e *editGraph) endBranch(source, branch string) {
	required, _ := graph.BranchesOf(*e.node(source))
	if !slices.Contains(required, branch) || len(e.targets(source, branch)) > 0 {
		return
	}
	exit := e.addNode("journey_exit", "", map[string]any{}, source, 1, 1)
	e.connect(source, exit, branch)
}

// insertBefore puts a new step in front of step: whatever led to step
// leads to the new one, which leads to step.
func (e *editGraph) insertBefore(step graph.Node, typ, label string, c map[string]any) {
	id := e.addNode(typ, label, c, step.ID, -0.5, 0.5)
	e.retarget(step.ID, id)
	e.connect(id, step.ID, "")
}

// insertAfter puts a new step right after step, in front of whatever step
// led to on its default branch.
func (e *editGraph) insertAfter(step graph.Node, typ, label string, c map[string]any) error {
	what := e.name(step)
	required, optional := graph.BranchesOf(step)
	switch {
	case len(required) > 0:
		return fmt.Errorf("%s splits the journey into %s; say which branch the new step goes on, or add it before a step on that branch", what, strings.Join(required, " and "))
	case !slices.Contains(optional, graph.DefaultBranch):
		return fmt.Errorf("the journey ends at %s, so nothing can follow it", what)
	}
	id := e.addNode(typ, label, c, step.ID, 0.5, 0.5)
	for i, ed := range e.g.Edges {
		if ed.Source == step.ID && ed.BranchOf() == graph.DefaultBranch {
			e.g.Edges[i].Source = id
		}
	}
	e.connect(step.ID, id, "")
	return nil
}

// equalDurations reports whether two durations are equally long ("1d", "24h").
func equalDurations(a, b string) bool {
	da, errA := graph.ParseDuration(a)
	db, errB := graph.ParseDuration(b)
	return errA == nil && errB == nil && da == db
}

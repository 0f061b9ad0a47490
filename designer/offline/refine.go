package offline

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kalcifer/kalcifer/graph"
)

// refine applies a plain-English edit (seed FR-1.5: "make the wait 5 days
// instead of 3", "add SMS fallback for non-openers", "add an A/B test on the
// first email") to a copy of current; current is never changed.
//
// Each sentence of message is one edit; a sentence joining edits with "and"
// or "then" is read as several when every part is an edit on its own. The
// result passes graph.Validate. explanation says what changed and what could
// not be; unrecognized lists the sentences not understood. err is returned
// when nothing in the message could be applied, and says why.
func refine(current *graph.Graph, message string) (g *graph.Graph, explanation string, unrecognized []string, err error) {
	if current.Empty() {
		return nil, "", nil, errors.New("there is no journey to change yet; describe the journey first")
	}
	if problems := graph.Validate(current); len(problems) > 0 {
		return nil, "", nil, fmt.Errorf("the current journey is not valid, so it cannot be refined: %s", problems[0].Message)
	}
	e := newEditGraph(current)
	var changes, failures []string
	for _, s := range editSentences(message) {
		r := e.applySentence(s)
		if r.next != nil {
			e = r.next
		}
		changes = append(changes, r.changes...)
		failures = append(failures, r.failures...)
		if !r.understood {
			unrecognized = append(unrecognized, s)
		}
	}
	switch {
	case len(changes) > 0:
	case len(failures) > 0:
		return nil, "", unrecognized, errors.New(strings.Join(failures, "; "))
	default:
		return nil, "", unrecognized, errors.New(`I could not understand that change. Try for example "make the wait 5 days instead of 3", ` +
			`"add SMS fallback for non-openers", "add an A/B test on the first email with 70/30 split", "remove the second email" or "cap emails at 2 per day"`)
	}
	explanation = strings.Join(changes, " ")
	for _, f := range failures {
		explanation += " Not changed: " + f + "."
	}
	return e.g, explanation, unrecognized, nil
}

// sentenceResult is what one sentence did: the graph after it (nil when
// unchanged), the changes made, the reasons edits could not be made.
type sentenceResult struct {
	next       *editGraph
	changes    []string
	failures   []string
	understood bool
}

var editClauseSplit = regexp.MustCompile(`(?i),?\s+(?:and then|and also|and|then|also)\s+`)

// applySentence applies one sentence, as a whole or clause by clause.
func (e *editGraph) applySentence(s string) sentenceResult {
	if clauses := editClauseSplit.Split(s, -1); len(clauses) > 1 {
		r := sentenceResult{next: e, understood: true}
		for _, c := range clauses {
			change, matched, err := r.next.applyClause(c)
			if !matched {
				r.understood = false
				break
			}
			if err != nil {
				r.failures = append(r.failures, err.Error())
				continue
			}
			r.changes = append(r.changes, change.text)
			r.next = change.graph
		}
		if r.understood {
			return r
		}
	}
	change, matched, err := e.applyClause(s)
	switch {
	case !matched:
		return sentenceResult{}
	case err != nil:
		return sentenceResult{failures: []string{err.Error()}, understood: true}
	}
	return sentenceResult{next: change.graph, changes: []string{change.text}, understood: true}
}

// applied is an edit made on a copy of the graph.
type applied struct {
	graph *editGraph
	text  string
}

// rule recognises one kind of edit. It reports matched when s asks for its
// kind of edit, and an error when that edit cannot be made here.
type rule func(e *editGraph, s, low string) (change string, matched bool, err error)

// editRules are tried in order; the first that matches a clause applies it.
var editRules = []rule{ruleRename, ruleRemove, ruleABTest, ruleFallback, ruleInsert, ruleCap, ruleEntry, ruleExit, ruleGoal, ruleField,
	ruleWaitEvent, ruleDuration}

var editPoliteness = regexp.MustCompile(`(?i)^(?:(?:please|pls|ok|okay|now|also|then|and|so|can you|could you|would you|i want to|i'd like to|i would like to|let's|lets|let us)[,]?\s+)+|[,]?\s+please$`)

// applyClause applies the first rule that matches s to a copy of e.
func (e *editGraph) applyClause(s string) (applied, bool, error) {
	s = strings.TrimSpace(editPoliteness.ReplaceAllString(strings.TrimSpace(s), ""))
	low := strings.ToLower(s)
	for _, r := range editRules {
		trial := newEditGraph(e.g)
		change, matched, err := r(trial, s, low)
		if !matched {
			continue
		}
		if err != nil {
			return applied{}, true, err
		}
		if err := validOrError(trial.g); err != nil {
			return applied{}, true, fmt.Errorf("%q could not be applied: %v", s, err)
		}
		return applied{graph: trial, text: change}, true, nil
	}
	return applied{}, false, nil
}

var editSentenceSplit = regexp.MustCompile(`[.!?;]+(?:\s+|$)|\n+`)

// editSentences splits a message into its sentences, trimmed, without empties.
func editSentences(message string) []string {
	var out []string
	for _, s := range editSentenceSplit.Split(message, -1) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package engine

import (
	"fmt"

	"github.com/kalcifer/kalcifer/graph"
)

// kinds maps each node type of the catalog (graph.Kinds) to the constructor
// of its behaviour, which decodes the node's config into the kind's own
// struct (graph.DecodeConfig). A new node type gets its kind in
// graph/kind_<family>.go, its behaviour in engine/node_<kind>.go and its line
// here; TestEveryKindHasBehaviour fails until it has one.
var kinds = map[string]func(graph.Node) (kind, error){
	graph.TypeEventEntry:     passThrough,
	graph.TypeSegmentEntry:   passThrough,
	graph.TypeWebhookEntry:   passThrough,
	graph.TypeScheduledEntry: passThrough,
	graph.TypeSendEmail:      newChannel,
	graph.TypeSendSMS:        newChannel,
	graph.TypeSendPush:       newChannel,
	graph.TypeSendWhatsApp:   newChannel,
	graph.TypeCallWebhook:    newChannel,
	graph.TypeWait:           newWait,
	graph.TypeWaitUntil:      newWaitUntil,
	graph.TypeWaitForEvent:   newWaitForEvent,
	graph.TypeCondition:      newCondition,
	graph.TypeABSplit:        newABSplit,
	graph.TypeFrequencyCap:   newFrequencyCap,
	graph.TypeUpdateProfile:  newUpdateProfile,
	graph.TypeAddTag:         newTag,
	graph.TypeRemoveTag:      newTag,
	graph.TypeCustomCode:     newCustomCode,
	graph.TypeGoalReached:    newGoal,
	graph.TypeJourneyExit:    func(graph.Node) (kind, error) { return journeyExit{}, nil },
}

// newKind decodes a node's config into its kind's behaviour.
func newKind(n graph.Node) (kind, error) {
	if build, ok := kinds[n.Type]; ok {
		return build(n)
	}
	return nil, fmt.Errorf("unknown node type %q", n.Type)
}

// pass goes straight on: entry nodes have done their work once the customer
// is in.
type pass struct{}

func passThrough(graph.Node) (kind, error) { return pass{}, nil }

func (pass) enter(*run, *Path) result { return result{branch: graph.DefaultBranch} }

func (pass) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// notWaiting is the resume of kinds that never block.
func notWaiting(p *Path) result {
	return result{err: fmt.Errorf("path %d was woken at a node that never waits", p.ID)}
}

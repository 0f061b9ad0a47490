package engine

import (
	"fmt"

	"github.com/kalcifer/kalcifer/graph"
)

// newKind decodes a node's config into its kind's behaviour. Add a node type
// here and in its own node_<kind>.go file.
func newKind(n graph.Node) (kind, error) {
	switch n.Type {
	case "event_entry", "segment_entry", "webhook_entry", "scheduled_entry":
		return pass{}, nil
	case "send_email", "send_sms", "send_push", "send_whatsapp", "call_webhook":
		return newChannel(n)
	case "wait":
		return newWait(n)
	case "wait_until":
		return newWaitUntil(n)
	case "wait_for_event":
		return newWaitForEvent(n)
	case "condition":
		return newCondition(n)
	case "ab_split":
		return newABSplit(n)
	case "frequency_cap":
		return newFrequencyCap(n)
	case "update_profile":
		return newUpdateProfile(n)
	case "add_tag", "remove_tag":
		return newTag(n)
	case "custom_code":
		return customCode{}, nil
	case "goal_reached":
		return newGoal(n)
	case "journey_exit":
		return journeyExit{}, nil
	}
	return nil, fmt.Errorf("unknown node type %q", n.Type)
}

// pass goes straight on: entry nodes have done their work once the customer
// is in.
type pass struct{}

func (pass) enter(*run, *Path) result { return result{branch: graph.DefaultBranch} }

func (pass) resume(_ *run, p *Path, _ Wake) result { return notWaiting(p) }

// notWaiting is the resume of kinds that never block.
func notWaiting(p *Path) result {
	return result{err: fmt.Errorf("path %d was woken at a node that never waits", p.ID)}
}

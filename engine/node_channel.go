package engine

import (
	"fmt"
	"strconv"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// sendNode asks for a message to be sent and blocks the path until the
// send's outcome is known. The send is keyed by instance, node and visit, so
// a re-run after a crash finds the same ledger row instead of sending again.
type sendNode struct {
	typ     string
	channel string
	config  map[string]any
	target  string // see sendTarget
}

// newChannel keeps the config as a map: it travels with the send to the
// ledger and the providers as it was written (graph.SendEmailConfig and its
// siblings describe it).
func newChannel(n graph.Node) (kind, error) {
	var c map[string]any
	if err := decode(n, &c); err != nil {
		return nil, err
	}
	ch := ChannelOf(n.Type)
	return sendNode{typ: n.Type, channel: ch, config: c, target: sendTarget(ch, c)}, nil
}

// ChannelOf names the channel of a channel node type (send_email → email,
// call_webhook → webhook), as its kind in graph says.
func ChannelOf(nodeType string) string {
	k, _ := graph.LookupKind(nodeType)
	return k.Channel
}

// SendKey is a send's idempotency key.
func SendKey(instanceID, nodeID string, visit int) string {
	return instanceID + ":" + nodeID + ":" + strconv.Itoa(visit)
}

func (k sendNode) enter(r *run, p *Path) result {
	key := SendKey(r.in.InstanceID, p.Node, p.Visit)
	r.out.Sends = append(r.out.Sends, kalcifer.Send{Key: key, JourneyID: r.prog.JourneyID, Version: r.prog.Version,
		InstanceID: r.in.InstanceID, PathID: p.ID, NodeID: p.Node, NodeType: k.typ, Channel: k.channel, Config: k.config, Target: k.target})
	return result{wait: &kalcifer.Wait{Kind: kalcifer.WaitSend, SendKey: key}}
}

// resume continues on "failed" when the send did not go out and the node
// has a failed branch, and on the default branch otherwise. A send that
// failed (or may not have arrived) on a node without a failed branch is
// recorded on the step and the instance: the path goes on as designed, but
// never silently.
func (k sendNode) resume(r *run, p *Path, w Wake) result {
	if w.Kind != WakeSend {
		return result{err: fmt.Errorf("path %d waits for a send, woken by %s", p.ID, w.Kind)}
	}
	// A customer who unsubscribed is skipped, not failed: the path goes on.
	if w.Send == SendSent || w.Send == SendLogged || w.Send == SendSkipped {
		return result{branch: graph.DefaultBranch}
	}
	if len(r.prog.byID[p.Node].out[graph.BranchFailed]) > 0 {
		return result{branch: graph.BranchFailed}
	}
	if w.Send == SendCapped {
		return result{branch: graph.DefaultBranch}
	}
	return result{branch: graph.DefaultBranch, failure: fmt.Sprintf("send %s: %s (the node has no failed branch, so the path went on)", w.Send, w.SendDetail)}
}

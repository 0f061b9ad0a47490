package live

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Relay carries the live feed between replicas on one database
// (PostgreSQL's NOTIFY and LISTEN; *postgres.Backend implements it).
type Relay interface {
	// Notify sends payload to every replica listening on channel.
	Notify(ctx context.Context, channel, payload string) error
	// Listen returns once it listens on channel; the payloads arrive on
	// the channel returned, which is closed when ctx ends.
	Listen(ctx context.Context, channel string) (<-chan string, error)
}

// relayChannel is the NOTIFY channel of the live feed.
const relayChannel = "kalcifer_live"

// maxRelayBytes bounds one NOTIFY payload (PostgreSQL refuses 8000 bytes).
const maxRelayBytes = 7900

// note is what the feed needs of one saved instance: the compact form
// relayed between replicas, and the local one.
type note struct {
	Tenant   string `json:"t"`
	Journey  string `json:"j"`
	Instance string `json:"i"`
	Customer string `json:"c"`
	Version  int    `json:"v"`
	From     string `json:"f,omitempty"`
	Status   string `json:"s"`
	Reason   string `json:"r,omitempty"`
	Steps    []step `json:"p,omitempty"`
}

// step is one step of a note: node, type, result, Unix microseconds.
type step struct {
	Node   string `json:"n"`
	Type   string `json:"y"`
	Result string `json:"r"`
	At     int64  `json:"a"`
}

// relayed is one NOTIFY payload: whose notes they are, and the notes.
type relayed struct {
	Origin string            `json:"o"`
	Notes  []json.RawMessage `json:"n"`
}

// InTx does nothing: the feed reads what committed, never inside the
// transaction (store.Observer).
func (h *Hub) InTx(*store.EngineTx, *store.Written) error { return nil }

// Committed hands what an engine transaction saved to the hub's delivery
// goroutine and to the relay, in compact notes; it never waits
// (store.Observer). Should the hub fall that far behind, the transaction's
// pushes are lost (counted) and the next counts put things right.
func (h *Hub) Committed(w *store.Written) {
	if len(w.Instances) == 0 {
		return
	}
	notes := make([]note, len(w.Instances))
	for i, in := range w.Instances {
		n := note{Tenant: in.TenantID, Journey: in.JourneyID, Instance: in.ID, Customer: in.CustomerID, Version: in.Version,
			From: string(in.From), Status: string(in.Status), Reason: in.Reason, Steps: make([]step, len(in.Steps))}
		for j, st := range in.Steps {
			n.Steps[j] = step{Node: st.NodeID, Type: st.Type, Result: st.Result, At: st.At.UnixMicro()}
		}
		notes[i] = n
	}
	select {
	case h.local <- notes:
	default:
		h.localDropped.Add(1)
	}
	if h.cfg.Relay != nil {
		select {
		case h.relay <- notes:
		default:
			h.relayDropped.Add(1)
		}
	}
}

// deliverLocal delivers this replica's notes until ctx ends.
func (h *Hub) deliverLocal(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case notes := <-h.local:
			h.deliver(notes)
		}
	}
}

// deliver pushes the frames of notes to the subscribers of their topics.
// Each topic's frames are encoded once and, for a subscriber of that one
// topic (the usual case), queued as one shared message.
func (h *Hub) deliver(notes []note) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.journeys) == 0 && len(h.instances) == 0 {
		return
	}
	frames := map[*topic][][]byte{}
	var touched []*topic
	add := func(t *topic, frame []byte) {
		if _, ok := frames[t]; !ok {
			touched = append(touched, t)
		}
		frames[t] = append(frames[t], frame)
	}
	for _, n := range notes {
		jt, it := h.journeys[key{n.Tenant, n.Journey}], h.instances[key{n.Tenant, n.Instance}]
		if jt == nil && it == nil {
			continue
		}
		for _, st := range n.Steps {
			at := time.UnixMicro(st.At).UTC()
			if jt != nil {
				add(jt, Encode(jt.name, EventInstanceEvent, InstanceEvent{InstanceID: n.Instance, CustomerID: n.Customer,
					Version: n.Version, NodeID: st.Node, Type: st.Type, Result: st.Result, At: at}, nil))
			}
			if it != nil {
				add(it, Encode(it.name, EventStepExecuted, StepExecuted{NodeID: st.Node, Type: st.Type, Result: st.Result, Timestamp: at}, nil))
			}
		}
		if it != nil && n.From != "" && n.From != n.Status {
			add(it, Encode(it.name, EventStateChanged, StateChanged{From: n.From, To: n.Status, Reason: n.Reason}, nil))
		}
	}
	if len(touched) == 1 {
		h.broadcast(touched[0], frames[touched[0]]...)
		return
	}
	// Subscribers of several touched topics get one message with the
	// frames of each, topic after topic.
	merged := map[*Sub][][]byte{}
	var order []*Sub
	for _, t := range touched {
		for s := range t.subs {
			if _, ok := merged[s]; !ok {
				order = append(order, s)
				merged[s] = frames[t]
				continue
			}
			merged[s] = append(append([][]byte(nil), merged[s]...), frames[t]...)
		}
	}
	for _, s := range order {
		h.push(s, merged[s]...)
	}
}

// broadcast pushes frames to every subscriber of t. h.mu is held.
func (h *Hub) broadcast(t *topic, frames ...[]byte) {
	for s := range t.subs {
		h.push(s, frames...)
	}
}

// send relays this replica's notes, as many to a NOTIFY as fit.
func (h *Hub) send(ctx context.Context) {
	var buf bytes.Buffer
	flush := func() {
		if buf.Len() == 0 {
			return
		}
		buf.WriteString("]}")
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := h.cfg.Relay.Notify(nctx, relayChannel, buf.String()); err != nil && ctx.Err() == nil {
			h.log.Warn("live feed: relaying steps to other replicas failed", "err", err)
		}
		cancel()
		buf.Reset()
	}
	for {
		var notes []note
		select {
		case <-ctx.Done():
			return
		case notes = <-h.relay:
		}
		for more := true; more; {
			for _, n := range notes {
				b, err := json.Marshal(n)
				if err != nil {
					continue
				}
				if buf.Len()+len(b)+2 > maxRelayBytes {
					flush()
				}
				if len(b)+len(h.origin)+16 > maxRelayBytes {
					h.log.Warn("live feed: a saved instance too large to relay", "instance", n.Instance, "steps", len(n.Steps))
					continue
				}
				if buf.Len() == 0 {
					buf.WriteString(`{"o":"` + h.origin + `","n":[`)
				} else {
					buf.WriteByte(',')
				}
				buf.Write(b)
			}
			select {
			case notes = <-h.relay:
			default:
				more = false
			}
		}
		flush()
	}
}

// receive delivers the notes other replicas relayed.
func (h *Hub) receive(in <-chan string) {
	for payload := range in {
		if payload == "" {
			continue // the listener reconnected; the next counts catch up
		}
		var r relayed
		if err := json.Unmarshal([]byte(payload), &r); err != nil {
			h.log.Warn("live feed: an unreadable relayed payload", "err", err)
			continue
		}
		if r.Origin == h.origin {
			continue
		}
		notes := make([]note, 0, len(r.Notes))
		for _, raw := range r.Notes {
			var n note
			if err := json.Unmarshal(raw, &n); err == nil {
				notes = append(notes, n)
			}
		}
		h.deliver(notes)
	}
}

// statusOf reads a count of status for journey_stats.
func statusOf(c map[kalcifer.InstanceStatus]int) JourneyStats {
	return JourneyStats{Active: c[kalcifer.InstanceActive], Paused: c[kalcifer.InstancePaused],
		Completed: c[kalcifer.InstanceCompleted], Failed: c[kalcifer.InstanceFailed], Exited: c[kalcifer.InstanceExited]}
}

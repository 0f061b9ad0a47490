package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/store"
)

// Delivery statuses come back from providers (their callbacks) and from
// Kalcifer's own open and click tracking. Each one moves the send's ledger
// row forward and becomes a customer event named after the send's channel
// and the status ("email_opened", "sms_delivered"), carrying the send's
// journey, node and instance, so that wait_for_event, exit criteria and
// entries see it like any other event, and a wait can be narrowed to the
// message one node sent with filter {"node_id": …}.

// deliveryRank orders the statuses a send's ledger row may hold. A status
// replaces only a lower-ranked one, so the row keeps the furthest point the
// message reached whatever order the callbacks arrive in: an open after a
// click leaves "clicked", a late "delivered" never undoes "bounced", and a
// complaint or an unsubscribe outranks everything. Every status still
// becomes its customer event.
var deliveryRank = map[string]int{
	"":                         0,
	channel.StatusDelivered:    1,
	channel.StatusOpened:       2,
	channel.StatusRead:         2,
	channel.StatusClicked:      3,
	channel.StatusBounced:      4,
	channel.StatusFailed:       4,
	channel.StatusComplained:   5,
	channel.StatusUnsubscribed: 5,
}

// below lists the statuses ranked lower than status.
func below(status string) []string {
	var out []string
	for s, r := range deliveryRank {
		if r < deliveryRank[status] {
			out = append(out, s)
		}
	}
	return out
}

// RecordResult counts what RecordDeliveries did with the statuses it got.
type RecordResult = kalcifer.DeliveryResult

// RecordDeliveries records delivery statuses reported for the tenant's
// sends through provider (a provider account's id, or "tracking" for
// Kalcifer's own pixel and links). A status is matched to its send by Key;
// one naming no send of this tenant is counted as unknown and ignored, never
// an error. The ledger is updated first and the events ingested after, both
// idempotently — each event's client id is derived from the provider, the
// send, the status and the clicked URL — so a caller that gets an error
// answers the provider with a failure and its retry completes the work
// without doubling anything. Each send thus yields at most one event per
// status (and per link for clicks).
func (rt *Runtime) RecordDeliveries(ctx context.Context, tenantID, provider string, statuses []channel.Status) (RecordResult, error) {
	var res RecordResult
	var events []*kalcifer.Event
	err := rt.st.WithEngineTx(ctx, func(t *store.EngineTx) error {
		res, events = RecordResult{}, nil
		for _, st := range statuses {
			if _, ok := deliveryRank[st.Event]; !ok || st.Event == "" || st.Key == "" {
				res.Unknown++
				continue
			}
			s, err := t.SendOfTenant(tenantID, st.Key)
			if err != nil {
				return err
			}
			if s == nil || store.IsErased(s.CustomerID) { // an erased customer's send: record nothing more
				res.Unknown++
				continue
			}
			at := st.At
			if at.IsZero() {
				at = t.Now()
			}
			_, err = t.AdvanceDelivery(store.AdvanceDeliveryParams{Send: s, Delivery: st.Event,
				From: below(st.Event), At: at, Detail: st.Detail})
			if err != nil {
				return err
			}
			ev, err := deliveryEvent(provider, s, st, at)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		return nil
	})
	if err != nil || len(events) == 0 {
		return res, err
	}
	dup, err := rt.Ingest(ctx, events)
	if err != nil {
		return res, fmt.Errorf("ingest delivery events: %w", err)
	}
	for _, d := range dup {
		if d {
			res.Duplicates++
		} else {
			res.Recorded++
		}
	}
	return res, nil
}

// deliveryData is what a delivery event carries.
type deliveryData struct {
	JourneyID  string `json:"journey_id"`
	Version    int    `json:"version"`
	NodeID     string `json:"node_id"`
	InstanceID string `json:"instance_id"`
	SendKey    string `json:"send_key"`
	MessageID  string `json:"message_id,omitempty"`
	URL        string `json:"url,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// deliveryEvent is the customer event of status st of send s.
func deliveryEvent(provider string, s *kalcifer.Send, st channel.Status, at time.Time) (*kalcifer.Event, error) {
	data, err := json.Marshal(deliveryData{JourneyID: s.JourneyID, Version: s.Version, NodeID: s.NodeID, InstanceID: s.InstanceID,
		SendKey: s.Key, MessageID: st.MessageID, URL: st.URL, Detail: st.Detail})
	if err != nil {
		return nil, fmt.Errorf("encode delivery event of send %s: %w", s.Key, err)
	}
	id := sha256.Sum256([]byte(provider + "\x00" + s.Key + "\x00" + st.Event + "\x00" + st.URL))
	return &kalcifer.Event{ClientID: "delivery:" + hex.EncodeToString(id[:16]), TenantID: s.TenantID, CustomerID: s.CustomerID,
		Type: s.Channel + "_" + st.Event, Data: data, OccurredAt: at}, nil
}

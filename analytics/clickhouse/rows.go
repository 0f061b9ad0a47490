package clickhouse

import (
	"encoding/json"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// The tables of schema.sql.
const (
	stepsTable      = "kalcifer_steps"
	deliveriesTable = "kalcifer_deliveries"
)

// stepRow is a row of kalcifer_steps.
type stepRow struct {
	EventID    string `json:"event_id"`
	Time       string `json:"time"`
	TimeUS     int64  `json:"time_us"`
	TenantID   string `json:"tenant_id"`
	JourneyID  string `json:"journey_id"`
	Version    int    `json:"version"`
	InstanceID string `json:"instance_id"`
	CustomerID string `json:"customer_id"`
	PathID     int    `json:"path_id"`
	NodeID     string `json:"node_id"`
	NodeType   string `json:"node_type"`
	Visit      int    `json:"visit"`
	Result     string `json:"result"`
	Detail     string `json:"detail"`
}

// deliveryRow is a row of kalcifer_deliveries.
type deliveryRow struct {
	EventID    string `json:"event_id"`
	Time       string `json:"time"`
	TimeUS     int64  `json:"time_us"`
	TenantID   string `json:"tenant_id"`
	JourneyID  string `json:"journey_id"`
	Version    int    `json:"version"`
	InstanceID string `json:"instance_id"`
	CustomerID string `json:"customer_id"`
	NodeID     string `json:"node_id"`
	NodeType   string `json:"node_type"`
	SendKey    string `json:"send_key"`
	Channel    string `json:"channel"`
	Target     string `json:"target"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Detail     string `json:"detail"`
}

// Kinds of kalcifer_deliveries rows.
const (
	kindFinished = "finished" // a send's final ledger status
	kindDelivery = "delivery" // a delivery status reported later
)

// rows turns what an engine transaction wrote into outbox rows: a step row
// per step, a delivery row per finished send and per delivery status.
func rows(w *store.Written) ([]store.ClickHouseRow, error) {
	var out []store.ClickHouseRow
	add := func(table string, v any) error {
		js, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out = append(out, store.ClickHouseRow{Table: table, JSON: js})
		return nil
	}
	for _, in := range w.Instances {
		for _, st := range in.Steps {
			at := st.At
			if at.IsZero() {
				at = w.At
			}
			version := st.Version
			if version == 0 {
				version = in.Version
			}
			if err := add(stepsTable, stepRow{EventID: kalcifer.NewID("che"), Time: chTime(at), TimeUS: at.UnixMicro(),
				TenantID: in.TenantID, JourneyID: in.JourneyID, Version: version, InstanceID: in.ID, CustomerID: in.CustomerID,
				PathID: st.PathID, NodeID: st.NodeID, NodeType: st.Type, Visit: st.Visit, Result: st.Result, Detail: st.Detail}); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range w.Sends {
		if err := add(deliveriesTable, delivery(s, kindFinished, string(s.Status), s.Detail, w.At)); err != nil {
			return nil, err
		}
	}
	for _, d := range w.Deliveries {
		at := d.At
		if at.IsZero() {
			at = w.At
		}
		if err := add(deliveriesTable, delivery(d.Send, kindDelivery, d.Delivery, "", at)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func delivery(s kalcifer.Send, kind, status, detail string, at time.Time) deliveryRow {
	return deliveryRow{EventID: kalcifer.NewID("che"), Time: chTime(at), TimeUS: at.UnixMicro(), TenantID: s.TenantID,
		JourneyID: s.JourneyID, Version: s.Version, InstanceID: s.InstanceID, CustomerID: s.CustomerID, NodeID: s.NodeID,
		NodeType: s.NodeType, SendKey: s.Key, Channel: s.Channel, Target: s.Target, Kind: kind, Status: status, Detail: detail}
}

// chTime is t as a DateTime('UTC') column reads it in every release.
func chTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

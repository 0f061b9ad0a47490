package analytics

import (
	"context"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// TraceReport answers GET /instances/{id}/trace: an instance's way through
// its journey, from its recorded history (which the retention setting may
// have deleted for instances that ended long ago).
type TraceReport struct {
	Instance *kalcifer.Instance `json:"instance"`
	// Nodes are the visits of nodes, in the order they began.
	Nodes []NodeVisit `json:"nodes"`
	// Events are the history steps at no node: exits, operator controls
	// and migrations.
	Events []kalcifer.Step `json:"events"`
	// Transitions are the instance's changes of version (live migrations,
	// restores).
	Transitions []Transition `json:"transitions"`
	// Sends are its messages with their ledger and delivery statuses.
	Sends []kalcifer.Send `json:"sends"`
}

// NodeVisit is one visit of one path at a node: when it arrived, when it
// left (absent while it is there) and how.
type NodeVisit struct {
	NodeID    string     `json:"node_id"`
	Type      string     `json:"type"`
	Version   int        `json:"version"`
	PathID    int        `json:"path_id"`
	Visit     int        `json:"visit"`
	EnteredAt time.Time  `json:"entered_at"`
	LeftAt    *time.Time `json:"left_at,omitempty"`
	// Result is the branch taken, "ended", "exited", "failed", or
	// "waiting" while it is there.
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Transition is a change of the version an instance runs.
type Transition struct {
	At   time.Time `json:"at"`
	From int       `json:"from_version"`
	To   int       `json:"to_version"`
	// Result is the migration step's outcome (migrated, restored, …).
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Trace reads one of the tenant's instances with its node visits, version
// transitions and sends.
func Trace(ctx context.Context, st *store.Store, tenantID, instanceID string) (*TraceReport, error) {
	tr, err := st.Trace(ctx, tenantID, instanceID)
	if err != nil {
		return nil, err
	}
	r := &TraceReport{Instance: tr.Instance, Nodes: []NodeVisit{}, Events: []kalcifer.Step{}, Transitions: []Transition{},
		Sends: tr.Sends}
	if r.Sends == nil {
		r.Sends = []kalcifer.Send{}
	}
	type visitKey struct {
		path  int
		node  string
		visit int
	}
	open := map[visitKey]int{} // index in r.Nodes of a visit that waits
	version := 0
	for _, st := range tr.Steps {
		if st.Type == "migration" && version != 0 && st.Version != version {
			r.Transitions = append(r.Transitions, Transition{At: st.At, From: version, To: st.Version, Result: st.Result, Detail: st.Detail})
		}
		if version == 0 || st.Type == "migration" {
			version = st.Version
		}
		if st.NodeID == "" {
			r.Events = append(r.Events, st)
			continue
		}
		k := visitKey{st.PathID, st.NodeID, st.Visit}
		if i, ok := open[k]; ok && st.Result != "waiting" {
			at := st.At
			r.Nodes[i].LeftAt, r.Nodes[i].Result, r.Nodes[i].Detail, r.Nodes[i].Version = &at, st.Result, st.Detail, st.Version
			delete(open, k)
			continue
		}
		v := NodeVisit{NodeID: st.NodeID, Type: st.Type, Version: st.Version, PathID: st.PathID, Visit: st.Visit, EnteredAt: st.At,
			Result: st.Result, Detail: st.Detail}
		if st.Result == "waiting" {
			open[k] = len(r.Nodes)
		} else {
			at := st.At
			v.LeftAt = &at
		}
		r.Nodes = append(r.Nodes, v)
	}
	return r, nil
}

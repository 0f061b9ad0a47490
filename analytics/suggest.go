package analytics

import (
	"context"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// NodeTotals is what happened at one node of a journey, for the AI
// designer's suggestions.
type NodeTotals struct {
	Entered int
	// Results counts departures by result: a branch taken, "ended",
	// "exited", "failed".
	Results map[string]int
	// Sends counts the node's finished sends by ledger status.
	Sends map[kalcifer.SendStatus]int
}

// NodeCounts counts, from the counters, per node of a journey version, the
// customers who reached it, how they left and its sends.
//
// Every version counts, not only the version's own: a live migration moves
// customers between versions, so after one the current version alone would
// know only what happened since. Another version's counts go to the node
// with the same id and type — what a node keeps across versions unless it
// is renamed, and what graph.ProposeMapping maps first. A renamed node's
// earlier counts, and those of nodes the version lacks, are left out:
// suggestions need rates, not a full account.
func NodeCounts(ctx context.Context, st *store.Store, tenantID, journeyID string, version int) (map[string]*NodeTotals, error) {
	v, err := st.GetVersion(ctx, tenantID, journeyID, version)
	if err != nil {
		return nil, err
	}
	types := make(map[string]string, len(v.Graph.Nodes))
	for _, n := range v.Graph.Nodes {
		types[n.ID] = n.Type
	}
	// same reports whether node of version w is the version's node of
	// that id: the same type.
	graphs := map[int]map[string]string{version: types}
	same := func(w int, node string) (bool, error) {
		if graphs[w] == nil {
			other, err := st.GetVersion(ctx, tenantID, journeyID, w)
			if err != nil {
				return false, err
			}
			graphs[w] = map[string]string{}
			for _, n := range other.Graph.Nodes {
				graphs[w][n.ID] = n.Type
			}
		}
		t, ok := types[node]
		return ok && graphs[w][node] == t, nil
	}
	out := map[string]*NodeTotals{}
	at := func(node string) *NodeTotals {
		if out[node] == nil {
			out[node] = &NodeTotals{Results: map[string]int{}, Sends: map[kalcifer.SendStatus]int{}}
		}
		return out[node]
	}
	counts, err := st.AnalyticsCounts(ctx, store.CountsParams{TenantID: tenantID, JourneyID: journeyID, Nodes: true})
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		ok, err := same(c.Version, c.NodeID)
		if err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case c.Metric == MetricEntered:
			at(c.NodeID).Entered += int(c.N)
		case strings.HasPrefix(c.Metric, metricResult):
			at(c.NodeID).Results[c.Metric[len(metricResult):]] += int(c.N)
		}
	}
	sends, err := st.AnalyticsSends(ctx, store.CountsParams{TenantID: tenantID, JourneyID: journeyID, ByNode: true})
	if err != nil {
		return nil, err
	}
	for _, c := range sends {
		ok, err := same(c.Version, c.NodeID)
		if err != nil {
			return nil, err
		}
		if status, isSend := strings.CutPrefix(c.Metric, metricSend); ok && isSend {
			at(c.NodeID).Sends[kalcifer.SendStatus(status)] += int(c.N)
		}
	}
	return out, nil
}

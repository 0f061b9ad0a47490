package live

import (
	"context"
	"strconv"
	"time"
)

// tick pushes node_counts and version_counts every CountsEvery and
// journey_stats every StatsEvery to each joined journey: one query per
// journey and tick, whatever its subscribers; none when nobody listens. A
// newly joined journey is counted at once.
func (h *Hub) tick(ctx context.Context) {
	counts := time.NewTicker(h.cfg.CountsEvery)
	defer counts.Stop()
	stats := time.NewTicker(h.cfg.StatsEvery)
	defer stats.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-counts.C:
			h.countAll(ctx, false, false)
		case <-stats.C:
			h.countAll(ctx, true, false)
		case <-h.kick:
			h.countAll(ctx, false, true)
			h.countAll(ctx, true, true)
		}
	}
}

// countAll runs one kind of count for every joined journey (only those
// never counted when fresh).
func (h *Hub) countAll(ctx context.Context, stats, fresh bool) {
	h.mu.Lock()
	var keys []key
	for k, t := range h.journeys {
		if !fresh || (stats && t.stats == nil) || (!stats && t.counts == nil) {
			keys = append(keys, k)
		}
	}
	h.mu.Unlock()
	for _, k := range keys {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if stats {
			h.countStats(qctx, k)
		} else {
			h.countNodes(qctx, k)
		}
		cancel()
	}
}

func (h *Hub) countNodes(ctx context.Context, k key) {
	h.queries.Add(1)
	c, err := h.cfg.Store.LiveNodeCounts(ctx, k.tenant, k.id)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("live feed: node counts failed", "journey_id", k.id, "err", err)
		}
		return
	}
	vc := VersionCounts{Customers: c.Customers, Versions: map[string]VersionNodes{}}
	for v, n := range c.Versions {
		vc.Versions[strconv.Itoa(v)] = VersionNodes{Customers: n.Customers, Nodes: n.Nodes}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.journeys[k]
	if t == nil { // everyone left meanwhile
		return
	}
	t.counts = Encode(t.name, EventNodeCounts, c.Nodes, nil)
	t.versions = Encode(t.name, EventVersionCounts, vc, nil)
	h.broadcast(t, t.counts, t.versions)
}

func (h *Hub) countStats(ctx context.Context, k key) {
	h.queries.Add(1)
	c, err := h.cfg.Store.StatusCounts(ctx, k.tenant, k.id)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("live feed: journey stats failed", "journey_id", k.id, "err", err)
		}
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.journeys[k]
	if t == nil {
		return
	}
	t.stats = Encode(t.name, EventJourneyStats, statusOf(c), nil)
	h.broadcast(t, t.stats)
}

package analytics

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// Query is what every figure can be narrowed and split by.
type Query struct {
	// Version narrows to one journey version; 0 counts every version.
	Version int
	// From and To keep the hours that start in [From, To); zero: no bound.
	From, To time.Time
	// Bucket (an hour or a day) splits the figures into a series; 0 does
	// not.
	Bucket time.Duration
}

func (q Query) params(tenantID, journeyID string) store.CountsParams {
	return store.CountsParams{TenantID: tenantID, JourneyID: journeyID, Version: q.Version, From: q.From, To: q.To, Bucket: q.Bucket}
}

// Range echoes the query's time range and bucket in every answer.
type Range struct {
	From   *time.Time `json:"from,omitempty"`
	To     *time.Time `json:"to,omitempty"`
	Bucket string     `json:"bucket,omitempty"`
}

func (q Query) rangeOf() Range {
	r := Range{}
	if !q.From.IsZero() {
		r.From = &q.From
	}
	if !q.To.IsZero() {
		r.To = &q.To
	}
	switch q.Bucket {
	case time.Hour:
		r.Bucket = "hour"
	case 24 * time.Hour:
		r.Bucket = "day"
	}
	return r
}

// JourneyFigures are a journey's instance figures. Active is how many
// customers are in the journey now, whatever the time range.
type JourneyFigures struct {
	Entered   int64 `json:"entered"`
	Active    int64 `json:"active"`
	Completed int64 `json:"completed"`
	Converted int64 `json:"converted"`
	Exited    int64 `json:"exited"`
	Failed    int64 `json:"failed"`
	// ConversionRate is Converted / Entered (0 when none entered).
	ConversionRate float64 `json:"conversion_rate"`
	// MedianTimeToGoal is the median time from entering to a goal, in
	// seconds; absent before any goal.
	MedianTimeToGoal *float64 `json:"median_time_to_goal_seconds,omitempty"`
}

// JourneyReport answers GET /journeys/{id}/analytics.
type JourneyReport struct {
	JourneyID string `json:"journey_id"`
	Version   int    `json:"version,omitempty"`
	Range
	JourneyFigures
	// Versions are the figures of each version.
	Versions []VersionFigures `json:"versions"`
	// Series are the figures per bucket, when one was asked for.
	Series []JourneyPoint `json:"series,omitempty"`
}

// VersionFigures are one version's figures.
type VersionFigures struct {
	Version int `json:"version"`
	JourneyFigures
}

// JourneyPoint is one bucket of a journey's series.
type JourneyPoint struct {
	At        time.Time `json:"at"`
	Entered   int64     `json:"entered"`
	Completed int64     `json:"completed"`
	Converted int64     `json:"converted"`
	Exited    int64     `json:"exited"`
	Failed    int64     `json:"failed"`
}

// journeyFigures sums journey counters.
type journeyAcc struct {
	f    JourneyFigures
	goal Histogram
}

func (a *journeyAcc) add(c store.Count) {
	switch {
	case c.Metric == MetricEntered:
		a.f.Entered += c.N
	case c.Metric == MetricGoal:
		a.f.Converted += c.N
	case c.Metric == metricEnded+string(kalcifer.InstanceCompleted):
		a.f.Completed += c.N
	case c.Metric == metricEnded+string(kalcifer.InstanceExited):
		a.f.Exited += c.N
	case c.Metric == metricEnded+string(kalcifer.InstanceFailed):
		a.f.Failed += c.N
	case strings.HasPrefix(c.Metric, metricGoalTime):
		if k, err := strconv.Atoi(c.Metric[len(metricGoalTime):]); err == nil && k >= 0 && k < timeBuckets {
			a.goal[k] += c.N
		}
	}
}

func (a *journeyAcc) figures(active int64) JourneyFigures {
	f := a.f
	f.Active = active
	if f.Entered > 0 {
		f.ConversionRate = float64(f.Converted) / float64(f.Entered)
	}
	if m, ok := a.goal.Quantile(0.5); ok {
		f.MedianTimeToGoal = &m
	}
	return f
}

// Journey reads a journey's figures.
func Journey(ctx context.Context, st *store.Store, j *kalcifer.Journey, q Query) (*JourneyReport, error) {
	p := q.params(j.TenantID, j.ID)
	p.Bucket = 0
	counts, err := st.AnalyticsCounts(ctx, p)
	if err != nil {
		return nil, err
	}
	active, err := st.CountByVersion(ctx, j.TenantID, j.ID)
	if err != nil {
		return nil, err
	}
	var all journeyAcc
	byVersion := map[int]*journeyAcc{}
	for _, c := range counts {
		all.add(c)
		if byVersion[c.Version] == nil {
			byVersion[c.Version] = &journeyAcc{}
		}
		byVersion[c.Version].add(c)
	}
	var total int64
	for v, n := range active {
		if q.Version != 0 && v != q.Version {
			continue
		}
		total += int64(n)
		if byVersion[v] == nil {
			byVersion[v] = &journeyAcc{}
		}
	}
	r := &JourneyReport{JourneyID: j.ID, Version: q.Version, Range: q.rangeOf(), JourneyFigures: all.figures(total), Versions: []VersionFigures{}}
	for _, v := range sortedKeys(byVersion) {
		r.Versions = append(r.Versions, VersionFigures{Version: v, JourneyFigures: byVersion[v].figures(int64(active[v]))})
	}
	if q.Bucket > 0 {
		series, err := st.AnalyticsCounts(ctx, q.params(j.TenantID, j.ID))
		if err != nil {
			return nil, err
		}
		points := map[time.Time]*journeyAcc{}
		for _, c := range series {
			if points[c.Hour] == nil {
				points[c.Hour] = &journeyAcc{}
			}
			points[c.Hour].add(c)
		}
		for _, at := range sortedTimes(points) {
			f := points[at].f
			r.Series = append(r.Series, JourneyPoint{At: at, Entered: f.Entered, Completed: f.Completed, Converted: f.Converted,
				Exited: f.Exited, Failed: f.Failed})
		}
	}
	return r, nil
}

// NodeFigures are what happened at one node.
type NodeFigures struct {
	// Entered counts arrivals at the node; Completed the departures on a
	// branch (or by ending or exiting there); Failed the node's failures.
	Entered   int64 `json:"entered"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// AvgSeconds and P95Seconds are the time from arrival to departure
	// (0 for nodes that do not hold customers); absent before any left.
	AvgSeconds *float64 `json:"avg_seconds,omitempty"`
	P95Seconds *float64 `json:"p95_seconds,omitempty"`
	// Branches counts departures by result: each branch taken, "ended",
	// "exited", "failed".
	Branches map[string]int64 `json:"branches"`
}

type nodeAcc struct {
	f           NodeFigures
	times       Histogram
	timeN, time int64
}

func (a *nodeAcc) add(c store.Count) {
	if a.f.Branches == nil {
		a.f.Branches = map[string]int64{}
	}
	switch {
	case c.Metric == MetricEntered:
		a.f.Entered += c.N
	case strings.HasPrefix(c.Metric, metricResult):
		result := c.Metric[len(metricResult):]
		a.f.Branches[result] += c.N
		if result == "failed" {
			a.f.Failed += c.N
		} else {
			a.f.Completed += c.N
		}
	case strings.HasPrefix(c.Metric, metricTime):
		a.timeN += c.N
		a.time += c.Total
		if k, err := strconv.Atoi(c.Metric[len(metricTime):]); err == nil && k >= 0 && k < timeBuckets {
			a.times[k] += c.N
		}
	}
}

func (a *nodeAcc) figures() NodeFigures {
	f := a.f
	if f.Branches == nil {
		f.Branches = map[string]int64{}
	}
	if a.timeN > 0 {
		avg := float64(a.time) / float64(a.timeN) / 1e6
		f.AvgSeconds = &avg
	}
	if p, ok := a.times.Quantile(0.95); ok {
		f.P95Seconds = &p
	}
	return f
}

// NodeReport answers GET /journeys/{id}/nodes/{nid}/metrics.
type NodeReport struct {
	JourneyID string `json:"journey_id"`
	NodeID    string `json:"node_id"`
	Version   int    `json:"version,omitempty"`
	Range
	NodeFigures
	// WaitingNow counts the customers at the node now (active or paused),
	// whatever the time range.
	WaitingNow int64                `json:"waiting_now"`
	Versions   []NodeVersionFigures `json:"versions"`
	Series     []NodePoint          `json:"series,omitempty"`
}

// NodeVersionFigures are one version's figures of a node.
type NodeVersionFigures struct {
	Version int `json:"version"`
	NodeFigures
	WaitingNow int64 `json:"waiting_now"`
}

// NodePoint is one bucket of a node's series.
type NodePoint struct {
	At        time.Time `json:"at"`
	Entered   int64     `json:"entered"`
	Completed int64     `json:"completed"`
	Failed    int64     `json:"failed"`
}

// Node reads one node's figures. The node need not be in the current
// version: its id is counted in every version that has it.
func Node(ctx context.Context, st *store.Store, j *kalcifer.Journey, nodeID string, q Query) (*NodeReport, error) {
	p := q.params(j.TenantID, j.ID)
	p.Nodes, p.NodeID, p.Bucket = true, nodeID, 0
	counts, err := st.AnalyticsCounts(ctx, p)
	if err != nil {
		return nil, err
	}
	waiting, err := st.WaitingAt(ctx, j.TenantID, j.ID, nodeID)
	if err != nil {
		return nil, err
	}
	var all nodeAcc
	byVersion := map[int]*nodeAcc{}
	for _, c := range counts {
		all.add(c)
		if byVersion[c.Version] == nil {
			byVersion[c.Version] = &nodeAcc{}
		}
		byVersion[c.Version].add(c)
	}
	var now int64
	for v, n := range waiting {
		if q.Version != 0 && v != q.Version {
			continue
		}
		now += int64(n)
		if byVersion[v] == nil {
			byVersion[v] = &nodeAcc{}
		}
	}
	r := &NodeReport{JourneyID: j.ID, NodeID: nodeID, Version: q.Version, Range: q.rangeOf(), NodeFigures: all.figures(),
		WaitingNow: now, Versions: []NodeVersionFigures{}}
	for _, v := range sortedKeys(byVersion) {
		r.Versions = append(r.Versions, NodeVersionFigures{Version: v, NodeFigures: byVersion[v].figures(), WaitingNow: int64(waiting[v])})
	}
	if q.Bucket > 0 {
		p.Bucket = q.Bucket
		series, err := st.AnalyticsCounts(ctx, p)
		if err != nil {
			return nil, err
		}
		r.Series = nodeSeries(series)
	}
	return r, nil
}

func nodeSeries(counts []store.Count) []NodePoint {
	points := map[time.Time]*nodeAcc{}
	for _, c := range counts {
		if points[c.Hour] == nil {
			points[c.Hour] = &nodeAcc{}
		}
		points[c.Hour].add(c)
	}
	out := []NodePoint{}
	for _, at := range sortedTimes(points) {
		f := points[at].f
		out = append(out, NodePoint{At: at, Entered: f.Entered, Completed: f.Completed, Failed: f.Failed})
	}
	return out
}

// FunnelStep is one node of a funnel.
type FunnelStep struct {
	NodeID string `json:"node_id"`
	Type   string `json:"type"`
	NodeFigures
	// DropOff counts those who arrived and have not left: still there,
	// failed there, or taken out of the journey while there;
	// DropOffRate is DropOff / Entered.
	DropOff     int64       `json:"drop_off"`
	DropOffRate float64     `json:"drop_off_rate"`
	Series      []NodePoint `json:"series,omitempty"`
}

// FunnelReport answers GET /journeys/{id}/funnel.
type FunnelReport struct {
	JourneyID string `json:"journey_id"`
	// Version is the version whose graph lists the nodes and whose
	// counts they show.
	Version int `json:"version"`
	Range
	Nodes []FunnelStep `json:"nodes"`
}

// Funnel reads the figures of every node of version v's graph, in graph
// order (breadth first from the entries), counting version v only.
func Funnel(ctx context.Context, st *store.Store, j *kalcifer.Journey, v *kalcifer.Version, q Query) (*FunnelReport, error) {
	q.Version = v.Version
	p := q.params(j.TenantID, j.ID)
	p.Nodes, p.Bucket = true, 0
	counts, err := st.AnalyticsCounts(ctx, p)
	if err != nil {
		return nil, err
	}
	byNode := map[string]*nodeAcc{}
	for _, c := range counts {
		if byNode[c.NodeID] == nil {
			byNode[c.NodeID] = &nodeAcc{}
		}
		byNode[c.NodeID].add(c)
	}
	var series map[string][]store.Count
	if q.Bucket > 0 {
		p.Bucket = q.Bucket
		list, err := st.AnalyticsCounts(ctx, p)
		if err != nil {
			return nil, err
		}
		series = map[string][]store.Count{}
		for _, c := range list {
			series[c.NodeID] = append(series[c.NodeID], c)
		}
	}
	r := &FunnelReport{JourneyID: j.ID, Version: v.Version, Range: q.rangeOf(), Nodes: []FunnelStep{}}
	for _, n := range graphOrder(&v.Graph) {
		a := byNode[n.ID]
		if a == nil {
			a = &nodeAcc{}
		}
		f := a.figures()
		s := FunnelStep{NodeID: n.ID, Type: n.Type, NodeFigures: f, DropOff: max(f.Entered-f.Completed, 0)}
		if f.Entered > 0 {
			s.DropOffRate = float64(s.DropOff) / float64(f.Entered)
		}
		if series != nil {
			s.Series = nodeSeries(series[n.ID])
		}
		r.Nodes = append(r.Nodes, s)
	}
	return r, nil
}

// graphOrder lists g's nodes breadth first from the nodes no edge enters,
// then any left over in the graph's own order.
func graphOrder(g *graph.Graph) []graph.Node {
	byID := make(map[string]graph.Node, len(g.Nodes))
	entered := map[string]bool{}
	next := map[string][]string{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	for _, e := range g.Edges {
		entered[e.Target] = true
		next[e.Source] = append(next[e.Source], e.Target)
	}
	var queue []string
	for _, n := range g.Nodes {
		if !entered[n.ID] {
			queue = append(queue, n.ID)
		}
	}
	seen := map[string]bool{}
	out := make([]graph.Node, 0, len(g.Nodes))
	visit := func(id string) {
		if n, ok := byID[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, n)
			queue = append(queue, next[id]...)
		}
	}
	for i := 0; i < len(queue); i++ {
		visit(queue[i])
	}
	for _, n := range g.Nodes {
		visit(n.ID)
	}
	return out
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedTimes[V any](m map[time.Time]V) []time.Time {
	keys := make([]time.Time, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, time.Time.Compare)
	return keys
}

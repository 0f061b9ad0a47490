package analytics

import (
	"strconv"
	"time"

	"github.com/kalcifer/kalcifer/store"
)

// The metrics the counters hold. Node metrics (a node's id in node_id):
const (
	// MetricEntered counts arrivals at a node (a new visit of a path), or
	// for the journey, instances started.
	MetricEntered = "entered"
	// metricResult + a step's result counts the steps that left a node
	// by that result: a branch taken, "ended", "exited" or "failed".
	metricResult = "result:"
	// metricTime + a bucket counts the times spent at the node, from
	// arrival to leaving; total sums them in microseconds.
	metricTime = "time:"
	// metricEnded + a status counts instances that ended so (node_id '').
	metricEnded = "ended:"
	// MetricGoal counts goal_reached steps (node_id ''), total summing the
	// times from the instance's start.
	MetricGoal = "goal"
	// metricGoalTime + a bucket counts the times to a goal (node_id '').
	metricGoalTime = "goal_time:"
	// metricSend + a ledger status counts finished sends; metricDelivery +
	// a delivery status, the statuses providers reported (analytics_sends).
	metricSend     = "send:"
	metricDelivery = "delivery:"
)

// Observer keeps the analytics counters: registered with Store.Observe, it
// adds what each engine transaction did to the counters inside that
// transaction, so that they commit, or roll back, with the steps.
type Observer struct{}

// InTx adds the transaction's steps, ends, sends and deliveries to the
// counters with one upsert per table (a chunk of rows each).
func (o *Observer) InTx(t *store.EngineTx, w *store.Written) error {
	c := &tally{now: w.At, counts: map[countKey]*store.Count{}, sends: map[sendKey]int64{}}
	resumed, err := resumes(t, w)
	if err != nil {
		return err
	}
	for _, in := range w.Instances {
		c.instance(in, resumed)
	}
	for _, s := range w.Sends {
		c.send(s.TenantID, s.JourneyID, s.Version, s.NodeID, s.Channel, s.Provider, metricSend+string(s.Status), w.At)
	}
	for _, d := range w.Deliveries {
		at := d.At
		if at.IsZero() {
			at = w.At
		}
		s := d.Send
		c.send(s.TenantID, s.JourneyID, s.Version, s.NodeID, s.Channel, s.Provider, metricDelivery+d.Delivery, at)
	}
	if len(c.counts) > 0 {
		rows := make([]store.Count, 0, len(c.counts))
		for _, r := range c.counts {
			rows = append(rows, *r)
		}
		if err := t.AddCounts(rows); err != nil {
			return err
		}
	}
	if len(c.sends) > 0 {
		rows := make([]store.SendCount, 0, len(c.sends))
		for k, n := range c.sends {
			rows = append(rows, store.SendCount{TenantID: k.tenant, JourneyID: k.journey, Version: k.version, NodeID: k.node,
				Channel: k.channel, Provider: k.provider, Hour: k.hour, Metric: k.metric, N: n})
		}
		if err := t.AddSendCounts(rows); err != nil {
			return err
		}
	}
	return nil
}

// Committed does nothing: the counters are written inside the transaction.
func (o *Observer) Committed(*store.Written) {}

// resumes finds the steps that resume a visit begun in an earlier
// transaction (a wait that ended, a send's outcome), with when the wait
// began: such a step leaves the node without arriving again. Only the
// first step of each path of an instance that was not started in this
// transaction can be one, and only those are looked up, in one query.
func resumes(t *store.EngineTx, w *store.Written) (map[store.WaitKey]time.Time, error) {
	var keys []store.WaitKey
	for _, in := range w.Instances {
		if in.Created {
			continue
		}
		var seen map[int]bool
		for _, st := range in.Steps {
			if st.NodeID == "" || seen[st.PathID] {
				continue
			}
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[st.PathID] = true
			if st.Result != "waiting" {
				keys = append(keys, store.WaitKey{InstanceID: in.ID, PathID: st.PathID, NodeID: st.NodeID, Visit: st.Visit})
			}
		}
	}
	return t.WaitStarts(keys)
}

// tally sums one transaction's counts by key before they are written.
type tally struct {
	now    time.Time
	counts map[countKey]*store.Count
	sends  map[sendKey]int64
}

type countKey struct {
	tenant, journey string
	version         int
	node, metric    string
	hour            time.Time
}

type sendKey struct {
	tenant, journey         string
	version                 int
	node, channel, provider string
	metric                  string
	hour                    time.Time
}

// add adds n occurrences (and total µs) of metric.
func (c *tally) add(in store.SavedInstance, version int, node, metric string, at time.Time, n, total int64) {
	k := countKey{in.TenantID, in.JourneyID, version, node, metric, hourOf(at)}
	r := c.counts[k]
	if r == nil {
		r = &store.Count{TenantID: k.tenant, JourneyID: k.journey, Version: version, NodeID: node, Hour: k.hour, Metric: metric}
		c.counts[k] = r
	}
	r.N += n
	r.Total += total
}

// instance counts an instance's start, steps and end.
func (c *tally) instance(in store.SavedInstance, resumed map[store.WaitKey]time.Time) {
	if in.Created {
		c.add(in, in.Version, "", MetricEntered, in.CreatedAt, 1, 0)
	}
	var waited map[store.WaitKey]time.Time // visits that began waiting in this transaction
	for _, st := range in.Steps {
		if st.NodeID == "" {
			continue // exits, controls and migrations: no node's doing
		}
		k := store.WaitKey{InstanceID: in.ID, PathID: st.PathID, NodeID: st.NodeID, Visit: st.Visit}
		if st.Result == "waiting" {
			c.add(in, st.Version, st.NodeID, MetricEntered, st.At, 1, 0)
			if waited == nil {
				waited = map[store.WaitKey]time.Time{}
			}
			waited[k] = st.At
			continue
		}
		var held time.Duration
		since, ok := resumed[k]
		if w, now := waited[k]; now {
			since, ok = w, true
		}
		if ok {
			held = max(st.At.Sub(since), 0)
		} else {
			c.add(in, st.Version, st.NodeID, MetricEntered, st.At, 1, 0)
		}
		c.add(in, st.Version, st.NodeID, metricResult+st.Result, st.At, 1, 0)
		c.add(in, st.Version, st.NodeID, metricTime+strconv.Itoa(bucketOf(held)), st.At, 1, held.Microseconds())
		if st.Type == "goal_reached" && st.Result != "failed" {
			toGoal := max(st.At.Sub(in.CreatedAt), 0)
			c.add(in, st.Version, "", MetricGoal, st.At, 1, toGoal.Microseconds())
			c.add(in, st.Version, "", metricGoalTime+strconv.Itoa(bucketOf(toGoal)), st.At, 1, 0)
		}
	}
	if in.Status.Ended() && !in.From.Ended() {
		c.add(in, in.Version, "", metricEnded+string(in.Status), c.now, 1, 0)
	}
}

func (c *tally) send(tenant, journey string, version int, node, channel, provider, metric string, at time.Time) {
	c.sends[sendKey{tenant, journey, version, node, channel, provider, metric, hourOf(at)}]++
}

// hourOf is the start of t's UTC hour.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

var _ store.Observer = (*Observer)(nil)

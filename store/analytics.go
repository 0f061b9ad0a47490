package store

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// The analytics counters (migration 00018): what the analytics observer
// adds inside engine transactions, and what the analytics API reads.

// counterShards is how many rows share one counter on a database with
// concurrent writers: each transaction adds to one of them, picked at
// random, so two engine workers rarely wait for each other's row lock.
const counterShards = 4

// Count is one counter of a node of a journey version (NodeID "" for the
// journey as a whole) in one hour: how many times Metric happened, and for
// time metrics the sum of the times in microseconds.
type Count struct {
	TenantID, JourneyID string
	Version             int
	NodeID              string
	// Hour is the start of the UTC hour (or of the bucket a read asked
	// for; zero when it asked for none).
	Hour   time.Time
	Metric string
	N      int64
	Total  int64
}

// SendCount is one counter of sends or delivery statuses by channel and
// provider, like Count.
type SendCount struct {
	TenantID, JourneyID string
	Version             int
	NodeID              string
	Channel, Provider   string
	Hour                time.Time
	Metric              string
	N                   int64
}

// shard picks the counter row this transaction adds to.
func (t *EngineTx) shard() int {
	if t.s.d.SingleWriter {
		return 0
	}
	return rand.IntN(counterShards)
}

// AddCounts adds counts to the counters with one multi-row upsert per
// chunk of Dialect.InsertRows rows. Counts must not repeat a key (the
// observer sums them first). Rows are written in key order, so two
// transactions lock shared rows in the same order and never deadlock.
func (t *EngineTx) AddCounts(counts []Count) error {
	slices.SortFunc(counts, func(a, b Count) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.JourneyID, b.JourneyID), cmp.Compare(a.NodeID, b.NodeID),
			cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Version, b.Version), a.Hour.Compare(b.Hour))
	})
	shard := t.shard()
	return t.upsert(len(counts), `INSERT INTO analytics_counts (tenant_id, journey_id, version, node_id, hour, metric, shard, n, total) VALUES `,
		`ON CONFLICT (tenant_id, journey_id, node_id, metric, version, hour, shard) DO UPDATE
		SET n = analytics_counts.n + excluded.n, total = analytics_counts.total + excluded.total`, 9,
		func(i int, args []any) []any {
			c := counts[i]
			return append(args, c.TenantID, c.JourneyID, c.Version, c.NodeID, micros(c.Hour), c.Metric, shard, c.N, c.Total)
		})
}

// AddSendCounts adds counts to the send counters, as AddCounts does.
func (t *EngineTx) AddSendCounts(counts []SendCount) error {
	slices.SortFunc(counts, func(a, b SendCount) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.JourneyID, b.JourneyID), cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.NodeID, b.NodeID), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.Metric, b.Metric), a.Hour.Compare(b.Hour))
	})
	shard := t.shard()
	return t.upsert(len(counts), `INSERT INTO analytics_sends (tenant_id, journey_id, version, node_id, channel, provider, hour, metric, shard, n) VALUES `,
		`ON CONFLICT (tenant_id, journey_id, version, node_id, channel, provider, metric, hour, shard) DO UPDATE
		SET n = analytics_sends.n + excluded.n`, 10,
		func(i int, args []any) []any {
			c := counts[i]
			return append(args, c.TenantID, c.JourneyID, c.Version, c.NodeID, c.Channel, c.Provider, micros(c.Hour), c.Metric, shard, c.N)
		})
}

// upsert writes n rows of cols values each, row(i) appending row i's.
func (t *EngineTx) upsert(n int, insert, conflict string, cols int, row func(i int, args []any) []any) error {
	chunk := max(t.s.d.InsertRows, 1)
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var values strings.Builder
		for i := range end - start {
			if i > 0 {
				values.WriteString(", ")
			}
			values.WriteString(placeholders(i*cols, cols))
		}
		if _, err := t.tx.Exec(t.ctx, insert+values.String()+" "+conflict, args...); err != nil {
			return fmt.Errorf("add analytics counts: %w", err)
		}
	}
	return nil
}

// WaitKey names one visit of one path of an instance at a node.
type WaitKey struct {
	InstanceID string
	PathID     int
	NodeID     string
	Visit      int
}

// WaitStarts returns, for each key that has a "waiting" step in the
// stored history, when the earliest began: the visit then arrived at the
// node in an earlier transaction and a step of it now is its resumption.
// It reads the history of the keys' instances with one query.
func (t *EngineTx) WaitStarts(keys []WaitKey) (map[WaitKey]time.Time, error) {
	out := map[WaitKey]time.Time{}
	if len(keys) == 0 {
		return out, nil
	}
	want := make(map[WaitKey]bool, len(keys))
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		if !want[k] {
			want[k] = true
			ids = append(ids, k.InstanceID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var args []any
	rows, err := t.tx.Query(t.ctx, `SELECT instance_id, path_id, node_id, visit, MIN(at) FROM instance_steps
		WHERE instance_id IN (`+bind(&args, ids)+`) AND result = 'waiting' GROUP BY instance_id, path_id, node_id, visit`, args...)
	if err != nil {
		return nil, fmt.Errorf("read wait starts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k WaitKey
		var at int64
		if err := rows.Scan(&k.InstanceID, &k.PathID, &k.NodeID, &k.Visit, &at); err != nil {
			return nil, fmt.Errorf("read wait starts: %w", err)
		}
		if want[k] {
			out[k] = fromMicros(at)
		}
	}
	return out, rows.Err()
}

// CountsParams selects counters to read. Counters are summed over shards,
// and over hours unless Bucket asks for a series.
type CountsParams struct {
	TenantID, JourneyID string
	// Nodes reads the nodes' counters; otherwise the journey's own
	// (node_id ''). NodeID narrows Nodes to one node.
	Nodes  bool
	NodeID string
	// Version narrows to one version; 0 reads all, each apart.
	Version int
	// From and To select the hours that start in [From, To); zero for no
	// bound.
	From, To time.Time
	// Bucket, an hour or a day, splits the counts into a series; 0 does
	// not.
	Bucket time.Duration
	// ByNode splits send counts by node (AnalyticsSends).
	ByNode bool
}

// where writes the conditions the params share between both tables.
func (p CountsParams) where(args *[]any) string {
	var w strings.Builder
	and := func(cond string, arg any) {
		*args = append(*args, arg)
		fmt.Fprintf(&w, " AND "+cond, len(*args))
	}
	if p.JourneyID != "" {
		and("journey_id = $%d", p.JourneyID)
	}
	if p.Version != 0 {
		and("version = $%d", p.Version)
	}
	if !p.From.IsZero() {
		and("hour >= $%d", micros(p.From))
	}
	if !p.To.IsZero() {
		and("hour < $%d", micros(p.To))
	}
	return w.String()
}

// bucket is the SELECT expression of the series' bucket, and whether
// there is one.
func (p CountsParams) bucket(args *[]any) (string, bool) {
	if p.Bucket <= 0 {
		return "0", false
	}
	*args = append(*args, p.Bucket.Microseconds())
	return fmt.Sprintf("(hour / $%d) * $%d", len(*args), len(*args)), true
}

// AnalyticsCounts reads counters, one row per version, node, metric (and bucket).
func (s *Store) AnalyticsCounts(ctx context.Context, p CountsParams) ([]Count, error) {
	args := []any{p.TenantID}
	// Grouped in the primary key's order (node, metric, version), so the
	// databases aggregate as they read, without sorting.
	q := `SELECT node_id, metric, version, %s, CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT) FROM analytics_counts
		WHERE tenant_id = $1`
	if p.Nodes {
		q += ` AND node_id <> ''`
		if p.NodeID != "" {
			args = append(args, p.NodeID)
			q = strings.Replace(q, `node_id <> ''`, fmt.Sprintf("node_id = $%d", len(args)), 1)
		}
	} else {
		q += ` AND node_id = ''`
	}
	q += p.where(&args)
	expr, series := p.bucket(&args)
	q = fmt.Sprintf(q, expr) + ` GROUP BY 1, 2, 3`
	if series {
		q += `, 4`
	}
	rows, err := s.b.Q().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read analytics counts: %w", err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		c := Count{TenantID: p.TenantID, JourneyID: p.JourneyID}
		var hour int64
		if err := rows.Scan(&c.NodeID, &c.Metric, &c.Version, &hour, &c.N, &c.Total); err != nil {
			return nil, fmt.Errorf("read analytics counts: %w", err)
		}
		if series {
			c.Hour = fromMicros(hour)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AnalyticsSends reads send counters, one row per version, channel,
// provider, metric (with ByNode, node; with Bucket, bucket), over every
// node; JourneyID "" reads every journey of the tenant together (Version
// then applies to each).
func (s *Store) AnalyticsSends(ctx context.Context, p CountsParams) ([]SendCount, error) {
	args := []any{p.TenantID}
	where := p.where(&args)
	expr, series := p.bucket(&args)
	version, node := "version", "''"
	if p.JourneyID == "" {
		version = "0" // versions of different journeys are not comparable
	}
	group := `1, 3, 4, 5`
	if p.ByNode {
		node, group = "node_id", `1, 2, 3, 4, 5`
	}
	q := fmt.Sprintf(`SELECT %s, %s, channel, provider, metric, %s, CAST(SUM(n) AS BIGINT) FROM analytics_sends
		WHERE tenant_id = $1%s GROUP BY %s`, version, node, expr, where, group)
	if series {
		q += `, 6`
	}
	rows, err := s.b.Q().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read send counts: %w", err)
	}
	defer rows.Close()
	var out []SendCount
	for rows.Next() {
		c := SendCount{TenantID: p.TenantID, JourneyID: p.JourneyID}
		var hour int64
		if err := rows.Scan(&c.Version, &c.NodeID, &c.Channel, &c.Provider, &c.Metric, &hour, &c.N); err != nil {
			return nil, fmt.Errorf("read send counts: %w", err)
		}
		if series {
			c.Hour = fromMicros(hour)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// WaitingAt counts a journey's active and paused instances with a path at
// node, per version.
func (s *Store) WaitingAt(ctx context.Context, tenantID, journeyID, node string) (map[int]int, error) {
	rows, err := s.b.Q().Query(ctx, `SELECT version, COUNT(*) FROM instances
		WHERE tenant_id = $1 AND journey_id = $2 AND status IN ('active', 'paused') AND at_nodes LIKE $3 ESCAPE '\'
		GROUP BY version`, tenantID, journeyID, "% "+escapeLike(node)+" %")
	if err != nil {
		return nil, fmt.Errorf("count instances at node %s: %w", node, err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("count instances at node %s: %w", node, err)
		}
		out[v] = n
	}
	return out, rows.Err()
}

// DeleteHistory deletes the history steps of up to limit instances that
// ended before before, and returns how many steps it deleted. The
// counters keep their figures; the instances and sends stay.
func (s *Store) DeleteHistory(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.b.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM instance_steps WHERE instance_id IN (
			SELECT i.id FROM instances i WHERE i.ended_at IS NOT NULL AND i.ended_at < $1
			AND EXISTS (SELECT 1 FROM instance_steps s WHERE s.instance_id = i.id) LIMIT $2)`, micros(before), limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete history before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// InstanceTrace is an instance with its whole recorded history and sends.
type InstanceTrace struct {
	Instance *kalcifer.Instance
	Steps    []kalcifer.Step
	Sends    []kalcifer.Send
}

// Trace reads one of the tenant's instances with its steps and sends.
func (s *Store) Trace(ctx context.Context, tenantID, instanceID string) (*InstanceTrace, error) {
	in, err := s.GetInstance(ctx, tenantID, instanceID)
	if err != nil {
		return nil, err
	}
	steps, err := s.InstanceSteps(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	sends, err := s.ListSends(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &InstanceTrace{Instance: in, Steps: steps, Sends: sends}, nil
}

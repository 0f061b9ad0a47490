package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kalcifer/kalcifer"
)

// Set-based engine transactions (issue 12). An engine transaction keeps
// the rows it works on in memory — its working set: the instances it
// read or started, the customers it read, the event waits of its batch's
// customers — and buffers what it writes to them: instance rows, history
// steps, waits, the places ended instances leave, customers' last-seen
// times, processed marks, sends and profile changes. The buffer is flushed
// with one statement per table (arrays on PostgreSQL; on SQLite,
// in-process, a cached statement a row) before any other statement of the
// transaction runs and before it commits, so every statement reads what the transaction wrote. A batch
// that reads its rows first (LoadInstances, LoadCustomers, LoadEventWaits)
// then costs a handful of statements, whatever its size.

// workset is an engine transaction's rows in memory and its pending writes.
type workset struct {
	// instances are the instances the transaction read or saved, as it
	// last saved them; stored is the lock version each has in the
	// database (as of the last flush).
	instances map[string]*kalcifer.Instance
	stored    map[string]int
	// waits are the waits of the instances the transaction saved, as it
	// last saved them (less those taken since); taken are the waits it
	// took that were not among those.
	waits map[string]map[int]kalcifer.Wait
	taken map[waitKey]bool
	// customers are profiles read in the transaction, by tenant and id.
	customers map[customerKey]*kalcifer.Customer
	// eventWaits are the preloaded waits of customers of active instances
	// for event types (LoadEventWaits), as the database had them.
	eventWaits map[customerKey][]WaitRef
	// born are the instances started in this transaction.
	born map[string]bool
	// sends are the transaction's part of the send ledger (worksends.go).
	sends sendWork

	// Pending writes, flushed together: instances saved (in order),
	// history steps, waits taken, instances whose journey place is freed,
	// customers whose seen times widened, events routed.
	saved     []savedRow
	steps     []stepRow
	takenNow  []waitKey
	leave     []*kalcifer.Instance
	seen      map[customerKey]bool
	processed []string
	profiles  []profileChange
}

type customerKey struct{ tenant, id string }

type waitKey struct {
	instance string
	path     int
}

// savedRow is an instance saved since the last flush: inserted when fresh
// (not stored yet), else updated.
type savedRow struct {
	id    string
	fresh bool
}

func newWorkset() *workset {
	return &workset{instances: map[string]*kalcifer.Instance{}, stored: map[string]int{},
		waits: map[string]map[int]kalcifer.Wait{}, taken: map[waitKey]bool{},
		customers: map[customerKey]*kalcifer.Customer{}, seen: map[customerKey]bool{}, born: map[string]bool{}, sends: newSendWork()}
}

// dirty reports whether writes wait to be flushed.
func (w *workset) dirty() bool {
	return len(w.saved) > 0 || len(w.steps) > 0 || len(w.takenNow) > 0 || len(w.leave) > 0 || len(w.seen) > 0 || len(w.processed) > 0 ||
		len(w.sends.pending) > 0 || len(w.profiles) > 0
}

// flushingTx runs every statement after the transaction's pending writes.
type flushingTx struct{ t *EngineTx }

func (f flushingTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := f.t.flush(); err != nil {
		return 0, err
	}
	return f.t.raw.Exec(ctx, query, args...)
}

func (f flushingTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	if err := f.t.flush(); err != nil {
		return nil, err
	}
	return f.t.raw.Query(ctx, query, args...)
}

func (f flushingTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	if err := f.t.flush(); err != nil {
		return errRow{err}
	}
	return f.t.raw.QueryRow(ctx, query, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// cloneInstance copies an instance, so that the caller's changes reach the
// working set only through SaveInstance.
func cloneInstance(in *kalcifer.Instance) *kalcifer.Instance {
	c := *in
	c.Nodes = slices.Clone(in.Nodes)
	return &c
}

// forget writes the pending writes and empties the working set, before a
// statement changes its rows directly (migration moves, merges,
// erasures): what the transaction reads next comes from the database.
func (t *EngineTx) forget() error {
	if err := t.flush(); err != nil {
		return err
	}
	*t.ws = *newWorkset()
	return nil
}

// remember puts an instance read from the database into the working set.
func (t *EngineTx) remember(in *kalcifer.Instance) {
	t.ws.instances[in.ID] = cloneInstance(in)
	t.ws.stored[in.ID] = in.LockVersion
	t.noteLoaded(in)
}

// anyOf is a condition that col is one of the values bound at $n by
// list: an array on PostgreSQL, a JSON array on SQLite.
func (t *EngineTx) anyOf(col string, n int) string {
	if t.s.d.BindsArrays {
		return fmt.Sprintf("%s = ANY($%d::text[])", col, n)
	}
	return fmt.Sprintf("%s IN (SELECT value FROM json_each($%d))", col, n)
}

func (t *EngineTx) list(values []string) (any, error) {
	if t.s.d.BindsArrays {
		return values, nil
	}
	b, err := json.Marshal(values)
	return string(b), err
}

// notLoaded returns the ids (each once, in their order) the working set
// has not loaded yet.
func notLoaded(ids []string, loaded func(id string) bool) []string {
	var want []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] && !loaded(id) {
			want = append(want, id)
		}
		seen[id] = true
	}
	return want
}

// LoadInstances reads the instances of ids into the transaction's working
// set in one query, locking them on PostgreSQL in id order (so that two
// batches never wait for each other in opposite orders). Instance then
// answers from memory. Ids already in the working set are not read again.
func (t *EngineTx) LoadInstances(ids []string) error {
	want := notLoaded(ids, func(id string) bool { _, ok := t.ws.instances[id]; return ok })
	if len(want) == 0 {
		return nil
	}
	arg, err := t.list(want)
	if err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+instanceColumns+` FROM instances WHERE `+t.anyOf("id", 1)+` ORDER BY id`+t.s.forUpdate(), arg)
	if err != nil {
		return fmt.Errorf("read instances: %w", err)
	}
	list, err := collectInstances(rows)
	if err != nil {
		return err
	}
	for _, in := range list {
		t.remember(in)
	}
	return nil
}

// LoadCustomers reads the profiles of a tenant's customers into the
// working set in one query, creating the missing ones empty (Customer).
func (t *EngineTx) LoadCustomers(tenantID string, ids []string) error {
	want := notLoaded(ids, func(id string) bool { _, ok := t.ws.customers[customerKey{tenantID, id}]; return ok })
	if len(want) == 0 {
		return nil
	}
	arg, err := t.list(want)
	if err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT `+customerColumns+` FROM customers WHERE tenant_id = $1 AND `+t.anyOf("id", 2), tenantID, arg)
	if err != nil {
		return fmt.Errorf("read customers: %w", err)
	}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("read customers: %w", err)
		}
		t.ws.customers[customerKey{tenantID, c.ID}] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read customers: %w", err)
	}
	var missing []string
	for _, id := range want {
		if _, ok := t.ws.customers[customerKey{tenantID, id}]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	arg, err = t.list(missing)
	if err != nil {
		return err
	}
	from := `unnest($2::text[]) AS x(value)`
	if !t.s.d.BindsArrays {
		from = `json_each($2) WHERE true` // WHERE: SQLite's upsert after a SELECT needs one
	}
	rows, err = t.raw.Query(t.ctx, `INSERT INTO customers (tenant_id, id, created_at, updated_at) SELECT $1, value, $3, $3 FROM `+from+`
		ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id`, tenantID, arg, micros(t.now))
	if err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	var created []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("create customers: %w", err)
		}
		created = append(created, id)
		t.ws.customers[customerKey{tenantID, id}] = &kalcifer.Customer{ID: id, Attributes: map[string]any{}, Tags: []string{},
			CreatedAt: t.now, UpdatedAt: t.now}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	// A new, empty profile can match a segment ("not tag …"). Those
	// created meanwhile by another transaction are read one by one
	// (Customer).
	if len(created) == 0 {
		return nil
	}
	return t.NoteChanged(tenantID, "", created)
}

// LoadEventWaits reads, in one query, the waits of a tenant's customers'
// active instances for the event types, and locks those instances (as
// LoadInstances): EventWaits then answers from memory for these
// customers, with the transaction's own changes to their waits applied.
func (t *EngineTx) LoadEventWaits(tenantID string, customerIDs, eventTypes []string) error {
	if t.ws.eventWaits == nil {
		t.ws.eventWaits = map[customerKey][]WaitRef{}
	}
	want := notLoaded(customerIDs, func(id string) bool { _, ok := t.ws.eventWaits[customerKey{tenantID, id}]; return ok })
	if len(want) == 0 {
		return nil
	}
	ids, err := t.list(want)
	if err != nil {
		return err
	}
	types, err := t.list(eventTypes)
	if err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT w.instance_id, w.path_id, w.kind, w.event_type, w.filter, w.due_at, w.send_key, w.customer_id
		FROM waits w JOIN instances i ON i.id = w.instance_id
		WHERE w.tenant_id = $1 AND `+t.anyOf("w.customer_id", 2)+` AND `+t.anyOf("w.event_type", 3)+` AND i.status = 'active'
		ORDER BY w.instance_id, w.path_id`, tenantID, ids, types)
	if err != nil {
		return fmt.Errorf("read waits: %w", err)
	}
	for _, id := range want {
		t.ws.eventWaits[customerKey{tenantID, id}] = []WaitRef{}
	}
	var instances []string
	err = scanWaits(rows, func(ref WaitRef, customerID string) {
		k := customerKey{tenantID, customerID}
		t.ws.eventWaits[k] = append(t.ws.eventWaits[k], ref)
		instances = append(instances, ref.InstanceID)
	}, true)
	if err != nil {
		return err
	}
	return t.LoadInstances(instances)
}

// eventWaitsInMemory answers EventWaits from the preloaded waits, with the
// waits of instances this transaction saved or took replacing theirs.
func (t *EngineTx) eventWaitsInMemory(tenantID, customerID, eventType string) ([]WaitRef, bool) {
	loaded, ok := t.ws.eventWaits[customerKey{tenantID, customerID}]
	if !ok {
		return nil, false
	}
	var out []WaitRef
	for _, ref := range loaded {
		if _, saved := t.ws.waits[ref.InstanceID]; saved {
			continue // saved in this transaction: its waits are below
		}
		if ref.Wait.EventType == eventType && !t.ws.taken[waitKey{ref.InstanceID, ref.PathID}] {
			out = append(out, ref)
		}
	}
	for id, waits := range t.ws.waits {
		in := t.ws.instances[id]
		if in.TenantID != tenantID || in.CustomerID != customerID || in.Status != kalcifer.InstanceActive {
			continue
		}
		for pathID, w := range waits {
			if w.EventType == eventType {
				out = append(out, WaitRef{InstanceID: id, PathID: pathID, Wait: w})
			}
		}
	}
	slices.SortFunc(out, func(a, b WaitRef) int {
		if a.InstanceID != b.InstanceID {
			if a.InstanceID < b.InstanceID {
				return -1
			}
			return 1
		}
		return a.PathID - b.PathID
	})
	return out, true
}

package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testIdentify: an identify creates a profile or merges into it, nested
// objects key by key, and widens the first and last seen times.
func testIdentify(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, _, err := s.EnsureTenant(ctx, actor, "acme")
	must(t, err)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c, created, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "c1",
		Attributes: map[string]any{"plan": "pro", "address": map[string]any{"city": "Lyon", "zip": "69001"}, "seats": 3},
		AddTags:    []string{"vip"}, Timestamp: t0}})
	must(t, err)
	if !created || c.FirstSeenAt == nil || !c.FirstSeenAt.Equal(t0) || !c.LastSeenAt.Equal(t0) {
		t.Fatalf("created %v: %+v", created, c)
	}
	// Nested objects merge; null removes at any depth; other values replace.
	c, created, err = s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "c1",
		Attributes: map[string]any{"address": map[string]any{"zip": nil, "street": "1 rue X"}, "seats": 5, "plan": nil},
		AddTags:    []string{"beta"}, RemoveTags: []string{"vip"}, Timestamp: t0.Add(-time.Hour)}})
	must(t, err)
	if created {
		t.Fatal("a second identify created the profile again")
	}
	got, err := s.GetCustomer(ctx, "default", "c1")
	must(t, err)
	addr, _ := got.Attributes["address"].(map[string]any)
	if _, ok := got.Attributes["plan"]; ok || got.Attributes["seats"] != 5.0 || addr["city"] != "Lyon" || addr["street"] != "1 rue X" ||
		addr["zip"] != nil || !slices.Equal(got.Tags, []string{"beta"}) {
		t.Fatalf("merged = %+v", got)
	}
	if !got.FirstSeenAt.Equal(t0.Add(-time.Hour)) || !got.LastSeenAt.Equal(t0) || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("seen %v–%v, created %v; want %v–%v", got.FirstSeenAt, got.LastSeenAt, got.CreatedAt, t0.Add(-time.Hour), t0)
	}
	// An object replaces a scalar and the other way round.
	_, _, err = s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "c1",
		Attributes: map[string]any{"seats": map[string]any{"max": 9}, "address": "gone"}, Timestamp: t0}})
	must(t, err)
	got, err = s.GetCustomer(ctx, "default", "c1")
	must(t, err)
	if got.Attributes["address"] != "gone" || got.Attributes["seats"].(map[string]any)["max"] != 9.0 {
		t.Fatalf("replaced = %+v", got.Attributes)
	}
	if _, _, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default"}); kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
		t.Fatalf("identify without an id: %v", err)
	}
	// Another tenant's customer of the same id is another profile.
	c, created, err = s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "acme", Identity: store.Identity{CustomerID: "c1"}})
	must(t, err)
	if !created || len(c.Attributes) != 0 {
		t.Fatalf("acme's c1: created %v, %+v", created, c)
	}

	// An event's timestamp widens the seen times in the engine's transaction.
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		c, err := tx.Customer("default", "c1")
		must(t, err)
		must(t, tx.SeeCustomer("default", c, t0.Add(time.Hour)))
		return nil
	}))
	got, err = s.GetCustomer(ctx, "default", "c1")
	must(t, err)
	if !got.LastSeenAt.Equal(t0.Add(time.Hour)) || !got.FirstSeenAt.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("after an event: seen %v–%v", got.FirstSeenAt, got.LastSeenAt)
	}
}

// testIdentifyBatch: a batch larger than a multi-row statement, with a
// customer named twice (applied in order) and customers that exist.
func testIdentifyBatch(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, _, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: "c0007",
		Attributes: map[string]any{"kept": true}}})
	must(t, err)
	var batch []store.Identity
	for i := range 250 {
		batch = append(batch, store.Identity{CustomerID: fmt.Sprintf("c%04d", i), Attributes: map[string]any{"n": i, "plan": "free"},
			AddTags: []string{"imported"}})
	}
	batch = append(batch, store.Identity{CustomerID: "c0003", Attributes: map[string]any{"plan": "pro"}, RemoveTags: []string{"imported"}})
	res, err := s.IdentifyCustomers(ctx, "default", batch)
	must(t, err)
	if res.Created != 249 || res.Updated != 1 {
		t.Fatalf("result = %+v, want 249 created and 1 updated", res)
	}
	c3, err := s.GetCustomer(ctx, "default", "c0003")
	must(t, err)
	if c3.Attributes["plan"] != "pro" || c3.Attributes["n"] != 3.0 || len(c3.Tags) != 0 {
		t.Fatalf("c0003 = %+v: the later row must apply after the earlier", c3)
	}
	c7, err := s.GetCustomer(ctx, "default", "c0007")
	must(t, err)
	if c7.Attributes["kept"] != true || c7.Attributes["n"] != 7.0 {
		t.Fatalf("c0007 = %+v", c7)
	}
	last, err := s.GetCustomer(ctx, "default", "c0249")
	must(t, err)
	if last.Attributes["n"] != 249.0 || !slices.Equal(last.Tags, []string{"imported"}) {
		t.Fatalf("c0249 = %+v", last)
	}
}

// testListCustomers: attribute and tag filters, by id a page at a time.
func testListCustomers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, _, err := s.EnsureTenant(ctx, actor, "acme")
	must(t, err)
	ids := []string{"a/b", "bob@example.com", "café", "z", "Zed", "100%"}
	for i, id := range ids {
		_, _, err := s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{CustomerID: id,
			Attributes: map[string]any{"plan": []string{"pro", "free"}[i%2], "seats": i, "beta": i%3 == 0,
				"address": map[string]any{"city": []string{"Lyon", "Paris"}[i%2]}, "first-name": "x"},
			AddTags: [][]string{{"vip"}, {"gold", "vip"}, {}}[i%3]}})
		must(t, err)
	}
	_, _, err = s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "acme", Identity: store.Identity{CustomerID: "intruder",
		Attributes: map[string]any{"plan": "pro"}, AddTags: []string{"vip"}}})
	must(t, err)
	list := func(f store.CustomerFilter) []string {
		t.Helper()
		f.TenantID = "default"
		var out []string
		for pages := 0; ; pages++ {
			page, err := s.ListCustomers(ctx, f)
			must(t, err)
			for _, c := range page.Data {
				out = append(out, c.ID)
			}
			if page.NextCursor == "" {
				return out
			}
			if pages > 10 {
				t.Fatal("pages never end")
			}
			f.Cursor = page.NextCursor
		}
	}
	all := list(store.CustomerFilter{Limit: 2})
	if len(all) != len(ids) {
		t.Fatalf("all, two a page = %v", all)
	}
	if again := list(store.CustomerFilter{Limit: 100}); !slices.Equal(again, all) {
		t.Fatalf("one page %v, pages of two %v: the order must be the same", again, all)
	}
	for _, tc := range []struct {
		f    store.CustomerFilter
		want []string
	}{
		{store.CustomerFilter{Attributes: map[string]string{"plan": "pro"}}, []string{"a/b", "café", "Zed"}},
		{store.CustomerFilter{Attributes: map[string]string{"seats": "3"}}, []string{"z"}},
		{store.CustomerFilter{Attributes: map[string]string{"beta": "true"}}, []string{"a/b", "z"}},
		{store.CustomerFilter{Attributes: map[string]string{"beta": "false", "plan": "free"}}, []string{"bob@example.com", "100%"}},
		{store.CustomerFilter{Attributes: map[string]string{"address.city": "Paris"}}, []string{"bob@example.com", "z", "100%"}},
		{store.CustomerFilter{Attributes: map[string]string{"first-name": "x", "nope": "x"}}, nil},
		{store.CustomerFilter{Tag: "vip"}, []string{"a/b", "bob@example.com", "z", "Zed"}},
		{store.CustomerFilter{Tag: "gold", Attributes: map[string]string{"plan": "free"}}, []string{"bob@example.com"}},
		{store.CustomerFilter{Tag: "vi"}, nil},
	} {
		got := list(tc.f)
		want := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return !slices.Contains(tc.want, id) })
		if !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, want)
		}
	}
}

// testCustomerEvents: a customer's stored events, newest first, by page.
func testCustomerEvents(t *testing.T, s *store.Store) {
	ctx := context.Background()
	var evs []*kalcifer.Event
	for i := range 5 {
		evs = append(evs, &kalcifer.Event{TenantID: "default", CustomerID: "c1", Type: fmt.Sprintf("e%d", i), Data: json.RawMessage(`{"i":1}`)})
	}
	evs = append(evs, &kalcifer.Event{TenantID: "default", CustomerID: "c2", Type: "other"},
		&kalcifer.Event{TenantID: "acme", CustomerID: "c1", Type: "theirs"})
	_, err := s.InsertEvents(ctx, evs)
	must(t, err)
	var got []string
	cursor := ""
	for {
		page, err := s.CustomerEvents(ctx, "default", "c1", 2, cursor)
		must(t, err)
		for _, e := range page.Data {
			got = append(got, e.Type)
			if e.CustomerID != "c1" || string(e.Data) == "" {
				t.Fatalf("event = %+v", e)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(got, ",") != "e4,e3,e2,e1,e0" {
		t.Fatalf("events = %v, want newest first", got)
	}
	none, err := s.CustomerEvents(ctx, "default", "nobody", 0, "")
	must(t, err)
	if len(none.Data) != 0 {
		t.Fatalf("unknown customer's events = %+v", none.Data)
	}
}

// testIdentifyConcurrent: identifies of one new customer at once all merge
// into one profile, which exactly one of them created.
func testIdentifyConcurrent(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const n, rounds = 6, 15
	for round := range rounds {
		id := fmt.Sprintf("same%d", round)
		var wg sync.WaitGroup
		created := make([]bool, n)
		errs := make([]error, n)
		gate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				_, created[i], errs[i] = s.IdentifyCustomer(ctx, store.IdentifyParams{TenantID: "default", Identity: store.Identity{
					CustomerID: id, Attributes: map[string]any{fmt.Sprintf("k%d", i): i, "nested": map[string]any{fmt.Sprintf("n%d", i): true}},
					AddTags: []string{fmt.Sprintf("t%d", i)}}})
			}()
		}
		close(gate)
		wg.Wait()
		for _, err := range errs {
			must(t, err)
		}
		c, err := s.GetCustomer(ctx, "default", id)
		must(t, err)
		nested, _ := c.Attributes["nested"].(map[string]any)
		if len(c.Attributes) != n+1 || len(nested) != n || len(c.Tags) != n {
			t.Fatalf("round %d: concurrent identifies lost a merge: %+v", round, c)
		}
		if k := slices.Index(created, true); k < 0 || slices.Index(created[k+1:], true) >= 0 {
			t.Fatalf("round %d: created = %v, want exactly one", round, created)
		}
	}
}

// testProfileNoLostUpdate: a node's profile change, made by a transaction
// that read the profile before another writer changed it, keeps the other
// writer's change.
func testProfileNoLostUpdate(t *testing.T, s *store.Store) {
	if s.Backend().Dialect().SingleWriter {
		t.Skip("one write transaction at a time: two read-modify-writes cannot interleave")
	}
	ctx := context.Background()
	_, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "c1", Set: map[string]any{"plan": "free"}})
	must(t, err)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		c, err := tx.Customer("default", "c1") // read to route an event, unlocked
		if err != nil {
			return err
		}
		// Meanwhile a PATCH commits.
		if _, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "c1",
			Set: map[string]any{"country": "DE"}, AddTags: []string{"vip"}}); err != nil {
			return err
		}
		if err := tx.ApplyProfile("default", c, map[string]any{"plan": "pro"}, []string{"onboarded"}, nil); err != nil {
			return err
		}
		if c.Attributes["plan"] != "pro" {
			t.Errorf("the run's view of the profile after its change = %v, want its plan", c.Attributes)
		}
		// The change is written with the transaction's pending writes,
		// before its next statement: from then on its view has both.
		var one int
		if err := tx.Tx().QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
			return err
		}
		if again, err := tx.Customer("default", "c1"); err != nil || again.Attributes["country"] != "DE" || again.Attributes["plan"] != "pro" {
			t.Errorf("the transaction's view of the profile after its writes = %v (%v), want the PATCH's country and the plan", again, err)
		}
		return nil
	}))
	c, err := s.GetCustomer(ctx, "default", "c1")
	must(t, err)
	if c.Attributes["plan"] != "pro" || c.Attributes["country"] != "DE" || !slices.Contains(c.Tags, "vip") || !slices.Contains(c.Tags, "onboarded") {
		t.Fatalf("profile = %v %v: the node's change and the concurrent PATCH must both be kept", c.Attributes, c.Tags)
	}
}

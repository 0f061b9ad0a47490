package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// segmentData stores a fixed set of customers and events whose members of
// each rule of testSegmentRules are known. Dates are relative to now.
func segmentData(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	day := 24 * time.Hour
	date := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	for _, c := range []struct {
		tenant, id string
		attrs      map[string]any
		tags       []string
	}{
		{"default", "c1", map[string]any{"plan": "pro", "country": "DE", "ltv": 1500.0, "vip": true, "signed_up": date(-5 * day),
			"address": map[string]any{"city": "Berlin"}, "email": "a@acme.com"}, []string{"vip"}},
		{"default", "c2", map[string]any{"plan": "pro", "country": "FR", "ltv": 200.0, "vip": false, "signed_up": date(-60 * day),
			"email": "b@other.com"}, []string{"churned"}},
		{"default", "c3", map[string]any{"plan": "free", "country": "US", "ltv": 5000.0, "signed_up": "2025-01-01", "name": "Zoë"}, nil},
		// Values of the wrong JSON type never match a typed comparison.
		{"default", "c4", map[string]any{"plan": "pro", "country": "DE", "ltv": "1000", "renewal": date(3 * day), "signed_up": "soon"}, nil},
		{"default", "c5", map[string]any{"plan": 1.0, "signed_up": 20250101.0}, []string{"vip", "churned"}},
		{"other", "c1", map[string]any{"plan": "pro", "country": "DE", "ltv": 9999.0}, []string{"vip"}},
		{"other", "o1", map[string]any{"plan": "pro"}, nil},
	} {
		_, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: c.tenant, CustomerID: c.id, Set: c.attrs, AddTags: c.tags})
		must(t, err)
	}
	var events []*kalcifer.Event
	add := func(tenant, customer, typ string, ago time.Duration, data string) {
		events = append(events, &kalcifer.Event{TenantID: tenant, CustomerID: customer, Type: typ, OccurredAt: now.Add(-ago), Data: json.RawMessage(data)})
	}
	add("default", "c1", "order_completed", 1*day, `{"amount":50}`)
	add("default", "c1", "order_completed", 2*day, `{"amount":5}`)
	add("default", "c1", "order_completed", 10*day, `{"amount":20}`)
	add("default", "c1", "order_completed", 100*day, `{"amount":100}`)
	add("default", "c2", "order_completed", 3*day, `{"amount":500,"currency":"EUR"}`)
	add("default", "c2", "page_viewed", 1*day, `{}`)
	for range 3 {
		add("default", "c3", "order_completed", 40*day, `{"amount":"lots"}`)
	}
	for range 5 {
		add("other", "o1", "order_completed", day, `{"amount":1000}`)
	}
	_, err := s.InsertEvents(ctx, events)
	must(t, err)
}

// segmentRules are rules with their members among segmentData's customers
// of tenant default.
var segmentRules = []struct {
	rule    string
	members []string
}{
	{`plan = "pro"`, []string{"c1", "c2", "c4"}},
	{`plan = 1`, []string{"c5"}},
	{`plan != "pro"`, []string{"c3"}},
	{`not plan = "pro"`, []string{"c3", "c5"}},
	{`country in ["DE", "FR"]`, []string{"c1", "c2", "c4"}},
	{`ltv in [200, 5000]`, []string{"c2", "c3"}},
	{`ltv >= 1000`, []string{"c1", "c3"}},
	{`ltv > 1500 or ltv <= 200`, []string{"c2", "c3"}},
	{`ltv < 1000`, []string{"c2"}},
	{`ltv between 200 and 1500`, []string{"c1", "c2"}},
	{`ltv = 1500 or ltv != 5000`, []string{"c1", "c2"}},
	{`vip = true`, []string{"c1"}},
	{`vip = false`, []string{"c2"}},
	{`vip != true`, []string{"c2"}},
	{`email contains "@acme"`, []string{"c1"}},
	{`email starts_with "b@"`, []string{"c2"}},
	{`name starts_with "Zo" and name contains "ë"`, []string{"c3"}},
	{`address.city = "Berlin"`, []string{"c1"}},
	{`address.city exists and address exists`, []string{"c1"}},
	{`address.city not exists`, []string{"c2", "c3", "c4", "c5"}},
	{`signed_up within last 30d`, []string{"c1"}},
	{`signed_up before "2025-06-01"`, []string{"c3"}},
	{`signed_up after "2025-06-01T00:00:00Z"`, []string{"c1", "c2"}},
	{`renewal within next 7d`, []string{"c4"}},
	{`renewal within last 7d`, nil},
	{`tag "vip"`, []string{"c1", "c5"}},
	{`not tag "churned"`, []string{"c1", "c3", "c4"}},
	{`tag "vip" and tag "churned"`, []string{"c5"}},
	{`performed order_completed >= 3 in 30d`, []string{"c1"}},
	{`performed order_completed >= 3`, []string{"c1", "c3"}},
	{`performed order_completed in 30d where amount > 100`, []string{"c2"}},
	{`performed order_completed >= 2 in 30d where amount >= 20`, []string{"c1"}},
	{`performed order_completed where (amount > 10 and not currency = "EUR")`, []string{"c1"}},
	{`not performed order_completed in 30d`, []string{"c3", "c4", "c5"}},
	{`performed page_viewed or performed order_completed >= 5`, []string{"c2"}},
	{`plan = "pro" and (country in ["DE", "FR"] or ltv >= 1000) and performed order_completed >= 3 in 30d and not tag "churned"`, []string{"c1"}},
}

func testSegmentRules(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.CreateTenant(ctx, actor, "other")
	must(t, err)
	segmentData(t, s)
	all := []string{"c1", "c2", "c3", "c4", "c5", "o1", "nobody"}
	for _, tc := range segmentRules {
		r, err := segment.Parse("rule_text", tc.rule)
		must(t, err)
		want := tc.members
		if want == nil {
			want = []string{}
		}
		checkMembers(t, s, tc.rule, r, want, all)
	}

	// Membership of another segment is its rule, inlined.
	pro := &segment.Segment{TenantID: "default", Name: "Pro", Rule: rule(t, `plan = "pro"`)}
	must(t, s.CreateSegment(ctx, actor, pro))
	text := fmt.Sprintf(`segment %q and not tag "churned"`, pro.ID)
	checkMembers(t, s, text, ref(rule(t, text)), []string{"c1", "c4"}, all)
	// Another tenant's segment does not exist for this one.
	_, err = s.CountSegment(ctx, "other", ref(rule(t, text)))
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
}

func checkMembers(t *testing.T, s *store.Store, text string, r *segment.Rule, want, candidates []string) {
	t.Helper()
	ctx := context.Background()
	n, err := s.CountSegment(ctx, "default", r)
	if err != nil {
		t.Fatalf("count %s: %v", text, err)
	}
	if n != int64(len(want)) {
		t.Errorf("count %s = %d, want %d", text, n, len(want))
	}
	// Page two at a time.
	got := []string{}
	for after := ""; ; {
		page, err := s.SegmentMembers(ctx, store.SegmentMembersParams{TenantID: "default", Rule: r, After: after, Limit: 2})
		if err != nil {
			t.Fatalf("members %s: %v", text, err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members %s = %v, want %v", text, got, want)
	}
	matches, err := s.SegmentMatches(ctx, "default", r, candidates)
	if err != nil {
		t.Fatalf("matches %s: %v", text, err)
	}
	if !reflect.DeepEqual(matches, want) {
		t.Errorf("matches %s = %v, want %v", text, matches, want)
	}
	// The same inside the engine's transaction, one customer at a time.
	inTx := []string{}
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for _, id := range candidates {
			m, err := tx.SegmentMatches("default", r, []string{id})
			if err != nil {
				return err
			}
			inTx = append(inTx, m...)
		}
		return nil
	}))
	if !reflect.DeepEqual(inTx, want) {
		t.Errorf("matches one by one in a transaction %s = %v, want %v", text, inTx, want)
	}
	customers, err := s.SegmentCustomers(ctx, store.SegmentMembersParams{TenantID: "default", Rule: r, Limit: 100})
	must(t, err)
	if len(customers) != len(want) || (len(want) > 0 && customers[0].ID != want[0]) {
		t.Errorf("customers %s = %d, first %v, want %v", text, len(customers), customers, want)
	}
}

func rule(t *testing.T, text string) segment.Rule {
	t.Helper()
	r, err := segment.Parse("rule_text", text)
	must(t, err)
	return *r
}

// testSegments: CRUD, references, cycles, tenant isolation.
func testSegments(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.CreateTenant(ctx, actor, "other")
	must(t, err)
	a := &segment.Segment{TenantID: "default", Name: "A", Description: "pro customers", Rule: rule(t, `plan = "pro"`)}
	must(t, s.CreateSegment(ctx, actor, a))
	if !strings.HasPrefix(a.ID, "seg_") || a.RuleText != `plan = "pro"` {
		t.Fatalf("created = %+v", a)
	}
	got, err := s.GetSegment(ctx, "default", a.ID)
	must(t, err)
	if got.Name != "A" || got.Description != "pro customers" || !reflect.DeepEqual(got.Rule, a.Rule) || got.RuleText != a.RuleText {
		t.Fatalf("got %+v, want %+v", got, a)
	}
	_, err = s.GetSegment(ctx, "other", a.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	wantCode(t, s.CreateSegment(ctx, actor, &segment.Segment{TenantID: "default", Name: "A", Rule: rule(t, `tag "x"`)}), kalcifer.ECONFLICT)
	wantCode(t, s.CreateSegment(ctx, actor, &segment.Segment{TenantID: "default", Name: " ", Rule: rule(t, `tag "x"`)}), kalcifer.EUNPROCESSABLE)
	wantCode(t, s.CreateSegment(ctx, actor, &segment.Segment{TenantID: "default", Name: "seg_x", Rule: rule(t, `tag "x"`)}), kalcifer.EUNPROCESSABLE)
	// The other tenant may use the name.
	must(t, s.CreateSegment(ctx, actor, &segment.Segment{TenantID: "other", Name: "A", Rule: rule(t, `tag "x"`)}))

	// A reference to an unknown segment, or another tenant's, names the clause.
	err = s.CreateSegment(ctx, actor, &segment.Segment{TenantID: "other", Name: "B", Rule: rule(t, fmt.Sprintf(`tag "x" or segment %q`, a.ID))})
	wantDetail(t, err, "rule.or[1].segment", "not found")

	b := &segment.Segment{TenantID: "default", Name: "B", Rule: rule(t, fmt.Sprintf(`segment %q and tag "vip"`, a.ID))}
	must(t, s.CreateSegment(ctx, actor, b))
	c := &segment.Segment{TenantID: "default", Name: "C", Rule: rule(t, fmt.Sprintf(`not segment %q`, b.ID))}
	must(t, s.CreateSegment(ctx, actor, c))
	// A → C → B → A would be a cycle; so would A → A.
	_, err = s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: "default", SegmentID: a.ID,
		Rule: ref(rule(t, fmt.Sprintf(`plan = "pro" and segment %q`, c.ID)))})
	wantDetail(t, err, "rule.and[1].segment", "contains, this segment")
	_, err = s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: "default", SegmentID: a.ID,
		Rule: ref(rule(t, fmt.Sprintf(`segment %q`, a.ID)))})
	wantDetail(t, err, "rule.segment", "contains, this segment")

	// Deleting a segment others use is refused.
	err = s.DeleteSegment(ctx, actor, "default", a.ID)
	wantCode(t, err, kalcifer.ECONFLICT)
	if !strings.Contains(kalcifer.ErrorMessage(err), b.ID) {
		t.Errorf("delete refusal %q does not name %s", kalcifer.ErrorMessage(err), b.ID)
	}

	up, err := s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: "default", SegmentID: a.ID,
		Name: ref("A2"), Rule: ref(rule(t, `plan = "team"`))})
	must(t, err)
	if up.Name != "A2" || up.Description != "pro customers" || up.RuleText != `plan = "team"` {
		t.Fatalf("updated = %+v", up)
	}
	_, err = s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: "default", SegmentID: a.ID, Name: ref("B")})
	wantCode(t, err, kalcifer.ECONFLICT)
	_, err = s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: "other", SegmentID: a.ID, Name: ref("Z")})
	wantCode(t, err, kalcifer.ENOTFOUND)

	page, err := s.ListSegments(ctx, segment.Filter{TenantID: "default", Limit: 2})
	must(t, err)
	if len(page.Data) != 2 || page.Data[0].ID != c.ID || page.NextCursor == "" {
		t.Fatalf("page 1 = %+v", page)
	}
	page, err = s.ListSegments(ctx, segment.Filter{TenantID: "default", Limit: 2, Cursor: page.NextCursor})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != a.ID || page.NextCursor != "" {
		t.Fatalf("page 2 = %+v", page)
	}

	must(t, s.DeleteSegment(ctx, actor, "default", c.ID))
	must(t, s.DeleteSegment(ctx, actor, "default", b.ID))
	must(t, s.DeleteSegment(ctx, actor, "default", a.ID))
	wantCode(t, s.DeleteSegment(ctx, actor, "default", a.ID), kalcifer.ENOTFOUND)

	// Limits of a page.
	_, err = s.SegmentMembers(ctx, store.SegmentMembersParams{TenantID: "default", Rule: ref(rule(t, `tag "x"`)), Limit: 0})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	m, err := s.SegmentMatches(ctx, "default", ref(rule(t, `tag "x"`)), nil)
	must(t, err)
	if len(m) != 0 {
		t.Fatalf("matches of none = %v", m)
	}
}

func wantDetail(t *testing.T, err error, field, msg string) {
	t.Helper()
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	e := err.(*kalcifer.Error)
	if len(e.Details) == 0 || e.Details[0].Field != field || !strings.Contains(e.Details[0].Message, msg) {
		t.Fatalf("error %v %+v, want %s: …%s…", e.Message, e.Details, field, msg)
	}
}

func ref[T any](v T) *T { return &v }

// testBulkLoad: profiles and past events as generators load them.
func testBulkLoad(t *testing.T, s *store.Store) {
	ctx := context.Background()
	_, err := s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "default", CustomerID: "old", Set: map[string]any{"plan": "kept"}})
	must(t, err)
	var customers []*kalcifer.Customer
	for i := range 250 { // more than one multi-row statement on every backend
		customers = append(customers, &kalcifer.Customer{ID: fmt.Sprintf("b%03d", i), Attributes: map[string]any{"n": float64(i)}, Tags: []string{"bulk"}})
	}
	customers = append(customers, &kalcifer.Customer{ID: "old", Attributes: map[string]any{"plan": "replaced"}})
	n, err := s.InsertCustomers(ctx, "default", customers)
	must(t, err)
	if n != 250 {
		t.Fatalf("stored %d, want 250 (the existing customer is left alone)", n)
	}
	old, err := s.GetCustomer(ctx, "default", "old")
	must(t, err)
	if old.Attributes["plan"] != "kept" {
		t.Fatalf("existing customer overwritten: %+v", old)
	}
	b7, err := s.GetCustomer(ctx, "default", "b007")
	must(t, err)
	if b7.Attributes["n"] != 7.0 || len(b7.Tags) != 1 {
		t.Fatalf("loaded customer = %+v", b7)
	}
	pending, err := s.PendingEvents(ctx)
	must(t, err)
	var events []*kalcifer.Event
	for i := range 150 {
		events = append(events, &kalcifer.Event{TenantID: "default", CustomerID: fmt.Sprintf("b%03d", i%50), Type: "bought",
			OccurredAt: time.Now().Add(-time.Hour), Data: json.RawMessage(`{"x":1}`)})
	}
	must(t, s.InsertPastEvents(ctx, events))
	after, err := s.PendingEvents(ctx)
	must(t, err)
	if after != pending {
		t.Fatalf("past events are pending: %d before, %d after", pending, after)
	}
	count, err := s.CountSegment(ctx, "default", ref(rule(t, `tag "bulk" and performed bought >= 3 in 1d and n < 10`)))
	must(t, err)
	if count != 10 {
		t.Fatalf("count = %d, want 10", count)
	}
}

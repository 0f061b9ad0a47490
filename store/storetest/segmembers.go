package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// memberRules are the segments of testSegmentMembership: attributes,
// tags, event counts in a window with a filter, "did not perform", a
// reference to another segment.
var memberRules = []string{
	`plan = "pro" and ltv >= 500`,
	`tag "vip" or country in ["DE", "FR"]`,
	`performed bought >= 2 in 30d where amount > 10`,
	`not performed viewed in 7d and not tag "churned"`,
	`segment "%s" and plan != "free"`, // the first segment
}

// testSegmentMembership: after random profile changes, events, erasures,
// bulk loads and a rule edit, every segment's stored members and count
// equal the live query's answer (a fixed seed, so a failure repeats).
func testSegmentMembership(t *testing.T, s *store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(14, 21))
	const tenant = kalcifer.DefaultTenantID
	var segs []*segment.Segment
	for i, text := range memberRules {
		if i == len(memberRules)-1 {
			text = fmt.Sprintf(text, segs[0].ID)
		}
		sg := &segment.Segment{TenantID: tenant, Name: fmt.Sprintf("s%d", i), Rule: rule(t, text)}
		must(t, s.CreateSegment(ctx, actor, sg))
		segs = append(segs, sg)
	}
	// Other tenants' customers never become members.
	_, _, err := s.EnsureTenant(ctx, "system", "other")
	must(t, err)
	_, err = s.PatchCustomer(ctx, store.PatchCustomerParams{TenantID: "other", CustomerID: "c001", Set: map[string]any{"plan": "pro", "ltv": 900.0}})
	must(t, err)

	plans := []any{"pro", "free", "team", 1.0}
	countries := []string{"DE", "FR", "US", "JP"}
	id := func() string { return fmt.Sprintf("c%03d", rng.IntN(60)) }
	now := time.Now()
	change := func(bulk bool) {
		k := rng.IntN(20)
		if !bulk {
			k = rng.IntN(18)
		}
		switch {
		case k < 9: // a profile change, maybe of a new customer
			set := map[string]any{}
			if rng.IntN(2) == 0 {
				set["plan"] = plans[rng.IntN(len(plans))]
			}
			if rng.IntN(2) == 0 {
				set["ltv"] = float64(rng.IntN(1000))
			}
			if rng.IntN(3) == 0 {
				set["country"] = countries[rng.IntN(len(countries))]
			}
			p := store.PatchCustomerParams{TenantID: tenant, CustomerID: id(), Set: set}
			switch rng.IntN(4) {
			case 0:
				p.AddTags = []string{"vip"}
			case 1:
				p.RemoveTags = []string{"vip"}
			case 2:
				p.AddTags = []string{"churned"}
			}
			_, err := s.PatchCustomer(ctx, p)
			must(t, err)
		case k < 17: // events, noted as the engine notes those it routes
			typ := []string{"bought", "viewed", "other"}[rng.IntN(3)]
			who := id()
			ev := &kalcifer.Event{TenantID: tenant, CustomerID: who, Type: typ,
				OccurredAt: now.Add(-time.Duration(rng.IntN(40))*24*time.Hour - time.Hour),
				Data:       json.RawMessage(fmt.Sprintf(`{"amount":%d}`, rng.IntN(30)))}
			_, err := s.InsertEvents(ctx, []*kalcifer.Event{ev})
			must(t, err)
			must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				if _, err := tx.Customer(tenant, who); err != nil {
					return err
				}
				return tx.NoteChanged(tenant, typ, []string{who})
			}))
		case k < 18: // an erasure
			_, err := s.EraseCustomer(ctx, store.EraseCustomerParams{TenantID: tenant, CustomerID: id(), Actor: actor,
				Exit: func(*store.EngineTx, *kalcifer.Instance) error { return nil }})
			if kalcifer.ErrorCode(err) != kalcifer.ENOTFOUND {
				must(t, err)
			}
		default: // a bulk load, which queues nothing
			c := &kalcifer.Customer{ID: fmt.Sprintf("b%03d", rng.IntN(1000)), Attributes: map[string]any{"plan": "pro", "ltv": 700.0}}
			_, err := s.InsertCustomers(ctx, tenant, []*kalcifer.Customer{c})
			must(t, err)
			must(t, s.InsertPastEvents(ctx, []*kalcifer.Event{{TenantID: tenant, CustomerID: c.ID, Type: "bought",
				OccurredAt: now.Add(-time.Hour), Data: json.RawMessage(`{"amount":20}`)}}))
		}
	}
	// applyChanges runs what the entry loop runs: changes, then passes.
	applyChanges := func(passes bool) {
		for {
			var n int
			must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				changes, err := tx.ApplyChanges(7)
				n = len(changes)
				if err == nil && passes {
					var m int
					m, err = tx.SegmentPassBatch(5, time.Hour)
					n += m
				}
				return err
			}))
			if n == 0 {
				return
			}
		}
	}
	check := func(round int) {
		t.Helper()
		for _, sg := range segs {
			live, err := s.SegmentMembers(ctx, store.SegmentMembersParams{TenantID: tenant, Rule: &sg.Rule, Limit: store.MaxSegmentPage})
			must(t, err)
			var stored []string
			must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
				stored, err = tx.StoredMembers(sg.ID, "", store.MaxSegmentPage)
				return err
			}))
			size, err := s.SegmentSize(ctx, tenant, sg.ID)
			must(t, err)
			if size.Status != store.SegmentReady || !slices.Equal(stored, live) || size.Count != int64(len(live)) {
				t.Fatalf("round %d, segment %q: %s, count %d, stored %v; the live query: %v", round, sg.RuleText, size.Status, size.Count, stored, live)
			}
		}
	}

	// A new segment is building, and counts live until built.
	change(false)
	size, err := s.SegmentSize(ctx, tenant, segs[0].ID)
	must(t, err)
	if size.Status != store.SegmentBuilding || size.BuiltAt != nil {
		t.Fatalf("new segment: %+v, want building", size)
	}
	applyChanges(true)
	check(0)
	for round := 1; round <= 16; round++ {
		// Changes alone keep the stored members exact: full passes run only
		// after bulk loads (every fourth round) and the edit.
		bulk := round%4 == 0
		for range 15 {
			change(bulk)
		}
		applyChanges(bulk || round == 7)
		check(round)
		if round == 6 {
			// An edit rebuilds the segment and those that refer to it.
			_, err := s.UpdateSegment(ctx, store.UpdateSegmentParams{Actor: actor, TenantID: tenant, SegmentID: segs[0].ID,
				Rule: ref(rule(t, `plan = "team" or ltv < 100`))})
			must(t, err)
			segs[0].Rule = rule(t, `plan = "team" or ltv < 100`)
			for _, sg := range []*segment.Segment{segs[0], segs[4]} {
				size, err := s.SegmentSize(ctx, tenant, sg.ID)
				must(t, err)
				if size.Status != store.SegmentBuilding {
					t.Fatalf("edited segment %s: %+v, want building", sg.ID, size)
				}
			}
		}
	}
	// The preview reads the stored members.
	customers, size, err := s.SegmentPreview(ctx, tenant, segs[1].ID, 3)
	must(t, err)
	want, err := s.SegmentMembers(ctx, store.SegmentMembersParams{TenantID: tenant, Rule: &segs[1].Rule, Limit: 3})
	must(t, err)
	var got []string
	for _, c := range customers {
		got = append(got, c.ID)
	}
	if size.Status != store.SegmentReady || !slices.Equal(got, want) {
		t.Fatalf("preview %v (%s), want %v", got, size.Status, want)
	}
}

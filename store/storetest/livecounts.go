package storetest

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// testLiveCounts: running instances per node and version (an instance at
// two nodes counts once at each), ended ones left out; statuses of all.
func testLiveCounts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	j := activeJourney(t, s)
	other := activeJourney(t, s)
	must(t, s.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		for i, c := range []string{"c1", "c2", "c3", "c4", "c5"} {
			in, _ := newInstance(t, tx, j, c, false)
			switch i {
			case 0, 1:
				in.Nodes = []string{"wait_1"}
			case 2:
				in.Nodes = []string{"wait_1", "email_1", "wait_1"}
			case 3:
				in.Nodes = []string{"email_1"}
				in.Status = kalcifer.InstancePaused
			case 4:
				in.Nodes = nil
				in.Status = kalcifer.InstanceCompleted
			}
			must(t, tx.SaveInstance(in, nil, nil))
		}
		in, _ := newInstance(t, tx, other, "c1", false)
		in.Nodes = []string{"wait_1"}
		return tx.SaveInstance(in, nil, nil)
	}))
	c, err := s.LiveNodeCounts(ctx, "default", j.ID)
	must(t, err)
	if c.Customers != 4 || c.Nodes["wait_1"] != 3 || c.Nodes["email_1"] != 2 || len(c.Nodes) != 2 {
		t.Fatalf("counts = %+v", c)
	}
	if v1 := c.Versions[1]; v1 == nil || v1.Customers != 4 || v1.Nodes["wait_1"] != 3 || len(c.Versions) != 1 {
		t.Fatalf("per version = %+v", c.Versions)
	}
	st, err := s.StatusCounts(ctx, "default", j.ID)
	must(t, err)
	if st[kalcifer.InstanceActive] != 3 || st[kalcifer.InstancePaused] != 1 || st[kalcifer.InstanceCompleted] != 1 || len(st) != 3 {
		t.Fatalf("status counts = %v", st)
	}
	// Another tenant's view of the journey is empty.
	c, err = s.LiveNodeCounts(ctx, "other", j.ID)
	must(t, err)
	if c.Customers != 0 || len(c.Nodes) != 0 {
		t.Fatalf("other tenant counts = %+v", c)
	}
}

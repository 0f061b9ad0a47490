package kalcifer

import (
	"strings"
	"testing"
)

func TestNewIDIncreases(t *testing.T) {
	prev := NewID("x")
	for i := 0; i < 100000; i++ {
		id := NewID("x")
		if id <= prev {
			t.Fatalf("ID %d: %s <= %s", i, id, prev)
		}
		if len(id) != 28 || strings.ContainsAny(id[2:], "ilou") {
			t.Fatalf("malformed ID %q", id)
		}
		prev = id
	}
}

func TestAPIKeySecret(t *testing.T) {
	a, b := NewAPIKeySecret(), NewAPIKeySecret()
	if a == b || !strings.HasPrefix(a, "kal_") || len(a) != 4+8+1+43 {
		t.Fatalf("secrets %q %q", a, b)
	}
	id, ok := APIKeyLookup(a)
	if !ok || a[4:12] != id {
		t.Fatalf("lookup of %q = %q %v", a, id, ok)
	}
	for _, other := range []string{"kal_" + strings.Repeat("a", 44), "e2e-admin-key-0123456789abcdef0123", a[:len(a)-1], a + "x",
		strings.Replace(a, "_", "-", 2), "kal_ABCDEFGH_" + a[13:]} {
		if id, ok := APIKeyLookup(other); ok {
			t.Errorf("APIKeyLookup(%q) = %q, want none", other, id)
		}
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		have, need Role
		ok         bool
	}{
		{RoleAdmin, RoleViewer, true}, {RoleAdmin, RoleAdmin, true}, {RoleEditor, RoleAdmin, false},
		{RoleEditor, RoleEditor, true}, {RoleViewer, RoleEditor, false}, {Role("root"), RoleViewer, false},
		// Ingest is outside the order: it allows no ranked role, and no
		// role allows it through the ranks (routes name it instead).
		{RoleIngest, RoleViewer, false}, {RoleIngest, RoleEditor, false}, {RoleIngest, RoleIngest, false},
		{RoleAdmin, RoleIngest, false}, {RoleViewer, RoleIngest, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%s allows %s = %v, want %v", c.have, c.need, got, c.ok)
		}
	}
	if _, err := ParseRole("owner"); ErrorCode(err) != EUNPROCESSABLE || !strings.Contains(err.Error(), "ingest") {
		t.Fatalf("ParseRole(owner) = %v", err)
	}
	for _, s := range []string{"viewer", "editor", "admin", "ingest"} {
		if r, err := ParseRole(s); err != nil || string(r) != s || !r.Valid() {
			t.Fatalf("ParseRole(%q) = %q, %v", s, r, err)
		}
	}
}

func TestTransitions(t *testing.T) {
	all := []JourneyStatus{JourneyDraft, JourneyActive, JourneyPaused, JourneyArchived}
	allowed := map[JourneyAction]map[JourneyStatus]JourneyStatus{
		ActionActivate: {JourneyDraft: JourneyActive},
		ActionPause:    {JourneyActive: JourneyPaused},
		ActionResume:   {JourneyPaused: JourneyActive},
		ActionArchive:  {JourneyDraft: JourneyArchived, JourneyActive: JourneyArchived, JourneyPaused: JourneyArchived},
	}
	for action, from := range allowed {
		for _, s := range all {
			j := &Journey{Status: s}
			got, err := j.Transition(action)
			want, ok := from[s]
			if ok && (err != nil || got != want) {
				t.Errorf("%s from %s = %s, %v; want %s", action, s, got, err, want)
			}
			if !ok {
				e, isErr := err.(*Error)
				if !isErr || e.Code != ECONFLICT || e.State["status"] != string(s) {
					t.Errorf("%s from %s: want 409 with current status, got %v", action, s, err)
				}
			}
		}
	}
}

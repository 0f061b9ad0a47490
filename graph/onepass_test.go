package graph

import (
	"strings"
	"testing"
)

// A graph with a cycle, an orphan, a bad config and edges to missing nodes
// gets every problem in one answer, so that nobody fixes four problems only
// to be told about two more.
func TestEveryProblemInOnePass(t *testing.T) {
	g := mustParse(t, `{"nodes":[
		{"id":"in","type":"event_entry","config":{"event_type":"go"}},
		{"id":"a","type":"wait","config":{"duration":"soon"}},
		{"id":"b","type":"wait","config":{"duration":"1d"}},
		{"id":"lost","type":"journey_exit"},
		{"id":"x","type":"nope"}],
		"edges":[
		{"id":"1","source":"in","target":"a"},
		{"id":"2","source":"a","target":"b"},
		{"id":"3","source":"b","target":"a"},
		{"id":"4","source":"b","target":"ghost"},
		{"id":"5","source":"phantom","target":"lost"}]}`)
	ps := Validate(g)
	want := []string{
		`config.duration`,              // a's config
		`unknown type "nope"`,          // x's type
		`target node "ghost"`,          // edge 4
		`source node "phantom"`,        // edge 5
		`cycle through nodes "a", "b"`, // a ↔ b
		`"lost" cannot be reached`,     // lost: its only edge comes from a missing node
		`"x" cannot be reached`,        // x has no edge at all
	}
	for _, w := range want {
		found := false
		for _, p := range ps {
			if strings.Contains(p.Message, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no problem mentions %s; got:", w)
			for _, p := range ps {
				t.Logf("  %+v", p)
			}
		}
	}
	if len(ps) != len(want) {
		t.Errorf("%d problems, want %d (each reported once): %+v", len(ps), len(want), ps)
	}
}

// A self-loop is reported once, as such, and not again as a cycle; a graph
// without an entry node is not also told that every node is unreachable.
func TestOnePassNoEchoes(t *testing.T) {
	for name, c := range map[string]struct{ graph, want string }{
		"self loop": {`{"nodes":[{"id":"in","type":"event_entry","config":{"event_type":"go"}},{"id":"w","type":"wait","config":{"duration":"1d"}}],
			"edges":[{"id":"a","source":"in","target":"w"},{"id":"b","source":"w","target":"w"}]}`, "itself"},
		"no entry": {`{"nodes":[{"id":"w","type":"wait","config":{"duration":"1d"}},{"id":"out","type":"journey_exit"}],
			"edges":[{"id":"a","source":"w","target":"out"}]}`, "no entry node"},
	} {
		t.Run(name, func(t *testing.T) {
			ps := Validate(mustParse(t, c.graph))
			if len(ps) != 1 || !strings.Contains(ps[0].Message, c.want) {
				t.Fatalf("want exactly one problem containing %q, got %+v", c.want, ps)
			}
		})
	}
}

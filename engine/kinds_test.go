package engine

import (
	"maps"
	"slices"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

// TestEveryKindHasBehaviour: every node type of the catalog can be compiled,
// and the engine knows no type the catalog does not.
func TestEveryKindHasBehaviour(t *testing.T) {
	var catalog []string
	for _, k := range graph.Kinds() {
		catalog = append(catalog, k.Type)
		if kinds[k.Type] == nil {
			t.Errorf("node type %s has no behaviour in engine/kinds.go", k.Type)
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(kinds)) {
		if !slices.Contains(catalog, typ) {
			t.Errorf("engine/kinds.go has behaviour for %s, which the catalog does not have", typ)
		}
	}
}

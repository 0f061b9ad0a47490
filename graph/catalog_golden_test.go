package graph

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/node_types.golden.json from the catalog")

const goldenCatalog = "testdata/node_types.golden.json"

// TestCatalogGolden keeps GET /node-types stable: the catalog, config
// schemas included, must equal the golden file as parsed JSON (key order and
// spacing aside). Change the golden only on purpose (go test ./graph -run
// TestCatalogGolden -update) and say why in the commit.
func TestCatalogGolden(t *testing.T) {
	got, err := json.MarshalIndent(Types(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenCatalog, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenCatalog)
	if err != nil {
		t.Fatal(err)
	}
	var g, w []map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) {
		t.Fatalf("the catalog has %d types, the golden %d", len(g), len(w))
	}
	for i := range w {
		if !reflect.DeepEqual(g[i], w[i]) {
			gi, _ := json.MarshalIndent(g[i], "", "  ")
			wi, _ := json.MarshalIndent(w[i], "", "  ")
			t.Errorf("type %d (%v) differs from the golden:\ngot  %s\nwant %s", i, w[i]["type"], gi, wi)
		}
	}
}

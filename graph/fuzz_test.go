package graph

import (
	"os"
	"reflect"
	"testing"
)

// FuzzParseValidate feeds arbitrary bytes to Parse and Validate: neither may
// panic, and Validate must be deterministic.
func FuzzParseValidate(f *testing.F) {
	if seed, err := os.ReadFile("testdata/seed_example.json"); err == nil {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			return
		}
		a, b := Validate(g), Validate(g)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Validate is not deterministic: %+v vs %+v", a, b)
		}
	})
}

package api

import "testing"

func TestHasNULEscape(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"a":"\u0000"}`:   true,
		`{"a":"x\u0000y"}`: true,
		`{"a":"\\u0000"}`:  false, // an escaped backslash, then text
		`{"a":"\\\u0000"}`: true,
		`{"a":"u0000"}`:    false,
		`{"a":"plain"}`:    false,
	} {
		if got := hasNULEscape([]byte(raw)); got != want {
			t.Errorf("%s: %v, want %v", raw, got, want)
		}
	}
}

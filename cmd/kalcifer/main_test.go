package main

import (
	"os"
	"testing"

	"github.com/kalcifer/kalcifer/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// envOf turns a map into the getenv run and LoadConfig take.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

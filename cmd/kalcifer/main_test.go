package main

import (
	"os"
	"testing"

	"github.com/kalcifer/kalcifer/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// envOf turns a map into the getenv run and LoadConfig take.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

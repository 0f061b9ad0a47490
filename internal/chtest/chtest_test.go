package chtest

import "testing"

func TestRestart(t *testing.T) {
	s := New(t)
	if _, err := s.Query("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query("INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query("SELECT 1"); err == nil {
		t.Fatal("a stopped server answered")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Query("SELECT sum(x) FROM t"); err != nil || got != "3" {
		t.Fatalf("after a restart: %q, %v; want 3", got, err)
	}
}

package main

import (
	"strings"
	"testing"
	"time"
)

// KALCIFER_SEGMENT_REFRESH reaches the config as a duration; values out of
// its range are refused naming the setting.
func TestSegmentRefreshConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envOf(map[string]string{}), nil)
	if err != nil || c.SegmentRefresh != 15*time.Minute {
		t.Fatalf("default: %v, %v", c.SegmentRefresh, err)
	}
	c, err = LoadConfig(envOf(map[string]string{}), []string{"-segment-refresh", "2h"})
	if err != nil || c.SegmentRefresh != 2*time.Hour {
		t.Fatalf("flag: %v, %v", c.SegmentRefresh, err)
	}
	for _, bad := range []string{"30s", "25h", "soon", "-5m"} {
		_, err := LoadConfig(envOf(map[string]string{"KALCIFER_SEGMENT_REFRESH": bad}), nil)
		if err == nil || !strings.Contains(err.Error(), "KALCIFER_SEGMENT_REFRESH must be a duration from 1m to 24h") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

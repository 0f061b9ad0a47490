package graph

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var durationPattern = regexp.MustCompile(`^([0-9]{1,9})(ms|s|m|h|d)$`)

// ParseDuration parses the durations journeys use: a whole number and a
// unit, ms, s, m, h or d ("30s", "15m", "12h", "3d").
func ParseDuration(s string) (time.Duration, error) {
	m := durationPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 15m, 12h or 3d", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 15m, 12h or 3d", s)
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

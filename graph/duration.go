package graph

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// MaxDuration bounds every duration of a journey (waits, event timeouts,
// frequency-cap windows): 3650 days, ten years. A longer one is a typo, and
// one much longer would overflow the engine's nanosecond clock arithmetic.
const MaxDuration = 3650 * 24 * time.Hour

// MaxWebhookTimeout bounds a call_webhook node's timeout. It is the webhook
// provider's own cap (channel/webhook.MaxTimeout), which stays below the
// engine's send lease; a test keeps the two equal.
const MaxWebhookTimeout = 2 * time.Minute

// MaxCodeTimeout bounds a custom_code node's timeout, and DefaultCodeTimeout
// is its timeout when it sets none. The engine runs the code inside the
// transaction that steps the instance, so a run must stay short.
const (
	MaxCodeTimeout     = 5 * time.Second
	DefaultCodeTimeout = time.Second
)

// maxDurationText says MaxDuration in messages: "3650d (10 years)".
var maxDurationText = fmt.Sprintf("%s (%d years)", formatDuration(MaxDuration), MaxDuration/(365*24*time.Hour))

var durationPattern = regexp.MustCompile(`^([0-9]{1,9})(ms|s|m|h|d)$`)

var durationUnits = map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// ParseDuration parses the durations journeys use: a whole number and a
// unit, ms, s, m, h or d ("30s", "15m", "12h", "3d"), at most MaxDuration.
// The bound is checked before multiplying, so no input overflows.
func ParseDuration(s string) (time.Duration, error) {
	m := durationPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 15m, 12h or 3d", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 15m, 12h or 3d", s)
	}
	unit := durationUnits[m[2]]
	if n > int64(MaxDuration/unit) {
		return 0, fmt.Errorf("%q is longer than the maximum, %s", s, maxDurationText)
	}
	return time.Duration(n) * unit, nil
}

// formatDuration writes d in the largest unit that divides it ("3650d",
// "2m"), as ParseDuration reads it.
func formatDuration(d time.Duration) string {
	for _, u := range []string{"d", "h", "m", "s"} {
		if d%durationUnits[u] == 0 {
			return strconv.FormatInt(int64(d/durationUnits[u]), 10) + u
		}
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

package kalcifer

import "time"

// Clock tells the time. The server uses the system clock; tests inject a
// clock they move by hand so that nothing ever sleeps.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

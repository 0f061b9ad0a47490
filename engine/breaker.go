package engine

import (
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Circuit breakers, one per provider account: after BreakerFailures calls
// in a row that did not get through (retry or ambiguous outcomes) within
// BreakerWindow, the account is not called for BreakerCooldown; its sends
// stay pending, left out of the send loop's claims. Then one send goes
// through as a probe: its success closes the breaker, its failure opens it
// for another cool-down. Breakers live in each replica's memory.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerWindow   = time.Minute
	DefaultBreakerCooldown = 30 * time.Second
)

type breakers struct {
	failures         int
	window, cooldown time.Duration
	log              func(msg string, args ...any)

	mu sync.Mutex
	m  map[string]*breaker // account id →
}

// breaker is one account's state.
type breaker struct {
	fails     int       // calls in a row that did not get through
	first     time.Time // when the first of them ended
	openUntil time.Time // zero while closed
	probing   bool      // a probe is in flight…
	probeEnd  time.Time // …unless it never began (its claim rolled back) and this passed
	hold      store.Hold
}

func newBreakers(failures int, window, cooldown time.Duration, log func(string, ...any)) *breakers {
	return &breakers{failures: failures, window: window, cooldown: cooldown, log: log, m: map[string]*breaker{}}
}

// held lists the targets of open breakers (and of those probing), whose
// sends the claim leaves out.
func (b *breakers) held(now time.Time) []store.Hold {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []store.Hold
	for _, br := range b.m {
		if br.probing && now.Before(br.probeEnd) || now.Before(br.openUntil) {
			out = append(out, br.hold)
		}
	}
	return out
}

// admit reports whether a call to the account may start now. An open
// breaker whose cool-down is over admits one call, the probe. When it
// refuses, until is when to look again; zero while a probe is in flight
// (held leaves the account's sends out meanwhile).
func (b *breakers) admit(id string, now time.Time) (ok bool, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.m[id]
	switch {
	case br == nil || br.openUntil.IsZero():
		return true, time.Time{}
	case br.probing && now.Before(br.probeEnd):
		return false, time.Time{}
	case now.Before(br.openUntil):
		return false, br.openUntil
	}
	br.probing, br.probeEnd = true, now.Add(b.cooldown)
	return true, time.Time{}
}

// report files the outcome of a call to acct: trouble when it did not get
// through (retry or ambiguous).
func (b *breakers) report(acct *kalcifer.ProviderAccount, trouble bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.m[acct.ID]
	if !trouble {
		if br != nil {
			if !br.openUntil.IsZero() {
				b.log("provider account answers again: circuit closed", "account", acct.ID, "name", acct.Name)
			}
			delete(b.m, acct.ID)
		}
		return
	}
	if br == nil {
		br = &breaker{}
		b.m[acct.ID] = br
	}
	switch {
	case br.probing:
		br.probing, br.openUntil = false, now.Add(b.cooldown)
		b.log("provider account probe failed: circuit stays open", "account", acct.ID, "name", acct.Name, "until", br.openUntil)
		return
	case !br.openUntil.IsZero():
		return // a call begun before the breaker opened
	case br.fails == 0 || now.Sub(br.first) > b.window:
		br.fails, br.first = 1, now
	default:
		br.fails++
	}
	if br.fails >= b.failures {
		br.openUntil = now.Add(b.cooldown)
		targets := []string{"provider:" + acct.ID, "provider:" + acct.Name}
		if acct.IsDefault {
			targets = append(targets, "channel:"+string(acct.Channel))
		}
		br.hold = store.Hold{TenantID: acct.TenantID, Targets: targets}
		b.log("provider account keeps failing: circuit open, its sends wait", "account", acct.ID, "name", acct.Name,
			"failures", br.fails, "until", br.openUntil)
	}
}

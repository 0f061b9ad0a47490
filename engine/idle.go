package engine

import (
	"context"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
)

// An idle server should cost next to nothing. Each loop sleeps until it is
// poked: by this process when its own work made work for the loop, and, on
// PostgreSQL, by the other replicas through one NOTIFY channel. A safety
// poll remains, in case a wake-up was lost (a replica that died between
// its commit and its NOTIFY, a listener reconnecting); it backs off from
// PollInterval to MaxPollInterval while it finds nothing, and starts again
// from PollInterval after any work or poke. Timers and retries do not wait
// for it: the loops sleep until the next one falls due.

// nudgeKind names the loops a wake-up is for, as bits.
type nudgeKind uint8

const (
	nudgeEvents nudgeKind = 1 << iota
	nudgeTimers
	nudgeSends
	nudgeMigrations
	nudgeEntries
	// nudgeJourneys says journeys changed: the entry index is read again
	// before the next event batch, and the entry loop looks at it.
	nudgeJourneys

	nudgeEverything = nudgeEvents | nudgeTimers | nudgeSends | nudgeMigrations | nudgeEntries | nudgeJourneys
)

// nudgeLetters spell a nudgeKind in a NOTIFY payload, one letter per bit.
const nudgeLetters = "etsmnj"

// nudgeChannel is the NOTIFY channel of the engine's wake-ups.
const nudgeChannel = "kalcifer_nudge"

// notifyGap is the least time between two NOTIFYs of one replica: the
// wake-ups of a busy replica are coalesced into one NOTIFY per gap, whatever
// its rate of commits.
const notifyGap = 5 * time.Millisecond

// Relay carries wake-ups between replicas sharing a database (PostgreSQL's
// NOTIFY and LISTEN: *postgres.Backend implements it). The engine uses the
// store's backend as its relay when it is one.
type Relay interface {
	// Notify sends payload to every replica listening on channel.
	Notify(ctx context.Context, channel, payload string) error
	// Listen returns once it listens on channel; the payloads arrive on
	// the channel returned, which is closed when ctx ends. An empty
	// payload says the listener reconnected: wake-ups may have been lost.
	Listen(ctx context.Context, channel string) (<-chan string, error)
}

// nudge pokes this replica's loops of kinds and tells the other replicas.
func (rt *Runtime) nudge(kinds nudgeKind) {
	rt.nudgeLocal(kinds)
	rt.tell(kinds)
}

// nudgeLocal pokes this replica's loops of kinds.
func (rt *Runtime) nudgeLocal(kinds nudgeKind) {
	if kinds&nudgeJourneys != 0 {
		// A journey resumed may hold waits that fell due meanwhile.
		rt.entriesDirty.Store(true)
		kinds |= nudgeEntries | nudgeTimers
	}
	if kinds&nudgeEvents != 0 {
		pokeAll(rt.pokeEv)
	}
	if kinds&nudgeTimers != 0 {
		pokeAll(rt.pokeTm)
	}
	if kinds&nudgeSends != 0 {
		poke(rt.pokeSd)
	}
	if kinds&nudgeMigrations != 0 {
		poke(rt.pokeMg)
	}
	if kinds&nudgeEntries != 0 {
		poke(rt.pokeEn)
	}
}

// tell queues kinds for the other replicas; the relay loop sends them.
func (rt *Runtime) tell(kinds nudgeKind) {
	if rt.relay == nil {
		return
	}
	if nudgeKind(rt.told.Or(uint32(kinds)))&kinds == kinds {
		return // already queued
	}
	poke(rt.tellNow)
}

// startRelay listens for the other replicas' wake-ups and sends this one's,
// until ctx ends, when the store's backend can relay them.
func (rt *Runtime) startRelay(ctx context.Context) error {
	r, ok := rt.st.Backend().(Relay)
	if !ok {
		return nil // one process owns the database (SQLite)
	}
	in, err := r.Listen(ctx, nudgeChannel)
	if err != nil {
		return err
	}
	rt.relay, rt.origin = r, kalcifer.NewID("rep")
	rt.stopped.Add(2)
	go rt.hear(in)
	go rt.sendWakes(ctx)
	return nil
}

// hear pokes the loops the other replicas' wake-ups are for.
func (rt *Runtime) hear(in <-chan string) {
	defer rt.stopped.Done()
	for payload := range in {
		if payload == "" {
			rt.nudgeLocal(nudgeEverything) // reconnected: some may have been lost
			continue
		}
		origin, letters, ok := strings.Cut(payload, ":")
		if !ok || origin == rt.origin {
			continue
		}
		var kinds nudgeKind
		for i, l := range nudgeLetters {
			if strings.ContainsRune(letters, l) {
				kinds |= 1 << i
			}
		}
		rt.nudgeLocal(kinds)
	}
}

// sendWakes sends the queued wake-ups, at most one NOTIFY per notifyGap.
func (rt *Runtime) sendWakes(ctx context.Context) {
	defer rt.stopped.Done()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rt.tellNow:
		}
		kinds := nudgeKind(rt.told.Swap(0))
		if kinds == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString(rt.origin + ":")
		for i, l := range nudgeLetters {
			if kinds&(1<<i) != 0 {
				b.WriteRune(l)
			}
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := rt.relay.Notify(nctx, nudgeChannel, b.String()); err != nil && ctx.Err() == nil {
			// The others' safety poll finds the work instead.
			rt.log.Warn("telling the other replicas about new work failed", "err", err)
		}
		cancel()
		gap.Reset(notifyGap)
		select {
		case <-ctx.Done():
			return
		case <-gap.C:
		}
	}
}

// idlePoll is a loop's safety poll: PollInterval after work or a poke,
// doubling up to MaxPollInterval while polls find nothing.
type idlePoll struct {
	base, max, cur time.Duration
}

func (rt *Runtime) newIdlePoll() idlePoll {
	return idlePoll{base: rt.cfg.PollInterval, max: rt.cfg.MaxPollInterval, cur: rt.cfg.PollInterval}
}

// next is the wait before the next poll: busy says the last round found
// work or was poked. After work, polls come 1, 3, 7, 15… intervals later.
func (p *idlePoll) next(busy bool) time.Duration {
	if busy {
		p.cur = p.base
		return p.cur
	}
	p.cur = min(2*p.cur, p.max)
	return p.cur
}

// untilNextTimer is how long until the earliest wait falls due (zero or
// less: due now), so timers fire on time rather than on the next poll.
func (rt *Runtime) untilNextTimer(ctx context.Context) time.Duration {
	due, ok, err := rt.st.NextDue(ctx)
	if err != nil {
		rt.log.Error("reading when the next timer falls due failed", "err", err)
		return rt.cfg.PollInterval
	}
	if !ok {
		return rt.cfg.MaxPollInterval
	}
	return due.Sub(rt.clock.Now())
}

// untilInbox is zero when stored events wait to be routed, and
// MaxPollInterval otherwise: an event lane's safety poll reads it rather
// than running its batch transaction.
func (rt *Runtime) untilInbox(ctx context.Context) time.Duration {
	any, err := rt.st.HasUnprocessedEvents(ctx)
	if err != nil {
		rt.log.Error("looking for events to route failed", "err", err)
		return rt.cfg.PollInterval
	}
	if any {
		return 0
	}
	return rt.cfg.MaxPollInterval
}

// untilNextSend is how long until the earliest pending send falls due (a
// retry, a deferred send).
func (rt *Runtime) untilNextSend(ctx context.Context) time.Duration {
	due, ok, err := rt.st.NextSendDue(ctx)
	if err != nil || !ok {
		return rt.cfg.MaxPollInterval
	}
	return max(due.Sub(rt.clock.Now()), time.Millisecond)
}

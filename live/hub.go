package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// Defaults of Config's zero values.
const (
	DefaultQueue       = 256
	DefaultCountsEvery = time.Second
	DefaultStatsEvery  = 5 * time.Second
)

// Config is what a Hub needs.
type Config struct {
	// Store answers the tenant checks on join and the periodic counts.
	Store *store.Store
	// Relay carries steps between replicas on one database; nil when this
	// process is the only one (SQLite).
	Relay Relay
	// Logger receives failed count queries and relay errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// Queue is how many messages a subscriber may have waiting before it is
	// dropped (DefaultQueue when 0): a reply, a periodic count, or the
	// frames of one engine transaction's steps on its topics.
	Queue int
	// CountsEvery and StatsEvery space node_counts and journey_stats.
	CountsEvery, StatsEvery time.Duration
}

// Hub fans the live feed out to subscribers. Its methods are safe for
// concurrent use.
type Hub struct {
	cfg    Config
	log    *slog.Logger
	origin string // this process, so that it skips its own relayed notes
	kick   chan struct{}
	local  chan []note     // notes waiting to be delivered here
	relay  chan []note     // notes waiting to be relayed to other replicas
	done   <-chan struct{} // closed when the hub stops (Start's ctx ends)

	mu        sync.Mutex
	journeys  map[key]*topic
	instances map[key]*topic

	dropped, localDropped, relayDropped, queries atomic.Int64
}

// key names a topic within a tenant.
type key struct{ tenant, id string }

// topic is a joined topic and its subscribers.
type topic struct {
	name string
	subs map[*Sub]struct{}
	// The last periodic frames of a journey topic, sent to whoever joins
	// it later.
	counts, versions, stats []byte
}

// New returns a hub; Start runs its periodic counts and its relay.
func New(cfg Config) *Hub {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.CountsEvery <= 0 {
		cfg.CountsEvery = DefaultCountsEvery
	}
	if cfg.StatsEvery <= 0 {
		cfg.StatsEvery = DefaultStatsEvery
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, origin: kalcifer.NewID("hub"), kick: make(chan struct{}, 1),
		local: make(chan []note, 4096), relay: make(chan []note, 1024), journeys: map[key]*topic{}, instances: map[key]*topic{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// Start runs the periodic counts and, with a Relay, listens to the other
// replicas and relays this one's steps, until ctx ends. It returns once
// the relay listens.
func (h *Hub) Start(ctx context.Context) error {
	h.done = ctx.Done()
	if h.cfg.Relay != nil {
		in, err := h.cfg.Relay.Listen(ctx, relayChannel)
		if err != nil {
			return fmt.Errorf("live feed: %w", err)
		}
		go h.receive(in)
		go h.send(ctx)
	}
	go h.deliverLocal(ctx)
	go h.tick(ctx)
	return nil
}

// Done is closed when the hub stops: sockets then close (the server is
// shutting down). Before Start it never closes.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Dropped counts the subscribers dropped for being too slow.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Sub is one subscriber (a socket): a bounded queue of messages, each
// the encoded frames to write in order.
type Sub struct {
	out     chan [][]byte
	gone    chan struct{}
	once    sync.Once
	joined  map[*topic]key // guarded by Hub.mu
	reason  string
	journey map[*topic]bool // which joined topics are journeys'
}

// Subscribe returns a new subscriber; Close it when its socket ends.
func (h *Hub) Subscribe() *Sub {
	return &Sub{out: make(chan [][]byte, h.cfg.Queue), gone: make(chan struct{}),
		joined: map[*topic]key{}, journey: map[*topic]bool{}}
}

// Out yields the frames to write to the subscriber, in order.
func (s *Sub) Out() <-chan [][]byte { return s.out }

// Dropped is closed when the hub dropped the subscriber for letting its
// queue fill up; Reason then says why.
func (s *Sub) Dropped() <-chan struct{} { return s.gone }

// Reason says why the subscriber was dropped.
func (s *Sub) Reason() string { return s.reason }

// Send queues a frame for the subscriber (a reply) without waiting; a full
// queue drops the subscriber and Send reports false.
func (h *Hub) Send(s *Sub, frame []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.push(s, frame)
}

// push queues frames for s, or drops s when its queue is full. h.mu is held.
func (h *Hub) push(s *Sub, frames ...[]byte) bool {
	select {
	case <-s.gone:
		return false
	default:
	}
	select {
	case s.out <- frames:
		return true
	default:
		h.drop(s)
		return false
	}
}

// drop removes s from every topic and tells its socket. h.mu is held.
func (h *Hub) drop(s *Sub) {
	s.once.Do(func() {
		s.reason = fmt.Sprintf("too slow: %d messages were waiting to be written", cap(s.out))
		h.dropped.Add(1)
		h.leaveAll(s)
		close(s.gone)
	})
}

// Close removes a subscriber from every topic.
func (h *Hub) Close(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaveAll(s)
}

func (h *Hub) leaveAll(s *Sub) {
	for t, k := range s.joined {
		h.leaveTopic(s, t, k)
	}
}

func (h *Hub) leaveTopic(s *Sub, t *topic, k key) {
	delete(t.subs, s)
	delete(s.joined, t)
	journey := s.journey[t]
	delete(s.journey, t)
	if len(t.subs) > 0 {
		return
	}
	if journey {
		delete(h.journeys, k)
	} else {
		delete(h.instances, k)
	}
}

// Join subscribes s to a topic of the tenant, "journey:{id}" or
// "instance:{id}", and queues the reply to the join (with ref) before any
// push of the topic: an ok, then the topic's last counts if it has any.
// A topic of another tenant, or of nothing, is ENOTFOUND; an unknown kind
// of topic EINVALID; in both cases s stays as it was and no reply is
// queued (the caller replies with the error).
func (h *Hub) Join(ctx context.Context, s *Sub, tenantID, name string, ref json.RawMessage) error {
	kind, id, _ := strings.Cut(name, ":")
	switch kind {
	case "journey":
		if _, err := h.cfg.Store.GetJourney(ctx, tenantID, id); err != nil {
			return err
		}
	case "instance":
		if _, err := h.cfg.Store.GetInstance(ctx, tenantID, id); err != nil {
			return err
		}
	default:
		return kalcifer.Errorf(kalcifer.EINVALID, "unknown topic %q: join journey:{id} or instance:{id}", name)
	}
	k := key{tenantID, id}
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-s.gone:
		return kalcifer.Errorf(kalcifer.ECONFLICT, "this socket was dropped: %s", s.reason)
	default:
	}
	topics := h.instances
	if kind == "journey" {
		topics = h.journeys
	}
	t := topics[k]
	if t == nil {
		t = &topic{name: name, subs: map[*Sub]struct{}{}}
		topics[k] = t
	}
	if _, ok := t.subs[s]; ok {
		return kalcifer.Errorf(kalcifer.ECONFLICT, "already joined %s", name)
	}
	t.subs[s] = struct{}{}
	s.joined[t] = k
	s.journey[t] = kind == "journey"
	if !h.push(s, Reply(name, ref, true, nil)) {
		return nil
	}
	if kind != "journey" {
		return nil
	}
	if t.counts == nil {
		select {
		case h.kick <- struct{}{}: // count the new topic now, not at the next tick
		default:
		}
	}
	var last [][]byte
	for _, f := range [][]byte{t.counts, t.versions, t.stats} {
		if f != nil {
			last = append(last, f)
		}
	}
	if len(last) > 0 {
		h.push(s, last...)
	}
	return nil
}

// Leave unsubscribes s from a topic of the tenant; false when it had not
// joined it.
func (h *Hub) Leave(s *Sub, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t, k := range s.joined {
		if t.name == name {
			h.leaveTopic(s, t, k)
			return true
		}
	}
	return false
}

// Queries counts the count queries the hub ran (tests, the bench).
func (h *Hub) Queries() int64 { return h.queries.Load() }

// Listening reports how many topics have subscribers (tests, the bench).
func (h *Hub) Listening() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.journeys) + len(h.instances)
}

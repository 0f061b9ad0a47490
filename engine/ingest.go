package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

// batcher is group commit for event ingestion: requests that arrive while a
// transaction is being written join the next one, so one commit (one fsync)
// serves many requests.
type batcher struct {
	st     *store.Store
	after  func() // called after each commit
	mu     sync.Mutex
	queue  []*ingestReq
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

type ingestReq struct {
	ctx    context.Context
	events []*kalcifer.Event
	dup    []bool
	err    error
	done   chan struct{}
}

// maxGroup bounds the events of one commit.
const maxGroup = 2000

func newBatcher(st *store.Store, after func()) *batcher {
	b := &batcher{st: st, after: after, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.run()
	return b
}

var errClosed = errors.New("engine: ingestion is shut down")

func (b *batcher) submit(ctx context.Context, events []*kalcifer.Event) ([]bool, error) {
	r := &ingestReq{ctx: ctx, events: events, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed
	}
	b.queue = append(b.queue, r)
	poke(b.wake) // under the lock: close may not close the channel meanwhile
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.dup, r.err
	case <-ctx.Done():
		// The events may still commit; the caller sees an error and may
		// retry with the same client IDs, which are deduplicated.
		return nil, ctx.Err()
	}
}

func (b *batcher) run() {
	defer close(b.done)
	for range b.wake {
		for {
			b.mu.Lock()
			var group []*ingestReq
			n := 0
			for len(b.queue) > 0 && (n == 0 || n+len(b.queue[0].events) <= maxGroup) {
				n += len(b.queue[0].events)
				group = append(group, b.queue[0])
				b.queue = b.queue[1:]
			}
			closed := b.closed
			b.mu.Unlock()
			if len(group) == 0 {
				if closed {
					return
				}
				break
			}
			b.commit(group)
		}
	}
}

func (b *batcher) commit(group []*ingestReq) {
	var all []*kalcifer.Event
	for _, r := range group {
		all = append(all, r.events...)
	}
	dup, err := b.st.InsertEvents(context.Background(), all)
	if err != nil && len(group) > 1 {
		// One request's events must not fail the others': commit each
		// request on its own (those whose caller is still waiting).
		for _, r := range group {
			if r.ctx.Err() != nil {
				r.err = r.ctx.Err()
				close(r.done)
				continue
			}
			b.commit([]*ingestReq{r})
		}
		return
	}
	i := 0
	for _, r := range group {
		if err != nil {
			r.err = err
		} else {
			r.dup = dup[i : i+len(r.events)]
		}
		i += len(r.events)
		close(r.done)
	}
	if err == nil {
		b.after()
	}
}

func (b *batcher) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.wake)
	b.mu.Unlock()
	<-b.done
}

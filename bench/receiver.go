package bench

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// receiver is the webhook endpoint journeys call: it records when each
// customer's call arrived per path and counts repeated idempotency keys.
type receiver struct {
	srv  *http.Server
	addr string

	mu    sync.Mutex
	got   map[string]map[string]time.Time // path → customer → first arrival
	keys  map[string]int                  // Idempotency-Key → arrivals
	total int
	wake  chan struct{}
	// delay is how long each call waits for its answer after arriving.
	delay time.Duration
}

func newReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{addr: "http://" + l.Addr().String(), got: map[string]map[string]time.Time{},
		keys: map[string]int{}, wake: make(chan struct{}, 1)}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(l)
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var body struct {
		Customer struct {
			ID string `json:"id"`
		} `json:"customer"`
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		// The request never arrived whole (its sender died or gave up
		// before its end): a receiver cannot act on it.
		return
	}
	_ = json.Unmarshal(data, &body)
	r.mu.Lock()
	if r.got[req.URL.Path] == nil {
		r.got[req.URL.Path] = map[string]time.Time{}
	}
	if _, seen := r.got[req.URL.Path][body.Customer.ID]; !seen {
		r.got[req.URL.Path][body.Customer.ID] = now
	}
	r.keys[req.Header.Get("Idempotency-Key")]++
	r.total++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
		}
	}
	w.WriteHeader(http.StatusOK)
}

// arrived counts the calls that arrived whole.
func (r *receiver) arrived() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// count returns how many customers reached path.
func (r *receiver) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got[path])
}

// arrivals returns a copy of path's first-arrival times.
func (r *receiver) arrivals(path string) map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]time.Time, len(r.got[path]))
	for k, v := range r.got[path] {
		out[k] = v
	}
	return out
}

// duplicates counts idempotency keys that arrived more than once.
func (r *receiver) duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.keys {
		if c > 1 {
			n++
		}
	}
	return n
}

// waitFor blocks until path has n customers or the deadline passes.
func (r *receiver) waitFor(path string, n int, deadline time.Time) bool {
	for r.count(path) < n {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-r.wake:
		case <-time.After(min(left, 200*time.Millisecond)):
		}
	}
	return true
}

func (r *receiver) close() { r.srv.Close() }

// keyCounts returns how many times each idempotency key arrived.
func (r *receiver) keyCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.keys))
	for k, v := range r.keys {
		out[k] = v
	}
	return out
}

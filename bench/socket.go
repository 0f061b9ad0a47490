package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// SocketOptions chooses the live feed scenario's load.
type SocketOptions struct {
	Binary      string
	DatabaseURL string
	Clients     int // WebSocket clients joined to the journey (default 1,000)
	N           int // events, each entering one customer (default 1,000)
	Rate        int // events per second (default 100)
	Out         io.Writer
}

// SocketResult holds the live feed's figures: the server's memory with the
// clients connected, and push latency from an event accepted (POST /events
// answered 202) to its instance_event read by a client, over every client.
type SocketResult struct {
	Backend                  string
	Clients, N, Rate         int
	RSSIdle, RSSConnected    int64
	PeakRSS                  int64
	Received, Expected       int64
	Dropped                  int
	P50, P99, Max            time.Duration
	ConnectTime, ElapsedFeed time.Duration
}

// socketGraph enters on signed_up and waits for paid.
func socketGraph() map[string]any {
	return map[string]any{
		"nodes": []map[string]any{
			{"id": "entry", "type": "event_entry", "position": map[string]int{"x": 0, "y": 0}, "config": map[string]any{"event_type": "signed_up"}},
			{"id": "wait", "type": "wait_for_event", "position": map[string]int{"x": 0, "y": 100}, "config": map[string]any{"event_type": "paid", "timeout": "3d"}},
			{"id": "done", "type": "journey_exit", "position": map[string]int{"x": 0, "y": 200}},
		},
		"edges": []map[string]any{
			{"id": "e1", "source": "entry", "target": "wait"},
			{"id": "e2", "source": "wait", "branch": "event_received", "target": "done"},
			{"id": "e3", "source": "wait", "branch": "timed_out", "target": "done"},
		},
	}
}

// RunSocket connects the clients to one journey's topic, then posts the
// events at the rate and measures when each client reads each customer's
// instance_event at the wait node.
func RunSocket(ctx context.Context, o SocketOptions) (*SocketResult, error) {
	if o.Clients <= 0 {
		o.Clients = 1000
	}
	if o.N <= 0 {
		o.N = 1000
	}
	if o.Rate <= 0 {
		o.Rate = 100
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	journeyID, err := createActive(srv, "live", socketGraph())
	if err != nil {
		return nil, err
	}
	res := &SocketResult{Backend: backendOf(o.DatabaseURL), Clients: o.Clients, N: o.N, Rate: o.Rate, RSSIdle: srv.rss()}

	accepted := make([]atomic.Int64, o.N) // Unix nanoseconds of each event's 202
	fmt.Fprintf(o.Out, "socket: connecting %d clients to journey:%s\n", o.Clients, journeyID)
	began := time.Now()
	clients := make([]*feedClient, o.Clients)
	for i := range clients {
		c, err := joinFeed(ctx, srv, journeyID)
		if err != nil {
			for _, c := range clients[:i] {
				c.conn.CloseNow()
			}
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		clients[i] = c
	}
	res.ConnectTime = time.Since(began)
	res.RSSConnected = srv.rss()
	var wg sync.WaitGroup
	var received atomic.Int64
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.read(accepted, &received)
		}()
	}

	fmt.Fprintf(o.Out, "socket: %d events at %d/s\n", o.N, o.Rate)
	began = time.Now()
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	errs := make(chan error, 1)
	var posting sync.WaitGroup
	for i := 0; i < o.N; i++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		posting.Add(1)
		go func() {
			defer posting.Done()
			err := srv.call("POST", "/api/v1/events", map[string]any{"customer_id": "s" + strconv.Itoa(i), "event_type": "signed_up"}, nil)
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			accepted[i].Store(time.Now().UnixNano())
		}()
	}
	posting.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	res.Expected = int64(o.N) * int64(o.Clients)
	deadline := time.Now().Add(60 * time.Second)
	for received.Load() < res.Expected-int64(droppedOf(clients))*int64(o.N) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	res.ElapsedFeed = time.Since(began)
	res.PeakRSS = srv.peakRSS()
	for _, c := range clients { // ends the reads
		c.conn.CloseNow()
	}
	wg.Wait()
	res.Received = received.Load()
	res.Dropped = droppedOf(clients)
	var all []time.Duration
	for _, c := range clients {
		all = append(all, c.latencies...)
	}
	if len(all) == 0 {
		return nil, errors.New("no client read an instance_event")
	}
	res.P50, res.P99, res.Max = pct(all, 50), pct(all, 99), pct(all, 100)
	return res, nil
}

// feedClient is one WebSocket client of the scenario.
type feedClient struct {
	conn      *websocket.Conn
	latencies []time.Duration
	dropped   atomic.Bool
}

// joinFeed connects and joins the journey's topic, and reads the reply.
func joinFeed(ctx context.Context, srv *server, journeyID string) (*feedClient, error) {
	url := "ws" + strings.TrimPrefix(srv.base, "http") + "/api/v1/socket"
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + srv.key}}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	join := `{"topic":"journey:` + journeyID + `","event":"phx_join","payload":{},"ref":"1"}`
	if err := conn.Write(dctx, websocket.MessageText, []byte(join)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	for {
		_, data, err := conn.Read(dctx)
		if err != nil {
			conn.CloseNow()
			return nil, err
		}
		if bytes.Contains(data, []byte(`"phx_reply"`)) {
			if !bytes.Contains(data, []byte(`"status":"ok"`)) {
				conn.CloseNow()
				return nil, fmt.Errorf("join refused: %s", data)
			}
			return &feedClient{conn: conn}, nil
		}
	}
}

// read takes frames until the connection is closed, timing each
// customer's instance_event at the wait node against when its event was
// accepted. It looks for byte patterns rather than decoding JSON, and reads
// without a deadline (no timer per read), so that a thousand clients in one
// process measure the server rather than themselves.
func (c *feedClient) read(accepted []atomic.Int64, received *atomic.Int64) {
	marker := []byte(`"customer_id":"s`)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusTryAgainLater {
				c.dropped.Store(true)
			}
			return
		}
		now := time.Now().UnixNano()
		if !bytes.Contains(data, []byte(`"instance_event"`)) || !bytes.Contains(data, []byte(`"node_id":"wait"`)) {
			continue
		}
		i := bytes.Index(data, marker)
		if i < 0 {
			continue
		}
		rest := data[i+len(marker):]
		end := bytes.IndexByte(rest, '"')
		n, err := strconv.Atoi(string(rest[:max(end, 0)]))
		if err != nil || n < 0 || n >= len(accepted) {
			continue
		}
		received.Add(1)
		// An event may be pushed before its 202 is read: that counts as 0.
		lat := time.Duration(0)
		if at := accepted[n].Load(); at > 0 && now > at {
			lat = time.Duration(now - at)
		}
		c.latencies = append(c.latencies, lat)
	}
}

func droppedOf(clients []*feedClient) int {
	n := 0
	for _, c := range clients {
		if c.dropped.Load() {
			n++
		}
	}
	return n
}

// Print writes the figures as a table.
func (r *SocketResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nLive feed — %s, %s, %d clients on one journey, %d events at %d/s\n\n", r.Backend, machine(), r.Clients, r.N, r.Rate)
	fmt.Fprintf(w, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| server RSS before clients | %s |\n", mib(r.RSSIdle))
	fmt.Fprintf(w, "| server RSS with %d clients joined | %s (%.1f KiB per client) |\n", r.Clients, mib(r.RSSConnected),
		float64(r.RSSConnected-r.RSSIdle)/1024/float64(r.Clients))
	fmt.Fprintf(w, "| server peak RSS while events flowed | %s |\n", mib(r.PeakRSS))
	fmt.Fprintf(w, "| connect and join %d clients | %s |\n", r.Clients, r.ConnectTime.Round(time.Millisecond))
	fmt.Fprintf(w, "| instance_event frames read / expected | %d / %d |\n", r.Received, r.Expected)
	fmt.Fprintf(w, "| clients dropped as too slow | %d |\n", r.Dropped)
	fmt.Fprintf(w, "| push latency p50 / p99 / max (202 → instance_event read) | %s / %s / %s |\n", ms(r.P50), ms(r.P99), ms(r.Max))
}

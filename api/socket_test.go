package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/pgtest"
	"github.com/kalcifer/kalcifer/live"
)

// liveGraph enters on signed_up and waits for paid, then exits.
const liveGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":100},"config":{"event_type":"paid","timeout":"3d"}},
	{"id":"done","type":"journey_exit","position":{"x":0,"y":200}}],
	"edges":[{"id":"e1","source":"entry","target":"wait"},
	{"id":"e2","source":"wait","branch":"event_received","target":"done"},
	{"id":"e3","source":"wait","branch":"timed_out","target":"done"}]}`

// fastStats pushes journey_stats often, so tests see a change soon.
func fastStats(o *setupOptions) { o.live.StatsEvery = 100 * time.Millisecond }

// socketURL is the bundle's socket address with token as its parameter.
func (tb *testBundle) socketURL(token string) string {
	return "ws" + strings.TrimPrefix(tb.srv.URL, "http") + "/api/v1/socket?token=" + token
}

// liveClient is a test's WebSocket connection to the live feed.
type liveClient struct {
	t    *testing.T
	c    *websocket.Conn
	ref  int
	seen []live.Frame
}

func (tb *testBundle) dialLive(token string) *liveClient {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, tb.socketURL(token), nil)
	if err != nil {
		tb.t.Fatalf("dial the socket: %v (%v)", err, res)
	}
	c.SetReadLimit(1 << 20)
	tb.t.Cleanup(func() { c.CloseNow() })
	return &liveClient{t: tb.t, c: c}
}

// send writes a frame and returns its ref.
func (lc *liveClient) send(topic, event string) string {
	lc.t.Helper()
	lc.ref++
	ref := fmt.Sprint(lc.ref)
	b, _ := json.Marshal(map[string]any{"topic": topic, "event": event, "payload": map[string]any{}, "ref": ref})
	if err := lc.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		lc.t.Fatalf("write: %v", err)
	}
	return ref
}

// until reads frames until match accepts one, and returns it.
func (lc *liveClient) until(what string, match func(f live.Frame) bool) live.Frame {
	lc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, data, err := lc.c.Read(ctx)
		if err != nil {
			lc.t.Fatalf("waiting for %s: %v", what, err)
		}
		var f live.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			lc.t.Fatalf("unreadable frame %s: %v", data, err)
		}
		lc.seen = append(lc.seen, f)
		if match(f) {
			return f
		}
	}
}

// reply waits for the reply to ref and returns its status and response.
func (lc *liveClient) reply(ref string) (string, map[string]any) {
	lc.t.Helper()
	f := lc.until("the reply to "+ref, func(f live.Frame) bool {
		return f.Event == live.EventReply && string(f.Ref) == `"`+ref+`"`
	})
	var p struct {
		Status   string         `json:"status"`
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(f.Payload, &p); err != nil {
		lc.t.Fatal(err)
	}
	return p.Status, p.Response
}

// join joins topic and fails unless the reply is ok.
func (lc *liveClient) join(topic string) {
	lc.t.Helper()
	if status, resp := lc.reply(lc.send(topic, live.EventJoin)); status != "ok" {
		lc.t.Fatalf("join %s: %s %v", topic, status, resp)
	}
}

func payloadOf[T any](t *testing.T, f live.Frame) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(f.Payload, &v); err != nil {
		t.Fatalf("%s payload %s: %v", f.Event, f.Payload, err)
	}
	return v
}

// TestSocketFeed: a viewer joins a journey and sees a customer arrive at a
// node in node_counts, each step as instance_event, and the stats; then an
// instance's steps and state change on its own topic.
func TestSocketFeed(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime, fastStats)
	j := tb.activeJourney("live", liveGraph)
	lc := tb.dialLive(tb.viewer)
	topic := "journey:" + j.ID
	lc.join(topic)
	if status, _ := lc.reply(lc.send("phoenix", live.EventHeartbeat)); status != "ok" {
		t.Fatalf("heartbeat: %s", status)
	}
	lc.until("the first node_counts", func(f live.Frame) bool { return f.Event == live.EventNodeCounts && f.Topic == topic })

	sent := time.Now()
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c1", "event_type": "signed_up"}).want(t, http.StatusAccepted)
	ev := lc.until("c1 at wait in instance_event", func(f live.Frame) bool {
		return f.Event == live.EventInstanceEvent && payloadOf[live.InstanceEvent](t, f).NodeID == "wait"
	})
	step := payloadOf[live.InstanceEvent](t, ev)
	if step.CustomerID != "c1" || step.Type != "wait_for_event" || step.Version != 1 || step.InstanceID == "" || step.At.IsZero() {
		t.Fatalf("instance_event = %+v", step)
	}
	lc.until("node_counts with c1 at wait", func(f live.Frame) bool {
		return f.Event == live.EventNodeCounts && payloadOf[map[string]int](t, f)["wait"] == 1
	})
	t.Logf("node count change seen %v after the event was sent", time.Since(sent))
	vc := payloadOf[live.VersionCounts](t, lc.until("version_counts", func(f live.Frame) bool { return f.Event == live.EventVersionCounts }))
	if vc.Customers != 1 || vc.Versions["1"].Nodes["wait"] != 1 {
		t.Fatalf("version_counts = %+v", vc)
	}
	lc.until("journey_stats with c1 active", func(f live.Frame) bool {
		return f.Event == live.EventJourneyStats && payloadOf[live.JourneyStats](t, f).Active == 1
	})

	lc.join("instance:" + step.InstanceID)
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c1", "event_type": "paid"}).want(t, http.StatusAccepted)
	done := lc.until("step_executed at done", func(f live.Frame) bool {
		return f.Event == live.EventStepExecuted && payloadOf[live.StepExecuted](t, f).NodeID == "done"
	})
	if s := payloadOf[live.StepExecuted](t, done); s.Type != "journey_exit" || s.Timestamp.IsZero() || done.Topic != "instance:"+step.InstanceID {
		t.Fatalf("step_executed = %+v on %s", s, done.Topic)
	}
	changed := payloadOf[live.StateChanged](t, lc.until("state_changed", func(f live.Frame) bool { return f.Event == live.EventStateChanged }))
	if changed.From != "active" || changed.To != string(kalcifer.InstanceExited) {
		t.Fatalf("state_changed = %+v", changed)
	}
	lc.until("node_counts with nobody at wait", func(f live.Frame) bool {
		return f.Event == live.EventNodeCounts && payloadOf[map[string]int](t, f)["wait"] == 0
	})
	lc.until("journey_stats with c1 exited", func(f live.Frame) bool {
		s := payloadOf[live.JourneyStats](t, f)
		return f.Event == live.EventJourneyStats && s.Exited == 1 && s.Active == 0
	})

	// Leaving ends the pushes of the topic; an unknown event is an error.
	if status, _ := lc.reply(lc.send(topic, live.EventLeave)); status != "ok" {
		t.Fatalf("leave: %s", status)
	}
	if status, resp := lc.reply(lc.send(topic, "shout")); status != "error" || resp["code"] != kalcifer.EINVALID {
		t.Fatalf("unknown event: %s %v", status, resp)
	}
	if status, _ := lc.reply(lc.send(topic, live.EventLeave)); status != "error" {
		t.Fatalf("second leave: %s", status)
	}
}

// TestSocketTenant: a topic of another tenant, of nothing, or of an
// unknown kind is refused in the join's reply, and its pushes never reach
// the refused client.
func TestSocketTenant(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	j := tb.activeJourney("mine", liveGraph)
	owner := tb.dialLive(tb.admin)
	owner.join("journey:" + j.ID)
	intruder := tb.dialLive(tb.otherAdmin)
	for _, topic := range []string{"journey:" + j.ID, "journey:nope", "instance:nope", "customer:c1", ""} {
		status, resp := intruder.reply(intruder.send(topic, live.EventJoin))
		if status != "error" || resp["reason"] == "" {
			t.Fatalf("join %q: %s %v", topic, status, resp)
		}
		if want := kalcifer.ENOTFOUND; strings.Contains(topic, ":n") || strings.HasPrefix(topic, "journey:j") {
			if resp["code"] != want {
				t.Fatalf("join %q: code %v, want %s", topic, resp["code"], want)
			}
		}
	}
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c1", "event_type": "signed_up"}).want(t, http.StatusAccepted)
	ev := owner.until("the owner sees c1's steps", func(f live.Frame) bool { return f.Event == live.EventInstanceEvent })
	// The instance is the owner's: joining it from the other tenant fails too.
	status, _ := intruder.reply(intruder.send("instance:"+payloadOf[live.InstanceEvent](t, ev).InstanceID, live.EventJoin))
	if status != "error" {
		t.Fatalf("the other tenant joined the owner's instance")
	}
	// The hub pushed the step to the owner's subscribers before this
	// heartbeat, so anything meant for the intruder is in its queue first.
	intruder.reply(intruder.send("phoenix", live.EventHeartbeat))
	for _, f := range intruder.seen {
		if f.Event != live.EventReply {
			t.Fatalf("the refused client got %s on %s", f.Event, f.Topic)
		}
	}
}

// TestSocketAuth: no credential, a bad one, and an ingest key are refused
// before the upgrade; the Authorization header works as the parameter does.
func TestSocketAuth(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		url    string
		header http.Header
		want   int
	}{
		"no token":          {url: strings.TrimSuffix(tb.socketURL(""), "?token="), want: http.StatusUnauthorized},
		"empty token":       {url: tb.socketURL(""), want: http.StatusUnauthorized},
		"bad token":         {url: tb.socketURL("kal_nosuchkeynosuchkeynosuchkeynosuchkey12"), want: http.StatusUnauthorized},
		"bad header":        {url: tb.socketURL(tb.admin), header: http.Header{"Authorization": {"Bearer nope"}}, want: http.StatusUnauthorized},
		"ingest key":        {url: tb.socketURL(tb.newKey("default", kalcifer.RoleIngest)), want: http.StatusForbidden},
		"unknown parameter": {url: tb.socketURL(tb.admin) + "&since=1", want: http.StatusBadRequest},
	} {
		_, res, err := websocket.Dial(ctx, c.url, &websocket.DialOptions{HTTPHeader: c.header})
		if err == nil || res == nil || res.StatusCode != c.want {
			t.Errorf("%s: dial = %v, %v; want status %d", name, err, res, c.want)
		}
	}
	url := strings.TrimSuffix(tb.socketURL(""), "?token=")
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tb.viewer}}})
	if err != nil {
		t.Fatalf("bearer header: %v", err)
	}
	c.CloseNow()
	// A plain GET is told to use a WebSocket.
	tb.do("GET", "/api/v1/socket", tb.viewer, nil).want(t, http.StatusBadRequest)
}

// smallWrites gives the server's connections small send buffers, so that a
// client that stops reading backs the server up after a few frames rather
// than after megabytes.
type smallWrites struct{ net.Listener }

func (l smallWrites) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSocketSlowClient: a client that stops reading is dropped with 1013
// once its queue fills, while the engine carries on and a client that
// reads gets every step.
func TestSocketSlowClient(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime, func(o *setupOptions) { o.live.Queue = 16; o.smallWrites = true })
	j := tb.activeJourney("busy", liveGraph)
	topic := "journey:" + j.ID
	reader := tb.dialLive(tb.viewer)
	reader.join(topic)

	// The slow client's socket reads little at a time and is never read.
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	slow, _, err := websocket.Dial(context.Background(), tb.socketURL(tb.viewer), &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	b, _ := json.Marshal(map[string]any{"topic": topic, "event": live.EventJoin, "payload": map[string]any{}, "ref": "1"})
	if err := slow.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}

	const customers = 400
	ids := make([]string, customers)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i)
	}
	// Enrol them while the reader reads.
	triggered := make(chan int, 1)
	go func() {
		n := 0
		for i := 0; i < customers; i += 10 {
			if tb.do("POST", "/api/v1/journeys/"+j.ID+"/trigger", tb.editor, map[string]any{"customer_ids": ids[i : i+10]}).status == http.StatusAccepted {
				n += 10
			}
		}
		triggered <- n
	}()
	at := map[string]bool{}
	reader.until("every customer at wait", func(f live.Frame) bool {
		if f.Event == live.EventInstanceEvent {
			if e := payloadOf[live.InstanceEvent](t, f); e.NodeID == "wait" {
				at[e.CustomerID] = true
			}
		}
		return len(at) == customers
	})
	if n := <-triggered; n != customers {
		t.Fatalf("%d customers triggered, want %d", n, customers)
	}
	if tb.hub.Dropped() != 1 {
		t.Fatalf("dropped = %d, want the slow client", tb.hub.Dropped())
	}
	// Once it reads, the slow client finds the socket closed with 1013.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if _, _, err = slow.Read(ctx); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Fatalf("slow client closed with %v, want 1013", err)
	}
}

// TestSocketReplicas: two servers on one PostgreSQL; the one a client is
// connected to runs no engine, so every step it pushes came from the
// other replica, through NOTIFY.
func TestSocketReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	same := func(o *setupOptions) { o.postgres = true; o.databaseURL = url }
	watcher := setup(t, same)
	worker := setup(t, same, withRuntime)
	j := worker.activeJourney("shared", liveGraph)
	lc := watcher.dialLive(watcher.viewer)
	lc.join("journey:" + j.ID)
	worker.do("POST", "/api/v1/events", worker.editor, map[string]any{"customer_id": "c1", "event_type": "signed_up"}).want(t, http.StatusAccepted)
	ev := lc.until("the other replica's step", func(f live.Frame) bool {
		return f.Event == live.EventInstanceEvent && payloadOf[live.InstanceEvent](t, f).NodeID == "wait"
	})
	id := payloadOf[live.InstanceEvent](t, ev).InstanceID
	lc.until("node_counts with c1 at wait", func(f live.Frame) bool {
		return f.Event == live.EventNodeCounts && payloadOf[map[string]int](t, f)["wait"] == 1
	})
	lc.join("instance:" + id)
	worker.do("POST", "/api/v1/events", worker.editor, map[string]any{"customer_id": "c1", "event_type": "paid"}).want(t, http.StatusAccepted)
	changed := payloadOf[live.StateChanged](t, lc.until("the other replica's state change", func(f live.Frame) bool {
		return f.Event == live.EventStateChanged
	}))
	if changed.To != string(kalcifer.InstanceExited) {
		t.Fatalf("state_changed = %+v", changed)
	}
}

// TestSocketExampleClient runs examples/live-client.mjs against the server:
// it joins a journey and prints what it is pushed.
func TestSocketExampleClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	tb := setup(t, withRuntime)
	j := tb.activeJourney("example", liveGraph)
	tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "c1", "event_type": "signed_up"}).want(t, http.StatusAccepted)
	tb.eventually("c1 waits", func() bool {
		var page kalcifer.Page[kalcifer.Instance]
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances?node_id=wait", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
		return len(page.Data) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--experimental-websocket", "../examples/live-client.mjs", j.ID)
	cmd.Env = append(os.Environ(), "KALCIFER_URL="+tb.srv.URL, "KALCIFER_API_KEY="+tb.viewer, "LIVE_EXIT_AFTER=node_counts")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("example client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `joined journey:`+j.ID) || !strings.Contains(string(out), `node_counts {"wait":1}`) {
		t.Fatalf("example client printed:\n%s", out)
	}
}

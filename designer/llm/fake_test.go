package llm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// Real local servers that speak each provider's wire format. A fake model
// answers the n-th request with answers[n] (the last one repeats), split
// into small pieces the way the providers stream tokens.

type fakeServer struct {
	t       *testing.T
	URL     string
	answers []string

	mu      sync.Mutex
	bodies  []json.RawMessage
	headers []http.Header
}

// record stores a request and returns its answer, number (from 1) and body.
func (f *fakeServer) record(w http.ResponseWriter, r *http.Request) (string, int, []byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(body) {
		f.t.Errorf("request body is not JSON: %v %q", err, body)
		http.Error(w, "bad body", http.StatusBadRequest)
		return "", 0, nil, false
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type = %q, want application/json", ct)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	n := len(f.bodies)
	return f.answers[min(n, len(f.answers))-1], n, body, true
}

// request decodes the n-th request body (from 1) into v.
func (f *fakeServer) request(n int, v any) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if n > len(f.bodies) {
		f.t.Fatalf("request %d was never made (%d were)", n, len(f.bodies))
	}
	if err := json.Unmarshal(f.bodies[n-1], v); err != nil {
		f.t.Fatal(err)
	}
}

// header returns the n-th request's headers (from 1).
func (f *fakeServer) header(n int) http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[n-1]
}

func (f *fakeServer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// pieces splits s into chunks of at most n runes.
func pieces(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > 0 {
		k := min(n, len(r))
		out = append(out, string(r[:k]))
		r = r[k:]
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sse writes one server-sent event and flushes it.
func sse(w http.ResponseWriter, event, data string) {
	if event != "" {
		fmt.Fprintf(w, "event: %s\n", event)
	}
	fmt.Fprintf(w, "data: %s\n\n", data)
	w.(http.Flusher).Flush()
}

// newAnthropic starts a Messages API server. With tools in the request it
// answers through an emit_journey tool_use block streamed as many
// input_json_delta events; without, as text_delta events.
func newAnthropic(t *testing.T, answers ...string) *fakeServer {
	f := &fakeServer{t: t, answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
			t.Errorf("%s %s, want POST /v1/messages", r.Method, r.URL.Path)
		}
		if r.Header.Get("x-api-key") != "test-key" || r.Header.Get("anthropic-version") != "2023-06-01" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		answer, n, body, ok := f.record(w, r)
		if !ok {
			return
		}
		var req struct {
			Tools []json.RawMessage `json:"tools"`
		}
		json.Unmarshal(body, &req) // checked by record
		w.Header().Set("Content-Type", "text/event-stream")
		sse(w, "message_start", `{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-test","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":2000,"output_tokens":1}}}`)
		if len(req.Tools) == 0 {
			sse(w, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
			sse(w, "ping", `{"type": "ping"}`)
			for _, p := range pieces(answer, 9) {
				sse(w, "content_block_delta", mustJSON(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": p}}))
			}
			sse(w, "content_block_stop", `{"type":"content_block_stop","index":0}`)
			sse(w, "message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":80}}`)
		} else {
			id := fmt.Sprintf("toolu_%02d", n)
			sse(w, "content_block_start", mustJSON(map[string]any{"type": "content_block_start", "index": 0,
				"content_block": map[string]any{"type": "tool_use", "id": id, "name": "emit_journey", "input": map[string]any{}}}))
			sse(w, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}`)
			sse(w, "ping", `{"type": "ping"}`)
			for _, p := range pieces(answer, 7) {
				sse(w, "content_block_delta", mustJSON(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "input_json_delta", "partial_json": p}}))
			}
			sse(w, "content_block_stop", `{"type":"content_block_stop","index":0}`)
			sse(w, "message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":900}}`)
		}
		sse(w, "message_stop", `{"type":"message_stop"}`)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// newOpenAI starts a Chat Completions server that streams the answer as
// chunks ending in [DONE], or sends one whole response when stream is false
// in the request or the answer is prefixed with "nostream:".
func newOpenAI(t *testing.T, answers ...string) *fakeServer {
	f := &fakeServer{t: t, answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			t.Errorf("%s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer test-key" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided: wr***ey.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
			return
		}
		answer, _, _, ok := f.record(w, r)
		if !ok {
			return
		}
		if whole, ok := strings.CutPrefix(answer, "nostream:"); ok {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, mustJSON(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
				"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": whole}, "finish_reason": "stop"}}}))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(delta map[string]any, finish any) string {
			return mustJSON(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764230400, "model": "gpt-test",
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		}
		sse(w, "", chunk(map[string]any{"role": "assistant", "content": ""}, nil))
		for _, p := range pieces(answer, 6) {
			sse(w, "", chunk(map[string]any{"content": p}, nil))
		}
		sse(w, "", chunk(map[string]any{}, "stop"))
		sse(w, "", `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":2000,"completion_tokens":900}}`)
		sse(w, "", "[DONE]")
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v1"
	return f
}

// newOllama starts an /api/chat server that streams NDJSON lines.
func newOllama(t *testing.T, answers ...string) *fakeServer {
	f := &fakeServer{t: t, answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/chat" {
			t.Errorf("%s %s, want POST /api/chat", r.Method, r.URL.Path)
		}
		answer, _, _, ok := f.record(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, p := range pieces(answer, 5) {
			fmt.Fprintln(w, mustJSON(map[string]any{"model": "llama-test", "created_at": "2026-11-27T10:00:00Z",
				"message": map[string]any{"role": "assistant", "content": p}, "done": false}))
			w.(http.Flusher).Flush()
		}
		fmt.Fprintln(w, `{"model":"llama-test","created_at":"2026-11-27T10:00:01Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":1000,"eval_count":900}`)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// seedJSON is the seed technical spec's example graph.
func seedJSON(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../graph/testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// envelope wraps a graph's JSON as a model's answer.
func envelope(graphJSON string) string {
	return `{"graph": ` + graphJSON + `, "explanation": "Welcomes premium sign-ups and follows up by whether they opened the email.", "follow_up_questions": ["Which template should the reminder use?"]}`
}

// brokenSeed is the seed graph with its timed_out edge moved to the
// event_received branch: invalid, with the one problem that wait_1 needs an
// edge on timed_out (email_3 stays reachable, so it is not also an orphan).
func brokenSeed(t *testing.T) string {
	t.Helper()
	s := seedJSON(t)
	const e4 = `{"id": "e4", "source": "wait_1", "target": "email_3", "branch": "timed_out"},`
	if !strings.Contains(s, e4) {
		t.Fatal("seed example changed: no timed_out edge to remove")
	}
	return strings.Replace(s, e4, strings.Replace(e4, "timed_out", "event_received", 1), 1)
}

func newDesigner(t *testing.T, cfg Config) designer.Designer {
	t.Helper()
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// events collects what Design emits.
type events struct {
	mu   sync.Mutex
	list []designer.Event
}

func (e *events) emit(ev designer.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

// text joins the events of one type.
func (e *events) text(typ string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.list {
		if ev.Type == typ {
			b.WriteString(ev.Text)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (e *events) deltas() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.list {
		if ev.Type == "delta" {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

// mustValid fails unless res holds a valid graph equal to want's JSON.
func mustValid(t *testing.T, res *designer.Result, want string) {
	t.Helper()
	if res == nil || res.Graph == nil {
		t.Fatal("no graph")
	}
	if ps := graph.Validate(res.Graph); ps != nil {
		t.Fatalf("result graph is invalid: %+v", ps)
	}
	w, err := graph.Parse([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if got, exp := mustJSON(res.Graph), mustJSON(w); got != exp {
		t.Fatalf("graph:\n got %s\nwant %s", got, exp)
	}
}

func mustParseGraph(t *testing.T, s string) *graph.Graph {
	t.Helper()
	g, err := graph.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// forward relays a request to another server and copies its answer back,
// for fakes that misbehave before letting a request through.
func forward(t *testing.T, w http.ResponseWriter, r *http.Request, url string, body io.Reader) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url, body)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/designer"
)

// anthropicBody is the Messages API request as Anthropic documents it.
type anthropicBody struct {
	Model     string `json:"model"`
	MaxTokens int    `json:"max_tokens"`
	System    string `json:"system"`
	Stream    bool   `json:"stream"`
	Messages  []struct {
		Role    string `json:"role"`
		Content []struct {
			Type      string          `json:"type"`
			Text      string          `json:"text"`
			ID        string          `json:"id"`
			Name      string          `json:"name"`
			Input     json.RawMessage `json:"input"`
			ToolUseID string          `json:"tool_use_id"`
			Content   string          `json:"content"`
			IsError   bool            `json:"is_error"`
		} `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
}

func anthropicConfig(url string) Config {
	return Config{Provider: "anthropic", BaseURL: url, APIKey: "test-key", Model: "claude-test"}
}

func TestAnthropicDesign(t *testing.T) {
	t.Parallel()
	answer := envelope(seedJSON(t))
	srv := newAnthropic(t, answer)
	d := newDesigner(t, anthropicConfig(srv.URL))
	var ev events
	res, err := d.Design(t.Context(), designer.Request{Message: "Welcome premium sign-ups by email."}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
	if res.Engine != "anthropic:claude-test" || res.Diff != nil || !strings.Contains(res.Explanation, "premium sign-ups") ||
		len(res.FollowUpQuestions) != 1 || res.Unrecognized == nil {
		t.Errorf("result: %+v", res)
	}
	if ev.deltas() != answer {
		t.Errorf("deltas do not add up to the tool input:\n%s", ev.deltas())
	}
	if s := ev.text("status"); !strings.Contains(s, "asking anthropic:claude-test") || !strings.Contains(s, "checking the journey") {
		t.Errorf("status events: %q", s)
	}

	var body anthropicBody
	srv.request(1, &body)
	if body.Model != "claude-test" || body.MaxTokens != DefaultMaxTokens || !body.Stream || !strings.Contains(body.System, "wait_for_event") {
		t.Errorf("request: model %q, max_tokens %d, stream %v", body.Model, body.MaxTokens, body.Stream)
	}
	if len(body.Tools) != 1 || body.Tools[0].Name != "emit_journey" || mustJSON(body.Tools[0].InputSchema) != mustJSON(OutputSchema()) {
		t.Errorf("tools: %+v", body.Tools)
	}
	if body.ToolChoice == nil || body.ToolChoice.Type != "tool" || body.ToolChoice.Name != "emit_journey" {
		t.Errorf("tool_choice: %+v", body.ToolChoice)
	}
	if len(body.Messages) != 1 || body.Messages[0].Role != "user" || body.Messages[0].Content[0].Text != "Welcome premium sign-ups by email." {
		t.Errorf("messages: %+v", body.Messages)
	}
}

func TestAnthropicRepair(t *testing.T) {
	t.Parallel()
	broken, fixed := envelope(brokenSeed(t)), envelope(seedJSON(t))
	srv := newAnthropic(t, broken, fixed)
	d := newDesigner(t, anthropicConfig(srv.URL))
	var ev events
	res, err := d.Design(t.Context(), designer.Request{Message: "Welcome sign-ups."}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
	if !strings.Contains(ev.text("status"), "repairing: 1 problem (round 1 of 2)") {
		t.Errorf("status events: %q", ev.text("status"))
	}

	// The repair continues the conversation: the broken answer as the
	// tool call, the problems as its failed result.
	var body anthropicBody
	srv.request(2, &body)
	if len(body.Messages) != 3 {
		t.Fatalf("repair request has %d messages, want 3", len(body.Messages))
	}
	call, result := body.Messages[1], body.Messages[2]
	if call.Role != "assistant" || call.Content[0].Type != "tool_use" || call.Content[0].ID != "toolu_01" ||
		call.Content[0].Name != "emit_journey" || mustJSON(call.Content[0].Input) != mustJSON(json.RawMessage(broken)) {
		t.Errorf("assistant turn: %+v", call)
	}
	if result.Role != "user" || result.Content[0].Type != "tool_result" || result.Content[0].ToolUseID != "toolu_01" || !result.Content[0].IsError ||
		!strings.Contains(result.Content[0].Content, `node "wait_1" (wait_for_event) needs an edge on its "timed_out" branch`) {
		t.Errorf("tool result: %+v", result)
	}
	if body.ToolChoice == nil || body.ToolChoice.Name != "emit_journey" {
		t.Error("the repair request does not force the tool")
	}
}

func TestAnthropicNeverFixes(t *testing.T) {
	t.Parallel()
	srv := newAnthropic(t, envelope(brokenSeed(t)))
	d := newDesigner(t, anthropicConfig(srv.URL))
	res, err := d.Design(t.Context(), designer.Request{Message: "Welcome sign-ups."}, nil)
	var inv *InvalidGraphError
	if !errors.As(err, &inv) || res != nil {
		t.Fatalf("got %v, %v; want an InvalidGraphError and no result", res, err)
	}
	if inv.Attempts != 3 || srv.count() != 3 || len(inv.Problems) != 1 || inv.Problems[0].NodeID != "wait_1" {
		t.Errorf("attempts %d, requests %d, problems %+v", inv.Attempts, srv.count(), inv.Problems)
	}
	if !strings.Contains(err.Error(), `needs an edge on its "timed_out" branch`) {
		t.Errorf("error does not list the problem: %v", err)
	}
}

func TestAnthropicBadKey(t *testing.T) {
	t.Parallel()
	srv := newAnthropic(t, "{}")
	cfg := anthropicConfig(srv.URL)
	cfg.APIKey = "wrong-key"
	_, err := newDesigner(t, cfg).Design(t.Context(), designer.Request{Message: "x"}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("error %v, want an APIError with status 401", err)
	}
	if !strings.Contains(err.Error(), "anthropic refused the API key") || !strings.Contains(err.Error(), "invalid x-api-key") {
		t.Errorf("unclear error: %v", err)
	}
}

func TestAnthropicExplain(t *testing.T) {
	t.Parallel()
	srv := newAnthropic(t, "Premium sign-ups get a welcome email.\n\nThose who open it get a follow-up.")
	d := newDesigner(t, anthropicConfig(srv.URL))
	g := mustParseGraph(t, seedJSON(t))
	text, err := d.Explain(t.Context(), g)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Premium sign-ups get a welcome email.\n\nThose who open it get a follow-up." {
		t.Errorf("explanation %q", text)
	}
	var body anthropicBody
	srv.request(1, &body)
	if len(body.Tools) != 0 || body.ToolChoice != nil || !strings.Contains(body.Messages[0].Content[0].Text, `"template_id":"welcome_email"`) {
		t.Errorf("explain request: tools %v, message %q", body.Tools, body.Messages[0].Content[0].Text)
	}
}

// streamServer answers every request with the given raw SSE body.
func streamServer(t *testing.T, status int, stream string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(status)
		io.WriteString(w, stream)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAnthropicStreamFailures(t *testing.T) {
	t.Parallel()
	start := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"content\":[]}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"emit_journey\",\"input\":{}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"graph\\\": \"}}\n\n"
	cases := []struct {
		name, stream, want string
	}{
		{"error event", start + "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n", "overloaded_error): Overloaded"},
		{"cut off", start, "ended before message_stop"},
		{"max tokens", start + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", "max_tokens limit"},
		{"garbage", "data: not json\n\n", "malformed stream event"},
	}
	for _, c := range cases {
		url := streamServer(t, http.StatusOK, c.stream)
		_, err := newDesigner(t, anthropicConfig(url)).Design(t.Context(), designer.Request{Message: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// One retry after 529 (overloaded), honouring Retry-After; a second failure
// is reported with the provider's message.
func TestRetryOnOverload(t *testing.T) {
	t.Parallel()
	good := newAnthropic(t, envelope(seedJSON(t)))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 || r.URL.Query().Get("fail") != "" {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(529)
			io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			return
		}
		forward(t, w, r, good.URL+r.URL.Path, r.Body)
	}))
	t.Cleanup(srv.Close)
	res, err := newDesigner(t, anthropicConfig(srv.URL)).Design(t.Context(), designer.Request{Message: "x"}, nil)
	if err != nil || calls.Load() != 2 {
		t.Fatalf("after one 529: %v (%d calls)", err, calls.Load())
	}
	mustValid(t, res, seedJSON(t))

	calls.Store(0)
	_, err = newDesigner(t, anthropicConfig(srv.URL+"/?fail=1")).Design(t.Context(), designer.Request{Message: "x"}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 529 || apiErr.Message != "Overloaded" || calls.Load() != 2 {
		t.Fatalf("after two 529s: %v (%d calls)", err, calls.Load())
	}
}

// Cancelling the caller's context stops a streaming answer.
func TestCancelMidStream(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		sse(w, "message_start", `{"type":"message_start","message":{"id":"msg_1","content":[]}}`)
		sse(w, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"emit_journey","input":{}}}`)
		sse(w, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"gr"}}`)
		// net/http notices the client leaving (and ends r.Context()) only
		// once the request body was read to its end.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // the model "thinks" until the client leaves
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	emit := func(ev designer.Event) {
		if ev.Type == "delta" {
			cancel()
		}
	}
	_, err := newDesigner(t, anthropicConfig(srv.URL)).Design(ctx, designer.Request{Message: "x"}, emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// The configured timeout bounds a request whose answer never completes.
func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		sse(w, "message_start", `{"type":"message_start","message":{"id":"msg_1","content":[]}}`)
		io.Copy(io.Discard, r.Body) // see TestCancelMidStream
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	cfg := anthropicConfig(srv.URL)
	cfg.Timeout = 20 * time.Millisecond
	_, err := newDesigner(t, cfg).Design(t.Context(), designer.Request{Message: "x"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "within 20ms (the configured timeout)") {
		t.Fatalf("error %v", err)
	}
}

// Text before the tool call streams as deltas; thinking blocks and unknown
// events are skipped; the tool input is the answer.
func TestAnthropicMixedBlocks(t *testing.T) {
	t.Parallel()
	stream := strings.Join([]string{
		`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"msg_1","content":[]}}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me plan."}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":0}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Designing "}}`,
		`: keep-alive comment`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"it now."}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":1}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"emit_journey","input":{}}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}`,
		`event: some_future_event` + "\n" + `data: {"type":"some_future_event"}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" 1}"}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":2}`,
		`event: message_delta` + "\n" + `data: {"type":"message_delta","delta":{"stop_reason":"tool_use"}}`,
		`event: message_stop` + "\n" + `data: {"type":"message_stop"}`,
	}, "\r\n\r\n") + "\r\n\r\n"
	stream = strings.ReplaceAll(stream, "\n", "\r\n") // CRLF framing is allowed too
	stream = strings.ReplaceAll(stream, "\r\r\n", "\r\n")
	var ev events
	rep, err := readAnthropicStream(strings.NewReader(stream), true, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Text != `{"a": 1}` || rep.CallID != "toolu_9" {
		t.Errorf("reply %+v", rep)
	}
	if ev.deltas() != `Designing it now.{"a": 1}` {
		t.Errorf("deltas %q", ev.deltas())
	}
}

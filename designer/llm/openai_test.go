package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

// chatBody is a Chat Completions (or Ollama /api/chat) request as the
// providers document it.
type chatBody struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
			Strict *bool           `json:"strict"`
		} `json:"json_schema"`
	} `json:"response_format"`
	MaxTokens int             `json:"max_tokens"`
	Format    json.RawMessage `json:"format"`
	Options   struct {
		NumPredict int `json:"num_predict"`
	} `json:"options"`
}

func openAIConfig(url string) Config {
	return Config{Provider: "openai", BaseURL: url, APIKey: "test-key", Model: "gpt-test"}
}

func TestOpenAIRepair(t *testing.T) {
	t.Parallel()
	broken, fixed := envelope(brokenSeed(t)), envelope(seedJSON(t))
	srv := newOpenAI(t, broken, fixed)
	d := newDesigner(t, openAIConfig(srv.URL))
	var ev events
	res, err := d.Design(t.Context(), designer.Request{Message: "Welcome sign-ups."}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
	if res.Engine != "openai:gpt-test" {
		t.Errorf("engine %q", res.Engine)
	}
	if ev.deltas() != broken+fixed {
		t.Errorf("deltas do not add up to the two answers")
	}
	if !strings.Contains(ev.text("status"), "repairing: 1 problem") {
		t.Errorf("status events: %q", ev.text("status"))
	}

	var first, second chatBody
	srv.request(1, &first)
	srv.request(2, &second)
	rf := first.ResponseFormat
	if rf == nil || rf.Type != "json_schema" || rf.JSONSchema.Name != "journey" || rf.JSONSchema.Strict == nil || *rf.JSONSchema.Strict ||
		mustJSON(rf.JSONSchema.Schema) != mustJSON(OutputSchema()) {
		t.Errorf("response_format: %+v", rf)
	}
	if first.Model != "gpt-test" || !first.Stream || first.MaxTokens != 0 || len(first.Messages) != 2 ||
		first.Messages[0].Role != "system" || !strings.Contains(first.Messages[0].Content, "ab_split") {
		t.Errorf("first request: %+v", first)
	}
	if n := len(second.Messages); n != 4 || second.Messages[2].Role != "assistant" || second.Messages[2].Content != broken ||
		second.Messages[3].Role != "user" || !strings.Contains(second.Messages[3].Content, `needs an edge on its "timed_out" branch`) {
		t.Errorf("repair request messages: %+v", second.Messages)
	}
}

func TestOpenAINeverFixes(t *testing.T) {
	t.Parallel()
	srv := newOpenAI(t, envelope(brokenSeed(t)))
	cfg := openAIConfig(srv.URL)
	cfg.MaxRepairs = 1
	_, err := newDesigner(t, cfg).Design(t.Context(), designer.Request{Message: "x"}, nil)
	var inv *InvalidGraphError
	if !errors.As(err, &inv) || inv.Attempts != 2 || srv.count() != 2 || !strings.Contains(err.Error(), `"timed_out" branch`) {
		t.Fatalf("error %v after %d requests", err, srv.count())
	}
}

func TestOpenAINonStreaming(t *testing.T) {
	t.Parallel()
	srv := newOpenAI(t, "nostream:"+envelope(seedJSON(t)))
	res, err := newDesigner(t, openAIConfig(srv.URL)).Design(t.Context(), designer.Request{Message: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
}

// A local server that ignores response_format and answers in a fence.
func TestOpenAIFencedContent(t *testing.T) {
	t.Parallel()
	fenced := "Here is the journey you asked for:\n\n```json\n" + envelope(seedJSON(t)) + "\n```\n"
	for _, answer := range []string{fenced, "nostream:" + fenced} {
		srv := newOpenAI(t, answer)
		res, err := newDesigner(t, openAIConfig(srv.URL)).Design(t.Context(), designer.Request{Message: "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustValid(t, res, seedJSON(t))
	}
}

func TestOpenAIBadKey(t *testing.T) {
	t.Parallel()
	srv := newOpenAI(t, "{}")
	cfg := openAIConfig(srv.URL)
	cfg.APIKey = "wrong-key"
	_, err := newDesigner(t, cfg).Design(t.Context(), designer.Request{Message: "x"}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized ||
		!strings.Contains(err.Error(), "openai refused the API key") || !strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Fatalf("error %v", err)
	}
}

func TestOpenAIStreamFailures(t *testing.T) {
	t.Parallel()
	chunk := `data: {"choices":[{"index":0,"delta":{"content":"{\"graph\""},"finish_reason":null}]}` + "\n\n"
	cases := []struct {
		name, stream, want string
	}{
		{"cut off", chunk, "ended before [DONE]"},
		{"length", chunk + `data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}` + "\n\ndata: [DONE]\n\n", "cut off at the token limit"},
		{"error chunk", chunk + `data: {"error":{"message":"model overloaded"}}` + "\n\n", "model overloaded"},
		{"empty", "", "response is empty"},
	}
	for _, c := range cases {
		url := streamServer(t, http.StatusOK, c.stream)
		_, err := newDesigner(t, openAIConfig(url)).Design(t.Context(), designer.Request{Message: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestOpenAIExplain(t *testing.T) {
	t.Parallel()
	srv := newOpenAI(t, "Premium sign-ups get a welcome email.")
	text, err := newDesigner(t, openAIConfig(srv.URL)).Explain(t.Context(), mustParseGraph(t, seedJSON(t)))
	if err != nil || text != "Premium sign-ups get a welcome email." {
		t.Fatalf("%q, %v", text, err)
	}
	var body chatBody
	srv.request(1, &body)
	if body.ResponseFormat != nil {
		t.Error("Explain asked for JSON output")
	}
}

// A server that refuses json_schema response formats is asked again
// without one.
func TestOpenAIFormatRefused(t *testing.T) {
	t.Parallel()
	good := newOpenAI(t, "```json\n"+envelope(seedJSON(t))+"\n```")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"response_format"`) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":400,"message":"'response_format' type must be one of 'text' or 'json_object'","type":"invalid_request_error"}}`)
			return
		}
		forward(t, w, r, good.URL+"/chat/completions", bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	var ev events
	res, err := newDesigner(t, openAIConfig(srv.URL+"/v1")).Design(t.Context(), designer.Request{Message: "x"}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
	if !strings.Contains(ev.text("status"), "refused response_format") || good.count() != 1 {
		t.Errorf("status %q, %d requests reached the model", ev.text("status"), good.count())
	}
}

package llm

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

func ollamaConfig(url string) Config {
	return Config{Provider: "ollama", BaseURL: url, Model: "llama-test", MaxTokens: 4000}
}

func TestOllamaRepair(t *testing.T) {
	t.Parallel()
	broken, fixed := envelope(brokenSeed(t)), envelope(seedJSON(t))
	srv := newOllama(t, broken, fixed)
	var ev events
	res, err := newDesigner(t, ollamaConfig(srv.URL)).Design(t.Context(), designer.Request{Message: "Welcome sign-ups."}, ev.emit)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, res, seedJSON(t))
	if res.Engine != "ollama:llama-test" || ev.deltas() != broken+fixed {
		t.Errorf("engine %q, deltas %d bytes", res.Engine, len(ev.deltas()))
	}
	var first, second chatBody
	srv.request(1, &first)
	srv.request(2, &second)
	if first.Model != "llama-test" || !first.Stream || mustJSON(first.Format) != mustJSON(OutputSchema()) ||
		first.Options.NumPredict != 4000 || first.Messages[0].Role != "system" {
		t.Errorf("first request: model %q stream %v options %+v", first.Model, first.Stream, first.Options)
	}
	if n := len(second.Messages); n != 4 || second.Messages[2].Content != broken ||
		!strings.Contains(second.Messages[3].Content, `needs an edge on its "timed_out" branch`) {
		t.Errorf("repair request messages: %+v", second.Messages)
	}
	if srv.header(1).Get("Authorization") != "" {
		t.Error("sent an Authorization header without an API key")
	}
}

func TestOllamaErrors(t *testing.T) {
	t.Parallel()
	notFound := streamServer(t, http.StatusNotFound, `{"error":"model \"llama-test\" not found, try pulling it first"}`)
	_, err := newDesigner(t, ollamaConfig(notFound)).Design(t.Context(), designer.Request{Message: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "try pulling it first") {
		t.Errorf("404: %v", err)
	}
	cut := streamServer(t, http.StatusOK, `{"message":{"role":"assistant","content":"{"},"done":false}`+"\n")
	if _, err := newDesigner(t, ollamaConfig(cut)).Design(t.Context(), designer.Request{Message: "x"}, nil); err == nil || !strings.Contains(err.Error(), "ended before done") {
		t.Errorf("cut stream: %v", err)
	}
	mid := streamServer(t, http.StatusOK, `{"message":{"role":"assistant","content":"{"},"done":false}`+"\n"+`{"error":"out of memory"}`+"\n")
	if _, err := newDesigner(t, ollamaConfig(mid)).Design(t.Context(), designer.Request{Message: "x"}, nil); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("error line: %v", err)
	}
}

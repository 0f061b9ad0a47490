package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer/graph"
)

const us1 = "send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week"

func TestCLIDesign(t *testing.T) {
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir()}
	code, out, errOut := cli(env, "design", us1)
	if code != 0 || !strings.Contains(out, `"wait_for_event"`) || !strings.Contains(out, "Waits up to 3 days") {
		t.Fatalf("design: %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(env, "design", us1, "--json")
	var res struct {
		Graph  graph.Graph `json:"graph"`
		Engine string      `json:"engine"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || graph.Validate(&res.Graph) != nil || res.Engine != "offline" {
		t.Fatalf("design --json: %d %v %q", code, err, out)
	}
	code, out, errOut = cli(env, "design", "--file", "../../designer/testdata/documents/post_purchase.xlsx")
	if code != 0 || !strings.Contains(out, "Detected") {
		t.Fatalf("design --file: %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{{"design"}, {"design", "x", "--file", "plan.csv"}, {"design", "--bogus", "x"}} {
		if code, _, errOut := cli(env, args...); code != 2 {
			t.Errorf("%v: code %d (%q), want 2", args, code, errOut)
		}
	}
	if code, _, errOut := cli(env, "design", "qwerty zxcvb"); code != 1 || !strings.Contains(errOut, "qwerty") {
		t.Errorf("not understood: %d %q", code, errOut)
	}
	if code, _, errOut := cli(env, "design", "--file", "missing.csv"); code != 1 || !strings.Contains(errOut, "missing.csv") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	if code, _, errOut := cli(map[string]string{"KALCIFER_AI_PROVIDER": "skynet"}, "design", us1); code == 0 || !strings.Contains(errOut, "KALCIFER_AI") {
		t.Errorf("bad provider: %d %q", code, errOut)
	}
}

// fakeOpenAI answers Chat Completions with a fixed journey, as an
// OpenAI-compatible server (vLLM, llama.cpp, Ollama's /v1) would.
func fakeOpenAI(t *testing.T, calls *atomic.Int32) *httptest.Server {
	seed, err := os.ReadFile("../../graph/testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || !strings.Contains(string(body), `"response_format"`) {
			http.Error(w, `{"error":{"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		content, _ := json.Marshal(map[string]any{"graph": json.RawMessage(seed), "explanation": "A welcome journey.", "follow_up_questions": []string{}})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c1", "object": "chat.completion", "model": "fake",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": string(content)}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The server's AI provider comes from KALCIFER_AI_*; a tenant's admin can
// choose another (here: back to offline).
func TestDesignerWiring(t *testing.T) {
	var calls atomic.Int32
	llm := fakeOpenAI(t, &calls)
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_AI_PROVIDER": "openai", "KALCIFER_AI_BASE_URL": llm.URL + "/v1", "KALCIFER_AI_MODEL": "fake-model",
		"KALCIFER_ALLOW_PRIVATE_NETWORKS": "true"} // the fake model server is on 127.0.0.1
	m := start(t, env, io.Discard)
	defer m.Close()
	c := client{t, "http://" + m.listener.Addr().String()}
	var res struct {
		Engine string      `json:"engine"`
		Graph  graph.Graph `json:"graph"`
	}
	c.do("POST", "/api/v1/ai/conversations", adminKey, `{"message":"`+us1+`"}`, http.StatusOK, &res)
	if res.Engine != "openai:fake-model" || calls.Load() != 1 || len(res.Graph.Nodes) != 6 {
		t.Fatalf("engine %q after %d calls, %d nodes", res.Engine, calls.Load(), len(res.Graph.Nodes))
	}
	c.do("PUT", "/api/v1/ai/settings", adminKey, `{"provider":"offline"}`, http.StatusOK, nil)
	c.do("POST", "/api/v1/ai/conversations", adminKey, `{"message":"`+us1+`"}`, http.StatusOK, &res)
	if res.Engine != "offline" || calls.Load() != 1 {
		t.Fatalf("after choosing offline: engine %q, %d calls", res.Engine, calls.Load())
	}
	c.do("PUT", "/api/v1/ai/settings", adminKey, `{"provider":"anthropic","model":"claude"}`, http.StatusUnprocessableEntity, nil)
}

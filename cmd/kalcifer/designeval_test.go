package main

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
)

const evalCorpus = "../../designer/eval/testdata/corpus"

func TestCLIDesignEval(t *testing.T) {
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir()}
	code, out, errOut := cli(env, "design", "eval", evalCorpus)
	if code != 0 || !strings.Contains(out, "PASS        seed_example (brief)") || !strings.Contains(out, "(document)") ||
		!strings.Contains(out, "designer offline: ") || !strings.Contains(out, "channels") {
		t.Fatalf("design eval: %d %q %q", code, out, errOut)
	}
	if strings.Contains(out, "question:") {
		t.Errorf("questions printed without -v: %q", out)
	}
	if _, out, _ := cli(env, "design", "eval", "-v", evalCorpus); !strings.Contains(out, "question:") || !strings.Contains(out, "nodes: event_entry") {
		t.Errorf("-v: %q", out)
	}
	code, out, _ = cli(env, "design", "eval", evalCorpus, "--json")
	var r struct {
		Designer string         `json:"designer"`
		Cases    int            `json:"cases"`
		Features map[string]any `json:"features"`
		Results  []struct {
			Name string `json:"name"`
			Pass bool   `json:"pass"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Cases != 3 || len(r.Results) != 3 || r.Features["entry"] == nil {
		t.Fatalf("--json: %d %v %q", code, err, out)
	}
	if code, _, errOut := cli(env, "design", "eval"); code != 2 || !strings.Contains(errOut, "corpus directory") {
		t.Errorf("no directory: %d %q", code, errOut)
	}
	if code, _, errOut := cli(env, "design", "eval", t.TempDir()); code != 1 || !strings.Contains(errOut, "neither briefs.json") {
		t.Errorf("empty directory: %d %q", code, errOut)
	}
}

// design eval measures whichever designer KALCIFER_AI_* configures: here an
// OpenAI-compatible server, asked once per case.
func TestCLIDesignEvalLLM(t *testing.T) {
	var calls atomic.Int32
	llm := fakeOpenAI(t, &calls)
	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_AI_PROVIDER": "openai",
		"KALCIFER_AI_BASE_URL": llm.URL + "/v1", "KALCIFER_AI_MODEL": "fake-model", "KALCIFER_ALLOW_PRIVATE_NETWORKS": "true"}
	code, out, errOut := cli(env, "design", "eval", evalCorpus)
	if code != 0 || !strings.Contains(out, "designer openai:fake-model: ") || calls.Load() != 3 {
		t.Fatalf("design eval with an LLM: %d, %d calls, %q %q", code, calls.Load(), out, errOut)
	}
}

package llm

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"anthropic", Config{Provider: "anthropic", APIKey: "k", Model: "claude-sonnet-4-5"}, ""},
		{"openai", Config{Provider: "openai", APIKey: "k", Model: "gpt-4.1"}, ""},
		{"vllm needs no key", Config{Provider: "openai", BaseURL: "http://localhost:8000/v1", Model: "qwen"}, ""},
		{"ollama", Config{Provider: "ollama", Model: "llama3.1:8b"}, ""},
		{"no provider", Config{Model: "m"}, "no provider"},
		{"unknown provider", Config{Provider: "gemini", Model: "m"}, `unknown provider "gemini"`},
		{"no model", Config{Provider: "ollama"}, "no model"},
		{"anthropic without key", Config{Provider: "anthropic", Model: "m"}, "anthropic needs an API key"},
		{"openai.com without key", Config{Provider: "openai", Model: "m"}, "openai needs an API key"},
		{"relative URL", Config{Provider: "ollama", Model: "m", BaseURL: "localhost:11434"}, "not an absolute http or https URL"},
		{"negative timeout", Config{Provider: "ollama", Model: "m", Timeout: -time.Second}, "negative"},
		{"negative tokens", Config{Provider: "ollama", Model: "m", MaxTokens: -1}, "negative"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if _, nerr := New(c.cfg, nil); (nerr == nil) != (err == nil) {
			t.Errorf("%s: New and Validate disagree: %v / %v", c.name, nerr, err)
		}
	}
	// Every problem at once.
	err := Config{Provider: "anthropic", BaseURL: "ftp://x"}.Validate()
	for _, want := range []string{"no model", "base URL", "API key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg     Config
		url     string
		repairs int
		tokens  int
	}{
		{Config{Provider: "anthropic"}, "https://api.anthropic.com", 2, DefaultMaxTokens},
		{Config{Provider: "openai", MaxRepairs: -1}, "https://api.openai.com/v1", 0, 0},
		{Config{Provider: "ollama", MaxRepairs: 5, MaxTokens: 100}, "http://localhost:11434", 5, 100},
		{Config{Provider: "openai", BaseURL: "http://localhost:11434/v1/"}, "http://localhost:11434/v1", 2, 0},
	}
	for _, c := range cases {
		got := c.cfg.withDefaults()
		if got.BaseURL != c.url || got.MaxRepairs != c.repairs || got.MaxTokens != c.tokens || got.Timeout != DefaultTimeout {
			t.Errorf("%+v: got %+v", c.cfg, got)
		}
	}
	d := newDesigner(t, Config{Provider: "anthropic", APIKey: "k", Model: "claude-x"})
	if d.Name() != "anthropic:claude-x" {
		t.Errorf("Name() = %q", d.Name())
	}
}

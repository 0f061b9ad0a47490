package llm

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/designer"
)

// Providers.
const (
	ProviderAnthropic = "anthropic"
	ProviderOpenAI    = "openai" // any OpenAI-compatible Chat Completions server
	ProviderOllama    = "ollama" // Ollama's native /api/chat
)

// Defaults applied by New to zero fields.
const (
	DefaultAnthropicURL = "https://api.anthropic.com"
	DefaultOpenAIURL    = "https://api.openai.com/v1"
	DefaultOllamaURL    = "http://localhost:11434"
	DefaultMaxRepairs   = 2
	DefaultTimeout      = 120 * time.Second
	// DefaultMaxTokens is sent to Anthropic, which requires a limit. The
	// other providers get a limit only when MaxTokens is set.
	DefaultMaxTokens = 8192
)

// Config chooses and configures a provider.
type Config struct {
	// Provider is "anthropic", "openai" or "ollama".
	Provider string
	// BaseURL is where the API lives; empty means the provider's public
	// default. For "openai" it is the URL that /chat/completions follows
	// (https://api.openai.com/v1, http://localhost:8000/v1 for vLLM,
	// http://localhost:11434/v1 for Ollama's compatible endpoint).
	BaseURL string
	// APIKey is required by Anthropic and by api.openai.com; local servers
	// usually need none.
	APIKey string
	// Model is the provider's model name, e.g. claude-sonnet-4-5, gpt-4.1
	// or llama3.1:8b.
	Model string
	// MaxRepairs is how many times an invalid graph is sent back to the
	// model with its problems: 0 means DefaultMaxRepairs, a negative value
	// means never.
	MaxRepairs int
	// Timeout bounds each request to the model, including its whole
	// streamed answer; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxTokens caps the length of the model's answer; 0 means the
	// provider's default (DefaultMaxTokens for Anthropic).
	MaxTokens int
}

// Validate reports what is wrong with the configuration, all at once.
func (c Config) Validate() error {
	var errs []error
	switch c.Provider {
	case ProviderAnthropic, ProviderOpenAI, ProviderOllama:
	case "":
		errs = append(errs, errors.New("llm: no provider; use anthropic, openai or ollama"))
	default:
		errs = append(errs, fmt.Errorf("llm: unknown provider %q; use anthropic, openai or ollama", c.Provider))
	}
	if strings.TrimSpace(c.Model) == "" {
		errs = append(errs, errors.New("llm: no model; name the provider's model, e.g. claude-sonnet-4-5, gpt-4.1 or llama3.1:8b"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("llm: base URL %q is not an absolute http or https URL", c.BaseURL))
		}
	}
	needsKey := c.Provider == ProviderAnthropic ||
		(c.Provider == ProviderOpenAI && (c.BaseURL == "" || strings.Contains(c.BaseURL, "api.openai.com")))
	if needsKey && c.APIKey == "" {
		errs = append(errs, fmt.Errorf("llm: %s needs an API key", c.Provider))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("llm: timeout %v is negative", c.Timeout))
	}
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("llm: max tokens %d is negative", c.MaxTokens))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		switch c.Provider {
		case ProviderAnthropic:
			c.BaseURL = DefaultAnthropicURL
		case ProviderOpenAI:
			c.BaseURL = DefaultOpenAIURL
		case ProviderOllama:
			c.BaseURL = DefaultOllamaURL
		}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	switch {
	case c.MaxRepairs == 0:
		c.MaxRepairs = DefaultMaxRepairs
	case c.MaxRepairs < 0:
		c.MaxRepairs = 0
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxTokens == 0 && c.Provider == ProviderAnthropic {
		c.MaxTokens = DefaultMaxTokens
	}
	return c
}

// New returns a Designer that asks the configured provider through client;
// its own Timeout, if any, also applies. A nil client is a plain
// http.Client, which reaches any address: give one from internal/netguard
// when the base URL is not only the operator's choice.
//
// The Designer's Name is "provider:model", e.g. "anthropic:claude-sonnet-4-5";
// it is also each Result's Engine.
func New(cfg Config, client *http.Client) (designer.Designer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{}
	}
	cfg = cfg.withDefaults()
	h := &httpCaller{client: client, provider: cfg.Provider, timeout: cfg.Timeout}
	var b backend
	switch cfg.Provider {
	case ProviderAnthropic:
		b = &anthropic{cfg: cfg, http: h}
	case ProviderOpenAI:
		b = &openAI{cfg: cfg, http: h}
	case ProviderOllama:
		b = &ollama{cfg: cfg, http: h}
	}
	return &llmDesigner{cfg: cfg, backend: b}, nil
}

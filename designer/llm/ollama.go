package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kalcifer/kalcifer/designer"
)

// ollama speaks Ollama's native /api/chat, whose "format" constrains the
// answer to a JSON Schema by grammar. The answer streams as NDJSON.
type ollama struct {
	cfg  Config
	http *httpCaller
}

type ollamaRequest struct {
	Model    string          `json:"model"`
	Messages []openAIMessage `json:"messages"` // same {role, content} shape
	Format   json.RawMessage `json:"format,omitempty"`
	Stream   bool            `json:"stream"`
	Options  *ollamaOptions  `json:"options,omitempty"`
}

type ollamaOptions struct {
	NumPredict int `json:"num_predict"`
}

type ollamaChunk struct {
	Message struct {
		Content string `json:"content"`
	} `json:"message"`
	Done       bool   `json:"done"`
	DoneReason string `json:"done_reason"`
	Error      string `json:"error"`
}

func (o *ollama) chat(ctx context.Context, system string, msgs []message, structured bool, emit func(designer.Event)) (reply, error) {
	req := ollamaRequest{Model: o.cfg.Model, Stream: true}
	req.Messages = append(req.Messages, openAIMessage{Role: "system", Content: system})
	for _, m := range msgs {
		req.Messages = append(req.Messages, openAIMessage{Role: m.Role, Content: m.Text})
	}
	if structured {
		req.Format = OutputSchema()
	}
	if o.cfg.MaxTokens > 0 {
		req.Options = &ollamaOptions{NumPredict: o.cfg.MaxTokens}
	}
	header := http.Header{}
	if o.cfg.APIKey != "" { // a proxy in front of Ollama may want one
		header.Set("Authorization", "Bearer "+o.cfg.APIKey)
	}
	var text strings.Builder
	done := false
	err := o.http.do(ctx, o.cfg.BaseURL+"/api/chat", header, req, func(body io.Reader) error {
		return readLines(body, func(line string) error {
			var c ollamaChunk
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				return fmt.Errorf("malformed stream line: %v", err)
			}
			if c.Error != "" {
				return fmt.Errorf("ollama reported an error mid-stream: %s", c.Error)
			}
			if c.Message.Content != "" {
				text.WriteString(c.Message.Content)
				emit(designer.Event{Type: "delta", Text: c.Message.Content})
			}
			if c.Done {
				if c.DoneReason == "length" {
					return errors.New("the answer was cut off at the token limit; raise MaxTokens")
				}
				done = true
				return errStop
			}
			return nil
		})
	})
	if err == nil && !done {
		err = errors.New("the answer stream ended before done (connection cut?)")
	}
	return reply{Text: text.String()}, err
}

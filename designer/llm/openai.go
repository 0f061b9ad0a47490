package llm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kalcifer/kalcifer/designer"
)

// openAI speaks Chat Completions as OpenAI, vLLM, llama.cpp's server and
// Ollama's /v1 do. The journey is the message content, constrained by
// response_format where the server honours it.
type openAI struct {
	cfg  Config
	http *httpCaller
}

type openAIRequest struct {
	Model          string          `json:"model"`
	Messages       []openAIMessage `json:"messages"`
	Stream         bool            `json:"stream"`
	ResponseFormat *openAIFormat   `json:"response_format,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
}

type openAIMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type openAIFormat struct {
	Type       string           `json:"type"`
	JSONSchema openAIJSONSchema `json:"json_schema"`
}

type openAIJSONSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

// openAIChoice is a choice of a streamed chunk (Delta) or of a whole
// response (Message).
type openAIChoice struct {
	Delta        openAIContent `json:"delta"`
	Message      openAIContent `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

type openAIContent struct {
	Content string `json:"content"`
	Refusal string `json:"refusal"`
}

type openAIResponse struct {
	Choices []openAIChoice `json:"choices"`
	Error   *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (o *openAI) chat(ctx context.Context, system string, msgs []message, structured bool, emit func(designer.Event)) (reply, error) {
	req := openAIRequest{Model: o.cfg.Model, Stream: true, MaxTokens: o.cfg.MaxTokens}
	req.Messages = append(req.Messages, openAIMessage{Role: "system", Content: system})
	for _, m := range msgs {
		req.Messages = append(req.Messages, openAIMessage{Role: m.Role, Content: m.Text})
	}
	if structured {
		req.ResponseFormat = &openAIFormat{Type: "json_schema", JSONSchema: openAIJSONSchema{Name: "journey", Schema: OutputSchema()}}
	}
	header := http.Header{}
	if o.cfg.APIKey != "" {
		header.Set("Authorization", "Bearer "+o.cfg.APIKey)
	}
	var text string
	read := func(body io.Reader) error {
		var err error
		text, err = readOpenAI(body, emit)
		return err
	}
	url := o.cfg.BaseURL + "/chat/completions"
	err := o.http.do(ctx, url, header, req, read)
	if rejectsFormat(err) && req.ResponseFormat != nil {
		// Older local servers refuse json_schema outright; the prompt still
		// asks for the JSON, and a fenced or wrapped answer is tolerated.
		emit(designer.Event{Type: "status", Text: "the server refused response_format; asking without it"})
		req.ResponseFormat = nil
		err = o.http.do(ctx, url, header, req, read)
	}
	return reply{Text: text}, err
}

// rejectsFormat reports whether err is a server's refusal of response_format.
func rejectsFormat(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusUnprocessableEntity) &&
		strings.Contains(strings.ToLower(apiErr.Message), "response_format")
}

// readOpenAI reads a streamed answer, or a whole JSON response from a
// server that does not stream.
func readOpenAI(body io.Reader, emit func(designer.Event)) (string, error) {
	br := bufio.NewReader(body)
	first, err := firstNonSpace(br)
	if err != nil {
		return "", err
	}
	if first == '{' {
		var resp openAIResponse
		if err := json.NewDecoder(br).Decode(&resp); err != nil {
			return "", fmt.Errorf("malformed response: %v", err)
		}
		if resp.Error != nil {
			return "", fmt.Errorf("the server reported an error: %s", resp.Error.Message)
		}
		if len(resp.Choices) == 0 {
			return "", errors.New("the response has no choices")
		}
		c := resp.Choices[0]
		if err := finished(c.FinishReason, c.Message.Refusal); err != nil {
			return "", err
		}
		emit(designer.Event{Type: "delta", Text: c.Message.Content})
		return c.Message.Content, nil
	}

	var text strings.Builder
	var finish, refusal string
	done := false
	err = readSSE(br, func(_, data string) error {
		if strings.TrimSpace(data) == "[DONE]" {
			done = true
			return errStop
		}
		var chunk openAIResponse
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return fmt.Errorf("malformed stream chunk: %v", err)
		}
		if chunk.Error != nil {
			return fmt.Errorf("the server reported an error mid-stream: %s", chunk.Error.Message)
		}
		if len(chunk.Choices) == 0 { // a usage-only chunk
			return nil
		}
		c := chunk.Choices[0]
		if c.Delta.Content != "" {
			text.WriteString(c.Delta.Content)
			emit(designer.Event{Type: "delta", Text: c.Delta.Content})
		}
		refusal += c.Delta.Refusal
		if c.FinishReason != "" {
			finish = c.FinishReason
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if !done && finish == "" {
		return "", errors.New("the answer stream ended before [DONE] (connection cut?)")
	}
	if err := finished(finish, refusal); err != nil {
		return "", err
	}
	return text.String(), nil
}

// finished turns a finish reason or refusal that lost the answer into an error.
func finished(reason, refusal string) error {
	switch {
	case refusal != "":
		return fmt.Errorf("the model refused: %s", refusal)
	case reason == "length":
		return errors.New("the answer was cut off at the token limit; raise MaxTokens")
	case reason == "content_filter":
		return errors.New("the provider's content filter stopped the answer")
	}
	return nil
}

// firstNonSpace peeks at the first byte of the body that is not white space.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("the response is empty")
			}
			return 0, err
		}
		if b != ' ' && b != '\n' && b != '\r' && b != '\t' {
			return b, br.UnreadByte()
		}
	}
}

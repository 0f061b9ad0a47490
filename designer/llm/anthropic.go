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

// anthropicVersion is the Messages API version spoken here.
const anthropicVersion = "2023-06-01"

// toolName is the tool Claude is made to call with the journey as input.
const toolName = "emit_journey"

// anthropic speaks the Messages API: the journey comes back as the input of
// a forced tool call, streamed as input_json_delta events.
type anthropic struct {
	cfg  Config
	http *httpCaller
}

type anthropicRequest struct {
	Model      string             `json:"model"`
	MaxTokens  int                `json:"max_tokens"`
	System     string             `json:"system,omitempty"`
	Messages   []anthropicMessage `json:"messages"`
	Tools      []anthropicTool    `json:"tools,omitempty"`
	ToolChoice *anthropicChoice   `json:"tool_choice,omitempty"`
	Stream     bool               `json:"stream"`
}

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content []anthropicBlock `json:"content"`
}

// anthropicBlock is a content block: text, tool_use or tool_result.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

type anthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type anthropicChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// anthropicEvent is any event of the stream; each type fills its own fields.
type anthropicEvent struct {
	Type         string `json:"type"`
	Index        int    `json:"index"`
	ContentBlock struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
		Text string `json:"text"`
	} `json:"content_block"`
	Delta struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (a *anthropic) chat(ctx context.Context, system string, msgs []message, structured bool, emit func(designer.Event)) (reply, error) {
	req := anthropicRequest{Model: a.cfg.Model, MaxTokens: a.cfg.MaxTokens, System: system, Stream: true}
	for _, m := range msgs {
		req.Messages = append(req.Messages, anthropicContent(m))
	}
	if structured {
		req.Tools = []anthropicTool{{
			Name:        toolName,
			Description: "Emit the designed customer journey, an explanation and follow-up questions.",
			InputSchema: OutputSchema(),
		}}
		req.ToolChoice = &anthropicChoice{Type: "tool", Name: toolName}
	}
	header := http.Header{}
	header.Set("x-api-key", a.cfg.APIKey)
	header.Set("anthropic-version", anthropicVersion)
	var rep reply
	err := a.http.do(ctx, a.cfg.BaseURL+"/v1/messages", header, req, func(body io.Reader) error {
		var err error
		rep, err = readAnthropicStream(body, structured, emit)
		return err
	})
	return rep, err
}

// anthropicContent renders a message: a structured answer as the tool call
// that carried it, a repair request as that call's (failed) result.
func anthropicContent(m message) anthropicMessage {
	switch {
	case m.Role == "assistant" && m.CallID != "":
		return anthropicMessage{Role: m.Role, Content: []anthropicBlock{{Type: "tool_use", ID: m.CallID, Name: toolName, Input: json.RawMessage(m.Text)}}}
	case m.Role == "user" && m.ReplyTo != "":
		return anthropicMessage{Role: m.Role, Content: []anthropicBlock{{Type: "tool_result", ToolUseID: m.ReplyTo, Content: m.Text, IsError: true}}}
	}
	return anthropicMessage{Role: m.Role, Content: []anthropicBlock{{Type: "text", Text: m.Text}}}
}

// readAnthropicStream assembles a streamed message: the emit_journey tool's
// input when structured, else the text. Unknown event and block types
// (thinking, future ones) are skipped, as Anthropic's versioning asks.
func readAnthropicStream(body io.Reader, structured bool, emit func(designer.Event)) (reply, error) {
	type block struct {
		typ, id, name string
		buf           strings.Builder
	}
	blocks := map[int]*block{}
	var order []int
	var stopReason string
	stopped := false
	err := readSSE(body, func(_, data string) error {
		var ev anthropicEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("malformed stream event: %v", err)
		}
		switch ev.Type {
		case "content_block_start":
			b := &block{typ: ev.ContentBlock.Type, id: ev.ContentBlock.ID, name: ev.ContentBlock.Name}
			b.buf.WriteString(ev.ContentBlock.Text)
			blocks[ev.Index] = b
			order = append(order, ev.Index)
		case "content_block_delta":
			b := blocks[ev.Index]
			if b == nil {
				return fmt.Errorf("stream delta for unknown content block %d", ev.Index)
			}
			switch ev.Delta.Type {
			case "text_delta":
				b.buf.WriteString(ev.Delta.Text)
				emit(designer.Event{Type: "delta", Text: ev.Delta.Text})
			case "input_json_delta":
				b.buf.WriteString(ev.Delta.PartialJSON)
				emit(designer.Event{Type: "delta", Text: ev.Delta.PartialJSON})
			}
		case "message_delta":
			if ev.Delta.StopReason != "" {
				stopReason = ev.Delta.StopReason
			}
		case "message_stop":
			stopped = true
			return errStop
		case "error":
			return fmt.Errorf("anthropic stream error (%s): %s", ev.Error.Type, ev.Error.Message)
		}
		return nil
	})
	if err != nil {
		return reply{}, err
	}
	if !stopped {
		return reply{}, errors.New("the answer stream ended before message_stop (connection cut?)")
	}
	if stopReason == "max_tokens" {
		return reply{}, errors.New("the answer was cut off at the max_tokens limit; raise MaxTokens")
	}
	var text strings.Builder
	for _, i := range order {
		b := blocks[i]
		switch {
		case structured && b.typ == "tool_use" && b.name == toolName:
			input := strings.TrimSpace(b.buf.String())
			if input == "" {
				input = "{}"
			}
			if !json.Valid([]byte(input)) { // cannot be echoed as a tool_use: repair as text
				return reply{Text: input}, nil
			}
			return reply{Text: input, CallID: b.id}, nil
		case b.typ == "text":
			text.WriteString(b.buf.String())
		}
	}
	return reply{Text: text.String()}, nil
}

package logprovider_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/logprovider"
)

func TestSendLogsTheMessage(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := logprovider.New(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := channel.Message{Key: "inst1:n1:1", Channel: "email", NodeID: "n1",
		Customer: map[string]any{"id": "c42", "email": "ada@example.com"}}

	res, err := p.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "logged" {
		t.Errorf("Detail = %q, want logged", res.Detail)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q is not one JSON object: %v", buf.String(), err)
	}
	want := map[string]any{"level": "INFO", "key": "inst1:n1:1", "channel": "email", "node": "n1", "customer": "c42"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (line %s)", k, line[k], v, buf.String())
		}
	}
	if !channel.IsDryRun(p) || !channel.Deduplicates(p, m) {
		t.Error("the log provider must be a dry run whose repeats harm nobody")
	}
	if p.Name() != "log" {
		t.Errorf("Name() = %q, want log", p.Name())
	}
}

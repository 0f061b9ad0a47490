package channel_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/channel"
)

// named is the smallest real provider: it accepts everything.
type named string

func (n named) Name() string { return string(n) }
func (n named) Send(context.Context, channel.Message) (channel.Result, error) {
	return channel.Result{Detail: string(n)}, nil
}

type registryBundle struct {
	reg *channel.Registry
}

func setupRegistry(t *testing.T) registryBundle {
	t.Helper()
	return registryBundle{reg: channel.NewRegistry(
		map[string]channel.Provider{"email": named("log"), "sms": named("log"), "webhook": named("webhook")},
		named("sendgrid"), named("twilio"),
	)}
}

func TestRegistryFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    channel.Message
		want string
	}{
		{"channel default", channel.Message{Channel: "email"}, "log"},
		{"another channel's default", channel.Message{Channel: "webhook"}, "webhook"},
		{"named by config", channel.Message{Channel: "email", Config: map[string]any{"provider": "sendgrid"}}, "sendgrid"},
		{"named across channels", channel.Message{Channel: "email", Config: map[string]any{"provider": "twilio"}}, "twilio"},
		{"a default is named too", channel.Message{Channel: "push", Config: map[string]any{"provider": "log"}}, "log"},
		{"empty provider falls back", channel.Message{Channel: "sms", Config: map[string]any{"provider": ""}}, "log"},
		{"nil provider falls back", channel.Message{Channel: "sms", Config: map[string]any{"provider": nil}}, "log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRegistry(t)
			p, err := b.reg.For(tt.m)
			if err != nil {
				t.Fatalf("For: %v", err)
			}
			if p.Name() != tt.want {
				t.Errorf("For picked %q, want %q", p.Name(), tt.want)
			}
		})
	}
}

func TestRegistryForUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    channel.Message
		want []string
	}{
		{"unknown provider", channel.Message{NodeID: "n1", Channel: "email", Config: map[string]any{"provider": "mailgun"}},
			[]string{"n1", `"mailgun"`, "log, sendgrid, twilio, webhook"}},
		{"channel without default", channel.Message{NodeID: "n2", Channel: "push"},
			[]string{"n2", `"push"`, "email, sms, webhook"}},
		{"provider not a string", channel.Message{NodeID: "n3", Channel: "email", Config: map[string]any{"provider": 3}},
			[]string{"n3", "must be a string", "int"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupRegistry(t)
			p, err := b.reg.For(tt.m)
			if err == nil {
				t.Fatalf("For = %s, want an error", p.Name())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if o, _ := channel.Classify(err); o != channel.OutcomeFailed {
				t.Errorf("Classify(%v) = %s, want failed", err, o)
			}
		})
	}
}

func TestRegistryEmpty(t *testing.T) {
	t.Parallel()
	_, err := channel.NewRegistry(nil).For(channel.Message{Channel: "email", Config: map[string]any{"provider": "x"}})
	if err == nil || !strings.Contains(err.Error(), "registered: none") {
		t.Errorf("For on an empty registry: %v", err)
	}
}

func TestNewRegistryRejectsDuplicateNames(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"log"`) {
			t.Errorf("recover() = %v, want a panic naming the duplicate", r)
		}
	}()
	channel.NewRegistry(nil, named("log"), named("log"))
}

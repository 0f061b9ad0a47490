package graph

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Durations past MaxDuration are refused by the parser itself, before any
// multiplication can overflow: "213504d" used to wrap to 25 minutes and
// "99999999d" to a date in 2246.
func TestParseDurationBounded(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"3650d": MaxDuration, "87600h": MaxDuration, "5256000m": MaxDuration, "315360000s": MaxDuration,
		"999999999ms": 999999999 * time.Millisecond, "0s": 0,
	} {
		if d, err := ParseDuration(s); err != nil || d != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, d, err, want)
		}
	}
	for _, s := range []string{"3651d", "87601h", "315360001s", "213504d", "99999999d", "999999999d", "999999999h", "999999999m", "999999999s"} {
		d, err := ParseDuration(s)
		if err == nil || !strings.Contains(err.Error(), "3650d") {
			t.Errorf("ParseDuration(%q) = %v, %v; want an error naming the maximum 3650d", s, d, err)
		}
	}
}

// Values accepted at save time that would fail (or misfire) at run time are
// refused by Validate, naming the node and the field.
func TestRunTimeFailuresRefused(t *testing.T) {
	cases := []struct {
		typ, config string
		branches    []string
		field, says string // says: in the message
	}{
		{"wait", `{"duration":"213504d"}`, nil, "config.duration", "3650d"},
		{"wait", `{"duration":"99999999d"}`, nil, "config.duration", "3650d"},
		{"wait", `{"duration":"3651d"}`, nil, "config.duration", "3650d"},
		{"wait_for_event", `{"event_type":"opened","timeout":"99999999d"}`, []string{"event_received", "timed_out"}, "config.timeout", "3650d"},
		{"frequency_cap", `{"channel":"email","max":1,"window":"0s"}`, []string{"within_cap", "exceeded"}, "config.window", "longer than zero"},
		{"frequency_cap", `{"channel":"email","max":1,"window":"213504d"}`, []string{"within_cap", "exceeded"}, "config.window", "3650d"},
		{"frequency_cap", `{"channel":"email","max":0,"window":"1d"}`, []string{"within_cap", "exceeded"}, "config.max", ""},
		{"custom_code", `{"language":"lua","code":"1","timeout":"6s"}`, nil, "config.timeout", "maximum, 5s"},
		{"custom_code", `{"language":"lua","code":"1","timeout":"1m"}`, nil, "config.timeout", "pattern"},
		{"custom_code", `{"language":"lua","code":"1","timeout":"0s"}`, nil, "config.timeout", "longer than zero"},
		{"call_webhook", `{"url":"https://x.io","headers":{"Bad Header":"1"}}`, nil, "config.headers", "not a valid HTTP header name"},
		{"call_webhook", `{"url":"https://x.io","headers":{"":"1"}}`, nil, "config.headers", "not a valid HTTP header name"},
		{"call_webhook", `{"url":"https://x.io","headers":{"X-Ok":"a\r\nInjected: 1"}}`, nil, "config.headers.X-Ok", "line break"},
		{"call_webhook", `{"url":"https://x.io","headers":{"X-Ok":"a\nb"}}`, nil, "config.headers.X-Ok", "line break"},
		{"call_webhook", `{"url":"https://x.io","headers":{"X-Ok":"a\u0000b"}}`, nil, "config.headers.X-Ok", "NUL"},
		{"call_webhook", `{"url":"https://x.io","timeout":"999999999m"}`, nil, "config.timeout", "2m"},
		{"call_webhook", `{"url":"https://x.io","timeout":"3m"}`, nil, "config.timeout", "2m"},
		{"call_webhook", `{"url":"https://x.io","timeout":"120001ms"}`, nil, "config.timeout", "2m"},
		{"call_webhook", `{"url":"https://x.io","timeout":"0s"}`, nil, "config.timeout", "longer than zero"},
	}
	for _, c := range cases {
		t.Run(c.typ+" "+c.config, func(t *testing.T) {
			ps := Validate(chain(c.typ, c.config, c.branches...))
			for _, p := range ps {
				if p.NodeID == "n" && strings.HasPrefix(p.Field, c.field) {
					if !strings.Contains(p.Message, `node "n"`) || !strings.Contains(p.Message, c.says) {
						t.Fatalf("message must name the node and say %q: %q", c.says, p.Message)
					}
					return
				}
			}
			t.Fatalf("want a problem at %s on node n, got %+v", c.field, ps)
		})
	}
}

// The largest values allowed pass.
func TestRunTimeLimitsAllowed(t *testing.T) {
	for _, c := range []struct {
		typ, config string
		branches    []string
	}{
		{"wait", `{"duration":"3650d"}`, nil},
		{"wait_for_event", `{"event_type":"opened","timeout":"87600h"}`, []string{"event_received", "timed_out"}},
		{"frequency_cap", `{"channel":"email","max":1,"window":"3650d"}`, []string{"within_cap", "exceeded"}},
		{"call_webhook", `{"url":"https://x.io","timeout":"2m","headers":{"X-Api-Key":"k e y","Accept":"*/*"}}`, nil},
		{"call_webhook", `{"url":"https://x.io","timeout":"120000ms"}`, nil},
	} {
		if ps := Validate(chain(c.typ, c.config, c.branches...)); ps != nil {
			t.Errorf("%s %s: %+v", c.typ, c.config, ps)
		}
	}
}

// Every wrong field of one node is reported, not only the first.
func TestEveryConfigProblemOfANode(t *testing.T) {
	ps := Validate(chain("call_webhook", `{"url":"/relative","timeout":"5m","headers":{"Bad Header":"1","X-Ok":"a\r\nb"}}`))
	fields := map[string]bool{}
	for _, p := range ps {
		fields[p.Field] = true
	}
	for _, f := range []string{"config.url", "config.timeout", "config.headers.Bad Header", "config.headers.X-Ok"} {
		if !fields[f] {
			t.Errorf("no problem at %s: %+v", f, ps)
		}
	}
}

// A cron expression that never fires (or not for years) is refused.
func TestCronThatNeverFires(t *testing.T) {
	cases := []struct {
		typ, config string
		ok          bool
	}{
		{"scheduled_entry", `{"cron":"0 0 31 2 *"}`, false},
		{"scheduled_entry", `{"cron":"0 0 30 2 *"}`, false},
		{"scheduled_entry", `{"cron":"0 0 31 4,6,9,11 *"}`, false},
		{"segment_entry", `{"segment_id":"vip","schedule":"0 0 31 2 *"}`, false},
		{"scheduled_entry", `{"cron":"0 0 29 2 *"}`, true}, // leap days come every 4 years
		{"scheduled_entry", `{"cron":"0 0 31 * *"}`, true},
		{"scheduled_entry", `{"cron":"0 9 * * 1"}`, true},
	}
	for _, c := range cases {
		g := &Graph{Nodes: []Node{{ID: "in", Type: c.typ, Config: json.RawMessage(c.config)}, {ID: "x", Type: "journey_exit"}},
			Edges: []Edge{{ID: "e", Source: "in", Target: "x"}}}
		ps := Validate(g)
		if c.ok != (ps == nil) {
			t.Errorf("%s %s: ok=%v, problems %+v", c.typ, c.config, c.ok, ps)
		}
		if !c.ok && (len(ps) != 1 || ps[0].NodeID != "in" || !strings.Contains(ps[0].Message, "never fires")) {
			t.Errorf("%s %s: want one problem on node in saying it never fires, got %+v", c.typ, c.config, ps)
		}
	}
}

// Journey-wide frequency caps are bounded like node durations.
func TestGraphCapWindowBounded(t *testing.T) {
	entry := `{"id":"in","type":"event_entry","config":{"event_type":"go"}}`
	for window, says := range map[string]string{"0s": "longer than zero", "213504d": "3650d", "99999999d": "3650d"} {
		ps := Validate(mustParse(t, `{"nodes":[`+entry+`],"edges":[],"frequency_cap":{"email":{"max":1,"window":"`+window+`"}}}`))
		if len(ps) != 1 || ps[0].Field != "frequency_cap.email.window" || !strings.Contains(ps[0].Message, says) {
			t.Errorf("window %s: want one problem at frequency_cap.email.window saying %q, got %+v", window, says, ps)
		}
	}
}

// The schemas the editor and the AI designer read state the limits.
func TestSchemasStateLimits(t *testing.T) {
	for typ, field := range map[string]string{"wait": "duration", "wait_for_event": "timeout", "frequency_cap": "window", "custom_code": "timeout", "call_webhook": "timeout"} {
		nt, _ := Lookup(typ)
		var s struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(nt.ConfigSchema, &s); err != nil {
			t.Fatal(err)
		}
		want := formatDuration(MaxDuration)
		switch typ {
		case "call_webhook":
			want = formatDuration(MaxWebhookTimeout)
		case "custom_code":
			want = formatDuration(MaxCodeTimeout)
		}
		if d := s.Properties[field].Description; !strings.Contains(d, "at most "+want) {
			t.Errorf("%s.%s description %q does not say at most %s", typ, field, d, want)
		}
	}
}

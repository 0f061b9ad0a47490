package graph

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Graph {
	t.Helper()
	g, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return g
}

func TestSeedExampleIsValid(t *testing.T) {
	data, err := os.ReadFile("testdata/seed_example.json")
	if err != nil {
		t.Fatal(err)
	}
	g := mustParse(t, string(data))
	if ps := Validate(g); ps != nil {
		t.Fatalf("seed example: %+v", ps)
	}
}

// chain builds entry → node → exit around one node of the given type and
// config, adding edges for the branches given.
func chain(typ, config string, branches ...string) *Graph {
	g := &Graph{Nodes: []Node{
		{ID: "in", Type: "event_entry", Config: json.RawMessage(`{"event_type":"go"}`)},
		{ID: "n", Type: typ, Config: json.RawMessage(config)},
	}}
	g.Edges = append(g.Edges, Edge{ID: "e0", Source: "in", Target: "n"})
	for i, b := range branches {
		out := fmt.Sprintf("out%d", i)
		g.Nodes = append(g.Nodes, Node{ID: out, Type: "journey_exit"})
		g.Edges = append(g.Edges, Edge{ID: fmt.Sprintf("e%d", i+1), Source: "n", Target: out, Branch: b})
	}
	return g
}

func TestNodeConfigs(t *testing.T) {
	cases := []struct {
		typ, config string
		branches    []string
		field       string // "" means valid
	}{
		{"send_email", `{"template_id":"welcome"}`, []string{""}, ""},
		{"send_email", `{"template_id":"welcome"}`, []string{"", "failed"}, ""},
		{"send_email", `{}`, []string{""}, "config"},
		{"send_email", `{"template_id":"w","cc":"x"}`, []string{""}, "config"},
		{"send_sms", `{"body":"Hi {{ customer.first_name }}"}`, nil, ""},
		{"send_sms", `{"from":"+1555"}`, nil, "config"},
		{"send_push", `{"title":"Hi","body":"There"}`, nil, ""},
		{"send_push", `{"title":"Hi"}`, nil, "config"},
		{"send_whatsapp", `{"template_id":"order_update"}`, nil, ""},
		{"send_whatsapp", `{"whatsapp_template":{"name":"order_update","language":"en_US","params":["{{ customer.first_name }}"]}}`, nil, ""},
		{"send_whatsapp", `{"whatsapp_template":{"name":"order_update"}}`, nil, "config"},
		{"send_whatsapp", `{"template_id":"order_update","body":"Hi"}`, nil, "config.template_id"},
		{"send_whatsapp", `{"language":"en_US"}`, nil, "config"},
		{"send_email", `{"subject":"Hi","html":"<p>Hi</p>","to":"{{ event.data.email }}"}`, nil, ""},
		{"send_email", `{"template_id":"welcome","subject":"Hi"}`, nil, ""},
		{"send_email", `{"template_id":"welcome","html":"<p>Hi</p>"}`, nil, "config.template_id"},
		{"send_email", `{"subject":"Hi"}`, nil, "config"},
		{"send_email", `{"html":"<p>Hi</p>"}`, nil, "config"},
		{"send_sms", `{"template_id":"t","body":"Hi"}`, nil, "config.template_id"},
		{"send_push", `{"template_id":"t","title":"Hi"}`, nil, "config.template_id"},
		{"call_webhook", `{"url":"https://example.com/users/{{ customer.id }}"}`, nil, ""},
		{"call_webhook", `{"url":"{{ customer.webhook }}"}`, nil, "config.url"},
		{"call_webhook", `{"url":"https://example.com/hook","method":"PUT","timeout":"500ms"}`, nil, ""},
		{"call_webhook", `{"url":"ftp://example.com/hook"}`, nil, "config.url"},
		{"call_webhook", `{"url":"/relative"}`, nil, "config.url"},
		{"call_webhook", `{"url":"https://x.io","method":"GET"}`, nil, "config.method"},
		{"wait", `{"duration":"3d"}`, []string{""}, ""},
		{"wait", `{"duration":"3x"}`, []string{""}, "config.duration"},
		{"wait", `{"duration":"0s"}`, []string{""}, "config.duration"},
		{"wait", `{}`, []string{""}, "config"},
		{"wait_until", `{"until":"2026-12-24T09:00:00Z"}`, nil, ""},
		{"wait_until", `{"until":"customer.trial_ends_at"}`, nil, ""},
		{"wait_until", `{"until":"next tuesday"}`, nil, "config.until"},
		{"wait_until", `{"until":"customer.renewal_date","offset":"-2d"}`, nil, ""},
		{"wait_until", `{"until":"customer.renewal_date","offset":"3h"}`, nil, ""},
		{"wait_until", `{"until":"customer.renewal_date","offset":"two days"}`, nil, "config.offset"},
		{"wait_until", `{"until":"customer.renewal_date","offset":"-0d"}`, nil, "config.offset"},
		{"wait_for_event", `{"event_type":"email_opened","timeout":"3d"}`, []string{"event_received", "timed_out"}, ""},
		{"wait_for_event", `{"event_type":"opened","timeout":"1h","event_branch":"yes","timeout_branch":"no"}`, []string{"yes", "no"}, ""},
		{"wait_for_event", `{"event_type":"opened","timeout":"1h"}`, []string{"event_received"}, "branch"},
		{"wait_for_event", `{"event_type":"opened","timeout":"1h","event_branch":"x","timeout_branch":"x"}`, []string{"x"}, "config.timeout_branch"},
		{"wait_for_event", `{"event_type":"opened"}`, []string{"event_received", "timed_out"}, "config"},
		{"condition", `{"expression":"customer.plan == 'premium'"}`, []string{"true", "false"}, ""},
		{"condition", `{"expression":"customer.plan =="}`, []string{"true", "false"}, "config.expression"},
		{"condition", `{"expression":"1 + 2"}`, []string{"true", "false"}, "config.expression"},
		{"condition", `{"expression":"customer.vip"}`, []string{"true"}, "branch"},
		{"ab_split", `{"variants":[{"key":"a","weight":70},{"key":"b","weight":30}]}`, []string{"a", "b"}, ""},
		{"ab_split", `{"variants":[{"key":"a","weight":70},{"key":"b","weight":30}]}`, []string{"a"}, "branch"},
		{"ab_split", `{"variants":[{"key":"a","weight":50}]}`, []string{"a"}, "config.variants"},
		{"ab_split", `{"variants":[{"key":"a","weight":50},{"key":"a","weight":50}]}`, []string{"a"}, "config.variants"},
		{"ab_split", `{"variants":[{"key":"a","weight":0},{"key":"b","weight":50}]}`, []string{"a", "b"}, "config.variants.0.weight"},
		{"frequency_cap", `{"channel":"email","max":2,"window":"1d"}`, []string{"within_cap", "exceeded"}, ""},
		{"frequency_cap", `{"channel":"fax","max":2,"window":"1d"}`, []string{"within_cap", "exceeded"}, "config.channel"},
		{"update_profile", `{"set":{"plan":"premium"}}`, nil, ""},
		{"update_profile", `{"set":{}}`, nil, "config.set"},
		{"add_tag", `{"tag":"vip"}`, nil, ""},
		{"remove_tag", `{"tag":""}`, nil, "config.tag"},
		{"custom_code", `{"language":"lua","code":"return 1"}`, nil, ""},
		{"custom_code", `{"language":"js","code":"1"}`, nil, "config.language"},
		{"goal_reached", `{"goal_name":"purchase","exit_after_goal":false}`, []string{""}, ""},
		{"goal_reached", `{"exit_after_goal":true}`, nil, "config"},
		{"journey_exit", ``, nil, ""},
		{"journey_exit", `{}`, []string{""}, "source"},
	}
	for _, c := range cases {
		t.Run(c.typ+" "+c.config, func(t *testing.T) {
			ps := Validate(chain(c.typ, c.config, c.branches...))
			if c.field == "" {
				if ps != nil {
					t.Fatalf("want valid, got %+v", ps)
				}
				return
			}
			if len(ps) == 0 {
				t.Fatalf("want a problem at %s, got none", c.field)
			}
			for _, p := range ps {
				if strings.HasPrefix(p.Field, c.field) && (p.NodeID == "n" || p.EdgeID != "") {
					if !strings.Contains(p.Message, `"n"`) && p.EdgeID == "" {
						t.Fatalf("message must name the node: %q", p.Message)
					}
					return
				}
			}
			t.Fatalf("want a problem at %s on node n, got %+v", c.field, ps)
		})
	}
}

func TestEntryConfigs(t *testing.T) {
	cases := []struct {
		typ, config string
		ok          bool
	}{
		{"event_entry", `{"event_type":"signed_up","filter":{"plan":"pro"}}`, true},
		{"event_entry", `{"event_type":""}`, false},
		{"segment_entry", `{"segment_id":"vip","schedule":"*/5 * * * *"}`, true},
		{"segment_entry", `{"segment_id":"vip","schedule":"every day"}`, false},
		{"webhook_entry", `{}`, true},
		{"scheduled_entry", `{"cron":"0 9 * * 1","timezone":"Europe/Paris"}`, true},
		{"scheduled_entry", `{"cron":"0 9 * * 1","timezone":"Mars/Olympus"}`, false},
		{"scheduled_entry", `{"cron":"61 9 * * 1"}`, false},
		{"scheduled_entry", `{"cron":"0 9 * * 1","end_at":"2027-01-01T00:00:00Z"}`, true},
		{"scheduled_entry", `{"cron":"0 9 * * 1","end_at":"next week"}`, false},
		{"segment_entry", `{"segment_id":"vip","enrol":"both"}`, true},
		{"segment_entry", `{"segment_id":"vip","enrol":"all"}`, false},
	}
	for _, c := range cases {
		g := &Graph{Nodes: []Node{{ID: "in", Type: c.typ, Config: json.RawMessage(c.config)}, {ID: "x", Type: "journey_exit"}},
			Edges: []Edge{{ID: "e", Source: "in", Target: "x"}}}
		ps := Validate(g)
		if (ps == nil) != c.ok {
			t.Errorf("%s %s: ok=%v, problems %+v", c.typ, c.config, c.ok, ps)
		}
	}
}

func TestStructure(t *testing.T) {
	entry := `{"id":"in","type":"event_entry","config":{"event_type":"go"}}`
	exit := `{"id":"out","type":"journey_exit"}`
	cases := []struct {
		name, graph, want string
	}{
		{"no nodes", `{"nodes":[],"edges":[]}`, "no nodes"},
		{"no entry", `{"nodes":[` + exit + `],"edges":[]}`, "no entry node"},
		{"unknown type", `{"nodes":[` + entry + `,{"id":"x","type":"teleport"}],"edges":[{"id":"e","source":"in","target":"x"}]}`, `unknown type "teleport"`},
		{"duplicate node", `{"nodes":[` + entry + `,` + entry + `],"edges":[]}`, "used twice"},
		{"bad node id", `{"nodes":[` + entry + `,{"id":"a b","type":"journey_exit"}],"edges":[]}`, "ids are"},
		{"missing target", `{"nodes":[` + entry + `],"edges":[{"id":"e","source":"in","target":"ghost"}]}`, `target node "ghost" does not exist`},
		{"missing source", `{"nodes":[` + entry + `,` + exit + `],"edges":[{"id":"e","source":"ghost","target":"out"},{"id":"f","source":"in","target":"out"}]}`, `source node "ghost" does not exist`},
		{"duplicate edge id", `{"nodes":[` + entry + `,` + exit + `],"edges":[{"id":"e","source":"in","target":"out"},{"id":"e","source":"in","target":"out"}]}`, "used twice"},
		{"edge without id", `{"nodes":[` + entry + `,` + exit + `],"edges":[{"source":"in","target":"out"}]}`, "has no id"},
		{"self loop", `{"nodes":[` + entry + `,{"id":"w","type":"wait","config":{"duration":"1d"}}],"edges":[{"id":"a","source":"in","target":"w"},{"id":"b","source":"w","target":"w"}]}`, "itself"},
		{"into entry", `{"nodes":[` + entry + `,{"id":"in2","type":"webhook_entry"}],"edges":[{"id":"a","source":"in","target":"in2"}]}`, "cannot have incoming"},
		{"from exit", `{"nodes":[` + entry + `,` + exit + `,{"id":"w","type":"wait","config":{"duration":"1d"}}],"edges":[{"id":"a","source":"in","target":"out"},{"id":"b","source":"out","target":"w"}]}`, "cannot have outgoing"},
		{"unknown branch", `{"nodes":[` + entry + `,` + exit + `],"edges":[{"id":"a","source":"in","target":"out","branch":"maybe"}]}`, `no branch "maybe"`},
		{"repeated edge", `{"nodes":[` + entry + `,` + exit + `],"edges":[{"id":"a","source":"in","target":"out"},{"id":"b","source":"in","target":"out"}]}`, "repeats"},
		{"cycle", `{"nodes":[` + entry + `,{"id":"a","type":"wait","config":{"duration":"1d"}},{"id":"b","type":"wait","config":{"duration":"1d"}}],"edges":[{"id":"1","source":"in","target":"a"},{"id":"2","source":"a","target":"b"},{"id":"3","source":"b","target":"a"}]}`, "cycle"},
		{"orphan", `{"nodes":[` + entry + `,` + exit + `,{"id":"lost","type":"journey_exit"}],"edges":[{"id":"a","source":"in","target":"out"}]}`, `"lost" cannot be reached`},
		{"exit criteria empty", `{"nodes":[` + entry + `],"edges":[],"exit_criteria":{}}`, "exit_criteria needs"},
		{"exit criteria bad CEL", `{"nodes":[` + entry + `],"edges":[],"exit_criteria":{"expression":"((("}}`, "not a valid CEL"},
		{"cap channel", `{"nodes":[` + entry + `],"edges":[],"frequency_cap":{"fax":{"max":1,"window":"1d"}}}`, "not a channel"},
		{"cap max", `{"nodes":[` + entry + `],"edges":[],"frequency_cap":{"email":{"max":0,"window":"1d"}}}`, "at least 1"},
		{"cap window", `{"nodes":[` + entry + `],"edges":[],"frequency_cap":{"email":{"max":1,"window":"daily"}}}`, "not a duration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := Validate(mustParse(t, c.graph))
			for _, p := range ps {
				if strings.Contains(p.Message, c.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got %+v", c.want, ps)
		})
	}
}

func TestAllProblemsListed(t *testing.T) {
	g := mustParse(t, `{"nodes":[{"id":"in","type":"event_entry","config":{}},{"id":"w","type":"wait","config":{"duration":"soon"}},{"id":"x","type":"nope"}],
		"edges":[{"id":"a","source":"in","target":"w"},{"id":"b","source":"w","target":"ghost"}]}`)
	ps := Validate(g)
	if len(ps) < 4 {
		t.Fatalf("want every problem (event_type, duration, type, ghost), got %+v", ps)
	}
}

func TestTooLarge(t *testing.T) {
	g := &Graph{Nodes: make([]Node, MaxNodes+1)}
	if ps := Validate(g); len(ps) != 1 || !strings.Contains(ps[0].Message, "at most") {
		t.Fatalf("got %+v", ps)
	}
}

func TestParseStrict(t *testing.T) {
	for _, bad := range []string{`{"nodes":[],"edges":[],"extra":1}`, `{"nodes":[{"id":"a","typo":"x"}]}`, `{"nodes":[]} {}`, `[]`, `{"nodes":"x"}`, ``} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func TestTypesCatalog(t *testing.T) {
	want := []string{"event_entry", "segment_entry", "webhook_entry", "scheduled_entry", "send_email", "send_sms", "send_push",
		"send_whatsapp", "call_webhook", "wait", "wait_until", "wait_for_event", "condition", "ab_split", "frequency_cap",
		"update_profile", "add_tag", "remove_tag", "custom_code", "goal_reached", "journey_exit"}
	got := Types()
	if len(got) != len(want) {
		t.Fatalf("%d types, want %d", len(got), len(want))
	}
	if _, err := compiledSchemas(); err != nil {
		t.Fatal(err)
	}
	for i, nt := range got {
		if nt.Type != want[i] || nt.Group == "" || nt.Description == "" {
			t.Errorf("type %d = %+v", i, nt)
		}
		var s struct {
			Properties map[string]map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(nt.ConfigSchema, &s); err != nil {
			t.Fatalf("%s schema: %v", nt.Type, err)
		}
		for name, p := range s.Properties {
			if d, _ := p["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", nt.Type, name)
			}
		}
	}
}

func TestParseDuration(t *testing.T) {
	for s, ok := range map[string]bool{"30s": true, "15m": true, "12h": true, "3d": true, "500ms": true, "3w": false, "-1d": false, "1.5h": false, "": false, "9999999999d": false} {
		if _, err := ParseDuration(s); (err == nil) != ok {
			t.Errorf("ParseDuration(%q) err = %v", s, err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	g := &Graph{Nodes: []Node{{ID: "in", Type: "event_entry", Config: json.RawMessage(`{"event_type":"go"}`)}}}
	prev := "in"
	for i := 0; i < 199; i++ {
		id := fmt.Sprintf("n%d", i)
		typ, cfg := "wait", `{"duration":"1d"}`
		if i%2 == 0 {
			typ, cfg = "send_email", `{"template_id":"t"}`
		}
		g.Nodes = append(g.Nodes, Node{ID: id, Type: typ, Config: json.RawMessage(cfg)})
		g.Edges = append(g.Edges, Edge{ID: "e" + id, Source: prev, Target: id})
		prev = id
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := Validate(g); ps != nil {
			b.Fatal(ps)
		}
	}
}

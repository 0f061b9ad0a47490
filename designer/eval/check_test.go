package eval

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

func loadGraph(t *testing.T) *graph.Graph {
	t.Helper()
	data, err := os.ReadFile("testdata/graph.json")
	if err != nil {
		t.Fatal(err)
	}
	var g graph.Graph
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestCheckFields gives each expectation field one expectation the graph
// in testdata/graph.json meets and one it misses.
func TestCheckFields(t *testing.T) {
	res := &designer.Result{Graph: loadGraph(t),
		FollowUpQuestions: []string{"What should start this journey? I used order_completed.", "Which template should the SMS use?"},
		Unrecognized:      []string{"sync them to Salesforce"}}
	tests := []struct {
		field      string
		pass, fail string
	}{
		{"entry", `{"type": "event_entry", "event_type": "order_completed"}`, `{"event_type": "signed_up"}`},
		{"entry", `{"type": "event_entry"}`, `{"type": "segment_entry", "segment": "vip"}`},
		{"ask_entry", `true`, ``},
		{"sends", `{"send_email": 1, "send_sms": 1, "send_push": 2}`, `{"send_email": 1, "send_sms": 1}`},
		{"waits", `["3d"]`, `[]`},
		{"waits", `["72h"]`, `["3d", "1d"]`},
		{"wait_for_event", `[{"event_type": "purchase"}, {"event_type": "email_opened", "timeout": "48h"}]`,
			`[{"event_type": "email_opened", "timeout": "3d"}, {"event_type": "purchase"}]`},
		{"wait_until", `[{"until": "customer.renewal_date", "offset": "-48h"}]`, `[{"until": "renewal_date", "offset": "2d"}]`},
		{"conditions", `[{"attribute": "total", "value": 1000}, {"attribute": "plan", "value": "pro"}]`, `[{"attribute": "total", "value": 1}]`},
		{"conditions", `[{"attribute": "customer.plan"}]`, `[{"attribute": "lan"}]`},
		{"edges", `["wait_for_event[timed_out]->send_sms", "condition[true]->ab_split", "send_email->wait"]`, `["condition[false]->send_sms"]`},
		{"exit", `{"event_type": "unsubscribed", "expression_mentions": ["churned"]}`, `{"event_type": "subscription_cancelled"}`},
		{"ab", `["equal:3"]`, `[[50, 50]]`},
		{"ab", `[[34, 33, 33]]`, `["equal:2"]`},
		{"cap", `{"channel": "push", "max": 3, "window": "1w"}`, `{"channel": "push", "max": 2}`},
		{"goal", `{"goal_name": "second", "event_type": "purchase"}`, `{"goal_name": "second", "event_type": "link_clicked"}`},
		{"goal", `{"goal_name": "purchase"}`, `{"goal_name": "signup"}`},
		{"must_ask", `["order_completed"]`, `["delay"]`},
		{"must_flag", `["Salesforce"]`, `["HubSpot"]`},
	}
	for _, tt := range tests {
		for _, want := range []bool{true, false} {
			raw := tt.pass
			if !want {
				raw = tt.fail
			}
			if raw == "" {
				continue
			}
			c, _, err := decodeCase([]byte(`{"name": "t", "expect": {"` + tt.field + `": ` + raw + `}}`))
			if err != nil {
				t.Fatalf("%s %s: %v", tt.field, raw, err)
			}
			misses := Check(c, res, nil)
			if got := len(misses) == 0; got != want {
				t.Errorf("%s %s: pass=%v, want %v (misses %v)", tt.field, raw, got, want, misses)
			}
			for _, m := range misses {
				if m.Field != tt.field {
					t.Errorf("%s %s: miss on field %s", tt.field, raw, m.Field)
				}
			}
		}
	}
}

// TestCheckAskEntryFails: a design that asks nothing about its entry fails
// ask_entry.
func TestCheckAskEntryFails(t *testing.T) {
	res := &designer.Result{Graph: loadGraph(t), FollowUpQuestions: []string{"Which template should the SMS use?"}}
	c := Case{Expect: Expect{AskEntry: true}}
	if misses := Check(c, res, nil); len(misses) != 1 || misses[0].Feature != "entry" {
		t.Errorf("misses %v", misses)
	}
}

func TestCheckError(t *testing.T) {
	res := &designer.Result{Graph: loadGraph(t)}
	refused := errors.New("nothing to build")
	for _, tt := range []struct {
		want bool
		res  *designer.Result
		err  error
		pass bool
	}{
		{true, nil, refused, true},
		{true, res, nil, false},
		{false, nil, refused, false},
		{false, res, nil, true},
	} {
		if got := len(Check(Case{Expect: Expect{Error: tt.want}}, tt.res, tt.err)) == 0; got != tt.pass {
			t.Errorf("error=%v, refused=%v: pass=%v, want %v", tt.want, tt.err != nil, got, tt.pass)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"72h", "3d", true}, {"1w", "7d", true}, {"2w", "336h", true}, {"90m", "1h", false}, {"-2d", "-48h", true},
		{"-2d", "2d", false}, {"3d", "3 days", false},
	} {
		if got := sameDuration(tt.a, tt.b); got != tt.same {
			t.Errorf("sameDuration(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
	if d, err := ParseDuration("30m"); err != nil || d != 30*time.Minute {
		t.Errorf("30m: %v %v", d, err)
	}
}

func TestSplitJSON(t *testing.T) {
	var s []Split
	if err := json.Unmarshal([]byte(`["equal:3", [70, 30]]`), &s); err != nil || s[0].Equal != 3 || len(s[1].Weights) != 2 {
		t.Fatalf("%v %+v", err, s)
	}
	for _, bad := range []string{`["equal:1"]`, `["equal:x"]`, `[[100]]`, `["70/30"]`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	out, _ := json.Marshal([]Split{{Equal: 2}, {Weights: []int{60, 40}}})
	if string(out) != `["equal:2",[60,40]]` {
		t.Errorf("marshal: %s", out)
	}
}

func TestDecodeCaseStrictExpect(t *testing.T) {
	if _, _, err := decodeCase([]byte(`{"name": "x", "expect": {"sendz": {}}}`)); err == nil || !strings.Contains(err.Error(), "sendz") {
		t.Errorf("misspelt field: %v", err)
	}
	if _, _, err := decodeCase([]byte(`{"name": "x", "features": ["timings"]}`)); err == nil {
		t.Error("unknown feature accepted")
	}
	if _, _, err := decodeCase([]byte(`{"name": "x", "expect": {"waits": ["3 days"]}}`)); err == nil {
		t.Error("unreadable duration accepted")
	}
	_, w, err := decodeCase([]byte(`{"name": "x", "author": "me", "expect": {}}`))
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "author") {
		t.Errorf("unknown case field: %v %v", w, err)
	}
}

// TestJudgeSilent: a failed case is silently wrong unless the design asked
// something specific to it or listed something as not understood.
func TestJudgeSilent(t *testing.T) {
	g := loadGraph(t)
	c := Case{Features: []string{"entry", "channels"}, Expect: Expect{Entry: map[string]string{"event_type": "signed_up"}}}
	generic := map[string]bool{"Asked of everything?": true}
	for _, tt := range []struct {
		questions, unrecognized []string
		silent                  bool
	}{
		{nil, nil, true},
		{[]string{"Which email template should the welcome email use?"}, nil, true},
		{[]string{"Asked of everything?"}, nil, true},
		{[]string{"What should start this journey? I used order_completed."}, nil, false},
		{nil, []string{"sync to Salesforce"}, false},
	} {
		r := judge(c, &designer.Result{Graph: g, FollowUpQuestions: tt.questions, Unrecognized: tt.unrecognized}, nil, generic)
		if r.Pass || r.Silent != tt.silent {
			t.Errorf("%q %q: pass %v silent %v, want silent %v", tt.questions, tt.unrecognized, r.Pass, r.Silent, tt.silent)
		}
		if !r.Features["channels"] || r.Features["entry"] {
			t.Errorf("features %v: want entry wrong, channels right", r.Features)
		}
	}
	r := judge(c, nil, errors.New("refused"), generic)
	if r.Silent || r.Features["channels"] || r.Features["entry"] {
		t.Errorf("refusal: %+v", r)
	}
}

func TestGenericQuestions(t *testing.T) {
	var designs []*designer.Result
	for i := range 6 {
		q := []string{"Same for all?"}
		if i < 2 {
			q = append(q, "Only here?")
		}
		designs = append(designs, &designer.Result{FollowUpQuestions: q})
	}
	g := genericQuestions(designs)
	if !g["Same for all?"] || g["Only here?"] {
		t.Errorf("generic: %v", g)
	}
}

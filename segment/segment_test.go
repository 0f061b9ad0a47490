package segment_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

// roundTrips are rules in canonical text form, with their JSON form.
var roundTrips = []struct{ text, json string }{
	{`plan = "pro"`, `{"attribute":"plan","op":"eq","value":"pro"}`},
	{`plan = "pro" and (country in ["DE", "FR"] or ltv >= 1000) and performed order_completed >= 3 in 30d and not tag "churned"`,
		`{"and":[{"attribute":"plan","op":"eq","value":"pro"},{"or":[{"attribute":"country","op":"in","value":["DE","FR"]},{"attribute":"ltv","op":"gte","value":1000}]},{"performed":{"event":"order_completed","at_least":3,"within":"30d"}},{"not":{"tag":"churned"}}]}`},
	{`vip = true or vip != false`, `{"or":[{"attribute":"vip","op":"eq","value":true},{"attribute":"vip","op":"neq","value":false}]}`},
	{`age between 18 and 30.5`, `{"attribute":"age","op":"between","value":[18,30.5]}`},
	{`score < -2.5 or score <= 0 or score > 1000000 or score >= 1e+21`, `{"or":[{"attribute":"score","op":"lt","value":-2.5},{"attribute":"score","op":"lte","value":0},{"attribute":"score","op":"gt","value":1000000},{"attribute":"score","op":"gte","value":1e21}]}`},
	{`email contains "@acme.com" and name starts_with "Zo\"e"`, `{"and":[{"attribute":"email","op":"contains","value":"@acme.com"},{"attribute":"name","op":"starts_with","value":"Zo\"e"}]}`},
	{`signed_up before "2026-01-01" and signed_up after "2025-06-01T12:00:00Z"`, `{"and":[{"attribute":"signed_up","op":"before","value":"2026-01-01"},{"attribute":"signed_up","op":"after","value":"2025-06-01T12:00:00Z"}]}`},
	{`last_seen within last 30d and renewal within next 2w`, `{"and":[{"attribute":"last_seen","op":"within_last","value":"30d"},{"attribute":"renewal","op":"within_next","value":"2w"}]}`},
	{`phone exists and address.city not exists`, `{"and":[{"attribute":"phone","op":"exists"},{"attribute":"address.city","op":"not_exists"}]}`},
	{"`first name` = \"Ada\" and `tag` = \"x\"", `{"and":[{"attribute":"first name","op":"eq","value":"Ada"},{"attribute":"tag","op":"eq","value":"x"}]}`},
	{`not performed "page-viewed" in 7d`, `{"not":{"performed":{"event":"page-viewed","within":"7d"}}}`},
	{`performed order_completed where (amount > 10 and currency = "EUR")`, `{"performed":{"event":"order_completed","where":{"and":[{"attribute":"amount","op":"gt","value":10},{"attribute":"currency","op":"eq","value":"EUR"}]}}}`},
	{`performed signed_up where not source = "ads"`, `{"performed":{"event":"signed_up","where":{"not":{"attribute":"source","op":"eq","value":"ads"}}}}`},
	{`segment "seg_1" and not (tag "a" or tag "b")`, `{"and":[{"segment":"seg_1"},{"not":{"or":[{"tag":"a"},{"tag":"b"}]}}]}`},
	{`(a = 1 or b = 2) and c = 3`, `{"and":[{"or":[{"attribute":"a","op":"eq","value":1},{"attribute":"b","op":"eq","value":2}]},{"attribute":"c","op":"eq","value":3}]}`},
	{`a = 1 or (b = 2 and c = 3)`, `{"or":[{"attribute":"a","op":"eq","value":1},{"and":[{"attribute":"b","op":"eq","value":2},{"attribute":"c","op":"eq","value":3}]}]}`},
	{`(a = 1 and b = 2) and c = "ü ✓"`, `{"and":[{"and":[{"attribute":"a","op":"eq","value":1},{"attribute":"b","op":"eq","value":2}]},{"attribute":"c","op":"eq","value":"ü ✓"}]}`},
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTrips {
		r, err := segment.Parse("rule_text", tc.text)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.text, err)
		}
		got, _ := json.Marshal(r)
		if !jsonEqual(t, got, []byte(tc.json)) {
			t.Errorf("Parse(%s) =\n %s\nwant\n %s", tc.text, got, tc.json)
		}
		fromJSON, err := segment.ParseJSON("rule", []byte(tc.json))
		if err != nil {
			t.Fatalf("ParseJSON(%s): %v", tc.json, err)
		}
		if !reflect.DeepEqual(r, fromJSON) {
			t.Errorf("text and JSON give different rules for %s", tc.text)
		}
		if s := fromJSON.String(); s != tc.text {
			t.Errorf("String() =\n %s\nwant\n %s", s, tc.text)
		}
	}
}

// TestTextForms checks spellings that parse but are not canonical.
func TestTextForms(t *testing.T) {
	for text, canonical := range map[string]string{
		`tag churned`:                      `tag "churned"`,
		`performed "order_completed" >= 1`: `performed order_completed`,
		"  plan=\"pro\"\n\tand(x=1)  ":     `plan = "pro" and x = 1`,
		`segment seg_1`:                    `segment "seg_1"`,
		"`plan` = \"pro\"":                 `plan = "pro"`,
		`x in [1,2 , 3]`:                   `x in [1, 2, 3]`,
		`a = 1 or b = 2 and c = 3`:         `a = 1 or (b = 2 and c = 3)`,
	} {
		r, err := segment.Parse("rule_text", text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if got := r.String(); got != canonical {
			t.Errorf("Parse(%q).String() = %s, want %s", text, got, canonical)
		}
	}
}

func TestTextErrors(t *testing.T) {
	for text, want := range map[string]string{
		``:                                   "column 1: expected a clause",
		`plan =`:                             `column 7: expected a value`,
		`plan = "pro" and`:                   "column 17: expected a clause",
		`plan = "pro" plan = "x"`:            `column 14: expected and, or or the end`,
		`plan ~ "x"`:                         `column 6: unexpected character '~'`,
		`(plan = "x"`:                        `column 12: expected ")"`,
		`plan = "unterminated`:               `column 8: unterminated or malformed string`,
		`performed x >= 0`:                   `column 16: expected a whole number`,
		`performed x in 30`:                  `column 16: expected a window`,
		`last_seen within 30d`:               `column 18: expected last or next`,
		`x in [1, 2`:                         `column 11: expected ","`,
		`and = 1`:                            `column 1: expected a clause`,
		`x = 1e999`:                          `column 5: number 1e999 is out of range`,
		"`x = 1":                             `column 1: unterminated backquoted attribute`,
		strings.Repeat("(", 40) + "a = 1":    `nested more than 16 deep`,
		strings.Repeat("not ", 40) + "a = 1": `nested more than 16 deep`,
	} {
		_, err := segment.Parse("rule_text", text)
		if err == nil || !strings.Contains(kalcifer.ErrorMessage(err), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", text, kalcifer.ErrorMessage(err), want)
		}
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
			t.Errorf("Parse(%q) code = %q", text, kalcifer.ErrorCode(err))
		}
	}
}

// TestValidateNamesClause checks that each kind of mistake is reported
// against the path of the bad clause in the JSON form.
func TestValidateNamesClause(t *testing.T) {
	for _, tc := range []struct{ rule, field, msg string }{
		{`{"and":[{"tag":"a"},{"tag":"b"},{"attribute":"ltv","op":"gte","value":"high"}]}`, "rule.and[2].value", "gte takes a number, not a string"},
		{`{"or":[]}`, "rule.or", "or needs at least one clause"},
		{`{"not":{"attribute":"x","op":"eq"}}`, "rule.not.value", "eq takes a string, not no value"},
		{`{"attribute":"x","op":"like","value":"a"}`, "rule.op", `unknown op "like"`},
		{`{"attribute":"","op":"eq","value":"a"}`, "rule.attribute", "missing"},
		{`{"attribute":"a..b","op":"eq","value":"a"}`, "rule.attribute", "empty key"},
		{`{"attribute":"a\"b","op":"eq","value":"a"}`, "rule.attribute", "quotes"},
		{`{"attribute":"x","op":"in","value":["a",1]}`, "rule.value[1]", "every value of in must be a string"},
		{`{"attribute":"x","op":"in","value":[]}`, "rule.value", "non-empty list"},
		{`{"attribute":"x","op":"in","value":[true]}`, "rule.value[0]", "every value of in must be a string"},
		{`{"attribute":"x","op":"between","value":[5,1]}`, "rule.value", "low bound 5 is above its high bound 1"},
		{`{"attribute":"x","op":"between","value":[5]}`, "rule.value", "two numbers"},
		{`{"attribute":"x","op":"before","value":"yesterday"}`, "rule.value", `"yesterday" is not a date`},
		{`{"attribute":"x","op":"within_last","value":"30 days"}`, "rule.value", "not a duration"},
		{`{"attribute":"x","op":"within_last","value":"0d"}`, "rule.value", "longer than 0"},
		{`{"attribute":"x","op":"within_next","value":"3651d"}`, "rule.value", "at most 3650d"},
		{`{"attribute":"x","op":"exists","value":1}`, "rule.value", "takes no value"},
		{`{"attribute":"x","op":"contains","value":1}`, "rule.value", "contains takes a string"},
		{`{"attribute":"x","op":"lt","value":true}`, "rule.value", "lt takes a number, not a boolean"},
		{`{"tag":"a","segment":"b"}`, "rule", "exactly one of"},
		{`{}`, "rule", "exactly one of"},
		{`{"tag":" "}`, "rule.tag", "blank"},
		{`{"performed":{"event":""}}`, "rule.performed.event", "blank"},
		{`{"performed":{"event":"x","at_least":-1}}`, "rule.performed.at_least", "at least 1"},
		{`{"performed":{"event":"x","within":"forever"}}`, "rule.performed.within", "not a duration"},
		{`{"performed":{"event":"x","where":{"tag":"a"}}}`, "rule.performed.where.tag", "tags belong outside"},
		{`{"performed":{"event":"x","where":{"and":[{"performed":{"event":"y"}}]}}}`, "rule.performed.where.and[0].performed", "cannot be nested"},
		{`{"performed":{"event":"x","where":{"segment":"s"}}}`, "rule.performed.where.segment", "segments belong outside"},
	} {
		_, err := segment.ParseJSON("rule", []byte(tc.rule))
		e, ok := err.(*kalcifer.Error)
		if !ok || e.Code != kalcifer.EUNPROCESSABLE || len(e.Details) == 0 {
			t.Errorf("ParseJSON(%s) = %v, want a 422 with details", tc.rule, err)
			continue
		}
		if e.Details[0].Field != tc.field || !strings.Contains(e.Details[0].Message, tc.msg) {
			t.Errorf("ParseJSON(%s) = %s: %s, want %s: …%s…", tc.rule, e.Details[0].Field, e.Details[0].Message, tc.field, tc.msg)
		}
		if !strings.Contains(e.Message, tc.field+": ") {
			t.Errorf("message %q does not name %s", e.Message, tc.field)
		}
	}
}

func TestValidateLimits(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= segment.MaxClauses; i++ {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(`tag "t"`)
	}
	_, err := segment.Parse("rule_text", b.String())
	if !strings.Contains(kalcifer.ErrorMessage(err), "at most 100 are allowed") {
		t.Errorf("too many clauses: %v", kalcifer.ErrorMessage(err))
	}
	if _, err := segment.ParseJSON("rule", []byte(`{"tag":"a","extra":1}`)); kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE ||
		!strings.Contains(kalcifer.ErrorMessage(err), `unknown field "extra"`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestReferences(t *testing.T) {
	r, err := segment.Parse("rule_text", `segment "a" or (segment "b" and not segment "a")`)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.References(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("References() = %v", got)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// FuzzParse checks that the text parser never panics and that whatever it
// accepts prints as text that parses back to the same rule.
func FuzzParse(f *testing.F) {
	for _, tc := range roundTrips {
		f.Add(tc.text)
	}
	f.Add("`a` = \"\\u00e9\" or x in [] or performed \"\" >= 99999999999")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := segment.Parse("rule_text", text)
		if err != nil {
			if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
				t.Fatalf("Parse(%q) error %v is not a 422", text, err)
			}
			return
		}
		printed := r.String()
		again, err := segment.Parse("rule_text", printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed as %q, which does not parse: %v", text, printed, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("Parse(%q) printed as %q, which parses to another rule", text, printed)
		}
	})
}

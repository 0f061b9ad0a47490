package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/segment"
)

type segmentCountBody struct {
	SegmentID string         `json:"segment_id"`
	Count     int64          `json:"count"`
	Rule      map[string]any `json:"rule"`
	RuleText  string         `json:"rule_text"`
}

func TestSegments(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		for id, body := range map[string]map[string]any{
			"ada":   {"attributes": map[string]any{"plan": "pro", "country": "DE", "ltv": 1500}, "add_tags": []string{"vip"}},
			"bob":   {"attributes": map[string]any{"plan": "pro", "country": "FR", "ltv": 20}, "add_tags": []string{"churned"}},
			"chloé": {"attributes": map[string]any{"plan": "free", "country": "US", "ltv": 9000}},
		} {
			tb.do("PATCH", "/api/v1/customers/"+url.PathEscape(id)+"/profile", tb.editor, body).want(t, http.StatusOK)
		}
		for range 3 {
			tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": "ada", "event_type": "order_completed",
				"data": map[string]any{"amount": 30}}).want(t, http.StatusAccepted)
		}

		// The text form comes back in both forms.
		var pro segment.Segment
		res := tb.do("POST", "/api/v1/segments", tb.editor, map[string]any{"name": "Pro", "description": "paying",
			"rule_text": `plan="pro"  and not tag churned`}).want(t, http.StatusCreated)
		res.into(t, &pro)
		if pro.ID == "" || pro.RuleText != `plan = "pro" and not tag "churned"` || len(pro.Rule.And) != 2 ||
			res.header.Get("Location") != "/api/v1/segments/"+pro.ID {
			t.Fatalf("created %+v", pro)
		}
		var count segmentCountBody
		tb.do("GET", "/api/v1/segments/"+pro.ID+"/count", tb.viewer, nil).want(t, http.StatusOK).into(t, &count)
		if count.Count != 1 || count.SegmentID != pro.ID {
			t.Fatalf("count = %+v", count)
		}

		// The JSON form, referring to the first segment.
		var buyers segment.Segment
		tb.do("POST", "/api/v1/segments", tb.editor, map[string]any{"name": "Buyers", "rule": map[string]any{"or": []any{
			map[string]any{"segment": pro.ID},
			map[string]any{"performed": map[string]any{"event": "order_completed", "at_least": 3, "within": "30d"}},
			map[string]any{"attribute": "ltv", "op": "gte", "value": 5000},
		}}}).want(t, http.StatusCreated).into(t, &buyers)
		if buyers.RuleText != `segment "`+pro.ID+`" or performed order_completed >= 3 in 30d or ltv >= 5000` {
			t.Fatalf("rule_text = %s", buyers.RuleText)
		}
		var preview struct{ Data []kalcifer.Customer }
		tb.do("GET", "/api/v1/segments/"+buyers.ID+"/preview", tb.viewer, nil).want(t, http.StatusOK).into(t, &preview)
		if len(preview.Data) != 2 || preview.Data[0].ID != "ada" || preview.Data[1].ID != "chloé" || preview.Data[0].Attributes["plan"] != "pro" {
			t.Fatalf("preview = %+v", preview)
		}
		tb.do("GET", "/api/v1/segments/"+buyers.ID+"/preview?limit=1", tb.viewer, nil).want(t, http.StatusOK).into(t, &preview)
		if len(preview.Data) != 1 {
			t.Fatalf("preview of 1 = %+v", preview)
		}
		tb.do("GET", "/api/v1/segments/"+buyers.ID+"/preview?limit=101", tb.viewer, nil).wantError(t, http.StatusBadRequest, "invalid")

		// Estimates count unsaved rules and translate between the forms.
		var est segmentCountBody
		tb.do("POST", "/api/v1/segments/estimate", tb.viewer, map[string]any{"rule_text": `country in ["DE", "FR"]`}).
			want(t, http.StatusOK).into(t, &est)
		if est.Count != 2 || est.Rule["op"] != "in" || est.RuleText != `country in ["DE", "FR"]` {
			t.Fatalf("estimate = %+v", est)
		}
		tb.do("POST", "/api/v1/segments/estimate", tb.viewer, map[string]any{"rule": map[string]any{"not": map[string]any{"tag": "vip"}}}).
			want(t, http.StatusOK).into(t, &est)
		if est.Count != 2 || est.RuleText != `not tag "vip"` {
			t.Fatalf("estimate = %+v", est)
		}

		// Invalid rules are 422s naming the clause or the column.
		for _, tc := range []struct {
			body         map[string]any
			field, where string
		}{
			{map[string]any{"rule": map[string]any{"and": []any{map[string]any{"tag": "a"}, map[string]any{"tag": "b"},
				map[string]any{"attribute": "ltv", "op": "gte", "value": "lots"}}}}, "rule.and[2].value", "rule.and[2].value: gte takes a number"},
			{map[string]any{"rule_text": `tag "a" and tag "b" and ltv >= "lots"`}, "rule.and[2].value", "rule.and[2].value: gte takes a number"},
			{map[string]any{"rule_text": `plan = `}, "rule_text", "at column 8"},
			{map[string]any{"rule_text": `segment "seg_nope"`}, "rule.segment", `segment "seg_nope" not found`},
			{map[string]any{"rule": map[string]any{"tag": "a", "colour": 1}}, "rule", `unknown field "colour"`},
			{map[string]any{"rule": map[string]any{"tag": "a"}, "rule_text": `tag "a"`}, "rule_text", "not both"},
			{map[string]any{}, "rule", "needs a rule"},
		} {
			tc.body["name"] = "bad"
			e := tb.do("POST", "/api/v1/segments", tb.editor, tc.body).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
			if len(e.Details) == 0 || e.Details[0].Field != tc.field || !strings.Contains(e.Message, tc.where) {
				t.Errorf("%v: error %q %+v, want %s and …%s…", tc.body, e.Message, e.Details, tc.field, tc.where)
			}
			if _, ok := tc.body["rule_text"]; ok && len(tc.body) == 2 {
				tb.do("POST", "/api/v1/segments/estimate", tb.viewer, map[string]any{"rule_text": tc.body["rule_text"]}).
					wantError(t, http.StatusUnprocessableEntity, "unprocessable")
			}
		}
		tb.do("POST", "/api/v1/segments", tb.editor, map[string]any{"name": "Pro", "rule_text": `tag "x"`}).wantError(t, http.StatusConflict, "conflict")

		// Changes: the fields given; a cycle is refused.
		var up segment.Segment
		tb.do("PATCH", "/api/v1/segments/"+pro.ID, tb.editor, map[string]any{"rule_text": `plan = "pro"`}).
			want(t, http.StatusOK).into(t, &up)
		if up.Name != "Pro" || up.Description != "paying" || up.RuleText != `plan = "pro"` {
			t.Fatalf("updated = %+v", up)
		}
		tb.do("GET", "/api/v1/segments/"+buyers.ID+"/count", tb.viewer, nil).want(t, http.StatusOK).into(t, &count)
		if count.Count != 3 {
			t.Fatalf("count after the referred segment changed = %+v", count)
		}
		e := tb.do("PATCH", "/api/v1/segments/"+pro.ID, tb.editor, map[string]any{"rule_text": `segment "` + buyers.ID + `"`}).
			wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		if len(e.Details) == 0 || e.Details[0].Field != "rule.segment" {
			t.Fatalf("cycle refusal %+v", e)
		}

		var list struct{ Data []segment.Segment }
		tb.do("GET", "/api/v1/segments", tb.viewer, nil).want(t, http.StatusOK).into(t, &list)
		if len(list.Data) != 2 || list.Data[0].ID != buyers.ID {
			t.Fatalf("list = %+v", list)
		}

		// Viewers read only; other tenants see nothing.
		tb.do("POST", "/api/v1/segments", tb.viewer, map[string]any{"name": "x", "rule_text": `tag "x"`}).wantError(t, http.StatusForbidden, "forbidden")
		tb.do("GET", "/api/v1/segments/"+pro.ID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
		tb.do("GET", "/api/v1/segments/"+pro.ID+"/count", tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
		tb.do("POST", "/api/v1/segments/estimate", tb.otherAdmin, map[string]any{"rule_text": `segment "` + pro.ID + `"`}).
			wantError(t, http.StatusUnprocessableEntity, "unprocessable")

		// A segment in use cannot be deleted.
		tb.do("DELETE", "/api/v1/segments/"+pro.ID, tb.editor, nil).wantError(t, http.StatusConflict, "conflict")
		tb.do("DELETE", "/api/v1/segments/"+buyers.ID, tb.editor, nil).want(t, http.StatusNoContent)
		tb.do("DELETE", "/api/v1/segments/"+pro.ID, tb.editor, nil).want(t, http.StatusNoContent)
		tb.do("GET", "/api/v1/segments/"+pro.ID, tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	})
}

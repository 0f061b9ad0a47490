package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestEventTypes(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		for _, e := range []struct{ customer, typ string }{
			{"ada", "order_completed"}, {"bob", "order_completed"}, {"ada", "page_viewed"},
		} {
			tb.do("POST", "/api/v1/events", tb.editor, map[string]any{"customer_id": e.customer, "event_type": e.typ}).
				want(t, http.StatusAccepted)
		}
		var got struct {
			Data []struct {
				Type  string
				Count int64
			}
		}
		tb.do("GET", "/api/v1/event-types", tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
		counts := map[string]int64{}
		for _, et := range got.Data {
			counts[et.Type] = et.Count
		}
		if len(counts) != 2 || counts["order_completed"] != 2 || counts["page_viewed"] != 1 {
			t.Fatalf("event types = %+v", got.Data)
		}
		// Another tenant's events are not listed.
		var other struct{ Data []any }
		tb.do("GET", "/api/v1/event-types", tb.otherAdmin, nil).want(t, http.StatusOK).into(t, &other)
		if len(other.Data) != 0 {
			t.Fatalf("another tenant sees %v", other.Data)
		}
	})
}

func TestCheckExpression(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	for expr, wantErr := range map[string]string{
		`customer.plan == "pro"`: "",
		`customer.plan ==`:       "not a valid CEL expression",
		`customer.plan`:          "",
		`1 + 2`:                  "not true or false",
		`event.data.total > 100 && journey.version > 1`: "",
	} {
		var got struct {
			Valid bool
			Error string
		}
		tb.do("POST", "/api/v1/expressions/check", tb.viewer, map[string]any{"expression": expr}).want(t, http.StatusOK).into(t, &got)
		if got.Valid != (wantErr == "") || !strings.Contains(got.Error, wantErr) {
			t.Errorf("%s: %+v, want error %q", expr, got, wantErr)
		}
	}
	tb.do("POST", "/api/v1/expressions/check", tb.viewer, map[string]any{}).want(t, http.StatusUnprocessableEntity)
}

package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// Through the API: activating a segment entry of a segment that does not
// exist is refused; a PATCH that makes a customer match enrols them (the
// engine's loop, poked by the change); GET /journeys/{id}/enrolment shows
// the entry's progress.
func TestSegmentEntryThroughTheAPI(t *testing.T) {
	t.Parallel()
	onBothBackends(t, testSegmentEntryThroughTheAPI)
}

func testSegmentEntryThroughTheAPI(t *testing.T, tb *testBundle) {
	graphOf := func(seg string) json.RawMessage {
		return json.RawMessage(`{"nodes":[
			{"id":"entry","type":"segment_entry","position":{"x":0,"y":0},"config":{"segment_id":"` + seg + `","enrol":"both"}},
			{"id":"tag","type":"add_tag","position":{"x":0,"y":100},"config":{"tag":"welcomed"}}],
			"edges":[{"id":"e1","source":"entry","target":"tag"}]}`)
	}
	tb.do("PATCH", "/api/v1/customers/early/profile", tb.editor, map[string]any{"attributes": map[string]any{"plan": "pro"}}).want(t, http.StatusOK)

	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", tb.editor, map[string]any{"name": "pro", "graph": graphOf("seg_nope")}).want(t, http.StatusCreated).into(t, &j)
	e := tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).wantError(t, http.StatusUnprocessableEntity, kalcifer.EUNPROCESSABLE)
	if len(e.Details) != 1 || e.Details[0].NodeID != "entry" || e.Details[0].Field != "segment_id" || !strings.Contains(e.Message, `segment "seg_nope" does not exist`) {
		t.Fatalf("refusal %+v", e)
	}

	var seg struct{ ID string }
	tb.do("POST", "/api/v1/segments", tb.editor, map[string]any{"name": "pro", "rule_text": `plan = "pro"`}).want(t, http.StatusCreated).into(t, &seg)
	tb.do("PUT", "/api/v1/journeys/"+j.ID, tb.editor, map[string]any{"graph": graphOf(seg.ID)}).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)

	welcomed := func(id string) bool {
		var c kalcifer.Customer
		tb.do("GET", "/api/v1/customers/"+id+"/profile", tb.viewer, nil).want(t, http.StatusOK).into(t, &c)
		return len(c.Tags) == 1 && c.Tags[0] == "welcomed"
	}
	tb.eventually("the member at activation is enrolled", func() bool { return welcomed("early") })
	tb.do("PATCH", "/api/v1/customers/late/profile", tb.editor, map[string]any{"attributes": map[string]any{"plan": "pro"}}).want(t, http.StatusOK)
	tb.eventually("the customer who starts matching is enrolled", func() bool { return welcomed("late") })

	var got struct {
		JourneyID string `json:"journey_id"`
		Entries   []struct {
			NodeID                   string `json:"node_id"`
			Kind, Pass               string
			Total, Scanned, Enrolled int
			NextRunAt                *string `json:"next_run_at"`
		}
	}
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/enrolment", tb.viewer, nil).want(t, http.StatusOK).into(t, &got)
	if got.JourneyID != j.ID || len(got.Entries) != 1 {
		t.Fatalf("enrolment %+v", got)
	}
	if en := got.Entries[0]; en.NodeID != "entry" || en.Kind != "segment" || en.Pass != "" || en.Total != 1 || en.Scanned != 1 || en.Enrolled != 1 || en.NextRunAt == nil {
		t.Fatalf("entry %+v", en)
	}
	var page kalcifer.Page[kalcifer.Instance]
	tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances", tb.viewer, nil).want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 2 {
		t.Fatalf("%d instances, want 2", len(page.Data))
	}
	tb.do("GET", "/api/v1/journeys/jrn_nope/enrolment", tb.viewer, nil).wantError(t, http.StatusNotFound, kalcifer.ENOTFOUND)
}

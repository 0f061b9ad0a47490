package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/designer/offline"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// offlineDesigner is the designer the tests' API serves: the offline
// designer for every tenant, whatever its AI settings say.
func offlineDesigner(st *store.Store) *designer.Service {
	return designer.NewService(designer.Config{Store: st, Default: offline.New(), Suggest: offline.Suggest,
		FromSettings: func(kalcifer.AISettings) (designer.Designer, error) { return offline.New(), nil }})
}

// us1 is the seed's user story US-1, word for word.
const us1 = "send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week"

type designResponse struct {
	ConversationID    string           `json:"conversation_id"`
	Graph             graph.Graph      `json:"graph"`
	Explanation       string           `json:"explanation"`
	FollowUpQuestions []string         `json:"follow_up_questions"`
	Unrecognized      []string         `json:"unrecognized"`
	Diff              *graph.Diff      `json:"diff"`
	Engine            string           `json:"engine"`
	DetectedSteps     []map[string]any `json:"detected_steps"`
}

func countTypes(g graph.Graph) map[string]int {
	out := map[string]int{}
	for _, n := range g.Nodes {
		out[n.Type]++
	}
	return out
}

// The offline designer answers the seed's example with a valid branching
// journey, then refines it by conversation; applying saves a draft.
func TestDesignConversation(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	check := schemaChecker(t)

	res := tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": us1}).want(t, http.StatusOK)
	check("DesignResponse", res)
	var d designResponse
	res.into(t, &d)
	types := countTypes(d.Graph)
	if d.Engine != "offline" || types["wait_for_event"] != 1 || types["send_email"] != 2 || types["send_sms"] != 1 || d.ConversationID == "" {
		t.Fatalf("US-1 designed as %v by %s", types, d.Engine)
	}
	if problems := graph.Validate(&d.Graph); problems != nil {
		t.Fatalf("invalid graph: %+v", problems)
	}
	if d.Explanation == "" || d.Diff != nil {
		t.Fatalf("explanation %q, diff %+v", d.Explanation, d.Diff)
	}

	// Refine: the answer carries a diff naming the changed timeout.
	res = tb.do("POST", "/api/v1/ai/conversations/"+d.ConversationID+"/message", tb.editor,
		map[string]any{"message": "make the wait 5 days instead of 3"}).want(t, http.StatusOK)
	check("DesignResponse", res)
	var r2 designResponse
	res.into(t, &r2)
	timeout := ""
	if r2.Diff != nil && len(r2.Diff.ChangedNodes) == 1 {
		for _, f := range r2.Diff.ChangedNodes[0].Fields {
			if f.Field == "config.timeout" {
				timeout = string(f.New)
			}
		}
	}
	if timeout != `"5d"` {
		t.Fatalf("refinement diff = %+v", r2.Diff)
	}
	var conv kalcifer.Conversation
	res = tb.do("GET", "/api/v1/ai/conversations/"+d.ConversationID, tb.viewer, nil).want(t, http.StatusOK)
	check("Conversation", res)
	res.into(t, &conv)
	if len(conv.Turns) != 4 || conv.Turns[2].Text != "make the wait 5 days instead of 3" {
		t.Fatalf("turns = %+v", conv.Turns)
	}

	// Apply: a new draft journey with the refined graph.
	var applied struct {
		Journey kalcifer.Journey `json:"journey"`
	}
	res = tb.do("POST", "/api/v1/ai/conversations/"+d.ConversationID+"/apply", tb.editor, map[string]any{"name": "Welcome"}).
		want(t, http.StatusCreated)
	check("ApplyResponse", res)
	res.into(t, &applied)
	if applied.Journey.Status != kalcifer.JourneyDraft || applied.Journey.Graph == nil ||
		!graph.Compare(applied.Journey.Graph, conv.Graph).Empty() {
		t.Fatalf("applied journey = %+v", applied.Journey)
	}
	tb.do("POST", "/api/v1/journeys/"+applied.Journey.ID+"/activate", tb.editor, nil).want(t, http.StatusOK)

	// A conversation about an active journey refines its current version;
	// applying saves the next draft version.
	res = tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"journey_id": applied.Journey.ID,
		"message": "remove the second email"}).want(t, http.StatusOK)
	var r3 designResponse
	res.into(t, &r3)
	if r3.Diff == nil || len(r3.Diff.RemovedNodes) != 1 || r3.Diff.RemovedNodes[0].Type != "send_email" {
		t.Fatalf("remove diff = %+v", r3.Diff)
	}
	var applied2 struct {
		Version kalcifer.Version `json:"version"`
	}
	tb.do("POST", "/api/v1/ai/conversations/"+r3.ConversationID+"/apply", tb.editor, nil).want(t, http.StatusCreated).into(t, &applied2)
	if applied2.Version.Version != 2 || applied2.Version.Status != kalcifer.VersionDraft {
		t.Fatalf("applied version = %+v", applied2.Version)
	}

	// Bad requests.
	tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": " "}).wantError(t, http.StatusBadRequest, "invalid")
	tb.do("POST", "/api/v1/ai/conversations", tb.viewer, map[string]any{"message": us1}).wantError(t, http.StatusForbidden, "forbidden")
	tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": "qwerty zxcvb"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/ai/conversations/nope/message", tb.editor, map[string]any{"message": "x"}).wantError(t, http.StatusNotFound, "not_found")
	tb.do("GET", "/api/v1/ai/conversations/"+d.ConversationID, tb.otherAdmin, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("POST", "/api/v1/ai/conversations/"+d.ConversationID+"/message", tb.editor, map[string]any{"message": "remove the ninth email"}).
		wantError(t, http.StatusUnprocessableEntity, "unprocessable")
}

// A journey made from a conversation is described by the brief that
// started it, not by the last refinement.
func TestApplyDescribesByTheBrief(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var d designResponse
	tb.do("POST", "/api/v1/ai/conversations", tb.editor, map[string]any{"message": us1}).want(t, http.StatusOK).into(t, &d)
	for _, refine := range []string{"make the wait 5 days instead of 3", "remove the second email"} {
		tb.do("POST", "/api/v1/ai/conversations/"+d.ConversationID+"/message", tb.editor, map[string]any{"message": refine}).
			want(t, http.StatusOK)
	}
	var applied struct {
		Journey kalcifer.Journey `json:"journey"`
	}
	tb.do("POST", "/api/v1/ai/conversations/"+d.ConversationID+"/apply", tb.editor, map[string]any{"name": "Welcome"}).
		want(t, http.StatusCreated).into(t, &applied)
	var j kalcifer.Journey
	tb.do("GET", "/api/v1/journeys/"+applied.Journey.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &j)
	if applied.Journey.Description != us1 || j.Description != us1 {
		t.Fatalf("description = %q (stored %q), want the brief %q", applied.Journey.Description, j.Description, us1)
	}
}

// Suggestions after a live migration count what customers did on every
// version, at the nodes the current version still has.
func TestSuggestCountsEveryVersion(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	j := tb.activeJourney("migrated", waitingGraph)
	for i := range 4 {
		tb.sendEvent(tb.editor, map[string]any{"customer_id": fmt.Sprintf("m%d", i), "event_type": "signed_up"})
	}
	tb.eventually("customers waiting on version 1", func() bool { return len(tb.instances(j.ID, "node_id=wait&version=1").Data) == 4 })
	// Version 2 waits 5 days instead of 3; everyone moves to it.
	v2 := tb.draft(j.ID, strings.Replace(waitingGraph, `"timeout":"3d"`, `"timeout":"5d"`, 1))
	if m := tb.settled(tb.publish(j.ID, v2, map[string]any{"migration_strategy": "migrate_all"}).ID); m.Progress.Migrated != 4 {
		t.Fatalf("migration = %+v", m.Migration)
	}
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "m4", "event_type": "signed_up"})
	tb.eventually("customers waiting on version 2", func() bool { return len(tb.instances(j.ID, "node_id=wait&version=2").Data) == 5 })

	var sug struct {
		Version int                       `json:"version"`
		Stats   map[string]map[string]int `json:"stats"`
	}
	tb.do("POST", "/api/v1/ai/suggest", tb.editor, map[string]any{"journey_id": j.ID}).want(t, http.StatusOK).into(t, &sug)
	for _, node := range []string{"entry", "mail", "wait"} {
		if sug.Version != 2 || sug.Stats[node]["entered"] != 5 {
			t.Fatalf("version %d stats = %v; want 5 customers entered at %s over both versions", sug.Version, sug.Stats, node)
		}
	}
	counts, err := analytics.NodeCounts(context.Background(), tb.store, "default", j.ID, v2)
	if err != nil {
		t.Fatal(err)
	}
	sends := 0
	for _, n := range counts["mail"].Sends {
		sends += n
	}
	if sends != 5 {
		t.Fatalf("mail sends over both versions = %v, want 5", counts["mail"].Sends)
	}
}

// With Accept: text/event-stream the same answer arrives as server-sent
// events ending in one result event.
func TestDesignStreams(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	body, _ := json.Marshal(map[string]any{"message": us1})
	req, _ := http.NewRequest("POST", tb.srv.URL+"/api/v1/ai/conversations", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tb.editor)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := readEvents(t, res.Body)
	last := events[len(events)-1]
	if last.name != "result" {
		t.Fatalf("events = %+v", events)
	}
	var d designResponse
	if err := json.Unmarshal([]byte(last.data), &d); err != nil || graph.Validate(&d.Graph) != nil || d.ConversationID == "" {
		t.Fatalf("result event = %s (%v)", last.data, err)
	}

	// An error is an error event.
	body, _ = json.Marshal(map[string]any{"message": "qwerty zxcvb"})
	req, _ = http.NewRequest("POST", tb.srv.URL+"/api/v1/ai/conversations", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tb.editor)
	req.Header.Set("Accept", "text/event-stream")
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	events = readEvents(t, res2.Body)
	if last := events[len(events)-1]; last.name != "error" || !strings.Contains(last.data, `"unprocessable"`) {
		t.Fatalf("events = %+v", events)
	}
}

type sseEvent struct{ name, data string }

func readEvents(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "":
			out = append(out, cur)
			cur = sseEvent{}
		}
	}
	if len(out) == 0 {
		t.Fatal("no events")
	}
	return out
}

// A campaign plan uploaded as a file becomes a journey with its detected
// steps and a conversation to refine it.
func TestUploadPlan(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	upload := func(name string, data []byte, instructions string) *response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if data != nil {
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write(data)
		}
		if instructions != "" {
			mw.WriteField("instructions", instructions)
		}
		mw.Close()
		return tb.doWith("POST", "/api/v1/ai/upload", tb.editor, buf.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}})
	}
	for _, name := range []string{"saas_onboarding.csv", "post_purchase.xlsx", "onboarding_prose.docx", "renewal_reminders.pdf"} {
		data, err := os.ReadFile("../designer/testdata/documents/" + name)
		if err != nil {
			t.Fatal(err)
		}
		res := upload(name, data, "").want(t, http.StatusOK)
		schemaChecker(t)("DesignResponse", res)
		var d designResponse
		res.into(t, &d)
		if len(d.DetectedSteps) == 0 || graph.Validate(&d.Graph) != nil || d.ConversationID == "" {
			t.Fatalf("%s: %d steps, graph problems %v", name, len(d.DetectedSteps), graph.Validate(&d.Graph))
		}
	}
	upload("plan.exe", []byte("MZ\x90\x00 not a plan"), "").wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	upload("plan.csv", nil, "").wantError(t, http.StatusBadRequest, "invalid")
	// Instructions no store can keep are refused by name (PostgreSQL used to answer 500).
	csv := []byte("Step,Channel\n1,Email welcome\n")
	upload("plan.csv", csv, "make it\x00 short").wantError(t, http.StatusBadRequest, "invalid")
	upload("plan.csv", csv, "make it \xff short").wantError(t, http.StatusBadRequest, "invalid")
	upload("empty.csv", []byte("   "), "").wantError(t, http.StatusUnprocessableEntity, "unprocessable")
	tb.do("POST", "/api/v1/ai/upload", tb.editor, map[string]any{"file": "x"}).wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	big := bytes.Repeat([]byte("a,b\n"), 3<<20)
	upload("big.csv", big, "").wantError(t, http.StatusRequestEntityTooLarge, "too_large")
}

// Explain, node mapping and suggestions read journeys the tenant has.
func TestExplainMappingAndSuggest(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	check := schemaChecker(t)
	j := tb.activeJourney("explained", waitingGraph)
	var ex struct{ Explanation string }
	res := tb.do("POST", "/api/v1/ai/explain", tb.viewer, map[string]any{"journey_id": j.ID}).want(t, http.StatusOK)
	check("Explanation", res)
	res.into(t, &ex)
	if !strings.Contains(ex.Explanation, "3 days") || !strings.Contains(strings.ToLower(ex.Explanation), "email") {
		t.Fatalf("explanation = %q", ex.Explanation)
	}
	tb.do("POST", "/api/v1/ai/explain", tb.viewer, map[string]any{"graph": json.RawMessage(validGraph)}).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/ai/explain", tb.viewer, map[string]any{}).wantError(t, http.StatusBadRequest, "invalid")
	tb.do("POST", "/api/v1/ai/explain", tb.otherAdmin, map[string]any{"journey_id": j.ID}).wantError(t, http.StatusNotFound, "not_found")

	renamed := strings.ReplaceAll(waitingGraph, `"mail"`, `"welcome_mail"`)
	var m graph.Mapping
	res = tb.do("POST", "/api/v1/ai/node-mapping", tb.viewer, map[string]any{"old_version": json.RawMessage(waitingGraph),
		"new_version": json.RawMessage(renamed)}).want(t, http.StatusOK)
	check("NodeMapping", res)
	res.into(t, &m)
	if m.Nodes["mail"] != "welcome_mail" || m.Confidence["mail"] >= 1 || m.Nodes["wait"] != "wait" {
		t.Fatalf("mapping = %+v", m)
	}
	tb.do("POST", "/api/v1/ai/node-mapping", tb.viewer, map[string]any{"journey_id": j.ID, "old_version": 1, "new_version": 1}).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/ai/node-mapping", tb.viewer, map[string]any{"old_version": 1, "new_version": 2}).wantError(t, http.StatusBadRequest, "invalid")

	// 30 customers, none opens: the designer suggests a reminder.
	for i := range 30 {
		tb.sendEvent(tb.editor, map[string]any{"customer_id": fmt.Sprintf("s%02d", i), "event_type": "signed_up"})
	}
	tb.eventually("customers waiting", func() bool { return len(tb.instances(j.ID, "node_id=wait&limit=100").Data) == 30 })
	var sug struct {
		Stats       map[string]map[string]int `json:"stats"`
		Suggestions []map[string]any          `json:"suggestions"`
	}
	res = tb.do("POST", "/api/v1/ai/suggest", tb.editor, map[string]any{"journey_id": j.ID}).want(t, http.StatusOK)
	check("Suggestions", res)
	res.into(t, &sug)
	// The log provider's sends are "logged", not "sent": the email counts
	// by the customers who reached it.
	if sug.Stats["mail"]["entered"] != 30 || sug.Stats["wait"]["entered"] != 30 || sug.Stats["entry"]["entered"] != 30 {
		t.Fatalf("stats = %v", sug.Stats)
	}
	draft := tb.createJourney("draft", true)
	tb.do("POST", "/api/v1/ai/suggest", tb.editor, map[string]any{"journey_id": draft.ID}).wantError(t, http.StatusConflict, "conflict")
}

// AI settings are the admin's; the API key is write-only.
func TestAISettings(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	var a kalcifer.AISettings
	tb.do("GET", "/api/v1/ai/settings", tb.admin, nil).want(t, http.StatusOK).into(t, &a)
	if a.Provider != "" {
		t.Fatalf("default settings = %+v", a)
	}
	res := tb.do("PUT", "/api/v1/ai/settings", tb.admin, map[string]any{"provider": "openai", "base_url": "http://127.0.0.1:1/v1",
		"model": "m", "api_key": "sk-secret"}).want(t, http.StatusOK)
	if strings.Contains(string(res.body), "sk-secret") {
		t.Fatal("the API key was shown")
	}
	res.into(t, &a)
	if !a.HasAPIKey || a.Provider != "openai" {
		t.Fatalf("stored = %+v", a)
	}
	if res = tb.do("GET", "/api/v1/ai/settings", tb.admin, nil).want(t, http.StatusOK); strings.Contains(string(res.body), "sk-secret") {
		t.Fatalf("GET shows the API key: %s", res.body)
	}
	// Changing the model keeps the key.
	tb.do("PUT", "/api/v1/ai/settings", tb.admin, map[string]any{"provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m2"}).
		want(t, http.StatusOK).into(t, &a)
	if !a.HasAPIKey || a.Model != "m2" {
		t.Fatalf("stored = %+v", a)
	}
	// Pointing the settings at another host drops the key: it never
	// follows them there.
	tb.do("PUT", "/api/v1/ai/settings", tb.admin, map[string]any{"provider": "openai", "base_url": "http://127.0.0.2:1/v1", "model": "m2"}).
		want(t, http.StatusOK).into(t, &a)
	if a.HasAPIKey {
		t.Fatalf("the key followed the settings to another host: %+v", a)
	}
	tb.do("PUT", "/api/v1/ai/settings", tb.admin, map[string]any{"provider": "skynet"}).wantError(t, http.StatusBadRequest, "invalid")
	tb.do("PUT", "/api/v1/ai/settings", tb.editor, map[string]any{"provider": "offline"}).wantError(t, http.StatusForbidden, "forbidden")
	var audit kalcifer.Page[kalcifer.AuditEntry]
	res = tb.do("GET", "/api/v1/audit", tb.admin, nil).want(t, http.StatusOK)
	res.into(t, &audit)
	if strings.Contains(string(res.body), "sk-secret") {
		t.Fatal("the API key is in the audit log")
	}
}

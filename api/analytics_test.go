package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
)

// analyticsGraph branches on the plan: pro customers get an email through
// a provider that does not exist (the send fails; the node has no failed
// branch, so the path goes on), then wait for "paid" and reach the goal;
// free customers get an SMS (logged) and leave.
const analyticsGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"plan","type":"condition","position":{"x":0,"y":100},"config":{"expression":"customer.plan == 'pro'"}},
	{"id":"mail","type":"send_email","position":{"x":0,"y":200},"config":{"provider":"nowhere","subject":"Hi","text":"Hi","to":"a@example.com"}},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":300},"config":{"event_type":"paid","timeout":"3d"}},
	{"id":"goal","type":"goal_reached","position":{"x":0,"y":400},"config":{"goal_name":"paid","exit_after_goal":true}},
	{"id":"late","type":"journey_exit","position":{"x":200,"y":400}},
	{"id":"sms","type":"send_sms","position":{"x":300,"y":200},"config":{"body":"Hi","to":"+15551234567"}},
	{"id":"free","type":"journey_exit","position":{"x":300,"y":300}}],
	"edges":[{"id":"e1","source":"entry","target":"plan"},
	{"id":"e2","source":"plan","branch":"true","target":"mail"},
	{"id":"e3","source":"plan","branch":"false","target":"sms"},
	{"id":"e4","source":"mail","target":"wait"},
	{"id":"e5","source":"wait","branch":"event_received","target":"goal"},
	{"id":"e6","source":"wait","branch":"timed_out","target":"late"},
	{"id":"e7","source":"sms","target":"free"}]}`

// The analytics figures equal what the step history says, after a run
// that branches, waits, fails a send, reaches a goal and moves a waiting
// customer to a new version; time ranges, buckets and bad parameters.
func TestAnalyticsMatchHistory(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		check := schemaChecker(t)
		j := tb.activeJourney("analytics", analyticsGraph)
		for id, plan := range map[string]string{"c1": "pro", "c2": "pro", "c3": "free", "c4": "pro"} {
			tb.do("POST", "/api/v1/customers", tb.editor, map[string]any{"id": id, "attributes": map[string]any{"plan": plan}}).
				want(t, http.StatusCreated)
		}
		for _, c := range []string{"c1", "c2", "c3"} {
			tb.sendEvent(tb.editor, map[string]any{"customer_id": c, "event_type": "signed_up"})
		}
		tb.eventually("c1 and c2 wait, c3 left", func() bool {
			return len(tb.instances(j.ID, "node_id=wait").Data) == 2 && len(tb.instances(j.ID, "status=exited").Data) == 1
		})
		tb.sendEvent(tb.editor, map[string]any{"customer_id": "c1", "event_type": "paid"})
		tb.eventually("c1 reaches the goal", func() bool { return len(tb.instances(j.ID, "status=exited").Data) == 2 })

		// Version 2 (the same graph) takes c2 where it waits; c4 enters it.
		v2 := tb.draft(j.ID, analyticsGraph)
		tb.settled(tb.publish(j.ID, v2, map[string]any{"migration_strategy": "migrate_all"}).ID)
		tb.sendEvent(tb.editor, map[string]any{"customer_id": "c4", "event_type": "signed_up"})
		tb.eventually("c4 waits on version 2", func() bool { return len(tb.instances(j.ID, "node_id=wait&version=2").Data) == 2 })
		tb.sendEvent(tb.editor, map[string]any{"customer_id": "c2", "event_type": "paid"})
		tb.eventually("c2 reaches the goal on version 2", func() bool { return len(tb.instances(j.ID, "status=exited").Data) == 3 })

		// What the history says, per version and node.
		want := historyCounts(tb, j.ID)

		var ja analytics.JourneyReport
		res := tb.do("GET", "/api/v1/journeys/"+j.ID+"/analytics", tb.viewer, nil).want(t, http.StatusOK)
		check("JourneyAnalytics", res)
		res.into(t, &ja)
		if ja.Entered != 4 || ja.Active != 1 || ja.Exited != 3 || ja.Converted != 2 || ja.Completed != 0 || ja.Failed != 0 ||
			ja.ConversionRate != 0.5 || ja.MedianTimeToGoal == nil {
			t.Fatalf("journey figures: %+v", ja.JourneyFigures)
		}
		if len(ja.Versions) != 2 || ja.Versions[0].Entered != 3 || ja.Versions[0].Converted != 1 || ja.Versions[0].Exited != 2 ||
			ja.Versions[1].Entered != 1 || ja.Versions[1].Converted != 1 || ja.Versions[1].Exited != 1 || ja.Versions[1].Active != 1 {
			t.Fatalf("journey figures by version: %+v", ja.Versions)
		}

		var g struct {
			Nodes []struct{ ID string }
		}
		tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK).into(t, &struct {
			Graph *struct{ Nodes []struct{ ID string } }
		}{Graph: &g})
		for _, n := range g.Nodes {
			var nm analytics.NodeReport
			res := tb.do("GET", "/api/v1/journeys/"+j.ID+"/nodes/"+n.ID+"/metrics", tb.viewer, nil).want(t, http.StatusOK)
			check("NodeMetrics", res)
			res.into(t, &nm)
			for _, v := range []int{1, 2} {
				got := nodeCount{}
				for _, fv := range nm.Versions {
					if fv.Version == v {
						got = nodeCount{entered: fv.Entered, results: fv.Branches}
					}
				}
				w := want[fmt.Sprintf("%d/%s", v, n.ID)]
				if got.entered != w.entered || !sameResults(got.results, w.results) {
					t.Errorf("node %s v%d: counters say entered %d %v, history says entered %d %v", n.ID, v, got.entered, got.results,
						w.entered, w.results)
				}
			}
		}
		var wait analytics.NodeReport
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/nodes/wait/metrics", tb.viewer, nil).want(t, http.StatusOK).into(t, &wait)
		if wait.WaitingNow != 1 || wait.Entered != 3 || wait.Completed != 2 || wait.Branches["event_received"] != 2 ||
			wait.AvgSeconds == nil || wait.P95Seconds == nil || *wait.AvgSeconds <= 0 {
			t.Fatalf("wait node: %+v", wait)
		}
		var mail analytics.NodeReport
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/nodes/mail/metrics?version=1", tb.viewer, nil).want(t, http.StatusOK).into(t, &mail)
		if mail.Entered != 2 || mail.Completed != 2 || len(mail.Versions) != 1 || mail.Versions[0].Version != 1 {
			t.Fatalf("mail node on version 1: %+v", mail)
		}

		// The funnel lists version 1's nodes in graph order.
		var fu analytics.FunnelReport
		res = tb.do("GET", "/api/v1/journeys/"+j.ID+"/funnel?version=1", tb.viewer, nil).want(t, http.StatusOK)
		check("Funnel", res)
		res.into(t, &fu)
		var order []string
		for _, n := range fu.Nodes {
			order = append(order, n.NodeID)
		}
		if strings.Join(order, ",") != "entry,plan,mail,sms,wait,free,goal,late" {
			t.Fatalf("funnel order %v", order)
		}
		if w := fu.Nodes[4]; w.Entered != 2 || w.Completed != 1 || w.DropOff != 1 || w.DropOffRate != 0.5 {
			t.Fatalf("funnel wait on version 1: %+v", w)
		}

		// Channels: the failed emails (no provider was found) and the
		// logged SMS.
		var ch analytics.ChannelsReport
		res = tb.do("GET", "/api/v1/analytics/channels?journey_id="+j.ID, tb.viewer, nil).want(t, http.StatusOK)
		check("ChannelAnalytics", res)
		res.into(t, &ch)
		if len(ch.Channels) != 2 || ch.Channels[0].Channel != "email" || ch.Channels[0].Failed != 3 ||
			ch.Channels[1].Channel != "sms" || ch.Channels[1].Provider != "log" || ch.Channels[1].Logged != 1 || len(ch.Versions) != 2 {
			t.Fatalf("channels: %+v", ch)
		}

		// Time ranges select whole hours; buckets make a series.
		hour := time.Now().UTC().Truncate(time.Hour)
		figures := func(query string) analytics.JourneyReport {
			var r analytics.JourneyReport
			tb.do("GET", "/api/v1/journeys/"+j.ID+"/analytics?"+query, tb.viewer, nil).want(t, http.StatusOK).into(t, &r)
			return r
		}
		ts := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339)) }
		if r := figures("from=" + ts(hour.Add(-time.Hour)) + "&to=" + ts(hour.Add(time.Hour))); r.Entered != 4 || r.Converted != 2 {
			t.Fatalf("this hour: %+v", r.JourneyFigures)
		}
		if r := figures("from=" + ts(hour.Add(2*time.Hour))); r.Entered != 0 || r.Converted != 0 || r.Active != 1 {
			t.Fatalf("a later hour: %+v", r.JourneyFigures)
		}
		if r := figures("to=" + ts(hour.Add(-time.Hour))); r.Entered != 0 {
			t.Fatalf("an earlier hour: %+v", r.JourneyFigures)
		}
		if r := figures("bucket=day&version=2"); len(r.Series) != 1 || !r.Series[0].At.Equal(hour.Truncate(24*time.Hour)) ||
			r.Series[0].Entered != 1 || r.Entered != 1 {
			t.Fatalf("daily series of version 2: %+v", r)
		}

		// The trace of c2: its visits, its move to version 2, its send.
		c2 := tb.instances(j.ID, "customer_id=c2").Data[0]
		var tr analytics.TraceReport
		res = tb.do("GET", "/api/v1/instances/"+c2.ID+"/trace", tb.viewer, nil).want(t, http.StatusOK)
		check("InstanceTrace", res)
		res.into(t, &tr)
		var visits []string
		for _, v := range tr.Nodes {
			visits = append(visits, fmt.Sprintf("%s@%d:%s", v.NodeID, v.Version, v.Result))
			if v.LeftAt == nil || v.LeftAt.Before(v.EnteredAt) {
				t.Errorf("visit %+v has no departure after its arrival", v)
			}
		}
		if strings.Join(visits, ",") != "entry@1:default,plan@1:true,mail@1:default,wait@2:event_received,goal@2:exited" {
			t.Fatalf("trace visits %v", visits)
		}
		if len(tr.Transitions) != 1 || tr.Transitions[0].From != 1 || tr.Transitions[0].To != 2 ||
			len(tr.Sends) != 1 || tr.Sends[0].Status != kalcifer.SendFailed {
			t.Fatalf("trace transitions %+v sends %+v", tr.Transitions, tr.Sends)
		}

		// Bad parameters are 422s naming the parameter.
		for query, field := range map[string]string{"version=0": "version", "version=x": "version", "from=yesterday": "from",
			"to=2026-01-01": "to", "bucket=week": "bucket", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z": "to"} {
			for _, path := range []string{"/journeys/" + j.ID + "/analytics", "/journeys/" + j.ID + "/funnel",
				"/journeys/" + j.ID + "/nodes/wait/metrics", "/analytics/channels?journey_id=" + j.ID} {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				e := tb.do("GET", "/api/v1"+path+sep+query, tb.viewer, nil).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
				if len(e.Details) != 1 || e.Details[0].Field != field {
					t.Errorf("%s?%s: details %+v, want the field %s", path, query, e.Details, field)
				}
			}
		}
		tb.do("GET", "/api/v1/analytics/channels?version=1", tb.viewer, nil).wantError(t, http.StatusUnprocessableEntity, "unprocessable")
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/nodes/nosuch/metrics", tb.viewer, nil).wantError(t, http.StatusNotFound, "not_found")
	})
}

// nodeCount is what happened at one node of one version.
type nodeCount struct {
	entered int64
	results map[string]int64
}

// historyCounts counts, from every instance's recorded steps, the arrivals
// at each node of each version ("v/node") and the departures by result: a
// "waiting" step is an arrival; any other step is a departure, and an
// arrival too unless it resumes a visit that was waiting.
func historyCounts(tb *testBundle, journeyID string) map[string]nodeCount {
	tb.t.Helper()
	out := map[string]nodeCount{}
	at := func(v int, node string) nodeCount {
		k := fmt.Sprintf("%d/%s", v, node)
		if out[k].results == nil {
			out[k] = nodeCount{results: map[string]int64{}}
		}
		return out[k]
	}
	for _, in := range tb.instances(journeyID, "limit=100").Data {
		var d struct{ Steps []kalcifer.Step }
		tb.do("GET", "/api/v1/instances/"+in.ID, tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &d)
		waiting := map[string]bool{}
		for _, st := range d.Steps {
			if st.NodeID == "" {
				continue
			}
			c := at(st.Version, st.NodeID)
			visit := fmt.Sprintf("%d/%s/%d", st.PathID, st.NodeID, st.Visit)
			switch {
			case st.Result == "waiting":
				c.entered++
				waiting[visit] = true
			default:
				if !waiting[visit] {
					c.entered++
				}
				c.results[st.Result]++
			}
			out[fmt.Sprintf("%d/%s", st.Version, st.NodeID)] = c
		}
	}
	return out
}

func sameResults(a, b map[string]int64) bool {
	for k, n := range a {
		if b[k] != n {
			return false
		}
	}
	for k, n := range b {
		if a[k] != n {
			return false
		}
	}
	return true
}

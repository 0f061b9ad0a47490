package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// EntriesOptions chooses what the entries scenario runs on.
type EntriesOptions struct {
	Binary      string // kalcifer executable (default: this one)
	DatabaseURL string // postgres://…, or empty for SQLite in a temporary directory
	N           int    // members of the segment enrolled at once (default 100,000)
	Profiles    int    // profiles imported, N of them members (default N)
	Updates     int    // profile updates timed to the first journey step (default 1,000)
	Rate        int    // single events posted per second meanwhile (default 100)
	Out         io.Writer
}

// EntriesResult holds the figures of the entries scenario.
type EntriesResult struct {
	Backend              string
	N, Profiles          int
	Updates, Rate        int
	ImportTime           time.Duration
	UpdateP50, UpdateP99 time.Duration
	UpdateMax            time.Duration
	Enrolled             int64
	EnrolServer          time.Duration // the pass's started_at → finished_at
	EnrolSeen            time.Duration // activation sent → the pass seen finished
	BuildSeen            time.Duration // segment created → its count seen ready
	// POST /events latency before the segment is made, while its stored
	// members are built, during the enrolment and after it.
	Before, Building, During, After IngestWindow
}

// enrolmentView is what the bench reads of GET /journeys/{id}/enrolment.
type enrolmentView struct {
	Entries []struct {
		Pass       string     `json:"pass"`
		Total      int64      `json:"total"`
		Scanned    int64      `json:"scanned"`
		Enrolled   int64      `json:"enrolled"`
		StartedAt  *time.Time `json:"started_at"`
		FinishedAt *time.Time `json:"finished_at"`
	} `json:"entries"`
}

// segmentGraph is a journey entered from a segment, whose customers then
// rest on a day's wait.
func segmentGraph(segmentID, mode string) map[string]any {
	return map[string]any{
		"nodes": []map[string]any{
			{"id": "entry", "type": "segment_entry", "position": map[string]int{"x": 0, "y": 0},
				"config": map[string]any{"segment_id": segmentID, "enrol": mode}},
			{"id": "rest", "type": "wait", "position": map[string]int{"x": 0, "y": 100}, "config": map[string]any{"duration": "1d"}},
		},
		"edges": []map[string]any{{"id": "e1", "source": "entry", "target": "rest"}},
	}
}

// RunEntries runs the entries scenario against a real server: it imports
// N profiles (POST /customers/import), times Updates profile updates
// (PATCH) that make a customer match a segment to their first journey
// step, then activates a journey enrolling the N members of another
// segment while a client posts single events at Rate, and times both.
func RunEntries(ctx context.Context, o EntriesOptions) (*EntriesResult, error) {
	if o.N <= 0 {
		o.N = 100_000
	}
	if o.Profiles < o.N {
		o.Profiles = o.N
	}
	if o.Updates <= 0 {
		o.Updates = 1000
	}
	if o.Rate <= 0 {
		o.Rate = 100
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &EntriesResult{Backend: backendOf(o.DatabaseURL), N: o.N, Profiles: o.Profiles, Updates: o.Updates, Rate: o.Rate}

	fmt.Fprintf(o.Out, "entries: importing %d profiles on %s\n", o.Profiles, res.Backend)
	began := time.Now()
	if err := importProfiles(srv, o.Profiles, o.N); err != nil {
		return nil, err
	}
	res.ImportTime = time.Since(began)

	// Profile update → first step.
	var vip, pro struct {
		ID string `json:"id"`
	}
	if err := srv.call("POST", "/api/v1/segments", map[string]any{"name": "vip", "rule_text": `vip = true`}, &vip); err != nil {
		return nil, err
	}
	latency, err := createActive(srv, "entries-latency", segmentGraph(vip.ID, "new"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "entries: %d profile updates that make a customer match\n", o.Updates)
	sent := make(map[string]time.Time, o.Updates)
	for i := range o.Updates {
		id := fmt.Sprintf("u%d", i)
		sent[id] = time.Now()
		if err := srv.call("PATCH", "/api/v1/customers/"+id+"/profile", map[string]any{"attributes": map[string]any{"vip": true}}, nil); err != nil {
			return nil, err
		}
		time.Sleep(10 * time.Millisecond) // a steady trickle, not a burst
	}
	lat, err := firstSteps(srv, latency, sent, time.Now().Add(2*time.Minute))
	if err != nil {
		return nil, err
	}
	res.UpdateP50, res.UpdateP99, res.UpdateMax = pct(lat, 50), pct(lat, 99), pct(lat, 100)

	// Building a large segment's stored members, then enrolling it, while
	// events arrive.
	events := startEvents(srv, o.N, o.Rate)
	time.Sleep(5 * time.Second)
	created := time.Now()
	if err := srv.call("POST", "/api/v1/segments", map[string]any{"name": "pro", "rule_text": `plan = "pro"`}, &pro); err != nil {
		events.stop()
		return nil, err
	}
	for {
		var count struct {
			Count  int64  `json:"count"`
			Status string `json:"status"`
		}
		if err := srv.call("GET", "/api/v1/segments/"+pro.ID+"/count", nil, &count); err != nil {
			events.stop()
			return nil, err
		}
		if count.Status == "ready" {
			break
		}
		if time.Since(created) > time.Hour {
			events.stop()
			return nil, fmt.Errorf("segment not built after an hour")
		}
		// While building, a count is the live query's: asking often
		// would load the machine the figures are taken on.
		time.Sleep(2 * time.Second)
	}
	built := time.Now()
	res.BuildSeen = built.Sub(created)
	fmt.Fprintf(o.Out, "entries: segment of %d built in %.1f s; activating a journey for its members\n", o.N, res.BuildSeen.Seconds())
	time.Sleep(5 * time.Second)
	activated := time.Now()
	bulk, err := createActive(srv, "entries-bulk", segmentGraph(pro.ID, "existing"))
	if err != nil {
		events.stop()
		return nil, err
	}
	var view enrolmentView
	for {
		if err := srv.call("GET", "/api/v1/journeys/"+bulk+"/enrolment", nil, &view); err != nil {
			events.stop()
			return nil, err
		}
		if len(view.Entries) == 1 && view.Entries[0].FinishedAt != nil {
			break
		}
		if time.Since(activated) > time.Hour {
			events.stop()
			return nil, fmt.Errorf("enrolment not finished after an hour: %+v", view)
		}
		if len(view.Entries) == 1 {
			fmt.Fprintf(o.Out, "  %d of %d walked, %d enrolled (%.0f s)\n", view.Entries[0].Scanned, view.Entries[0].Total,
				view.Entries[0].Enrolled, time.Since(activated).Seconds())
		}
		time.Sleep(time.Second)
	}
	finished := time.Now()
	time.Sleep(5 * time.Second)
	samples := events.stop()
	en := view.Entries[0]
	res.Enrolled, res.EnrolSeen, res.EnrolServer = en.Enrolled, finished.Sub(activated), en.FinishedAt.Sub(*en.StartedAt)
	res.Before = window(samples, created.Add(-5*time.Second), created)
	res.Building = window(samples, created, built)
	res.During = window(samples, activated, finished)
	res.After = window(samples, finished, finished.Add(5*time.Second))
	if en.Enrolled != int64(o.N) {
		return res, fmt.Errorf("%d of %d members enrolled", en.Enrolled, o.N)
	}
	return res, nil
}

// importProfiles imports customers c0…c(n-1) with plan "pro", in one
// streamed NDJSON request.
// importProfiles imports n profiles, the first pro of them on plan "pro"
// and the rest on "free".
func importProfiles(srv *server, n, pro int) error {
	var body bytes.Buffer
	for i := range n {
		plan := "pro"
		if i >= pro {
			plan = "free"
		}
		fmt.Fprintf(&body, `{"id":%q,"attributes":{"plan":%q,"seats":%d}}`+"\n", cid(i), plan, i%50)
	}
	req, err := http.NewRequest("POST", srv.base+"/api/v1/customers/import", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+srv.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	client := &http.Client{Timeout: 30 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var out struct {
		Imported int `json:"imported"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || out.Imported != n {
		return fmt.Errorf("import: %d %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return nil
}

// firstSteps waits until every customer of sent has an instance of the
// journey and returns, for each, the time from the update being sent to
// the instance's first step (its creation, the transaction that ran it).
func firstSteps(srv *server, journeyID string, sent map[string]time.Time, deadline time.Time) ([]time.Duration, error) {
	for {
		var lat []time.Duration
		cursor := ""
		for {
			var page struct {
				Data []struct {
					CustomerID string    `json:"customer_id"`
					CreatedAt  time.Time `json:"created_at"`
				} `json:"data"`
				NextCursor string `json:"next_cursor"`
			}
			if err := srv.call("GET", "/api/v1/journeys/"+journeyID+"/instances?limit=100&cursor="+cursor, nil, &page); err != nil {
				return nil, err
			}
			for _, in := range page.Data {
				if t, ok := sent[in.CustomerID]; ok {
					lat = append(lat, in.CreatedAt.Sub(t))
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(lat) == len(sent) {
			return lat, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d updated customers entered the journey", len(lat), len(sent))
		}
		time.Sleep(time.Second)
	}
}

// Print writes the figures as a table.
func (r *EntriesResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nentries — segment entries (docs/PERFORMANCE.md), backend %s, N = %d of %d profiles, machine: %s\n\n", r.Backend, r.N, r.Profiles, machine())
	ingest := func(x IngestWindow) string {
		return fmt.Sprintf("%s / %s / %s (%d requests, %d errors)", ms(x.P50), ms(x.P99), ms(x.Max), x.Requests, x.Errors)
	}
	rows := [][2]string{
		{"import of the profiles (NDJSON)", fmt.Sprintf("%.1f s (%.0f profiles/s)", r.ImportTime.Seconds(), float64(r.Profiles)/r.ImportTime.Seconds())},
		{fmt.Sprintf("PATCH → first step, %d updates, p50/p99/max", r.Updates), ms(r.UpdateP50) + " / " + ms(r.UpdateP99) + " / " + ms(r.UpdateMax)},
		{"segment's stored members built (created → count ready)", fmt.Sprintf("%.1f s", r.BuildSeen.Seconds())},
		{"segment enrolled (members)", fmt.Sprint(r.Enrolled)},
		{"enrolment pass (server: started → finished)", fmt.Sprintf("%.1f s (%.0f customers/s)", r.EnrolServer.Seconds(), float64(r.Enrolled)/r.EnrolServer.Seconds())},
		{"activation sent → finished seen", fmt.Sprintf("%.1f s", r.EnrolSeen.Seconds())},
		{fmt.Sprintf("POST /events at %d/s p50/p99/max, before", r.Rate), ingest(r.Before)},
		{"  … while the segment builds", ingest(r.Building)},
		{"  … during the enrolment", ingest(r.During)},
		{"  … after", ingest(r.After)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-46s %s\n", row[0], row[1])
	}
}

package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ProfilesOptions chooses what the profile import scenario runs on.
type ProfilesOptions struct {
	Binary      string
	DatabaseURL string
	N           int    // profiles to import (default 1,000,000)
	Format      string // "csv" (default) or "ndjson"
	Out         io.Writer
}

// ProfilesResult holds the bulk-import figures: N generated profiles
// streamed through one POST /customers/import.
type ProfilesResult struct {
	Backend, Format string
	N               int
	Bytes           int64
	Elapsed         time.Duration
	Imported        int
	Failed          int
	PeakRSS         int64
}

// RunProfiles starts a server and imports N generated profiles in one
// streamed request, reading its progress lines as it goes.
func RunProfiles(ctx context.Context, o ProfilesOptions) (*ProfilesResult, error) {
	if o.N <= 0 {
		o.N = 1_000_000
	}
	if o.Format == "" {
		o.Format = "csv"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	contentType := map[string]string{"csv": "text/csv", "ndjson": "application/x-ndjson"}[o.Format]
	if contentType == "" {
		return nil, fmt.Errorf("format %q: use csv or ndjson", o.Format)
	}
	srv, _, stop, err := launch(ctx, o.Binary, o.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := &ProfilesResult{Backend: backendOf(o.DatabaseURL), Format: o.Format, N: o.N}
	pr, pw := io.Pipe()
	count := &counter{r: pr}
	go func() { pw.CloseWithError(GenerateProfiles(pw, o.N, o.Format)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/api/v1/customers/import", count)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+srv.key)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/x-ndjson")
	fmt.Fprintf(o.Out, "profiles: importing %d generated profiles (%s)\n", o.N, o.Format)
	began := time.Now()
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("import: %s %s", resp.Status, raw)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	next := 100_000
	for lines.Scan() {
		var line struct {
			Progress, Result *struct{ Rows, Imported, Failed int }
			Error            *struct{ Message string }
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("progress line %q: %w", lines.Text(), err)
		}
		if line.Error != nil {
			return nil, fmt.Errorf("import stopped: %s", line.Error.Message)
		}
		if p := line.Progress; p != nil && p.Imported >= next {
			fmt.Fprintf(o.Out, "  %d rows, %.0f rows/s\n", p.Imported, float64(p.Imported)/time.Since(began).Seconds())
			next += 100_000
		}
		if r := line.Result; r != nil {
			res.Elapsed, res.Imported, res.Failed = time.Since(began), r.Imported, r.Failed
		}
	}
	if err := lines.Err(); err != nil {
		return nil, err
	}
	if res.Elapsed == 0 {
		return nil, fmt.Errorf("the import ended without a result")
	}
	res.Bytes, res.PeakRSS = count.n, srv.peakRSS()
	return res, nil
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// GenerateProfiles writes n generated profiles as CSV (a header, then id,
// email, plan, country, seats, address.city and two tags) or NDJSON (the
// same with a number for seats and a nested address): the input of
// `kalcifer bench profiles`, and of `kalcifer customers import` by hand.
func GenerateProfiles(w io.Writer, n int, format string) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	plans := []string{"free", "pro", "team", "enterprise"}
	countries := []string{"FR", "DE", "US", "GB", "JP", "BR", "IN"}
	cities := []string{"Lyon", "Berlin", "Austin", "Leeds", "Osaka", "Recife", "Pune"}
	if format == "csv" {
		bw.WriteString("id,email,plan,country,seats,address.city,tags\n")
	}
	for i := range n {
		plan, c := plans[i%len(plans)], i%len(countries)
		var err error
		if format == "csv" {
			_, err = fmt.Fprintf(bw, "cus_%07d,user%d@example.com,%s,%s,%d,%s,%s;cohort_%d\n",
				i, i, plan, countries[c], 1+i%50, cities[c], plan, i%12)
		} else {
			_, err = fmt.Fprintf(bw, `{"id":"cus_%07d","attributes":{"email":"user%d@example.com","plan":"%s","country":"%s","seats":%d,"address":{"city":"%s"}},"add_tags":["%s","cohort_%d"]}`+"\n",
				i, i, plan, countries[c], 1+i%50, cities[c], plan, i%12)
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Print writes the figures as a table.
func (r *ProfilesResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nProfile import, backend %s, N = %d (%s, %.1f MiB), machine: %s\n\n", r.Backend, r.N, r.Format,
		float64(r.Bytes)/(1<<20), machine())
	for _, row := range [][2]string{
		{"profiles imported / failed", fmt.Sprintf("%d / %d", r.Imported, r.Failed)},
		{"elapsed", fmt.Sprintf("%.1f s", r.Elapsed.Seconds())},
		{"profiles/s", fmt.Sprintf("%.0f", float64(r.Imported)/r.Elapsed.Seconds())},
		{"peak server RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(r.PeakRSS)/(1<<20))},
	} {
		fmt.Fprintf(w, "  %-46s %s\n", row[0], row[1])
	}
}

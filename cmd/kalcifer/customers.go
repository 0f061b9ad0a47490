package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kalcifer/kalcifer/api"
)

const customersUsage = `Usage: kalcifer customers import FILE [--url URL] [--key KEY] [--format csv|ndjson]

Imports customer profiles into a running server (POST /api/v1/customers/import),
streaming FILE ("-" for standard input) and showing progress on stderr. CSV
has a header row with an id column (tags split on ";", other columns are
attributes); NDJSON has one {"id","attributes","add_tags"} object a line.
Prints the result (totals and the rows that failed) as JSON on stdout; exits
1 when a row failed or the import stopped.

Flags:
`

// customers runs "kalcifer customers SUBCOMMAND".
func customers(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(stderr, customersUsage)
		importFlags(env).PrintDefaults()
		return usageError{errors.New("usage: kalcifer customers import FILE [--url URL] [--key KEY]")}
	}
	fs := importFlags(env)
	fs.SetOutput(stderr)
	// The file may come before, between or after the flags.
	var files []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			return usageError{err}
		}
		if rest = fs.Args(); len(rest) == 0 {
			break
		}
		files, rest = append(files, rest[0]), rest[1:]
	}
	if len(files) != 1 {
		return usageError{errors.New("customers import takes one FILE (or - for standard input)")}
	}
	file := files[0]
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	if get("key") == "" {
		return usageError{errors.New("customers import needs an API key: --key or KALCIFER_API_KEY (an editor or admin key)")}
	}
	format := get("format")
	if format == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".csv":
			format = "csv"
		case ".ndjson", ".jsonl":
			format = "ndjson"
		default:
			return usageError{fmt.Errorf("cannot tell the format of %q from its name: give --format csv or --format ndjson", file)}
		}
	}
	contentType := map[string]string{"csv": "text/csv", "ndjson": "application/x-ndjson"}[format]
	if contentType == "" {
		return usageError{fmt.Errorf("--format %q is not known: use csv or ndjson", format)}
	}
	in, size := io.Reader(os.Stdin), int64(-1)
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := importFile(ctx, strings.TrimSuffix(get("url"), "/"), get("key"), contentType, in, size, stderr)
	if res != nil {
		out, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(stdout, "%s\n", out)
	}
	switch {
	case err != nil:
		return err
	case res.Failed > 0:
		return fmt.Errorf("%d of %d rows failed (listed in the report)", res.Failed, res.Rows)
	}
	return nil
}

func importFlags(env func(string) string) *flag.FlagSet {
	fs := flag.NewFlagSet("customers import", flag.ContinueOnError)
	url := env("KALCIFER_URL")
	if url == "" {
		url = "http://" + localAddr(env("KALCIFER_ADDR"))
	}
	fs.String("url", url, "the server's base URL (default: $KALCIFER_URL, else the local server at $KALCIFER_ADDR)")
	fs.String("key", env("KALCIFER_API_KEY"), "an editor or admin API key (default: $KALCIFER_API_KEY)")
	fs.String("format", "", "csv or ndjson (default: from the file's extension: .csv, .ndjson, .jsonl)")
	return fs
}

// localAddr is where a client reaches the server listening on addr.
func localAddr(addr string) string {
	if addr == "" {
		addr = ":4000"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// importFile streams body to the server's import route, asking for
// progress lines, and draws a progress bar on progress while it runs.
func importFile(ctx context.Context, base, key, contentType string, body io.Reader, size int64, progress io.Writer) (*api.ImportResult, error) {
	sent := &countingReader{r: body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/customers/import", sent)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+key)
	bar := &progressBar{w: progress, size: size, sent: &sent.n, began: time.Now()}
	done := make(chan struct{})
	defer close(done)
	go func() { // redraw as bytes go out, between the server's progress lines
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				bar.draw(false)
			}
		}
	}()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("import refused (%s): %s", resp.Status, e.Error.Message)
		}
		return nil, fmt.Errorf("import refused: %s %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	for lines.Scan() {
		var line struct {
			Progress *api.ImportResult `json:"progress"`
			Result   *api.ImportResult `json:"result"`
			Error    *struct{ Message string }
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("import: unreadable progress line %q: %w", lines.Text(), err)
		}
		switch {
		case line.Progress != nil:
			bar.rows.Store(int64(line.Progress.Rows))
			bar.draw(false)
		case line.Result != nil:
			bar.rows.Store(int64(line.Result.Rows))
			bar.draw(true)
			if line.Error != nil {
				return line.Result, fmt.Errorf("import stopped: %s", line.Error.Message)
			}
			return line.Result, nil
		}
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return nil, errors.New("import: the server closed the stream before its result")
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progressBar draws an import's progress on one line of a terminal: a bar
// of the bytes sent when the size is known, the rows the server has
// written and their rate.
type progressBar struct {
	w     io.Writer
	size  int64
	sent  *atomic.Int64
	rows  atomic.Int64
	began time.Time
	mu    sync.Mutex // one line drawn at a time
	last  time.Duration
}

func (b *progressBar) draw(final bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Since(b.began)
	if !final && now-b.last < 200*time.Millisecond {
		return
	}
	b.last = now
	rows := b.rows.Load()
	rate := float64(rows) / max(now.Seconds(), 0.001)
	line := fmt.Sprintf("%s rows  %s rows/s  %s", group(rows), group(int64(rate)), now.Truncate(100*time.Millisecond))
	if b.size > 0 {
		frac := min(float64(b.sent.Load())/float64(b.size), 1)
		const width = 30
		filled := int(frac * width)
		line = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, line)
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.w, "\r%s\x1b[K%s", line, end)
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

package clickhouse

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Schema is the DDL of Kalcifer's ClickHouse tables (schema.sql), which the
// sink runs when it starts.
//
//go:embed schema.sql
var Schema string

// databaseName is what KALCIFER_CLICKHOUSE_DATABASE may be: a plain
// identifier, so it never needs quoting.
var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// client speaks ClickHouse's HTTP interface: one statement per POST, its
// data (if any) in the body after it.
type client struct {
	base               *url.URL
	user, password, db string
	http               *http.Client
}

// exec runs a statement; in the configured database unless noDB.
func (c *client) exec(ctx context.Context, query string, noDB bool) (string, error) {
	return c.post(ctx, query, nil, noDB)
}

// insert sends rows, each one JSON object, into table.
func (c *client) insert(ctx context.Context, table string, rows [][]byte) error {
	body := bytes.Join(rows, []byte{'\n'})
	_, err := c.post(ctx, "INSERT INTO "+table+" FORMAT JSONEachRow", body, false)
	return err
}

func (c *client) post(ctx context.Context, query string, data []byte, noDB bool) (string, error) {
	u := *c.base
	q := u.Query()
	if !noDB {
		q.Set("database", c.db)
	}
	var body io.Reader = strings.NewReader(query)
	if data != nil {
		// The statement goes in the URL, the rows in the body.
		q.Set("query", query)
		body = bytes.NewReader(data)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return "", err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("ClickHouse at %s: %w", c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("ClickHouse at %s: read the answer: %w", c.base.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(answer))
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return "", fmt.Errorf("ClickHouse at %s answered %s: %s", c.base.Redacted(), resp.Status, msg)
	}
	return strings.TrimSpace(string(answer)), nil
}

// createSchema creates the database when it is missing, then the tables
// that are (schema.sql).
func (c *client) createSchema(ctx context.Context) error {
	n, err := c.exec(ctx, "SELECT count() FROM system.databases WHERE name = '"+c.db+"'", true)
	if err != nil {
		return err
	}
	if n == "0" {
		if _, err := c.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.db, true); err != nil {
			return err
		}
	}
	for _, stmt := range statements(Schema) {
		if _, err := c.exec(ctx, stmt, false); err != nil {
			return err
		}
	}
	return nil
}

// statements splits SQL text into its statements, without comments.
func statements(sql string) []string {
	var lines []string
	for line := range strings.SplitSeq(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	var out []string
	for stmt := range strings.SplitSeq(strings.Join(lines, "\n"), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

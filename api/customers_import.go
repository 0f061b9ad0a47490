package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

const (
	// importBatch is how many rows one transaction of an import writes.
	importBatch = 1000
	// maxImportErrors bounds the per-row error report; rows past it are
	// still counted in failed.
	maxImportErrors = 1000
	// importIdle is how long an import may go without completing a batch
	// before its connection is closed: each batch pushes the read and
	// write deadlines this far ahead, so a long import outlives the
	// server's HTTP timeouts while a stalled one does not.
	importIdle = time.Minute
	// ndjsonType is the media type of NDJSON bodies and progress streams.
	ndjsonType = "application/x-ndjson"
)

// ImportResult is the answer of POST /customers/import.
type ImportResult struct {
	// Rows were read (CSV: not counting the header; blank lines skipped).
	Rows int `json:"rows"`
	// Imported rows were written; Created of them made a new profile.
	Imported int `json:"imported"`
	Created  int `json:"created"`
	Failed   int `json:"failed"`
	// Errors name the first maxImportErrors failed rows; Truncated says
	// there were more.
	Errors    []ImportError `json:"errors"`
	Truncated bool          `json:"errors_truncated"`
}

// ImportError is one row that was not imported.
type ImportError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// importProgress is a progress line of an import streamed as NDJSON; the
// last line has Result (or Error) instead.
type importProgress struct {
	Progress *ImportResult   `json:"progress,omitempty"`
	Result   *ImportResult   `json:"result,omitempty"`
	Error    *kalcifer.Error `json:"error,omitempty"`
}

// rowReader reads an import body a row at a time: next returns the row's
// line number and identity, or a row error (the row is skipped and the
// import goes on), or io.EOF, or another error that stops the import.
type rowReader interface {
	next() (line int, in store.Identity, rowErr, err error)
}

// importCustomers imports profiles from a CSV or NDJSON body (by its
// Content-Type), streamed and written importBatch rows per transaction,
// each row merged like POST /customers. It answers the totals and the rows
// that failed; a client that accepts application/x-ndjson gets a progress
// line after every batch, then the result line.
func (s *server) importCustomers(w http.ResponseWriter, r *http.Request) {
	rows, err := s.rowReader(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	// Progress lines go out while the body is still being read.
	if err := rc.EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.logger.WarnContext(r.Context(), "import: full duplex", slog.Any("error", err))
	}
	extend := func() { // unsupported by test recorders: nothing to extend there
		deadline := time.Now().Add(importIdle)
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
	}
	extend()
	stream := acceptsNDJSON(r.Header.Get("Accept"))
	enc := json.NewEncoder(w)
	if stream {
		w.Header().Set("Content-Type", ndjsonType)
		w.WriteHeader(http.StatusOK)
	}
	res := &ImportResult{Errors: []ImportError{}}
	tenantID := principal(r).TenantID
	batch := make([]store.Identity, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := s.store.IdentifyCustomers(r.Context(), tenantID, batch)
		if err != nil {
			return err
		}
		res.Imported += len(batch)
		res.Created += n.Created
		batch = batch[:0]
		extend()
		if stream {
			if err := enc.Encode(importProgress{Progress: res}); err != nil {
				return fmt.Errorf("write progress: %w", err)
			}
			_ = rc.Flush()
		}
		return nil
	}
	var stop error
	for {
		line, in, rowErr, err := rows.next()
		if errors.Is(err, io.EOF) {
			stop = flush()
			break
		}
		if err != nil {
			if flushErr := flush(); flushErr != nil {
				err = flushErr
			}
			stop = err
			break
		}
		res.Rows++
		if rowErr != nil {
			res.Failed++
			if len(res.Errors) < maxImportErrors {
				res.Errors = append(res.Errors, ImportError{Line: line, Reason: kalcifer.ErrorMessage(rowErr)})
			} else {
				res.Truncated = true
			}
			continue
		}
		batch = append(batch, in)
		if len(batch) == importBatch {
			if stop = flush(); stop != nil {
				break
			}
		}
	}
	if stop != nil {
		stop = s.importStopped(r, stop, res)
	}
	switch {
	case stream && stop != nil:
		var ke *kalcifer.Error
		if !errors.As(stop, &ke) || ke.Code == kalcifer.EINTERNAL {
			s.logger.ErrorContext(r.Context(), "import failed", slog.Any("error", stop))
			ke = kalcifer.Errorf(kalcifer.EINTERNAL, "internal error after %d rows were imported", res.Imported)
		}
		_ = enc.Encode(importProgress{Result: res, Error: ke})
	case stream:
		_ = enc.Encode(importProgress{Result: res})
	case stop != nil:
		s.writeError(w, r, stop)
	default:
		s.writeJSON(w, r, http.StatusOK, res)
	}
}

// importStopped says how far an import that stopped early got: the rows
// before were written and stay.
func (s *server) importStopped(r *http.Request, err error, res *ImportResult) error {
	if e, ok := bodyTooLarge(r, err); ok {
		err = e
	}
	var ke *kalcifer.Error
	if !errors.As(err, &ke) {
		return err
	}
	return &kalcifer.Error{Code: ke.Code, Details: ke.Details,
		Message: fmt.Sprintf("%s; the import stopped after %d rows (%d imported, %d failed), which stay imported", ke.Message, res.Rows, res.Imported, res.Failed)}
}

// acceptsNDJSON reports whether an Accept header asks for NDJSON.
func acceptsNDJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == ndjsonType {
			return true
		}
	}
	return false
}

// rowReader picks the body's reader by its Content-Type.
func (s *server) rowReader(r *http.Request) (rowReader, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
		return nil, kalcifer.Errorf(codeUnsupportedMediaType, "charset %q is not supported: send UTF-8", params["charset"])
	}
	switch {
	case err == nil && mt == "text/csv":
		return newCSVRows(r.Body)
	case err == nil && (mt == ndjsonType || mt == "application/jsonl"):
		return &ndjsonRows{r: bufio.NewReaderSize(r.Body, 64<<10), max: int(s.maxBody)}, nil
	}
	return nil, kalcifer.Errorf(codeUnsupportedMediaType,
		"Content-Type %q is not supported: send text/csv (a header row with an id column) or application/x-ndjson (one POST /customers body per line)", ct)
}

// csvRows reads a CSV import: a header row naming the columns, "id"
// required, "tags" split on ";" into tags added, every other column an
// attribute (a name with dots, such as address.city, a nested one). Values
// are strings; an empty cell sets nothing. Use NDJSON for typed values.
type csvRows struct {
	r      *csv.Reader
	idCol  int
	tagCol int
	attrs  [][]string // per column, its attribute path; nil for id and tags
}

func newCSVRows(body io.Reader) (*csvRows, error) {
	r := csv.NewReader(body)
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "the CSV is empty: its first row must name the columns, one of them id")
	}
	if err != nil {
		return nil, csvError(err)
	}
	c := &csvRows{r: r, idCol: -1, tagCol: -1, attrs: make([][]string, len(header))}
	seen := map[string]bool{}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")) // a BOM from spreadsheets
		field := fmt.Sprintf("header[%d]", i)
		switch {
		case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
			return nil, kalcifer.Errorf(kalcifer.EINVALID, "the CSV header is not UTF-8 text without NUL characters")
		case seen[name]:
			return nil, unprocessable(fmt.Sprintf("the CSV header names column %q twice", name), []kalcifer.Detail{{Field: field, Message: "is a repeat"}})
		case name == "id":
			c.idCol = i
		case name == "tags":
			c.tagCol = i
		default:
			path := strings.Split(name, ".")
			for _, p := range path {
				if p == "" || utf8.RuneCountInString(p) > MaxIDLen {
					return nil, unprocessable(fmt.Sprintf("CSV column %q is not an attribute name: use 1 to %d characters, dots between nested names", name, MaxIDLen),
						[]kalcifer.Detail{{Field: field, Message: "is not an attribute name"}})
				}
			}
			c.attrs[i] = path
		}
		seen[name] = true
	}
	if c.idCol < 0 {
		return nil, unprocessable("the CSV header has no id column", []kalcifer.Detail{{Field: "header", Message: "needs an id column"}})
	}
	return c, nil
}

func (c *csvRows) next() (int, store.Identity, error, error) {
	rec, err := c.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		return pe.StartLine, store.Identity{}, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "the row has %d fields, the header %d", len(rec), len(c.attrs)), nil
	case errors.As(err, &pe): // a stray or unclosed quote: the reader goes on after the row
		return pe.StartLine, store.Identity{}, csvError(err), nil
	case err != nil:
		return 0, store.Identity{}, nil, err
	}
	line, _ := c.r.FieldPos(0)
	in := store.Identity{CustomerID: rec[c.idCol]}
	for i, v := range rec {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return line, in, kalcifer.Errorf(kalcifer.EINVALID, "column %d is not UTF-8 text without NUL characters", i+1), nil
		}
	}
	if problems := checkID("id", in.CustomerID); len(problems) > 0 {
		return line, in, unprocessable("the id "+problems[0].Message, problems), nil
	}
	if c.tagCol >= 0 {
		for _, t := range strings.Split(rec[c.tagCol], ";") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if problems := checkLen("tags", t); len(problems) > 0 {
				return line, in, unprocessable(fmt.Sprintf("tag %q %s", t, problems[0].Message), problems), nil
			}
			if !slices.Contains(in.AddTags, t) {
				in.AddTags = append(in.AddTags, t)
			}
		}
	}
	for i, path := range c.attrs {
		if path == nil || rec[i] == "" {
			continue
		}
		if in.Attributes == nil {
			in.Attributes = map[string]any{}
		}
		setPath(in.Attributes, path, rec[i])
	}
	return line, in, nil, nil
}

// setPath sets the attribute at a path of names, making the objects above it.
func setPath(m map[string]any, path []string, v any) {
	for _, name := range path[:len(path)-1] {
		inner, ok := m[name].(map[string]any)
		if !ok {
			inner = map[string]any{}
			m[name] = inner
		}
		m = inner
	}
	m[path[len(path)-1]] = v
}

// csvError describes a malformed CSV row (or header).
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return kalcifer.Errorf(kalcifer.EINVALID, "the CSV is malformed at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return err
}

// ndjsonRows reads an NDJSON import: one POST /customers body per line;
// blank lines are skipped. A line longer than max is a row error.
type ndjsonRows struct {
	r    *bufio.Reader
	line int
	max  int
	buf  []byte
}

func (n *ndjsonRows) next() (int, store.Identity, error, error) {
	for {
		n.line++
		n.buf = n.buf[:0]
		tooLong := false
		for {
			chunk, more, err := n.r.ReadLine()
			if err != nil {
				if errors.Is(err, io.EOF) && (len(n.buf) > 0 || tooLong) {
					break // a last line without a newline
				}
				return n.line, store.Identity{}, nil, err
			}
			if !tooLong && len(n.buf)+len(chunk) <= n.max {
				n.buf = append(n.buf, chunk...)
			} else {
				tooLong = true
			}
			if !more {
				break
			}
		}
		if tooLong {
			return n.line, store.Identity{}, kalcifer.Errorf(kalcifer.ETOOLARGE, "the line is longer than %s, the limit of one profile", byteSize(int64(n.max))), nil
		}
		row := strings.TrimSpace(string(n.buf))
		if row == "" {
			continue
		}
		in, err := n.parse([]byte(row))
		return n.line, in, err, nil
	}
}

func (n *ndjsonRows) parse(row []byte) (store.Identity, error) {
	if !utf8.Valid(row) {
		return store.Identity{}, kalcifer.Errorf(kalcifer.EINVALID, "the line is not valid UTF-8")
	}
	if err := checkSyntax(row, MaxJSONDepth); err != nil {
		return store.Identity{}, err
	}
	if row[0] != '{' {
		return store.Identity{}, kalcifer.Errorf(kalcifer.EINVALID, "the line must be a JSON object such as {\"id\":\"c1\",\"attributes\":{…}}")
	}
	return parseIdentity(row)
}

package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer"
)

// The instance row keeps its State as JSON, the same document encoding/json
// wrote before this codec existed: psql, jq, sqlite3 and the API read it as
// it is, and old rows need no migration. What the codec changes is the cost.
// appendState writes the document by hand, without reflection, and copies
// the payloads it holds (the entry event's data and instance.data) as the
// raw bytes they were read as. parseState reads the positions, visits and
// variants and keeps those payloads as raw bytes, validated but not decoded:
// moving a node or counting a visit never turns them into maps and back.
// instance.data is decoded only when a node or a template asks for it
// (State.instanceData).

// MarshalJSON writes the state as the instance row holds it.
func (s State) MarshalJSON() ([]byte, error) { return appendState(nil, &s) }

// UnmarshalJSON reads a state as the instance row holds it.
func (s *State) UnmarshalJSON(b []byte) error {
	st, err := parseState(b)
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// encodeState is the instance row's state column for s.
func encodeState(s *State) (json.RawMessage, error) {
	b, err := appendState(make([]byte, 0, 256+len(s.data)+eventSize(s.Event)), s)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

func eventSize(e *kalcifer.Event) int {
	if e == nil {
		return 0
	}
	return 200 + len(e.Data)
}

// instanceData is instance.data, decoded from the row's bytes on first use.
// The map is the caller's to read, not to change: a node that changes
// instance.data sets a new map (setData).
func (s *State) instanceData() (map[string]any, error) {
	if s.Data == nil && len(s.data) > 0 {
		if err := json.Unmarshal(s.data, &s.Data); err != nil {
			return nil, fmt.Errorf("decode instance data: %w", err)
		}
	}
	return s.Data, nil
}

// setData replaces instance.data.
func (s *State) setData(m map[string]any) { s.Data, s.data = m, nil }

// appendState appends s's JSON to b: the fields in the order and with the
// omissions encoding/json uses for State's tags, map keys sorted.
func appendState(b []byte, s *State) ([]byte, error) {
	b = append(b, `{"paths":`...)
	if s.Paths == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range s.Paths {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendPath(b, &s.Paths[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"next_path":`...)
	b = strconv.AppendInt(b, int64(s.NextPath), 10)
	if len(s.Visits) > 0 {
		b = append(b, `,"visits":{`...)
		for i, k := range sortedKeys(s.Visits) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			b = strconv.AppendInt(b, int64(s.Visits[k]), 10)
		}
		b = append(b, '}')
	}
	if len(s.Vars) > 0 {
		b = append(b, `,"vars":{`...)
		for i, k := range sortedKeys(s.Vars) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(append(appendString(b, k), ':'), s.Vars[k])
		}
		b = append(b, '}')
	}
	switch {
	case s.Data != nil:
		if len(s.Data) > 0 {
			raw, err := json.Marshal(s.Data)
			if err != nil {
				return nil, fmt.Errorf("instance data: %w", err)
			}
			b = append(append(b, `,"data":`...), raw...)
		}
	case len(s.data) > 0 && string(s.data) != "{}":
		b = append(append(b, `,"data":`...), s.data...)
	}
	if e := s.Event; e != nil {
		b = append(b, `,"event":{"id":`...)
		b = appendString(b, e.ID)
		if e.ClientID != "" {
			b = appendString(append(b, `,"client_id":`...), e.ClientID)
		}
		b = appendString(append(b, `,"customer_id":`...), e.CustomerID)
		b = appendString(append(b, `,"event_type":`...), e.Type)
		if len(e.Data) > 0 {
			b = append(append(b, `,"data":`...), e.Data...)
		}
		b = appendTime(append(b, `,"timestamp":`...), e.OccurredAt)
		b = appendTime(append(b, `,"received_at":`...), e.ReceivedAt)
		if e.JourneyID != "" {
			b = appendString(append(b, `,"journey_id":`...), e.JourneyID)
		}
		b = append(b, '}')
	}
	if s.FailedSends != 0 {
		b = strconv.AppendInt(append(b, `,"failed_sends":`...), int64(s.FailedSends), 10)
	}
	if s.LastFailure != "" {
		b = appendString(append(b, `,"last_failure":`...), s.LastFailure)
	}
	return append(b, '}'), nil
}

// sortedKeys returns m's keys in order, as encoding/json writes a map.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendPath(b []byte, p *Path) ([]byte, error) {
	b = strconv.AppendInt(append(b, `{"id":`...), int64(p.ID), 10)
	b = appendString(append(b, `,"node":`...), p.Node)
	b = strconv.AppendInt(append(b, `,"visit":`...), int64(p.Visit), 10)
	if w := p.Wait; w != nil {
		b = appendString(append(b, `,"wait":{"kind":`...), string(w.Kind))
		if w.DueAt != nil {
			b = appendTime(append(b, `,"due_at":`...), *w.DueAt)
		}
		if w.EventType != "" {
			b = appendString(append(b, `,"event_type":`...), w.EventType)
		}
		if len(w.Filter) > 0 {
			raw, err := json.Marshal(w.Filter)
			if err != nil {
				return nil, fmt.Errorf("wait filter: %w", err)
			}
			b = append(append(b, `,"filter":`...), raw...)
		}
		if w.SendKey != "" {
			b = appendString(append(b, `,"send_key":`...), w.SendKey)
		}
		b = append(b, '}')
	}
	if !p.Since.IsZero() {
		b = appendTime(append(b, `,"since":`...), p.Since)
	}
	if p.Enter {
		b = append(b, `,"enter":true`...)
	}
	return append(b, '}'), nil
}

// appendTime writes t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(b, s[start:]...), '"')
}

// parseState reads a state column. Whitespace and key order are free (a
// PostgreSQL jsonb column gives them back changed), unknown keys are
// skipped, and null leaves a field empty, as encoding/json does; unlike it,
// keys match exactly, not case-insensitively. Malformed input is an error,
// never a panic.
func parseState(b []byte) (State, error) {
	d := decoder{b: b}
	var s State
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "paths":
			if d.null() {
				s.Paths = nil
				return nil
			}
			s.Paths = make([]Path, 0, 1)
			return d.array(func() error {
				var p Path
				if err := d.path(&p); err != nil {
					return err
				}
				s.Paths = append(s.Paths, p)
				return nil
			})
		case "next_path":
			return d.int(&s.NextPath)
		case "visits":
			return d.object(func(k []byte) error {
				if s.Visits == nil {
					s.Visits = map[string]int{}
				}
				var n int
				err := d.int(&n)
				s.Visits[string(k)] = n
				return err
			})
		case "vars":
			return d.object(func(k []byte) error {
				if s.Vars == nil {
					s.Vars = map[string]string{}
				}
				var v string
				err := d.string(&v)
				s.Vars[string(k)] = v
				return err
			})
		case "data":
			raw, err := d.value()
			if err == nil && string(raw) != "null" {
				if raw[0] != '{' {
					return d.errorf("instance data is not an object")
				}
				s.Data, s.data = nil, raw
			}
			return err
		case "event":
			return d.event(&s.Event)
		case "failed_sends":
			return d.int(&s.FailedSends)
		case "last_failure":
			return d.string(&s.LastFailure)
		}
		_, err := d.value()
		return err
	})
	if err == nil {
		d.space()
		if d.i < len(d.b) {
			err = d.errorf("data after the state")
		}
	}
	if err != nil {
		return State{}, fmt.Errorf("decode state: %w", err)
	}
	return s, nil
}

// decoder reads JSON from b at i. Its methods treat null as "leave empty".
type decoder struct {
	b []byte
	i int
}

func (d *decoder) errorf(format string, a ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, a...))
}

func (d *decoder) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// null consumes a null, if one is next.
func (d *decoder) null() bool {
	d.space()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object calls member with d positioned at each member's value.
func (d *decoder) object(member func(key []byte) error) error {
	return d.list('{', '}', "an object", func() error {
		key, err := d.key()
		if err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.errorf("want ':'")
		}
		d.i++
		return member(key)
	})
}

// array calls elem with d positioned at each element.
func (d *decoder) array(elem func() error) error {
	return d.list('[', ']', "an array", elem)
}

// list reads what open and end enclose (null is empty), calling item for
// each comma-separated part.
func (d *decoder) list(open, end byte, what string, item func() error) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != open {
		return d.errorf("want %s", what)
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == end {
		d.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ',' {
			d.i++
			continue
		}
		if d.i < len(d.b) && d.b[d.i] == end {
			d.i++
			return nil
		}
		return d.errorf("want ',' or '%c'", end)
	}
}

func (d *decoder) path(p *Path) error {
	return d.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return d.int(&p.ID)
		case "node":
			return d.string(&p.Node)
		case "visit":
			return d.int(&p.Visit)
		case "wait":
			if d.null() {
				p.Wait = nil
				return nil
			}
			p.Wait = &kalcifer.Wait{}
			return d.wait(p.Wait)
		case "since":
			return d.time(&p.Since)
		case "enter":
			return d.bool(&p.Enter)
		}
		_, err := d.value()
		return err
	})
}

func (d *decoder) wait(w *kalcifer.Wait) error {
	return d.object(func(key []byte) error {
		switch string(key) {
		case "kind":
			k, err := d.str()
			w.Kind = kalcifer.WaitKind(k)
			return err
		case "due_at":
			if d.null() {
				w.DueAt = nil
				return nil
			}
			w.DueAt = new(time.Time)
			return d.time(w.DueAt)
		case "event_type":
			return d.string(&w.EventType)
		case "filter":
			raw, err := d.value()
			if err != nil {
				return err
			}
			return json.Unmarshal(raw, &w.Filter)
		case "send_key":
			return d.string(&w.SendKey)
		}
		_, err := d.value()
		return err
	})
}

func (d *decoder) event(pe **kalcifer.Event) error {
	if d.null() {
		*pe = nil
		return nil
	}
	e := &kalcifer.Event{}
	*pe = e
	return d.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return d.string(&e.ID)
		case "client_id":
			return d.string(&e.ClientID)
		case "customer_id":
			return d.string(&e.CustomerID)
		case "event_type":
			return d.string(&e.Type)
		case "data":
			raw, err := d.value()
			if err == nil {
				e.Data = raw
			}
			return err
		case "timestamp":
			return d.time(&e.OccurredAt)
		case "received_at":
			return d.time(&e.ReceivedAt)
		case "journey_id":
			return d.string(&e.JourneyID)
		}
		_, err := d.value()
		return err
	})
}

func (d *decoder) string(s *string) error {
	if d.null() {
		return nil
	}
	v, err := d.str()
	*s = v
	return err
}

func (d *decoder) time(t *time.Time) error {
	if d.null() {
		return nil
	}
	start := d.i
	if err := d.skipString(); err != nil {
		return err
	}
	if err := t.UnmarshalJSON(d.b[start:d.i]); err != nil {
		return d.errorf("%v", err)
	}
	return nil
}

func (d *decoder) bool(v *bool) error {
	d.space()
	switch {
	case d.null():
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		*v, d.i = true, d.i+4
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		*v, d.i = false, d.i+5
	default:
		return d.errorf("want a boolean")
	}
	return nil
}

func (d *decoder) int(n *int) error {
	if d.null() {
		return nil
	}
	start := d.i
	if err := d.skipNumber(); err != nil {
		return err
	}
	v, err := strconv.Atoi(string(d.b[start:d.i]))
	if err != nil {
		return d.errorf("want an integer, not %s", d.b[start:d.i])
	}
	*n = v
	return nil
}

// str reads a string.
func (d *decoder) str() (string, error) {
	raw, quoted, err := d.rawString()
	if err != nil || !quoted {
		return string(raw), err
	}
	return unquote(raw)
}

// key reads an object's key, as bytes to compare without allocating.
func (d *decoder) key() ([]byte, error) {
	raw, quoted, err := d.rawString()
	if err != nil || !quoted {
		return raw, err
	}
	s, err := unquote(raw)
	return []byte(s), err
}

// rawString reads a string at d.i: its content, or when it has escapes or
// invalid UTF-8 (rare here) the whole quoted string for unquote.
func (d *decoder) rawString() (raw []byte, quoted bool, err error) {
	d.space()
	start := d.i
	if err := d.skipString(); err != nil {
		return nil, false, err
	}
	raw = d.b[start+1 : d.i-1]
	if bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw) {
		return d.b[start:d.i], true, nil
	}
	return raw, false, nil
}

// unquote decodes a quoted JSON string as encoding/json does.
func unquote(quoted []byte) (string, error) {
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// value skips one JSON value, checking it, and returns its bytes.
func (d *decoder) value() ([]byte, error) {
	d.space()
	start := d.i
	if err := d.skip(0); err != nil {
		return nil, err
	}
	return d.b[start:d.i], nil
}

// maxDepth bounds nesting, so a hostile document cannot exhaust the stack.
const maxDepth = 10000

func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return d.errorf("nested too deep")
	}
	d.space()
	if d.i >= len(d.b) {
		return d.errorf("unexpected end")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.skipObject(depth)
	case c == '[':
		return d.array(func() error { return d.skip(depth + 1) })
	case c == '"':
		return d.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
			d.i += len(lit)
			return nil
		}
	}
	return d.errorf("want a value")
}

// skipObject skips an object without making strings of its keys.
func (d *decoder) skipObject(depth int) error {
	d.i++ // '{'
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		if err := d.skipString(); err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.errorf("want ':'")
		}
		d.i++
		if err := d.skip(depth + 1); err != nil {
			return err
		}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ',' {
			d.i++
			continue
		}
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return nil
		}
		return d.errorf("want ',' or '}'")
	}
}

// skipString skips a string, checking its escapes and control characters.
func (d *decoder) skipString() error {
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return d.errorf("want a string")
	}
	for d.i++; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return nil
		case c < 0x20:
			return d.errorf("control character in a string")
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return d.errorf("unexpected end")
			}
			switch d.b[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(d.b)-d.i < 5 {
					return d.errorf("unexpected end")
				}
				for _, h := range d.b[d.i+1 : d.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return d.errorf("bad \\u escape")
					}
				}
				d.i += 4
			default:
				return d.errorf("bad escape")
			}
		}
	}
	return d.errorf("unterminated string")
}

// skipNumber skips a number in JSON's grammar.
func (d *decoder) skipNumber() error {
	d.space()
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i, n = d.i+1, n+1
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return d.errorf("want a number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return d.errorf("want digits after '.'")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return d.errorf("want digits in the exponent")
		}
	}
	return nil
}

// Package eval measures a designer against a corpus of briefs and campaign
// documents written by people who have not read the designer's code: it
// loads a corpus directory (docs/DESIGN_EVAL.md describes the format),
// designs every case with any designer.Designer, checks each expectation and
// reports the pass rate, the silently-wrong rate and how often each feature
// came out right. `kalcifer design eval DIR` is its command line.
//
// It imports designer (the interface), designer/document (plans are read
// exactly as the upload route reads them) and graph; never a concrete
// designer.
package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Features are the names a case's "features" may list, in report order.
var Features = []string{"entry", "channels", "timing", "conditions", "alternatives", "unless", "exits", "wait_until", "ab",
	"caps", "goals"}

// Case is one brief or document with the journey a careful reader would
// build from it.
type Case struct {
	Name     string   `json:"name"`
	Style    string   `json:"style,omitempty"`
	Industry string   `json:"industry,omitempty"`
	Text     string   `json:"text,omitempty"`
	Features []string `json:"features,omitempty"`
	Expect   Expect   `json:"expect"`
	Note     string   `json:"note,omitempty"`
	// Document is the path of the plan a document case reads ("" for a
	// brief); it is not part of the JSON.
	Document string `json:"-"`
}

// Expect lists what the designed journey must have; a field left out is not
// checked. Durations are written like 30m, 24h, 3d or 2w and compared as
// lengths of time.
type Expect struct {
	Entry        map[string]string `json:"entry,omitempty"`
	AskEntry     bool              `json:"ask_entry,omitempty"`
	Sends        map[string]int    `json:"sends,omitempty"`
	Waits        []string          `json:"waits,omitempty"` // nil: not checked; empty: no wait node
	WaitForEvent []WaitForEvent    `json:"wait_for_event,omitempty"`
	WaitUntil    []WaitUntil       `json:"wait_until,omitempty"`
	Conditions   []Condition       `json:"conditions,omitempty"`
	Edges        []string          `json:"edges,omitempty"`
	Exit         *Exit             `json:"exit,omitempty"`
	AB           []Split           `json:"ab,omitempty"`
	Cap          *Cap              `json:"cap,omitempty"`
	Goal         *Goal             `json:"goal,omitempty"`
	MustAsk      []string          `json:"must_ask,omitempty"`
	MustFlag     []string          `json:"must_flag,omitempty"`
	Error        bool              `json:"error,omitempty"`
}

// WaitForEvent is one expected wait_for_event node.
type WaitForEvent struct {
	EventType string `json:"event_type,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
}

// WaitUntil is one expected wait_until node; Offset is negative for "before".
type WaitUntil struct {
	Until  string `json:"until,omitempty"`
	Offset string `json:"offset,omitempty"`
}

// Condition is an attribute some condition node's expression must
// reference, and the value it must contain (any JSON value; nil: not checked).
type Condition struct {
	Attribute string `json:"attribute"`
	Value     any    `json:"value,omitempty"`
}

// Exit is what the graph's exit_criteria must hold.
type Exit struct {
	EventType          string   `json:"event_type,omitempty"`
	ExpressionMentions []string `json:"expression_mentions,omitempty"`
}

// Split is one expected ab_split: Weights in variant order, or Equal
// variants of (nearly) equal weight when written "equal:N".
type Split struct {
	Weights []int
	Equal   int
}

// UnmarshalJSON reads [70, 30] or "equal:3".
func (s *Split) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err == nil {
		var n int
		if _, err := fmt.Sscanf(text, "equal:%d", &n); err != nil || n < 2 || fmt.Sprintf("equal:%d", n) != text {
			return fmt.Errorf("ab split %q: write equal:N (N ≥ 2) or a list of weights", text)
		}
		s.Equal = n
		return nil
	}
	if err := json.Unmarshal(b, &s.Weights); err != nil || len(s.Weights) < 2 {
		return fmt.Errorf("ab split %s: write a list of at least two weights or \"equal:N\"", b)
	}
	return nil
}

// MarshalJSON writes the split as it was read.
func (s Split) MarshalJSON() ([]byte, error) {
	if s.Equal > 0 {
		return json.Marshal(fmt.Sprintf("equal:%d", s.Equal))
	}
	return json.Marshal(s.Weights)
}

// Cap is an expected frequency cap.
type Cap struct {
	Channel string `json:"channel,omitempty"`
	Max     int    `json:"max,omitempty"`
	Window  string `json:"window,omitempty"`
}

// Goal is an expected goal_reached node, reached only after EventType.
type Goal struct {
	GoalName  string `json:"goal_name,omitempty"`
	EventType string `json:"event_type,omitempty"`
}

// Load reads the corpus in dir: briefs.json (a JSON array of cases) and
// documents/<name>.expect.json beside each plan <name>.<ext>. Either part
// may be missing, not both. An unknown expectation field is an error (a
// misspelt expectation must not pass unchecked); unknown fields of a case
// outside "expect" are returned as warnings.
func Load(dir string) (cases []Case, warnings []string, err error) {
	found := false
	if data, err := os.ReadFile(filepath.Join(dir, "briefs.json")); err == nil {
		found = true
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, nil, fmt.Errorf("briefs.json: %w", err)
		}
		for i, raw := range raws {
			c, w, err := decodeCase(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("briefs.json case %d (%s): %w", i+1, c.Name, err)
			}
			if strings.TrimSpace(c.Text) == "" {
				return nil, nil, fmt.Errorf("briefs.json case %d (%s) has no text", i+1, c.Name)
			}
			cases = append(cases, c)
			warnings = append(warnings, w...)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	docs, err := loadDocuments(filepath.Join(dir, "documents"))
	if err != nil {
		return nil, nil, err
	}
	if docs.found {
		found = true
	}
	cases = append(cases, docs.cases...)
	warnings = append(warnings, docs.warnings...)
	if !found {
		return nil, nil, fmt.Errorf("%s holds neither briefs.json nor documents/", dir)
	}
	if len(cases) == 0 {
		return nil, nil, fmt.Errorf("%s holds no cases", dir)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			return nil, nil, fmt.Errorf("two cases are named %q", c.Name)
		}
		seen[c.Name] = true
	}
	return cases, warnings, nil
}

type documents struct {
	found    bool
	cases    []Case
	warnings []string
}

func loadDocuments(dir string) (documents, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return documents{}, nil
	}
	if err != nil {
		return documents{}, err
	}
	d := documents{found: true}
	files := map[string][]string{} // stem → plan files
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".expect.json") {
			continue
		}
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		files[stem] = append(files[stem], name)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".expect.json") {
			continue
		}
		stem := strings.TrimSuffix(name, ".expect.json")
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return documents{}, err
		}
		c, w, err := decodeCase(data)
		if err != nil {
			return documents{}, fmt.Errorf("documents/%s: %w", name, err)
		}
		plans := files[stem]
		if len(plans) != 1 {
			return documents{}, fmt.Errorf("documents/%s: want exactly one plan named %s.<ext> beside it, found %v", name, stem, plans)
		}
		if c.Name == "" {
			c.Name = stem
		}
		c.Document = filepath.Join(dir, plans[0])
		d.cases = append(d.cases, c)
		d.warnings = append(d.warnings, w...)
	}
	sort.Slice(d.cases, func(i, j int) bool { return d.cases[i].Document < d.cases[j].Document })
	return d, nil
}

// decodeCase reads one case: strictly inside "expect", leniently (with
// warnings) around it.
func decodeCase(raw []byte) (Case, []string, error) {
	var c Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return c, nil, err
	}
	var warnings []string
	known := []string{"name", "style", "industry", "text", "features", "expect", "note"}
	for k := range fields {
		if !slices.Contains(known, k) {
			warnings = append(warnings, fmt.Sprintf("%s: unknown field %q ignored", c.Name, k))
		}
	}
	sort.Strings(warnings)
	dec := json.NewDecoder(bytes.NewReader(fields["expect"]))
	dec.DisallowUnknownFields()
	if len(fields["expect"]) > 0 {
		if err := dec.Decode(&c.Expect); err != nil {
			return c, nil, fmt.Errorf("expect: %w", err)
		}
	}
	for _, f := range c.Features {
		if !slices.Contains(Features, f) {
			return c, nil, fmt.Errorf("unknown feature %q (known: %s)", f, strings.Join(Features, ", "))
		}
	}
	if err := c.Expect.check(); err != nil {
		return c, nil, err
	}
	return c, warnings, nil
}

// check refuses expectations that cannot be compared.
func (e Expect) check() error {
	bad := func(what, d string) error {
		if d == "" {
			return nil
		}
		if _, err := ParseDuration(d); err != nil {
			return fmt.Errorf("expect.%s: %w", what, err)
		}
		return nil
	}
	for _, w := range e.Waits {
		if err := bad("waits", w); err != nil {
			return err
		}
	}
	for _, w := range e.WaitForEvent {
		if err := bad("wait_for_event.timeout", w.Timeout); err != nil {
			return err
		}
	}
	for _, w := range e.WaitUntil {
		if err := bad("wait_until.offset", w.Offset); err != nil {
			return err
		}
	}
	if e.Cap != nil {
		if err := bad("cap.window", e.Cap.Window); err != nil {
			return err
		}
	}
	for _, s := range e.Edges {
		if !strings.Contains(s, "->") {
			return fmt.Errorf("expect.edges: %q is not srcType[branch]->dstType", s)
		}
	}
	return nil
}

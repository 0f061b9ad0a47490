package document_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer/document"
)

// expectation is the reader's part of a <name>.expect.json file.
type expectation struct {
	Format         string   `json:"format"`
	Steps          int      `json:"steps"`
	Days           []int    `json:"days"`
	Channels       []string `json:"channels"`
	Conditions     int      `json:"conditions"`
	TextContains   []string `json:"text_contains"`
	PromptContains []string `json:"prompt_contains"`
}

// testDocument is one plan of designer/testdata/documents and its
// expectations.
type testDocument struct {
	name string
	data []byte
	want expectation
	raw  []byte // the whole expect.json
}

const documentsDir = "../testdata/documents"

func loadDocuments(t testing.TB) []testDocument {
	t.Helper()
	expects, err := filepath.Glob(filepath.Join(documentsDir, "*.expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(expects) < 12 {
		t.Fatalf("found %d test documents, want at least 12", len(expects))
	}
	var docs []testDocument
	for _, e := range expects {
		raw, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		var want expectation
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		base := strings.TrimSuffix(e, ".expect.json")
		matches, _ := filepath.Glob(base + ".*")
		var name string
		for _, m := range matches {
			if m != e {
				name = m
			}
		}
		if name == "" {
			t.Fatalf("%s has no document beside it", e)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, testDocument{name: filepath.Base(name), data: data, want: want, raw: raw})
	}
	return docs
}

func TestReadTestDocuments(t *testing.T) {
	t.Parallel()
	formats := map[string]int{}
	for _, td := range loadDocuments(t) {
		formats[td.want.Format]++
		t.Run(td.name, func(t *testing.T) {
			t.Parallel()
			doc, err := document.Read(td.name, td.data)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.Format != td.want.Format {
				t.Errorf("format %q, want %q", doc.Format, td.want.Format)
			}
			var days []int
			var channels []string
			conditions := 0
			for i, s := range doc.Steps {
				if s.Index != i+1 {
					t.Errorf("step %d has index %d", i+1, s.Index)
				}
				if s.Source == "" {
					t.Errorf("step %d has no source", i+1)
				}
				days = append(days, s.Day)
				channels = append(channels, s.Channel)
				if s.Condition != "" {
					conditions++
				}
			}
			if len(doc.Steps) != td.want.Steps {
				t.Errorf("%d steps, want %d:\n%s", len(doc.Steps), td.want.Steps, dumpSteps(doc.Steps))
			}
			if !slices.Equal(days, td.want.Days) && !(len(days) == 0 && len(td.want.Days) == 0) {
				t.Errorf("days %v, want %v", days, td.want.Days)
			}
			if !slices.Equal(channels, td.want.Channels) && !(len(channels) == 0 && len(td.want.Channels) == 0) {
				t.Errorf("channels %v, want %v", channels, td.want.Channels)
			}
			if conditions != td.want.Conditions {
				t.Errorf("%d steps with a condition, want %d:\n%s", conditions, td.want.Conditions, dumpSteps(doc.Steps))
			}
			for _, s := range td.want.TextContains {
				if !strings.Contains(doc.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, doc.Text)
				}
			}
			prompt := doc.Prompt()
			for _, s := range td.want.PromptContains {
				if !slices.Contains(strings.Split(prompt, "\n"), s) {
					t.Errorf("prompt lacks the sentence\n  %s\nin\n%s", s, prompt)
				}
			}
			if len(doc.Steps) == 0 && prompt != doc.Text {
				t.Errorf("a plan without steps prompts %q, want its text", prompt)
			}
		})
	}
	for _, f := range []string{"csv", "xlsx", "docx"} {
		if formats[f] < 3 {
			t.Errorf("%d %s test documents, want at least 3", formats[f], f)
		}
	}
	if formats["pdf"] < 2 {
		t.Errorf("%d pdf test documents, want at least 2", formats["pdf"])
	}
}

func dumpSteps(steps []document.Step) string {
	b, _ := json.MarshalIndent(steps, "", "  ")
	return string(b)
}

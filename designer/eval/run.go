package eval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/designer/document"
)

// Result is how one case came out.
type Result struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // "brief" or "document"
	Pass   bool   `json:"pass"`
	Misses []Miss `json:"misses,omitempty"`
	// Silent is true for a failed case whose design asked no case-specific
	// follow-up question and listed nothing as not understood.
	Silent bool `json:"silent"`
	// Features maps each feature the case exercises to whether it came out
	// right.
	Features map[string]bool `json:"features"`
	// Err is the designer's (or the document reader's) refusal, if any.
	Err          string   `json:"error,omitempty"`
	Questions    []string `json:"follow_up_questions,omitempty"`
	Unrecognized []string `json:"unrecognized,omitempty"`
	// Design is the designer's answer, for reading a failure.
	Design *designer.Result `json:"design,omitempty"`
}

// Tally counts how often something came out right.
type Tally struct {
	Right int `json:"right"`
	Total int `json:"total"`
}

// Rate is Right/Total, 0 when there was nothing to count.
func (t Tally) Rate() float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(t.Right) / float64(t.Total)
}

// Report is a corpus run.
type Report struct {
	Designer string            `json:"designer"`
	Cases    int               `json:"cases"`
	Passed   int               `json:"passed"`
	Silent   int               `json:"silently_wrong"`
	PassRate float64           `json:"pass_rate"`
	Silence  float64           `json:"silently_wrong_rate"`
	Features map[string]*Tally `json:"features"`
	Results  []Result          `json:"results"`
}

// Run designs every case with d, one at a time in order, each within
// timeout (none when 0), and checks it. Documents are read as the upload
// route reads them: document.ReadContext, then the plan's prompt.
func Run(ctx context.Context, d designer.Designer, cases []Case, timeout time.Duration) Report {
	r := Report{Designer: d.Name(), Cases: len(cases), Features: map[string]*Tally{}}
	designs := make([]*designer.Result, len(cases))
	errs := make([]error, len(cases))
	for i, c := range cases {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, timeout)
		}
		designs[i], errs[i] = design(cctx, d, c)
		cancel()
	}
	generic := genericQuestions(designs)
	for i, c := range cases {
		res := judge(c, designs[i], errs[i], generic)
		if res.Pass {
			r.Passed++
		}
		if res.Silent {
			r.Silent++
		}
		for f, ok := range res.Features {
			t := r.Features[f]
			if t == nil {
				t = &Tally{}
				r.Features[f] = t
			}
			t.Total++
			if ok {
				t.Right++
			}
		}
		r.Results = append(r.Results, res)
	}
	if r.Cases > 0 {
		r.PassRate = float64(r.Passed) / float64(r.Cases)
		r.Silence = float64(r.Silent) / float64(r.Cases)
	}
	return r
}

// design asks d for c's journey: the brief's text, or the document's plan
// read exactly as POST /ai/upload reads it.
func design(ctx context.Context, d designer.Designer, c Case) (*designer.Result, error) {
	message := c.Text
	if c.Document != "" {
		data, err := os.ReadFile(c.Document)
		if err != nil {
			return nil, err
		}
		doc, err := document.ReadContext(ctx, filepath.Base(c.Document), data)
		if err != nil {
			return nil, err
		}
		message = doc.Prompt()
		if strings.TrimSpace(message) == "" {
			return nil, kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "nothing in %s reads as a journey step", filepath.Base(c.Document))
		}
	}
	res, err := d.Design(ctx, designer.Request{Message: message}, nil)
	if err != nil {
		return nil, err
	}
	if res == nil || res.Graph == nil {
		return nil, errors.New("the designer returned no journey")
	}
	if err := kalcifer.ValidateGraph(res.Graph); err != nil {
		return nil, fmt.Errorf("the designer produced an invalid journey: %s", kalcifer.ErrorMessage(err))
	}
	return res, nil
}

// judge checks one design and sorts its misses by feature.
func judge(c Case, res *designer.Result, err error, generic map[string]bool) Result {
	r := Result{Name: c.Name, Kind: "brief", Design: res, Features: map[string]bool{}}
	if c.Document != "" {
		r.Kind = "document"
	}
	if err != nil {
		r.Err = err.Error()
	}
	r.Misses = Check(c, res, err)
	r.Pass = len(r.Misses) == 0
	for _, f := range c.featuresJudged() {
		r.Features[f] = true
	}
	for _, m := range r.Misses {
		switch {
		case m.Field == "error": // a refusal, or a journey where one was wanted: nothing came out right
			for f := range r.Features {
				r.Features[f] = false
			}
		case m.Feature != "":
			if _, ok := r.Features[m.Feature]; ok {
				r.Features[m.Feature] = false
			}
		}
	}
	if res != nil {
		r.Questions, r.Unrecognized = res.FollowUpQuestions, res.Unrecognized
	}
	if !r.Pass && !c.Expect.Error {
		r.Silent = len(r.Unrecognized) == 0 && !slices.ContainsFunc(r.Questions, func(q string) bool { return !generic[q] && !isGeneric(q) })
		if err != nil { // a refusal says so
			r.Silent = false
		}
	}
	return r
}

// featuresJudged is the case's features plus those its expectation fields
// judge.
func (c Case) featuresJudged() []string {
	fs := slices.Clone(c.Features)
	add := func(f string, given bool) {
		if given && !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	e := c.Expect
	add("entry", e.Entry != nil || e.AskEntry)
	add("channels", e.Sends != nil)
	add("timing", e.Waits != nil || e.WaitForEvent != nil)
	add("wait_until", e.WaitUntil != nil)
	add("conditions", e.Conditions != nil)
	add(edgeFeature(c.Features), e.Edges != nil)
	add("exits", e.Exit != nil)
	add("ab", e.AB != nil)
	add("caps", e.Cap != nil)
	add("goals", e.Goal != nil)
	return fs
}

// isGeneric reports whether q is a question asked of every design that
// names no template, which says nothing about this text.
func isGeneric(q string) bool {
	return strings.Contains(strings.ToLower(q), "template")
}

// genericQuestions are the questions asked, word for word, of at least
// half of the designs (and of at least four): asked of every text, they
// say nothing about any one.
func genericQuestions(designs []*designer.Result) map[string]bool {
	count := map[string]int{}
	n := 0
	for _, d := range designs {
		if d == nil {
			continue
		}
		n++
		seen := map[string]bool{}
		for _, q := range d.FollowUpQuestions {
			if !seen[q] {
				seen[q] = true
				count[q]++
			}
		}
	}
	generic := map[string]bool{}
	for q, c := range count {
		if c >= 4 && 2*c >= n {
			generic[q] = true
		}
	}
	return generic
}

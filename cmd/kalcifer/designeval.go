package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/designer/eval"
)

// designEval runs a design-eval corpus (docs/DESIGN_EVAL.md) against the
// server's designer (KALCIFER_AI_*; offline by default) and prints each
// case, the pass rate, the silently-wrong rate and the rate per feature.
func designEval(args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("design eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (every case, its misses and its design)")
	verbose := fs.Bool("v", false, "print every case with its questions and not-understood lines, passes too")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: kalcifer design eval DIR [--json] [-v]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("design eval needs one corpus directory (briefs.json and/or documents/)")}
	}
	cases, warnings, err := eval.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	c, err := LoadConfig(env, nil)
	if err != nil {
		return usageError{err}
	}
	d, err := newDesigner(c.AI, c.Outbound, nil)
	if err != nil {
		return err
	}
	timeout := c.AI.Timeout * time.Duration(max(1, c.AI.MaxRepairs+1))
	r := eval.Run(context.Background(), d, cases, timeout)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(stdout, r, *verbose)
	return nil
}

// printReport writes r for people: a line per case (failures with their
// misses; every case with -v), then the totals and each feature.
func printReport(w io.Writer, r eval.Report, verbose bool) {
	for _, res := range r.Results {
		status := "PASS"
		if !res.Pass {
			status = "FAIL"
		}
		if res.Silent {
			status += " SILENT"
		}
		fmt.Fprintf(w, "%-11s %s (%s)\n", status, res.Name, res.Kind)
		for _, m := range res.Misses {
			fmt.Fprintf(w, "    - %s\n", m)
		}
		if !verbose {
			continue
		}
		if res.Err != "" {
			fmt.Fprintf(w, "    error: %s\n", res.Err)
		}
		for _, q := range res.Questions {
			fmt.Fprintf(w, "    question: %s\n", q)
		}
		for _, u := range res.Unrecognized {
			fmt.Fprintf(w, "    not understood: %s\n", u)
		}
		if res.Design != nil {
			var nodes []string
			for _, n := range res.Design.Graph.Nodes {
				nodes = append(nodes, n.Type)
			}
			fmt.Fprintf(w, "    nodes: %s\n", strings.Join(nodes, " "))
		}
	}
	fmt.Fprintf(w, "\ndesigner %s: %d/%d passed (%.1f %%), %d silently wrong (%.1f %%)\n", r.Designer, r.Passed, r.Cases,
		100*r.PassRate, r.Silent, 100*r.Silence)
	fmt.Fprintf(w, "\n%-13s %s\n", "feature", "right/total")
	for _, f := range eval.Features {
		if t := r.Features[f]; t != nil {
			fmt.Fprintf(w, "%-13s %3d/%-3d %5.1f %%\n", f, t.Right, t.Total, 100*t.Rate())
		}
	}
}

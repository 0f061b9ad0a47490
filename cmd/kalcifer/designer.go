package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/designer/document"
	"github.com/kalcifer/kalcifer/designer/llm"
	"github.com/kalcifer/kalcifer/designer/offline"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/store"
)

// newDesigner returns the designer c names: the offline designer, or an
// LLM provider checked for a usable configuration, speaking through client
// (a client guarded by guard; a new one when nil). A base URL whose host is
// an address guard refuses is refused here already; a name is checked
// each time it is connected to.
func newDesigner(c AIConfig, guard netguard.Policy, client *http.Client) (designer.Designer, error) {
	if c.Provider == "" || c.Provider == kalcifer.AIOffline {
		return offline.New(), nil
	}
	if u, err := url.Parse(c.BaseURL); err == nil {
		if err := guard.CheckHost(u.Hostname()); err != nil {
			return nil, fmt.Errorf("base URL %s: %w", u.Redacted(), err)
		}
	}
	if client == nil {
		client = guard.Client()
	}
	return llm.New(llm.Config{Provider: c.Provider, BaseURL: c.BaseURL, APIKey: c.APIKey, Model: c.Model,
		MaxRepairs: repairs(c.MaxRepairs), Timeout: c.Timeout}, client)
}

// repairs maps "0 repairs" in configuration to llm's "never" (negative).
func repairs(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// designerService is the AI designer the API serves: the server's
// designer (KALCIFER_AI_*) for tenants whose admin chose none, else the one
// their settings (PUT /ai/settings) name; the offline designer's rules
// propose improvements. Every provider is spoken to through one client
// guarded by guard: the operator's base URL as much as a tenant's, so an
// internal model server is reached only when the operator allows its
// address.
func designerService(st *store.Store, def AIConfig, guard netguard.Policy) (*designer.Service, error) {
	client := guard.Client()
	d, err := newDesigner(def, guard, client)
	if err != nil {
		return nil, err
	}
	return designer.NewService(designer.Config{Store: st, Default: d, FromSettings: fromSettings(def.Timeout, guard, client),
		Suggest: offline.Suggest}), nil
}

// fromSettings makes the designer a tenant's AI settings name, with the
// server's provider timeout and guarded client.
func fromSettings(timeout time.Duration, guard netguard.Policy, client *http.Client) func(kalcifer.AISettings) (designer.Designer, error) {
	return func(a kalcifer.AISettings) (designer.Designer, error) {
		c := AIConfig{Provider: a.Provider, BaseURL: a.BaseURL, APIKey: a.APIKey, Model: a.Model, MaxRepairs: a.MaxRepairs,
			Timeout: timeout}
		if a.MaxRepairs == 0 {
			c.MaxRepairs = llm.DefaultMaxRepairs
		}
		return newDesigner(c, guard, client)
	}
}

// design prints a journey designed from a description or a plan, with the
// server's AI configuration (KALCIFER_AI_*; offline by default).
func design(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "eval" {
		return designEval(args[1:], env, stdout, stderr)
	}
	fs := flag.NewFlagSet("design", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "a campaign plan to read: CSV, XLSX, DOCX, PDF, TXT or MD")
	asJSON := fs.Bool("json", false, "print the whole answer as JSON (graph, explanation, questions, unrecognized, detected steps)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: kalcifer design "DESCRIPTION" | --file PLAN [--json]`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorder(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	description := strings.Join(fs.Args(), " ")
	if (*file == "") == (strings.TrimSpace(description) == "") {
		return usageError{errors.New(`design needs a description in quotes or --file PLAN (one of the two)`)}
	}
	c, err := LoadConfig(env, nil)
	if err != nil {
		return err
	}
	d, err := newDesigner(c.AI, c.Outbound, nil)
	if err != nil {
		return err
	}
	var steps []document.Step
	if *file != "" {
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		doc, err := document.Read(filepath.Base(*file), data)
		if err != nil {
			return err
		}
		description, steps = doc.Prompt(), doc.Steps
		if strings.TrimSpace(description) == "" {
			return fmt.Errorf("nothing in %s reads as a journey step", *file)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.AI.Timeout*time.Duration(max(1, c.AI.MaxRepairs+1)))
	defer cancel()
	res, err := d.Design(ctx, designer.Request{Message: description}, nil)
	if err != nil {
		return err
	}
	if err := kalcifer.ValidateGraph(res.Graph); err != nil {
		return fmt.Errorf("the designer produced an invalid journey: %s", kalcifer.ErrorMessage(err))
	}
	if *asJSON {
		out := struct {
			*designer.Result
			DetectedSteps []document.Step `json:"detected_steps,omitempty"`
		}{res, steps}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	g, err := json.MarshalIndent(res.Graph, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n\n%s\n", g, res.Explanation)
	if len(steps) > 0 {
		fmt.Fprintf(stdout, "\nDetected %d steps in %s.\n", len(steps), *file)
	}
	for _, q := range res.FollowUpQuestions {
		fmt.Fprintf(stdout, "\nQuestion: %s", q)
	}
	for _, u := range res.Unrecognized {
		fmt.Fprintf(stdout, "\nNot understood (left out): %s", u)
	}
	if len(res.FollowUpQuestions)+len(res.Unrecognized) > 0 {
		fmt.Fprintln(stdout)
	}
	return nil
}

// reorder moves flags before the description, so that both
// `design "text" --json` and `design --json "text"` work.
func reorder(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--file" || a == "-file":
			flags = append(flags, a)
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

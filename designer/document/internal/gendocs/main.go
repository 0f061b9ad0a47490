// Command gendocs writes the campaign-plan test documents of
// designer/testdata/documents: each plan in its file format, and beside it
// <name>.expect.json with the steps a reader should find and the journey a
// designer should build. The expectations are written by hand here, next to
// the plan they describe — never derived from the reader under test.
//
// Run it with `go generate ./designer/document`.
//
// Three more plans sit beside them that this command does not write,
// typeset by real PDF producers so the reader is tested on compressed
// streams, embedded fonts and lines without text-object breaks:
// spring_sale_groff.pdf and spring_sale_ghostscript.pdf from spring_sale.ms
// (`groff -ms -Tpdf`, and `groff -ms -Tps | ps2pdf`), and
// trial_nurture_groff_table.pdf from trial_nurture.ms (`groff -k -t -ms
// -Tpdf`, a tbl table). Their expect.json files are written by hand.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// expect is the content of a <name>.expect.json file.
type expect struct {
	Format string `json:"format"`
	// Steps, Days and Channels describe the detected steps, in order.
	Steps    int      `json:"steps"`
	Days     []int    `json:"days"`
	Channels []string `json:"channels"`
	// Conditions counts the steps with a condition.
	Conditions int `json:"conditions"`
	// TextContains are phrases Document.Text must hold.
	TextContains []string `json:"text_contains"`
	// PromptContains are sentences Document.Prompt must hold.
	PromptContains []string `json:"prompt_contains"`
	Journey        journey  `json:"journey"`
}

// journey is the structure a designer should build from the plan.
type journey struct {
	// Sends counts the channel nodes by node type.
	Sends map[string]int `json:"sends"`
	// Waits are the durations between successive steps' days; each must
	// be a wait node's duration.
	Waits []string `json:"waits"`
	// Branches is the least number of branching nodes (condition,
	// wait_for_event) the conditional steps need.
	Branches int `json:"branches"`
	// ExitCriteria says the plan states an exit rule.
	ExitCriteria bool `json:"exit_criteria"`
}

// plan is one generated document.
type plan struct {
	name   string // file name
	data   func() ([]byte, error)
	expect expect
}

func main() {
	out := flag.String("out", "../testdata/documents", "directory to write the documents to")
	mini4 := flag.String("mini4docs", "", "write mini4docs' binary plans to this directory instead")
	mini5 := flag.String("mini5docs", "", "write mini5docs' binary plans to this directory instead")
	flag.Parse()
	if *mini4 != "" {
		if err := writeMini4Docs(*mini4); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *mini5 != "" {
		if err := writeMini5Docs(*mini5); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, p := range plans() {
		data, err := p.data()
		if err != nil {
			log.Fatalf("%s: %v", p.name, err)
		}
		if err := os.WriteFile(filepath.Join(*out, p.name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		e := p.expect
		e.Format = strings.TrimPrefix(filepath.Ext(p.name), ".")
		if e.Format == "tsv" {
			e.Format = "csv"
		}
		e.Steps = len(e.Days)
		e.Journey = deriveJourney(e, p.expect.Journey.ExitCriteria)
		js, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		base := strings.TrimSuffix(p.name, filepath.Ext(p.name))
		if err := os.WriteFile(filepath.Join(*out, base+".expect.json"), append(js, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// deriveJourney states the journey a plan's steps call for: a send per
// step, a wait for each gap between days, a branch per condition.
func deriveJourney(e expect, exit bool) journey {
	j := journey{Sends: map[string]int{}, Waits: []string{}, Branches: e.Conditions, ExitCriteria: exit}
	nodeType := map[string]string{"email": "send_email", "sms": "send_sms", "push": "send_push", "whatsapp": "send_whatsapp", "webhook": "call_webhook"}
	prev := 0
	for i, ch := range e.Channels {
		j.Sends[nodeType[ch]]++
		if d := e.Days[i]; d > prev {
			j.Waits = append(j.Waits, fmt.Sprintf("%dd", d-prev))
			prev = d
		}
	}
	return j
}

// text returns fixed bytes.
func text(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

// csvRows joins rows with sep, quoting cells that need it, CRLF-ended as
// Excel writes them.
func csvRows(sep string, rows ...[]string) string {
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i > 0 {
				b.WriteString(sep)
			}
			if strings.ContainsAny(c, sep+"\"\n") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(c)
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func bom(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return append([]byte{0xEF, 0xBB, 0xBF}, s...), nil }
}

func windows1252(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return cp1252(s), nil }
}

func xlsx(sheets ...sheet) func() ([]byte, error) {
	return func() ([]byte, error) { return writeXLSX(sheets) }
}

func docx(blocks ...block) func() ([]byte, error) {
	return func() ([]byte, error) { return writeDOCX(blocks) }
}

func pdfDoc(pages ...[]string) func() ([]byte, error) {
	return func() ([]byte, error) { return writePDF(pages), nil }
}

// date is a calendar day, stored in a sheet as an Excel date.
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func p(s string) block             { return block{para: s} }
func li(s string) block            { return block{para: s, bullet: true} }
func tbl(rows ...[]string) block   { return block{table: rows} }
func row(cells ...string) []string { return cells }

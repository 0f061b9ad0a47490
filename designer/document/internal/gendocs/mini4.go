package main

import (
	"os"
	"path/filepath"
)

// writeMini4Docs writes the binary plans of designer/testdata/mini4docs
// (XLSX, DOCX, PDF) into dir; its CSV, Markdown and text plans and every
// expect.json there are written by hand. Run it with `go run
// ./designer/document/internal/gendocs -mini4docs designer/testdata/mini4docs/documents`.
func writeMini4Docs(dir string) error {
	x, err := writeXLSX([]sheet{{name: "Loyalty", rows: [][]any{
		{"Gold tier perks test"},
		{"Audience", "segment gold_members"},
		{"Allocation", "40/40/20"},
		{"Goal", "redemption - points_redeemed within 14 days"},
		{},
		{"Arm", "When", "Channel", "Copy"},
		{"A", "Day 0", "Email", "Your gold perks"},
		{"B", "Day 0", "SMS", "Gold perks inside"},
		{"C", "Day 0", "-", "holdout, no message"},
	}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "loyalty_tiers.xlsx"), x, 0o644); err != nil {
		return err
	}
	d, err := writeDOCX([]block{
		{para: "Clinic follow-up - spec"},
		{para: "Trigger event: visit_completed (sent by the practice system)"},
		{table: [][]string{
			{"Step", "Wait", "Via", "What", "Condition", "Otherwise"},
			{"1", "2 hours", "SMS", "How was your visit?", "-", "-"},
			{"2", "3 days", "Email", "Book your follow-up", "follow_up_needed = true", "Push: stay-healthy tips"},
		}},
		{para: "Exit rules"},
		{para: "Leave when appointment_booked arrives."},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "clinic_followup.docx"), d, 0o644); err != nil {
		return err
	}
	p := writePDF([][]string{{
		"Dunning sequence - finance ops",
		"Entry event: payment_failed",
		"Step\tDelay\tChannel\tContent",
		"1\t0\tEmail\tPayment failed - update your card",
		"2\t1 day\tSMS\tYour card was declined",
		"3\t3 days\tEmail\tLast notice before suspension",
		"Frequency cap: email - max 1 in any 24 hours",
		"Exit: payment_succeeded",
	}})
	if err := os.WriteFile(filepath.Join(dir, "saas_dunning.pdf"), p, 0o644); err != nil {
		return err
	}
	return nil
}

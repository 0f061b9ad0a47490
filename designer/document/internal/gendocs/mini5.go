package main

import (
	"os"
	"path/filepath"
)

// writeMini5Docs writes the binary plans of designer/testdata/mini5docs
// (XLSX, DOCX, PDF) into dir; its CSV, Markdown and text plans and every
// expect.json there are written by hand. Run it with `go run
// ./designer/document/internal/gendocs -mini5docs designer/testdata/mini5docs/documents`.
func writeMini5Docs(dir string) error {
	x, err := writeXLSX([]sheet{{name: "Appeal", rows: [][]any{
		{"Spring appeal - monthly givers"},
		{"Audience", "segment monthly_givers"},
		{"Goal", "upgrade - gift_increased within 21 days"},
		{},
		{"Treatment", "Weight %", "Offset", "Type", "Copy"},
		{"Holdout", "10", "", "", "no message"},
		{"Video", "45", "Day 0", "Email", "Watch what your gift built"},
		{"Video", "45", "Day 4", "Push", "One more minute of your time"},
		{"Letter", "45", "Day 0", "Email", "A letter from our founder"},
	}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "charity_treatments.xlsx"), x, 0o644); err != nil {
		return err
	}
	d, err := writeDOCX([]block{
		{para: "Claims care journey"},
		{para: "Starts when: the claims platform posts to our webhook"},
		{para: "Leave when: claim_closed"},
		{para: "Touch plan"},
		{table: [][]string{
			{"When", "Channel", "Message", "Only if"},
			{"Immediately", "SMS", "We have your claim", "-"},
			{"3 days after the SMS", "Email", "Upload your photos", "photos_uploaded is false"},
			{"4 days after the email", "Email", "Rate your adjuster", "-"},
		}},
		{para: "photos_uploaded is a customer attribute kept by the claims platform."},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "insurance_claim_care.docx"), d, 0o644); err != nil {
		return err
	}
	p := writePDF([][]string{{
		"Prescription pickup reminders",
		"Entry event: prescription_ready",
		"Cap: at most 1 SMS per day",
		"Step\tDay\tChannel\tMessage\tNotes",
		"1\tDay 0\tSMS\tYour prescription is ready\t-",
		"2\tDay 2\tEmail\tStill waiting for you at the counter\tskip if they already collected it (prescription_collected)",
		"3\tDay 2\tLetter\tPrinted reminder to the home address\tstore team",
	}})
	if err := os.WriteFile(filepath.Join(dir, "pharmacy_pickup.pdf"), p, 0o644); err != nil {
		return err
	}
	return nil
}

// Package document reads campaign-plan documents — CSV, XLSX, DOCX, PDF and
// plain text or Markdown — and finds the journey steps they describe (seed
// FR-1.2: "upload a campaign plan"). Read returns the document's prose and
// its detected steps; Document.Prompt renders them as plain English for a
// designer.
//
// It imports only the standard library, excelize (XLSX) and ledongthuc/pdf
// (PDF text); nothing of Kalcifer's own. Third-party parsers run under
// recover, so a hostile file yields an error, never a panic.
package document

//go:generate go run ./internal/gendocs -out ../testdata/documents

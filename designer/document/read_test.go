package document_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kalcifer/kalcifer/designer/document"
)

func TestReadRefusesBadInput(t *testing.T) {
	t.Parallel()
	docx, err := os.ReadFile(filepath.Join(documentsDir, "product_launch_brief.docx"))
	if err != nil {
		t.Fatal(err)
	}
	xlsx, err := os.ReadFile(filepath.Join(documentsDir, "post_purchase.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := os.ReadFile(filepath.Join(documentsDir, "renewal_reminders.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	var noDocument bytes.Buffer
	zw := zip.NewWriter(&noDocument)
	w, _ := zw.Create("word/styles.xml")
	w.Write([]byte("<styles/>"))
	zw.Close()
	encryptedPDF := bytes.Replace(pdf, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt 9 0 R"), 1)

	for _, tc := range []struct {
		name     string
		filename string
		data     []byte
		want     error
	}{
		{"empty file", "plan.csv", nil, document.ErrEmpty},
		{"blank CSV", "plan.csv", []byte("\r\n  \n"), document.ErrEmpty},
		{"CSV of empty cells", "plan.csv", []byte(",,,\n,,\n\"\",,\n"), document.ErrEmpty},
		{"too large", "plan.csv", bytes.Repeat([]byte("Day 0,Email,Welcome\n"), document.MaxSize/20+1), document.ErrTooLarge},
		{"unknown extension", "plan.key", []byte("Day 0 – Email"), document.ErrUnsupported},
		{"legacy Excel", "plan.xls", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, document.ErrUnsupported},
		{"legacy Word", "plan.doc", []byte("anything"), document.ErrUnsupported},
		{"password-protected xlsx", "plan.xlsx", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, document.ErrEncrypted},
		{"text named xlsx", "plan.xlsx", []byte("Day,Channel\n0,Email\n"), document.ErrCorrupt},
		{"truncated docx", "plan.docx", docx[:len(docx)/2], document.ErrCorrupt},
		{"truncated xlsx", "plan.xlsx", xlsx[:len(xlsx)/2], document.ErrCorrupt},
		{"zip without a document", "plan.docx", noDocument.Bytes(), document.ErrCorrupt},
		{"xlsx named docx", "plan.docx", xlsx, document.ErrCorrupt},
		{"not a PDF", "plan.pdf", []byte("Day 0 - Email: Welcome\n"), document.ErrCorrupt},
		{"truncated PDF", "plan.pdf", pdf[:len(pdf)/2], document.ErrCorrupt},
		{"encrypted PDF", "plan.pdf", encryptedPDF, document.ErrEncrypted},
		{"binary named csv", "plan.csv", []byte("PK\x03\x04\x00\x00binary"), document.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := document.Read(tc.filename, tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read = %v, %v; want an error wrapping %v", doc, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.filename) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestReadNeverPanics feeds every test document cut short and with bytes
// overwritten: Read must return a document or an error, never panic.
func TestReadNeverPanics(t *testing.T) {
	t.Parallel()
	for _, td := range loadDocuments(t) {
		for _, cut := range []int{1, 7, 64, len(td.data) / 3, len(td.data) - 1} {
			if cut < len(td.data) {
				readSafely(t, td.name, td.data[:cut])
			}
		}
		for _, at := range []int{len(td.data) / 5, len(td.data) / 2, len(td.data) * 4 / 5} {
			mangled := bytes.Clone(td.data)
			for i := at; i < at+16 && i < len(mangled); i++ {
				mangled[i] ^= 0x5A
			}
			readSafely(t, td.name, mangled)
		}
	}
}

func readSafely(t *testing.T, name string, data []byte) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Read(%s, %d bytes) panicked: %v", name, len(data), r)
		}
	}()
	if doc, err := document.Read(name, data); err == nil && doc == nil {
		t.Errorf("Read(%s) returned neither a document nor an error", name)
	}
}

func TestReadSniffsFormatWithoutExtension(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"webinar_series.xlsx":   "xlsx",
		"onboarding_prose.docx": "docx",
		"referral_program.pdf":  "pdf",
	} {
		data, err := os.ReadFile(filepath.Join(documentsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := document.Read("upload", data)
		if err != nil {
			t.Fatalf("%s without extension: %v", name, err)
		}
		if doc.Format != want || len(doc.Steps) == 0 {
			t.Errorf("%s without extension: format %q with %d steps, want %q with steps", name, doc.Format, len(doc.Steps), want)
		}
	}
}

func TestReadCSVDelimitersAndEncodings(t *testing.T) {
	t.Parallel()
	const plan = "Day|Channel|Message\nDay 0|Email|Welcome – friend\nDay 2|SMS|Reminder\n"
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range strings.ReplaceAll(plan, "|", "\t") {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	for name, data := range map[string][]byte{
		"comma":          []byte(strings.ReplaceAll(plan, "|", ",")),
		"semicolon":      []byte(strings.ReplaceAll(plan, "|", ";")),
		"tab":            []byte(strings.ReplaceAll(plan, "|", "\t")),
		"BOM and CRLF":   []byte("\xEF\xBB\xBF" + strings.ReplaceAll(strings.ReplaceAll(plan, "|", ","), "\n", "\r\n")),
		"Windows-1252":   []byte(strings.ReplaceAll(strings.ReplaceAll(plan, "|", ";"), "–", "\x96")),
		"UTF-16 unicode": utf16,
	} {
		doc, err := document.Read("plan.csv", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(doc.Steps) != 2 || doc.Steps[0].Content != "Welcome – friend" || doc.Steps[1].Day != 2 || doc.Steps[1].Channel != "sms" {
			t.Errorf("%s: steps %+v", name, doc.Steps)
		}
		if strings.Contains(doc.Text, "\uFEFF") {
			t.Errorf("%s: the byte order mark leaked into the text", name)
		}
	}
}

func TestReadCapsSteps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("Day,Channel,Message\n")
	for i := range document.MaxSteps + 50 {
		fmt.Fprintf(&b, "Day %d,Email,Message %d\n", i, i)
	}
	doc, err := document.Read("export.csv", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) != document.MaxSteps || doc.Steps[document.MaxSteps-1].Day != document.MaxSteps-1 {
		t.Errorf("%d steps, want the first %d", len(doc.Steps), document.MaxSteps)
	}
}

func TestStepsOfAPlanWithoutStepsMarshalAsEmptyList(t *testing.T) {
	t.Parallel()
	doc, err := document.Read("notes.txt", []byte("Some thoughts on tone of voice."))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"steps":[]`) {
		t.Errorf("JSON %s, want \"steps\":[]", js)
	}
}

// TestReadEncryptedPDFs reads PDFs encrypted by qpdf from the renewal test
// plan (testdata/*.pdf, made with `qpdf [--allow-weak-crypto] --encrypt
// USER OWNER 128|256 [--use-aes=n]`): one restricted by an owner password
// only opens; ones that need a user password are refused as encrypted.
func TestReadEncryptedPDFs(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]error{
		"owner_password_only.pdf":  nil,
		"user_password.pdf":        document.ErrEncrypted,
		"user_password_aes256.pdf": document.ErrEncrypted,
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := document.Read(name, data)
		if !errors.Is(err, want) || (want != nil) != (err != nil) {
			t.Errorf("%s: error %v, want %v", name, err, want)
			continue
		}
		if want == nil && len(doc.Steps) != 4 {
			t.Errorf("%s: %d steps, want the renewal plan's 4", name, len(doc.Steps))
		}
	}
}

// TestReadPasswordProtectedXLSX saves a workbook with a password, as Excel's
// "Encrypt with password" does, and reads it under both office extensions.
func TestReadPasswordProtectedXLSX(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"Day", "Channel", "Message"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, excelize.Options{Password: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plan.xlsx", "plan.docx"} {
		if _, err := document.Read(name, buf.Bytes()); !errors.Is(err, document.ErrEncrypted) {
			t.Errorf("%s: error %v, want ErrEncrypted", name, err)
		}
	}
}

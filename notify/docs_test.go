package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/notify"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/store"
	"github.com/kalcifer/kalcifer/store/sqlite"
)

// VerifyKalcifer reports whether a request's X-Kalcifer-Signature signs its
// X-Kalcifer-Timestamp and raw body under secret, with a timestamp within
// tolerance of now.
func VerifyKalcifer(secret, timestamp, signature string, body []byte, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > tolerance {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

// signedRequest is one real delivery, as the receiver saw it.
type signedRequest struct {
	Secret    string `json:"secret"`
	Timestamp string `json:"timestamp"`
	Signature string `json:"signature"`
	Body      string `json:"body"`
}

// realDelivery makes a subscription and delivers one event to a local
// receiver, on the wall clock (the snippets check the timestamp against
// theirs), and returns the request as it arrived.
func realDelivery(t *testing.T) signedRequest {
	t.Helper()
	ctx := context.Background()
	b, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.New(b, kalcifer.SystemClock{}, secrets.Generate())
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.EnsureTenant(ctx, "test", kalcifer.DefaultTenantID); err != nil {
		t.Fatal(err)
	}
	got := make(chan signedRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- signedRequest{Timestamp: r.Header.Get(webhook.HeaderTimestamp), Signature: r.Header.Get(webhook.HeaderSignature), Body: string(body)}
	}))
	t.Cleanup(srv.Close)
	sub := &kalcifer.WebhookSubscription{TenantID: kalcifer.DefaultTenantID, URL: srv.URL, Events: []string{kalcifer.HookAlertFired}, Active: true}
	secret, err := st.CreateHookSubscription(ctx, "test", sub)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WithEngineTx(ctx, func(tx *store.EngineTx) error {
		return tx.EnqueueHooks([]kalcifer.HookEvent{{Type: kalcifer.HookAlertFired, TenantID: kalcifer.DefaultTenantID,
			Data: map[string]any{"message": "naïve ünïcode — and \"quotes\""}}})
	}); err != nil {
		t.Fatal(err)
	}
	d := notify.NewDeliverer(notify.Config{Store: st, Client: client})
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("deliver: %d, %v", n, err)
	}
	req := <-got
	req.Secret = secret
	return req
}

// cases are what each snippet is asked: the real request (true), its body
// changed by one byte (false), another secret (false), and a timestamp an
// hour old signed correctly (false: a replay).
func cases(r signedRequest) []signedRequest {
	tampered := r
	tampered.Body = strings.Replace(r.Body, "alert.fired", "alert.firez", 1)
	wrong := r
	wrong.Secret = r.Secret + "x"
	old := r
	ts, _ := strconv.ParseInt(r.Timestamp, 10, 64)
	old.Timestamp = strconv.FormatInt(ts-3600, 10)
	old.Signature = webhook.Sign([]byte(r.Secret), old.Timestamp, []byte(r.Body))
	return []signedRequest{r, tampered, wrong, old}
}

const wantAnswers = "true false false false"

// snippet returns the fenced code block of language lang in
// docs/WEBHOOKS.md's "Verifying signatures" section.
func snippet(t *testing.T, lang string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "docs", "WEBHOOKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "## Verifying signatures")
	if !ok {
		t.Fatal(`docs/WEBHOOKS.md has no "## Verifying signatures" section`)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatalf("docs/WEBHOOKS.md has no %s snippet", lang)
	}
	return m[1]
}

// TestGoSnippet: the Go snippet in the docs is VerifyKalcifer above, word
// for word, and it accepts a real delivery and refuses altered ones.
func TestGoSnippet(t *testing.T) {
	src, err := os.ReadFile("docs_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if doc := snippet(t, "go"); !strings.Contains(string(src), doc) {
		t.Fatalf("the docs' Go snippet differs from VerifyKalcifer in docs_test.go:\n%s", doc)
	}
	var answers []string
	for _, c := range cases(realDelivery(t)) {
		answers = append(answers, strconv.FormatBool(VerifyKalcifer(c.Secret, c.Timestamp, c.Signature, []byte(c.Body), 5*time.Minute)))
	}
	if got := strings.Join(answers, " "); got != wantAnswers {
		t.Fatalf("VerifyKalcifer answered %s, want %s", got, wantAnswers)
	}
}

// TestPythonSnippet runs the docs' Python snippet with python3.
func TestPythonSnippet(t *testing.T) {
	runSnippet(t, "python3", "verify.py", snippet(t, "python")+`
import json, sys
for c in json.load(sys.stdin):
    print(str(verify_kalcifer(c["secret"], c["timestamp"], c["signature"], c["body"].encode())).lower())
`)
}

// TestNodeSnippet runs the docs' Node snippet with node.
func TestNodeSnippet(t *testing.T) {
	runSnippet(t, "node", "verify.js", snippet(t, "js")+`
const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
for (const c of cases) console.log(String(verifyKalcifer(c.secret, c.timestamp, c.signature, Buffer.from(c.body, "utf8"))));
`)
}

// runSnippet runs program with interpreter, the cases on its stdin, and
// checks its answers.
func runSnippet(t *testing.T, interpreter, file, program string) {
	path, err := exec.LookPath(interpreter)
	if err != nil {
		t.Skipf("%s is not installed, so the docs' %s snippet cannot be run here", interpreter, interpreter)
	}
	script := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(script, []byte(program), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(cases(realDelivery(t)))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", interpreter, err, out)
	}
	if got := strings.Join(strings.Fields(string(out)), " "); got != wantAnswers {
		t.Fatalf("the %s snippet answered %q, want %q", interpreter, got, wantAnswers)
	}
}

package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
	"github.com/kalcifer/kalcifer/channel/twilio"
)

// waitGraph sends with node "send" (type and config given) and waits for
// event on that node's message: event_received tags the customer "hot",
// timed_out "cold".
func waitGraph(sendType, sendConfig, event string) string {
	return `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"send","type":"` + sendType + `","position":{"x":0,"y":100},"config":` + sendConfig + `},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":200},"config":{"event_type":"` + event + `","timeout":"1h","filter":{"node_id":"send"}}},
	{"id":"hot","type":"add_tag","position":{"x":0,"y":300},"config":{"tag":"hot"}},
	{"id":"cold","type":"add_tag","position":{"x":200,"y":300},"config":{"tag":"cold"}}],
	"edges":[{"id":"e1","source":"entry","target":"send"},{"id":"e2","source":"send","target":"wait"},
	{"id":"e3","source":"wait","branch":"event_received","target":"hot"},
	{"id":"e4","source":"wait","branch":"timed_out","target":"cold"}]}`
}

// enterWaiting gives customer id the attributes and lets them into the journey,
// then waits until its instance waits after the send, and returns it.
func (tb *testBundle) enterWaiting(journeyID, id string, attrs map[string]any) instanceDetail {
	tb.t.Helper()
	tb.do("PATCH", "/api/v1/customers/"+id+"/profile", tb.editor, map[string]any{"attributes": attrs}).want(tb.t, http.StatusOK)
	tb.sendEvent(tb.editor, map[string]any{"customer_id": id, "event_type": "signed_up"})
	var in instanceDetail
	tb.eventually("the message is sent and the instance waits", func() bool {
		page := tb.instances(journeyID, "customer_id="+id)
		if len(page.Data) != 1 {
			return false
		}
		in = tb.instance(page.Data[0].ID)
		return len(in.Sends) == 1 && in.Sends[0].Status == kalcifer.SendSent && slices.ContainsFunc(in.Steps, func(s kalcifer.Step) bool {
			return s.NodeID == "wait" && s.Result == "waiting"
		})
	})
	return in
}

// createAccount makes a provider account through the API and returns its id.
func (tb *testBundle) createAccount(name, ch, typ string, config map[string]any) string {
	tb.t.Helper()
	var a kalcifer.ProviderAccount
	tb.do("POST", "/api/v1/providers", tb.admin, map[string]any{"name": name, "channel": ch, "type": typ, "config": config}).
		want(tb.t, http.StatusCreated).into(tb.t, &a)
	return a.ID
}

// callback sends a provider's request to the account's callback route,
// without an API key.
func (tb *testBundle) callback(method, accountID, query string, body []byte, header http.Header) *response {
	tb.t.Helper()
	path := "/api/v1/providers/" + accountID + "/callbacks"
	if query != "" {
		path += "?" + query
	}
	return tb.doWith(method, path, "", body, header)
}

// tags is the customer's tags.
func (tb *testBundle) tags(id string) []string {
	tb.t.Helper()
	var c kalcifer.Customer
	tb.do("GET", "/api/v1/customers/"+id+"/profile", tb.viewer, nil).want(tb.t, http.StatusOK).into(tb.t, &c)
	return c.Tags
}

// sendGridSigner signs event webhooks as SendGrid's Signed Event Webhook
// does: ECDSA P-256 over the timestamp and the body.
type sendGridSigner struct {
	priv   *ecdsa.PrivateKey
	public string // base64 DER, as SendGrid shows it
}

func newSendGridSigner(t *testing.T) sendGridSigner {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return sendGridSigner{priv, base64.StdEncoding.EncodeToString(der)}
}

func (s sendGridSigner) headers(t *testing.T, body []byte) http.Header {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	digest := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{sendgrid.SignatureHeader: {base64.StdEncoding.EncodeToString(sig)}, sendgrid.TimestampHeader: {ts},
		"Content-Type": {"application/json"}}
}

// A SendGrid account made through the API sends a journey's email; its
// Signed Event Webhook, posted to the account's public callback route,
// resumes the wait for the open. A tampered body is a 401 that changes
// nothing; an unknown account is a 404, and so is an account whose
// provider reports nothing.
func TestSendGridCallbackResumesWait(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		sg := newSendGridStub(t)
		signer := newSendGridSigner(t)
		id := tb.createAccount("sendgrid", "email", "sendgrid", map[string]any{"api_key": "SG.secret", "from": "news@example.com",
			"base_url": sg.URL, "webhook_verification_key": signer.public})
		j := tb.activeJourney("opened", waitGraph("send_email",
			`{"provider":"sendgrid","subject":"Welcome","html":"<p>Hi <a href=\"https://example.com/x\">x</a></p>"}`, "email_opened"))
		in := tb.enterWaiting(j.ID, "ada", map[string]any{"email": "ada@example.com"})

		sg.mu.Lock()
		if len(sg.body) != 1 {
			t.Fatalf("SendGrid got %d requests", len(sg.body))
		}
		sent := sg.body[0]
		sg.mu.Unlock()
		args, _ := sent["custom_args"].(map[string]any)
		key, _ := args["kalcifer_key"].(string)
		if key == "" || key != in.Sends[0].Key {
			t.Fatalf("custom_args %v, send key %q", args, in.Sends[0].Key)
		}
		if raw := mustJSON(t, sent); strings.Contains(raw, "/t/o/") || strings.Contains(raw, "/t/c/") {
			t.Fatalf("SendGrid reports opens itself, yet the email was rewritten for tracking: %s", raw)
		}

		open := []byte(fmt.Sprintf(`[{"email":"ada@example.com","timestamp":%d,"event":"open","sg_message_id":"m1","kalcifer_key":%q}]`,
			time.Now().Unix(), key))
		// Tampered: signed, then changed (another key); not signed at all.
		headers := signer.headers(t, open)
		tampered := bytes.Replace(open, []byte(key), []byte(key[:len(key)-1]+"x"), 1)
		e := tb.callback("POST", id, "", tampered, headers).wantError(t, http.StatusUnauthorized, "unauthorized")
		if !strings.Contains(e.Message, "signature") {
			t.Fatalf("tampered: %+v", e)
		}
		tb.callback("POST", id, "", open, http.Header{"Content-Type": {"application/json"}}).wantError(t, http.StatusUnauthorized, "unauthorized")
		if got := tb.instance(in.ID); got.Status != kalcifer.InstanceActive || got.Sends[0].Delivery != "" {
			t.Fatalf("after refused callbacks: %s, delivery %q", got.Status, got.Sends[0].Delivery)
		}

		var res struct{ Statuses, Recorded, Duplicates, Unknown int }
		tb.callback("POST", id, "", open, headers).want(t, http.StatusOK).into(t, &res)
		if res.Statuses != 1 || res.Recorded != 1 {
			t.Fatalf("callback answered %+v", res)
		}
		tb.eventually("the open resumes the wait", func() bool { return tb.instance(in.ID).Status == kalcifer.InstanceCompleted })
		got := tb.instance(in.ID)
		if !slices.ContainsFunc(got.Steps, func(s kalcifer.Step) bool { return s.NodeID == "wait" && s.Result == "event_received" }) ||
			got.Sends[0].Delivery != "opened" {
			t.Fatalf("steps %+v, delivery %q", got.Steps, got.Sends[0].Delivery)
		}
		if tags := tb.tags("ada"); !slices.Equal(tags, []string{"hot"}) {
			t.Fatalf("tags %v", tags)
		}
		// SendGrid retrying the same webhook makes no second event.
		tb.callback("POST", id, "", open, headers).want(t, http.StatusOK).into(t, &res)
		if res.Duplicates != 1 || res.Recorded != 0 {
			t.Fatalf("a repeat: %+v", res)
		}

		tb.callback("POST", "prv_nosuchaccount", "", open, headers).wantError(t, http.StatusNotFound, "not_found")
		logID := tb.createAccount("dry", "email", "log", nil)
		e = tb.callback("POST", logID, "", open, headers).wantError(t, http.StatusNotFound, "not_found")
		if !strings.Contains(e.Message, "no delivery callbacks") || strings.Contains(e.Message, "dry") {
			t.Fatalf("a provider without callbacks (the anonymous caller learns nothing of the account): %+v", e)
		}
		if strings.Contains(tb.logs.String(), "SG.secret") {
			t.Fatal("the logs hold the API key")
		}
	})
}

// twilioStub speaks Twilio's Create Message API and records each form.
type twilioStub struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
}

func newTwilioStub(t *testing.T) *twilioStub {
	s := &twilioStub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM0123","status":"queued"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// A Twilio account gets its callback route as status callback without
// being told; Twilio's signed status callback to it (signed over the
// public URL and the form) becomes sms_delivered and resumes the wait.
func TestTwilioStatusCallback(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, tb *testBundle) {
		tw := newTwilioStub(t)
		const token = "twilio-auth-token"
		id := tb.createAccount("twilio", "sms", "twilio", map[string]any{"account_sid": "AC" + strings.Repeat("0", 32),
			"auth_token": token, "from": "+15550001111", "base_url": tw.URL})
		j := tb.activeJourney("delivered", waitGraph("send_sms", `{"provider":"twilio","body":"Hi"}`, "sms_delivered"))
		in := tb.enterWaiting(j.ID, "bo", map[string]any{"phone": "+15550002222"})

		tw.mu.Lock()
		form := tw.forms[0]
		tw.mu.Unlock()
		want := testPublicURL + "/api/v1/providers/" + id + "/callbacks?kalcifer_key=" + url.QueryEscape(in.Sends[0].Key)
		if got := form.Get("StatusCallback"); got != want {
			t.Fatalf("StatusCallback %q, want %q", got, want)
		}
		cb, _ := url.Parse(form.Get("StatusCallback"))
		params := url.Values{"MessageSid": {"SM0123"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC" + strings.Repeat("0", 32)}}
		body := []byte(params.Encode())
		header := func(sig []byte) http.Header {
			return http.Header{twilio.SignatureHeader: {base64.StdEncoding.EncodeToString(sig)},
				"Content-Type": {"application/x-www-form-urlencoded"}}
		}
		// Signed with another token: refused.
		tb.callback("POST", id, cb.RawQuery, body, header(twilio.Signature("other", want, params))).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		if got := tb.instance(in.ID); got.Status != kalcifer.InstanceActive {
			t.Fatalf("after a forged callback: %s", got.Status)
		}
		tb.callback("POST", id, cb.RawQuery, body, header(twilio.Signature(token, want, params))).want(t, http.StatusOK)
		tb.eventually("the delivery resumes the wait", func() bool { return tb.instance(in.ID).Status == kalcifer.InstanceCompleted })
		if got := tb.instance(in.ID); got.Sends[0].Delivery != "delivered" || !slices.Equal(tb.tags("bo"), []string{"hot"}) {
			t.Fatalf("delivery %q, tags %v", got.Sends[0].Delivery, tb.tags("bo"))
		}
	})
}

// smtpSink is a real SMTP server (emersion/go-smtp) that keeps what it
// accepts.
type smtpSink struct {
	port int
	mu   sync.Mutex
	msgs [][]byte
}

func newSMTPSink(t *testing.T) *smtpSink {
	s := &smtpSink{}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return sinkSession{s}, nil }))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

type sinkSession struct{ s *smtpSink }

func (sinkSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (x sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, b)
	x.s.mu.Unlock()
	return nil
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

// htmlPart is the decoded text/html part of a message.
func htmlPart(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var find func(h func(string) string, body io.Reader) string
	find = func(h func(string) string, body io.Reader) string {
		mt, params, _ := mime.ParseMediaType(h("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return ""
				}
				if s := find(p.Header.Get, p); s != "" {
					return s
				}
			}
		}
		if mt != "text/html" {
			return ""
		}
		switch strings.ToLower(h("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(body)
		return string(b)
	}
	return find(m.Header.Get, m.Body)
}

// An email sent through an SMTP account carries Kalcifer's tracking pixel
// and tracked links; loading the pixel through the API records
// email_opened for that send, which resumes the wait.
func TestSMTPOpenTracking(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	sink := newSMTPSink(t)
	tb.createAccount("relay", "email", "smtp", map[string]any{"host": "127.0.0.1", "port": sink.port, "tls": "none", "from": "news@example.com"})
	j := tb.activeJourney("tracked-smtp", waitGraph("send_email",
		`{"provider":"relay","subject":"Welcome","html":"<p>Hi <a href=\"https://example.com/x?a=1\">x</a></p>"}`, "email_opened"))
	in := tb.enterWaiting(j.ID, "cy", map[string]any{"email": "cy@example.com"})

	sink.mu.Lock()
	if len(sink.msgs) != 1 {
		t.Fatalf("the SMTP server got %d messages", len(sink.msgs))
	}
	html := htmlPart(t, sink.msgs[0])
	sink.mu.Unlock()
	pixel := regexp.MustCompile(`src="` + regexp.QuoteMeta(testPublicURL) + `(/t/o/[^"]+)"`).FindStringSubmatch(html)
	if pixel == nil || !strings.Contains(html, `href="`+testPublicURL+`/t/c/`) || strings.Contains(html, `href="https://example.com/x`) {
		t.Fatalf("the HTML has no pixel or untracked links:\n%s", html)
	}
	// The tracked link leads to the original URL.
	click := regexp.MustCompile(`href="` + regexp.QuoteMeta(testPublicURL) + `(/t/c/[^"]+)"`).FindStringSubmatch(html)
	if res := tb.get(click[1]); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.com/x?a=1" {
		t.Fatalf("the tracked link: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	if res := tb.get(pixel[1]); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %d", res.StatusCode)
	}
	tb.eventually("the open resumes the wait", func() bool { return tb.instance(in.ID).Status == kalcifer.InstanceCompleted })
	if got := tb.instance(in.ID); !slices.Equal(tb.tags("cy"), []string{"hot"}) || got.Sends[0].Delivery != "clicked" {
		t.Fatalf("tags %v, delivery %q (the click came first, then the open)", tb.tags("cy"), got.Sends[0].Delivery)
	}
}

// Meta's webhook handshake (a GET on the callback URL) is answered with
// the challenge as text when the verify token is the account's; a wrong
// token is a 401. A body over the route's limit is a 413.
func TestMetaSubscriptionHandshake(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	id := tb.createAccount("wa", "whatsapp", "metawhatsapp", map[string]any{"access_token": "meta-token", "phone_number_id": "1234567890",
		"app_secret": "app-secret", "verify_token": "verify-me"})
	res := tb.callback("GET", id, "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", nil, nil).want(t, http.StatusOK)
	if string(res.body) != "1158201444" || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("handshake answered %q (%s)", res.body, res.header.Get("Content-Type"))
	}
	tb.callback("GET", id, "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444", nil, nil).
		wantError(t, http.StatusUnauthorized, "unauthorized")
	tb.callback("POST", id, "", bytes.Repeat([]byte(" "), 1<<20+1), http.Header{"Content-Type": {"application/json"}}).
		wantError(t, http.StatusRequestEntityTooLarge, "too_large")
	if strings.Contains(tb.logs.String(), "verify-me") || strings.Contains(tb.logs.String(), "app-secret") {
		t.Fatal("the logs hold a credential")
	}
}

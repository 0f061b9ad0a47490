package ses_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/ses"
)

const topic = "arn:aws:sns:eu-west-1:123456789012:ses-events"

// snsSigner is a signing key and its self-signed certificate, served with
// subscription confirmations by a local TLS server standing in for SNS.
type snsSigner struct {
	key       *rsa.PrivateKey
	srv       *httptest.Server
	certFetch atomic.Int32
	confirmed atomic.Int32
}

func newSNS(t *testing.T) *snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s := &snsSigner{key: key}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			s.certFetch.Add(1)
			w.Write(certPEM)
		case "/confirm":
			if r.URL.Query().Get("Token") == "tok-1" {
				s.confirmed.Add(1)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *snsSigner) host() string { u, _ := url.Parse(s.srv.URL); return u.Host }

func (s *snsSigner) provider(t *testing.T, topicARN string) *ses.Provider {
	t.Helper()
	p, err := ses.New(ses.Config{Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: "secret", From: "a@example.com",
		SNSTopicARN: topicARN, SNSHost: s.host()}, s.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// message is a signed SNS message; fields overrides what is signed.
func (s *snsSigner) message(t *testing.T, key *rsa.PrivateKey, version string, fields map[string]string) string {
	t.Helper()
	m := map[string]string{"Type": "Notification", "MessageId": "sns-1", "TopicArn": topic, "Timestamp": "2026-03-02T09:00:00.000Z",
		"SignatureVersion": version, "SigningCertURL": s.srv.URL + "/SimpleNotificationService-test.pem"}
	for k, v := range fields {
		m[k] = v
	}
	var b strings.Builder
	names := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	for _, n := range names {
		if v, ok := m[n]; ok {
			b.WriteString(n + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	if version == "1" {
		d := sha1.Sum([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	raw, _ := json.Marshal(m)
	return string(raw)
}

func read(t *testing.T, p *ses.Provider, body string) ([]channel.Status, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/providers/p/callbacks", strings.NewReader(body))
	return p.ReadCallback(r, []byte(body), "")
}

// sesEvent is an SES event publishing record for the key's message.
func sesEvent(kind, detail string) string {
	return `{"eventType":"` + kind + `","mail":{"timestamp":"2026-03-02T08:59:00Z","messageId":"ses-m1","tags":{"kalcifer_key":["` +
		channel.KeyToken("inst/mail/1") + `"],"ses:configuration-set":["cs"]}},` + detail + `}`
}

func TestReadCallbackSESEvents(t *testing.T) {
	t.Parallel()
	s := newSNS(t)
	p := s.provider(t, topic)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		message string
		want    []channel.Status
	}{
		"delivery": {sesEvent("Delivery", `"delivery":{"timestamp":"2026-03-02T09:00:00Z","smtpResponse":"250 ok"}`),
			[]channel.Status{{Key: "inst/mail/1", MessageID: "ses-m1", Event: channel.StatusDelivered, At: at, Detail: "250 ok"}}},
		"open": {sesEvent("Open", `"open":{"timestamp":"2026-03-02T09:00:00Z","userAgent":"x"}`),
			[]channel.Status{{Key: "inst/mail/1", MessageID: "ses-m1", Event: channel.StatusOpened, At: at}}},
		"click": {sesEvent("Click", `"click":{"timestamp":"2026-03-02T09:00:00Z","link":"https://example.com/x"}`),
			[]channel.Status{{Key: "inst/mail/1", MessageID: "ses-m1", Event: channel.StatusClicked, At: at, URL: "https://example.com/x"}}},
		"bounce": {sesEvent("Bounce", `"bounce":{"timestamp":"2026-03-02T09:00:00Z","bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"a@example.com","diagnosticCode":"smtp; 550 no such user"}]}`),
			[]channel.Status{{Key: "inst/mail/1", MessageID: "ses-m1", Event: channel.StatusBounced, At: at, Detail: "Permanent/General: smtp; 550 no such user"}}},
		"complaint": {sesEvent("Complaint", `"complaint":{"timestamp":"2026-03-02T09:00:00Z"}`),
			[]channel.Status{{Key: "inst/mail/1", MessageID: "ses-m1", Event: channel.StatusComplained, At: at}}},
		"send": {sesEvent("Send", `"send":{}`), nil},
	}
	for name, c := range cases {
		for _, version := range []string{"1", "2"} {
			got, err := read(t, p, s.message(t, s.key, version, map[string]string{"Message": c.message}))
			if err != nil {
				t.Fatalf("%s v%s: %v", name, version, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s v%s:\n got %+v\nwant %+v", name, version, got, c.want)
			}
		}
	}
	if n := s.certFetch.Load(); n != 1 {
		t.Errorf("the signing certificate was fetched %d times, want once (cached)", n)
	}
}

func TestReadCallbackRefusesWhatIsNotAuthentic(t *testing.T) {
	t.Parallel()
	s := newSNS(t)
	p := s.provider(t, topic)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	open := sesEvent("Open", `"open":{"timestamp":"2026-03-02T09:00:00Z"}`)
	valid := s.message(t, s.key, "2", map[string]string{"Message": open})
	var m map[string]string
	json.Unmarshal([]byte(valid), &m)
	edit := func(k, v string) string {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		raw, _ := json.Marshal(c)
		return string(raw)
	}
	cases := map[string]struct {
		p    *ses.Provider
		body string
		msg  string
	}{
		"tampered message":  {p, edit("Message", strings.Replace(open, "Open", "Click", 1)), "does not match"},
		"wrong key":         {p, s.message(t, other, "2", map[string]string{"Message": open}), "does not match"},
		"v1 claimed for v2": {p, edit("SignatureVersion", "1"), "does not match"},
		"unknown version":   {p, edit("SignatureVersion", "3"), "SignatureVersion"},
		"no signature":      {p, edit("Signature", ""), "Signature is missing"},
		"cert from elsewhere": {p, s.message(t, s.key, "2", map[string]string{"Message": open,
			"SigningCertURL": "https://evil.example/SimpleNotificationService-test.pem"}), "SigningCertURL"},
		"cert over http": {p, s.message(t, s.key, "2", map[string]string{"Message": open,
			"SigningCertURL": strings.Replace(s.srv.URL, "https", "http", 1) + "/SimpleNotificationService-test.pem"}), "SigningCertURL"},
		"other topic":  {p, s.message(t, s.key, "2", map[string]string{"Message": open, "TopicArn": "arn:aws:sns:eu-west-1:999999999999:mine"}), "not the account's"},
		"no topic set": {s.provider(t, ""), valid, "no sns_topic_arn"},
	}
	for name, c := range cases {
		got, err := read(t, c.p, c.body)
		if kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v (%v), want unauthorized %q", name, err, got, c.msg)
		}
	}
	if _, err := read(t, p, valid); err != nil {
		t.Fatalf("the genuine message: %v", err)
	}
	if err := (ses.Config{Region: "eu-west-1", AccessKeyID: "a", SecretAccessKey: "b", From: "a@example.com", SNSTopicARN: "topic"}).Check(); kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
		t.Errorf("a bad topic ARN: %v", err)
	}
}

func TestSubscriptionConfirmedOnce(t *testing.T) {
	t.Parallel()
	s := newSNS(t)
	p := s.provider(t, topic)
	confirm := func(subscribeURL string) error {
		_, err := read(t, p, s.message(t, s.key, "1", map[string]string{"Type": "SubscriptionConfirmation", "Token": "tok-1",
			"Message": "You have chosen to subscribe to the topic", "SubscribeURL": subscribeURL}))
		return err
	}
	if err := confirm(s.srv.URL + "/confirm?Action=ConfirmSubscription&Token=tok-1"); err != nil {
		t.Fatal(err)
	}
	if n := s.confirmed.Load(); n != 1 {
		t.Fatalf("confirmed %d times", n)
	}
	if err := confirm("https://evil.example/confirm?Token=tok-1"); kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED {
		t.Fatalf("a SubscribeURL elsewhere: %v", err)
	}
}

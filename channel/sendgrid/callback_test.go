package sendgrid_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
)

// signer is a Signed Event Webhook key pair, made in the test.
type signer struct {
	priv   *ecdsa.PrivateKey
	public string // base64 DER, as SendGrid shows it
}

func newSigner(t *testing.T) signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return signer{priv, base64.StdEncoding.EncodeToString(der)}
}

// request is the webhook request SendGrid would post, signed at ts.
func (s signer) request(t *testing.T, body string, ts time.Time) *http.Request {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	digest := sha256.Sum256([]byte(stamp + body))
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/providers/p1/callbacks", strings.NewReader(body))
	r.Header.Set(sendgrid.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
	r.Header.Set(sendgrid.TimestampHeader, stamp)
	return r
}

func callbackProvider(t *testing.T, key string) *sendgrid.Provider {
	t.Helper()
	p, err := sendgrid.New(sendgrid.Config{APIKey: "SG.k", From: "news@example.com", WebhookVerificationKey: key}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// events is an Event Webhook body in SendGrid's shape: custom arguments
// (kalcifer_key) at the top level of each event.
const events = `[
 {"email":"ada@example.com","timestamp":1772442000,"event":"processed","sg_message_id":"m1.filter","kalcifer_key":"k1"},
 {"email":"ada@example.com","timestamp":1772442001,"event":"delivered","sg_message_id":"m1.filter","response":"250 OK","kalcifer_key":"k1"},
 {"email":"ada@example.com","timestamp":1772442002,"event":"open","sg_message_id":"m1.filter","useragent":"x","kalcifer_key":"k1"},
 {"email":"ada@example.com","timestamp":1772442003,"event":"click","sg_message_id":"m1.filter","url":"https://example.com/a","kalcifer_key":"k1"},
 {"email":"bob@example.com","timestamp":1772442004,"event":"bounce","type":"bounce","reason":"550 5.1.1 no such user","sg_message_id":"m2.filter","kalcifer_key":"k2"},
 {"email":"bob@example.com","timestamp":1772442005,"event":"dropped","reason":"Bounced Address","sg_message_id":"m3.filter","kalcifer_key":"k3"},
 {"email":"cy@example.com","timestamp":1772442006,"event":"spamreport","sg_message_id":"m4.filter","kalcifer_key":"k4"},
 {"email":"cy@example.com","timestamp":1772442007,"event":"unsubscribe","sg_message_id":"m4.filter","kalcifer_key":"k4"},
 {"email":"cy@example.com","timestamp":1772442008,"event":"deferred","sg_message_id":"m5.filter","kalcifer_key":"k5"},
 {"email":"cy@example.com","timestamp":1772442009,"event":"group_resubscribe","kalcifer_key":"k5"}
]`

func TestReadCallbackMapsEvents(t *testing.T) {
	t.Parallel()
	sg := newSigner(t)
	got, err := callbackProvider(t, sg.public).ReadCallback(sg.request(t, events, time.Now()), []byte(events), "")
	if err != nil {
		t.Fatalf("ReadCallback: %v", err)
	}
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	want := []channel.Status{
		{Key: "k1", MessageID: "m1.filter", Event: channel.StatusDelivered, At: at(1772442001)},
		{Key: "k1", MessageID: "m1.filter", Event: channel.StatusOpened, At: at(1772442002)},
		{Key: "k1", MessageID: "m1.filter", Event: channel.StatusClicked, At: at(1772442003), URL: "https://example.com/a"},
		{Key: "k2", MessageID: "m2.filter", Event: channel.StatusBounced, At: at(1772442004), Detail: "550 5.1.1 no such user"},
		{Key: "k3", MessageID: "m3.filter", Event: channel.StatusFailed, At: at(1772442005), Detail: "Bounced Address"},
		{Key: "k4", MessageID: "m4.filter", Event: channel.StatusComplained, At: at(1772442006)},
		{Key: "k4", MessageID: "m4.filter", Event: channel.StatusUnsubscribed, At: at(1772442007)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadCallbackRefusesWhatIsNotAuthentic(t *testing.T) {
	t.Parallel()
	sg, other := newSigner(t), newSigner(t)
	body := `[{"event":"open","timestamp":1772442002,"kalcifer_key":"k1"}]`
	cases := map[string]struct {
		key  string
		req  func() *http.Request
		body string
		code string
		msg  string
	}{
		"tampered body": {sg.public, func() *http.Request { return sg.request(t, body, time.Now()) },
			strings.Replace(body, "k1", "k2", 1), kalcifer.EUNAUTHORIZED, "does not match"},
		"wrong key": {sg.public, func() *http.Request { return other.request(t, body, time.Now()) },
			body, kalcifer.EUNAUTHORIZED, "does not match"},
		"stale timestamp": {sg.public, func() *http.Request { return sg.request(t, body, time.Now().Add(-11*time.Minute)) },
			body, kalcifer.EUNAUTHORIZED, "away from now"},
		"future timestamp": {sg.public, func() *http.Request { return sg.request(t, body, time.Now().Add(11*time.Minute)) },
			body, kalcifer.EUNAUTHORIZED, "away from now"},
		"missing signature": {sg.public, func() *http.Request {
			r := sg.request(t, body, time.Now())
			r.Header.Del(sendgrid.SignatureHeader)
			return r
		}, body, kalcifer.EUNAUTHORIZED, "not signed"},
		"missing timestamp": {sg.public, func() *http.Request {
			r := sg.request(t, body, time.Now())
			r.Header.Del(sendgrid.TimestampHeader)
			return r
		}, body, kalcifer.EUNAUTHORIZED, "not signed"},
		"timestamp moved": {sg.public, func() *http.Request {
			now := time.Now() // one clock reading: a second may tick between two
			r := sg.request(t, body, now)
			r.Header.Set(sendgrid.TimestampHeader, strconv.FormatInt(now.Unix()-1, 10))
			return r
		}, body, kalcifer.EUNAUTHORIZED, "does not match"},
		"no key configured": {"", func() *http.Request { return sg.request(t, body, time.Now()) },
			body, kalcifer.EUNAUTHORIZED, "no webhook_verification_key"},
		"signed but not JSON": {sg.public, func() *http.Request { return sg.request(t, "{oops", time.Now()) },
			"{oops", kalcifer.EINVALID, "not a JSON array"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := callbackProvider(t, c.key).ReadCallback(c.req(), []byte(c.body), "")
			if kalcifer.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v (%s), want %s with %q; statuses %v", err, kalcifer.ErrorCode(err), c.code, c.msg, got)
			}
		})
	}
}

func TestWebhookVerificationKeyChecked(t *testing.T) {
	t.Parallel()
	rsaLike := base64.StdEncoding.EncodeToString([]byte("not a key"))
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for key, msg := range map[string]string{
		"%%%":                                  "must be the base64 public key",
		rsaLike:                                "is not a public key",
		base64.StdEncoding.EncodeToString(der): "P-256",
	} {
		err := sendgrid.Config{APIKey: "SG.k", From: "a@example.com", WebhookVerificationKey: key}.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), msg) {
			t.Errorf("key %q: err = %v, want %q", key, err, msg)
		}
	}
}
